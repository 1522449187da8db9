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

/** link builds an /app URL keeping the tenant (and _g when given). */
export function link(path: string, tenant: string, extra: Record<string, string | undefined> = {}): string {
  const q = new URLSearchParams();
  q.set('security_tenant', tenant);
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) q.set(k, v);
  return `/app${path}?${q.toString().replace(/%28/g, '(').replace(/%29/g, ')').replace(/%3A/g, ':').replace(/%2C/g, ',')}`;
}

/** legacyRedirect maps OSD hash URLs (/app/dashboards#/view/ID?_g=…) to ours. */
export function legacyRedirect(): string | null {
  const m = /^#\/(?:view|dashboard)\/([^?]+)(?:\?(.*))?$/.exec(location.hash);
  if (!m || !/^\/app\/(dashboards|kibana)\/?$/.test(location.pathname)) return null;
  const q = new URLSearchParams(location.search);
  for (const [k, v] of new URLSearchParams(m[2] ?? '')) if (k === '_g') q.set(k, v);
  return `/app/dashboards/view/${m[1]}?${q}`;
}
