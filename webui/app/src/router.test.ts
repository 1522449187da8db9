import { afterEach, describe, expect, it } from 'vitest';
import { addressable, isDeepLink, isPrivate, legacyRedirect, link, pathSeg, setLinkUser } from './router';

describe('legacyRedirect', () => {
  it('keeps the tenant from the hash part (what tenantgate sample load prints)', () => {
    expect(legacyRedirect('/app/dashboards', '', '#/view/ID?security_tenant=analysts')).toBe('/app/dashboards/view/ID?security_tenant=analysts');
  });
  it('keeps security_tenant, _g and _a from search and hash, the hash winning', () => {
    const to = legacyRedirect('/app/dashboards', '?_a=(x)&security_tenant=a&other=1', '#/view/dash1?_g=(time:(from:now-1h,to:now))&security_tenant=b&foo=2')!;
    const u = new URL(to, 'http://h');
    expect(u.pathname).toBe('/app/dashboards/view/dash1');
    expect(u.searchParams.get('security_tenant')).toBe('b');
    expect(u.searchParams.get('_g')).toBe('(time:(from:now-1h,to:now))');
    expect(u.searchParams.get('_a')).toBe('(x)');
    expect(u.searchParams.has('other') || u.searchParams.has('foo')).toBe(false);
  });
  it('keeps the tenant from the search part', () => {
    expect(legacyRedirect('/app/kibana', '?security_tenant=global', '#/dashboard/a%20b')).toBe('/app/dashboards/view/a%20b?security_tenant=global');
  });
  it('maps the list and leaves other URLs alone', () => {
    expect(legacyRedirect('/app/dashboards', '', '#/list?security_tenant=x')).toBe('/app/dashboards?security_tenant=x');
    expect(legacyRedirect('/app/dashboards', '?security_tenant=x', '#/')).toBe('/app/dashboards?security_tenant=x');
    expect(legacyRedirect('/app/dashboards', '', '')).toBeNull();
    expect(legacyRedirect('/app/dashboards/view/x', '', '#/view/y')).toBeNull();
    expect(legacyRedirect('/app/management/objects', '', '#/view/y')).toBeNull();
  });
  it('never names an id that is a dot segment', () => {
    expect(legacyRedirect('/app/dashboards', '', '#/view/..?security_tenant=x')).toBeNull();
    expect(legacyRedirect('/app/dashboards', '', '#/view/%2E?security_tenant=x')).toBeNull();
  });
});

describe('links', () => {
  afterEach(() => setLinkUser(''));
  it('name the owner of a private tenant', () => {
    setLinkUser('alice');
    expect(link('/dashboards', 'private')).toBe('/app/dashboards?security_tenant=private&private_owner=alice');
    expect(link('/dashboards', 'analysts', { _g: '(time:(from:now-15m,to:now))' })).toBe(
      '/app/dashboards?security_tenant=analysts&_g=(time:(from:now-15m,to:now))',
    );
    expect(isPrivate('__user__')).toBe(true);
    expect(isPrivate('alice')).toBe(true);
    expect(isPrivate('bob')).toBe(false);
  });
  it('refuse ids that are dot segments', () => {
    expect(pathSeg('a/b c')).toBe('a%2Fb%20c');
    expect(pathSeg('.x')).toBe('.x');
    expect(addressable('.')).toBe(false);
    expect(addressable('..')).toBe(false);
    expect(() => pathSeg('..')).toThrow(/cannot be used in a URL/);
  });
  it('tell deep links from landing pages', () => {
    expect(isDeepLink('/app/dashboards/view/x')).toBe(true);
    expect(isDeepLink('/app/goto/abc')).toBe(true);
    expect(isDeepLink('/app/dashboards')).toBe(false);
    expect(isDeepLink('/app/management/objects')).toBe(false);
  });
});
