import { describe, expect, it } from 'vitest';
import { copyTarget, findTenant, tenantsOf } from './tenants';

const info = { user_name: 'alice', tenants: { executive: false, global_tenant: true, alice: true, analysts: true } };

describe('tenantsOf', () => {
  it('orders global, private, then alphabetically', () => {
    expect(tenantsOf(info).map((t) => `${t.id}:${t.rw}`)).toEqual([
      'global:true',
      'private:true',
      'analysts:true',
      'executive:false',
    ]);
  });
  it('honours preferred', () => {
    expect(tenantsOf(info, ['executive', 'Private']).map((t) => t.id)).toEqual([
      'executive',
      'private',
      'global',
      'analysts',
    ]);
  });
  it('finds aliases', () => {
    const ts = tenantsOf(info);
    expect(findTenant(ts, 'global_tenant', 'alice')?.id).toBe('global');
    expect(findTenant(ts, '__user__', 'alice')?.id).toBe('private');
    expect(findTenant(ts, 'alice', 'alice')?.id).toBe('private');
    expect(findTenant(ts, 'human_resources', 'alice')).toBeUndefined();
  });
});

describe('copyTarget', () => {
  it('drops a target picked for another tenant', () => {
    const targets = tenantsOf(info).filter((t) => t.rw && t.id !== 'analysts');
    expect(copyTarget(targets, 'private')).toBe('private');
    // Picked analysts while in private; now analysts is the tenant shown.
    expect(copyTarget(targets, 'analysts')).toBe('global');
    expect(copyTarget([], 'analysts')).toBe('');
  });
});
