// The application shell: sign-in, the caller's tenants, the tenant from the
// URL, and the screens.
import { createContext, useContext, useEffect, useState } from 'react';
import { ApiError, call, clearToken, getToken, setToken } from './api';
import { legacyRedirect, link, navigate, useLocation } from './router';
import { AuthInfo, findTenant, Tenant, tenantsOf } from './tenants';
import { DashboardList, DashboardView } from './dashboards';
import { IndexPatternsPage, SavedObjectsPage } from './management';

export interface Session {
  user: string;
  tenants: Tenant[];
  tenant: Tenant;
  /** forbidden switches to the no-access page for the current tenant. */
  forbidden: () => void;
}

const SessionContext = createContext<Session | null>(null);
export const useSession = (): Session => useContext(SessionContext)!;

export function App() {
  const loc = useLocation();
  const [auth, setAuth] = useState<{ user: string; tenants: Tenant[] } | null>(null);
  const [authError, setAuthError] = useState<string>('');
  const [forbiddenTenant, setForbiddenTenant] = useState<string | null>(null);
  const token = getToken();

  useEffect(() => {
    const legacy = legacyRedirect();
    if (legacy) navigate(legacy, true);
    const on = () => {
      clearToken();
      setAuth(null);
      if (!location.pathname.startsWith('/app/login')) navigate(`/app/login?next=${encodeURIComponent(location.pathname + location.search)}`, true);
    };
    window.addEventListener('tenantgate:unauthorized', on);
    return () => window.removeEventListener('tenantgate:unauthorized', on);
  }, []);

  useEffect(() => {
    if (!token || auth) return;
    (async () => {
      try {
        const info = (await call('GET', '/_plugins/_security/authinfo')) as AuthInfo;
        let preferred: string[] = [];
        try {
          preferred = (await call('GET', '/_plugins/_security/api/tenancy/config')).preferred_tenants ?? [];
        } catch {
          preferred = [];
        }
        setAuth({ user: info.user_name, tenants: tenantsOf(info, preferred) });
      } catch (e) {
        setAuthError(e instanceof ApiError ? e.reason : String(e));
      }
    })();
  }, [token, auth]);

  if (loc.path.startsWith('/app/login') || !token) {
    // Signed out on a shared link: sign in here, then stay on the link.
    const next = loc.path.startsWith('/app/login') ? loc.params.get('next') || '/app/dashboards' : loc.href;
    return <SignIn next={next} onSignedIn={() => setAuth(null)} />;
  }
  if (!auth) return <div className="loading page">{authError ? `Signing in failed: ${authError}` : 'Loading…'}</div>;

  const param = loc.params.get('security_tenant');
  if (param === null) {
    const q = new URLSearchParams(loc.params);
    q.set('security_tenant', auth.tenants[0]?.id ?? 'global');
    navigate(`${loc.path}?${q}`, true);
    return null;
  }
  const tenant = findTenant(auth.tenants, param, auth.user);
  if (!tenant || forbiddenTenant === param) {
    return (
      <Shell user={auth.user} tenants={auth.tenants} current={null}>
        <NoAccess tenant={param} user={auth.user} tenants={auth.tenants} />
      </Shell>
    );
  }
  const session: Session = { user: auth.user, tenants: auth.tenants, tenant, forbidden: () => setForbiddenTenant(param) };
  const p = loc.path.replace(/\/+$/, '');
  let page;
  let m: RegExpExecArray | null;
  if ((m = /^\/app\/goto\/([^/]+)$/.exec(p))) page = <GoTo id={decodeURIComponent(m[1])} />;
  else if ((m = /^\/app\/dashboards\/view\/([^/]+)$/.exec(p))) page = <DashboardView id={decodeURIComponent(m[1])} />;
  else if (p === '/app/dashboards') page = <DashboardList />;
  else if (p === '/app/management/objects') page = <SavedObjectsPage />;
  else if (p === '/app/management/index-patterns') page = <IndexPatternsPage />;
  else page = <div className="page">Nothing at {loc.path}. <a href={link('/dashboards', tenant.id)}>Dashboards</a></div>;
  return (
    <SessionContext.Provider value={session}>
      <Shell user={auth.user} tenants={auth.tenants} current={tenant}>
        {page}
      </Shell>
    </SessionContext.Provider>
  );
}

export function A({ href, children, ...rest }: { href: string; children: React.ReactNode; [k: string]: any }) {
  return (
    <a
      href={href}
      onClick={(e) => {
        if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
        e.preventDefault();
        navigate(href);
      }}
      {...rest}
    >
      {children}
    </a>
  );
}

function Shell({ user, tenants, current, children }: { user: string; tenants: Tenant[]; current: Tenant | null; children: React.ReactNode }) {
  const t = current?.id ?? tenants[0]?.id ?? 'global';
  return (
    <div className="shell">
      <header className="top">
        <A href={link('/dashboards', t)} className="brand">
          tenantgate
        </A>
        <nav>
          <A href={link('/dashboards', t)}>Dashboards</A>
          <A href={link('/management/objects', t)}>Saved objects</A>
          <A href={link('/management/index-patterns', t)}>Index patterns</A>
        </nav>
        <span className="spacer" />
        <label className="tenant">
          Tenant{' '}
          <select
            data-testid="tenant-switcher"
            value={current?.id ?? ''}
            onChange={(e) => navigate(link('/dashboards', e.target.value))}
          >
            {!current && <option value="">—</option>}
            {tenants.map((x) => (
              <option key={x.id} value={x.id}>
                {x.label}
                {x.rw ? '' : ' (read-only)'}
              </option>
            ))}
          </select>
        </label>
        <span className="user" data-testid="user">
          {user}
        </span>
        <button
          className="link"
          onClick={() => {
            clearToken();
            navigate('/app/login');
            location.reload();
          }}
        >
          Sign out
        </button>
      </header>
      <main>{children}</main>
    </div>
  );
}

function NoAccess({ tenant, user, tenants }: { tenant: string; user: string; tenants: Tenant[] }) {
  return (
    <div className="page no-access" data-testid="no-access">
      <h1>No access to tenant “{tenant}”</h1>
      <p>
        You are signed in as <b>{user}</b>, who has no access to the tenant <b data-testid="no-access-tenant">{tenant}</b>. The
        link you opened points into that tenant; nothing from another tenant is shown instead.
      </p>
      <p>Ask an administrator of “{tenant}” for access, or open one of your tenants:</p>
      <ul>
        {tenants.map((t) => (
          <li key={t.id}>
            <a href={link('/dashboards', t.id)}>{t.label}</a>
            {t.rw ? '' : ' (read-only)'}
          </li>
        ))}
      </ul>
    </div>
  );
}

function SignIn({ next, onSignedIn }: { next: string; onSignedIn: () => void }) {
  const [value, setValue] = useState('');
  const [error, setError] = useState('');
  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setError('');
    setToken(value);
    try {
      await call('GET', '/_plugins/_security/authinfo');
      onSignedIn();
      navigate(next.startsWith('/app/') ? next : '/app/dashboards', true);
    } catch (err) {
      clearToken();
      setError(err instanceof ApiError ? err.reason : String(err));
    }
  };
  return (
    <div className="signin">
      <form onSubmit={submit}>
        <h1>Sign in to tenantgate</h1>
        <label htmlFor="token">Access token (JWT)</label>
        <textarea id="token" data-testid="token" rows={5} value={value} onChange={(e) => setValue(e.target.value)} autoFocus />
        <p className="hint">
          Mint one with <code>tenantgate token --sub NAME --roles …</code>. It stays in this tab only.
        </p>
        {error && (
          <div className="error" data-testid="signin-error">
            {error}
          </div>
        )}
        <button type="submit" data-testid="signin" disabled={!value.trim()}>
          Sign in
        </button>
      </form>
    </div>
  );
}

/** GoTo resolves a short link in the link's tenant and opens its target. */
function GoTo({ id }: { id: string }) {
  const s = useSession();
  const [error, setError] = useState('');
  useEffect(() => {
    call('GET', `/api/short_url/${encodeURIComponent(id)}`, { tenant: s.tenant.id }).then(
      (r) => {
        const target = String(r?.url ?? '');
        if (!target.startsWith('/app/')) throw new Error('the short link does not point into the UI');
        const u = new URL(target, location.origin);
        u.searchParams.set('security_tenant', s.tenant.id);
        navigate(u.pathname + u.search, true);
      },
      (e) => {
        if (e instanceof ApiError && e.status === 403) s.forbidden();
        setError(e instanceof ApiError && e.status === 404 ? `There is no short link “${id}” in the tenant “${s.tenant.label}”.` : String(e?.message ?? e));
      },
    ).catch((e: any) => setError(String(e?.message ?? e)));
  }, [id, s.tenant.id]);
  return <div className="page">{error ? <p className="error">{error}</p> : <p className="loading">Opening the link…</p>}</div>;
}
