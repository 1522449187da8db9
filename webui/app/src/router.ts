// A small history-API router: the path picks the screen, the query string
// carries security_tenant and _g so every URL can be shared.
import { useEffect, useState } from 'react';

export function navigate(to: string, replace = false): void {
  if (replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  window.dispatchEvent(new Event('tenantgate:navigate'));
}

export function useLocation(): { path: string; params: URLSearchParams; href: string } {
  const [, setTick] = useState(0);
  useEffect(() => {
    const on = () => setTick((n) => n + 1);
    window.addEventListener('popstate', on);
    window.addEventListener('tenantgate:navigate', on);
    return () => {
      window.removeEventListener('popstate', on);
      window.removeEventListener('tenantgate:navigate', on);
    };
  }, []);
  return {
    path: location.pathname,
    params: new URLSearchParams(location.search),
    href: location.pathname + location.search,
  };
}

// The signed-in user, for links into the private tenant: security_tenant=
// private names whoever opens the link, so every link the UI builds there
// also names its owner (private_owner=), and a reader who is someone else
// gets the no-access page rather than a misleading "not found" in their own
// private tenant.
let linkUser = '';

/** setLinkUser is called once the signed-in user is known. */
export function setLinkUser(user: string): void {
  linkUser = user;
}

/** isPrivate tells whether a security_tenant value names the reader's
 * private tenant (private, __user__ or the user's own name). */
export function isPrivate(tenant: string, user = linkUser): boolean {
  return tenant === 'private' || tenant === '__user__' || (user !== '' && tenant === user);
}

function queryString(q: URLSearchParams): string {
  return q.toString().replace(/%28/g, '(').replace(/%29/g, ')').replace(/%3A/g, ':').replace(/%2C/g, ',');
}

/** link builds an /app URL keeping the tenant (and _g when given); in the
 * private tenant it names the owner too. */
export function link(path: string, tenant: string, extra: Record<string, string | undefined> = {}): string {
  const q = new URLSearchParams();
  q.set('security_tenant', tenant);
  if (isPrivate(tenant) && linkUser) q.set('private_owner', linkUser);
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) q.set(k, v);
  return `/app${path}?${queryString(q)}`;
}

/** pathSeg encodes an id as one URL path segment. "." and ".." cannot be
 * one: browsers and fetch resolve them (also as %2E) before the request is
 * sent, so a URL with them would address another resource; pathSeg refuses
 * them. addressable tells beforehand. */
export function pathSeg(id: string): string {
  if (!addressable(id)) throw new Error(`the id “${id}” cannot be used in a URL`);
  return encodeURIComponent(id);
}

export function addressable(id: string): boolean {
  return id !== '.' && id !== '..';
}

// Parameters that carry over from an OpenSearch Dashboards URL: the tenant
// (and its owner) and the global and app state.
const KEEP = ['security_tenant', 'private_owner', '_g', '_a'];

/**
 * legacyRedirect maps OpenSearch Dashboards' hash URLs to ours:
 * /app/dashboards#/view/ID?_g=…&security_tenant=T (also /app/kibana#/dashboard/ID
 * and /app/dashboards?security_tenant=T#/view/ID) to
 * /app/dashboards/view/ID?security_tenant=T&_g=…, and #/list or #/ to the
 * list. security_tenant, private_owner, _g and _a are kept from both the
 * search and the hash part, the hash winning. null when nothing maps.
 */
export function legacyRedirect(pathname: string, search: string, hash: string): string | null {
  if (!/^\/app\/(dashboards|kibana)\/?$/.test(pathname)) return null;
  const view = /^#\/(?:view|dashboard)\/([^?]+)(?:\?(.*))?$/.exec(hash);
  const list = view ? null : /^#\/(?:list|dashboards)?\/?(?:\?(.*))?$/.exec(hash);
  if (!view && !list) return null;
  const q = new URLSearchParams();
  const from = new URLSearchParams(search);
  const inHash = new URLSearchParams((view ? view[2] : list![1]) ?? '');
  for (const k of KEEP) {
    const v = inHash.get(k) ?? from.get(k);
    if (v !== null) q.set(k, v);
  }
  const qs = queryString(q);
  if (list) return `/app/dashboards${qs ? `?${qs}` : ''}`;
  let id = view![1];
  try {
    id = decodeURIComponent(id);
  } catch {
    // keep it as it came
  }
  if (!addressable(id)) return null;
  return `/app/dashboards/view/${encodeURIComponent(id)}${qs ? `?${qs}` : ''}`;
}

/** isDeepLink tells whether a path opens one object (a dashboard, a short
 * link) rather than a landing page: a deep link without a tenant must not
 * be opened in a tenant the UI picks. */
export function isDeepLink(path: string): boolean {
  return /^\/app\/(dashboards\/view|goto)\/[^/]/.test(path);
}
