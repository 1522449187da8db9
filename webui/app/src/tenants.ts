// Tenants as the UI shows them: ids as they go in security_tenant.

export interface Tenant {
  /** id is the value of security_tenant: global, private or a custom name. */
  id: string;
  label: string;
  rw: boolean;
  kind: 'global' | 'private' | 'custom';
}

export interface AuthInfo {
  user_name: string;
  tenants: Record<string, boolean>;
}

/**
 * tenantsOf lists the caller's tenants from authinfo: the preferred ones
 * first (matched by id or label, case-insensitive), then global, private,
 * then the others alphabetically.
 */
export function tenantsOf(info: AuthInfo, preferred: string[] = []): Tenant[] {
  const out: Tenant[] = [];
  for (const [name, rw] of Object.entries(info.tenants ?? {})) {
    if (name === 'global_tenant') out.push({ id: 'global', label: 'Global', rw, kind: 'global' });
    else if (name === info.user_name) out.push({ id: 'private', label: 'Private', rw, kind: 'private' });
    else out.push({ id: name, label: name, rw, kind: 'custom' });
  }
  const pref = preferred.map((p) => normalizeTenant(p.toLowerCase()));
  const rank = (t: Tenant): number => {
    const i = pref.indexOf(t.id.toLowerCase());
    if (i >= 0) return i;
    return pref.length + (t.kind === 'global' ? 0 : t.kind === 'private' ? 1 : 2);
  };
  return out.sort((a, b) => rank(a) - rank(b) || a.id.localeCompare(b.id));
}

/** normalizeTenant maps the aliases of global and private to one id. */
export function normalizeTenant(t: string): string {
  if (t === 'global' || t === 'global_tenant' || t === '') return 'global';
  if (t === 'private' || t === '__user__') return 'private';
  return t;
}

/** findTenant resolves a security_tenant value against the caller's tenants. */
export function findTenant(tenants: Tenant[], param: string, userName: string): Tenant | undefined {
  const id = normalizeTenant(param);
  return tenants.find((t) => t.id === id) ?? (id === userName ? tenants.find((t) => t.kind === 'private') : undefined);
}

/** copyTarget is the target tenant to copy to: the one picked while it is
 * still a target (read-write and not the tenant shown), else the first. */
export function copyTarget(targets: Tenant[], picked: string): string {
  return targets.some((t) => t.id === picked) ? picked : (targets[0]?.id ?? '');
}
