// The application shell: sign-in, the caller's tenants, the tenant from the
// URL, and the screens.
import { createContext, useCallback, useContext, useEffect, useRef, useState } from 'react';
import { ApiError, call, clearToken, getExpiry, getToken, login, logout, setToken } from './api';
import { EndReason, expiryDelay, jwtExpiry, signInPath } from './session';
import { isDeepLink, isPrivate, legacyRedirect, link, navigate, pathSeg, setLinkUser, useLocation } from './router';
import { errorText } from './text';
import { AuthInfo, findTenant, normalizeTenant, Tenant, tenantsOf } from './tenants';
import { DashboardList, DashboardView } from './dashboards';
import { IndexPatternsPage, SavedObjectsPage } from './management';
import { TenantsAdminPage } from './admin';

export interface Session {
  user: string;
  tenants: Tenant[];
  tenant: Tenant;
  /** forbidden switches to the no-access page for the current tenant. */
  forbidden: () => void;
  /** refresh reloads the caller's tenants (after tenants changed). */
  refresh: () => Promise<void>;
}

const SessionContext = createContext<Session | null>(null);
export const useSession = (): Session => useContext(SessionContext)!;

export function App() {
  const loc = useLocation();
  const [auth, setAuth] = useState<{ user: string; tenants: Tenant[]; defaultTenant?: string } | null>(null);
  const [authError, setAuthError] = useState<string>('');
  const [forbiddenTenant, setForbiddenTenant] = useState<string | null>(null);
  const token = getToken();

  // A session ends on a 401 from any call (expired, revoked), when its
  // expiry passes, or on sign-out; the first two come back here after the
  // next sign-in, with a note.
  const end = useCallback((reason: EndReason) => {
    if (!getToken()) return; // already ended (a late answer to an old call)
    clearToken();
    setAuth(null);
    setAuthError('');
    setForbiddenTenant(null);
    // On the sign-in page itself, keep where it was to lead.
    const here = location.pathname.startsWith('/app/login')
      ? (new URLSearchParams(location.search).get('next') ?? undefined)
      : location.pathname + location.search;
    navigate(signInPath(reason === 'expired' ? here : undefined, reason), true);
  }, []);

  useEffect(() => {
    const on = () => end('expired');
    window.addEventListener('tenantgate:unauthorized', on);
    return () => window.removeEventListener('tenantgate:unauthorized', on);
  }, [end]);

  useEffect(() => {
    if (!token) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    // expiryDelay stops at MAX_DELAY, so a timer may fire early: check again.
    const check = () => {
      const left = expiryDelay(getExpiry() ?? jwtExpiry(token), Date.now());
      if (left === 0) end('expired');
      else if (left !== undefined) timer = setTimeout(check, left);
    };
    check();
    return () => clearTimeout(timer);
  }, [token, end]);

  const loadAuth = useCallback(async () => {
    const asked = getToken();
    try {
      const info = (await call('GET', '/_plugins/_security/authinfo')) as AuthInfo;
      let preferred: string[] = [];
      let defaultTenant: string | undefined;
      try {
        const cfg = await call('GET', '/_plugins/_security/api/tenancy/config');
        preferred = Array.isArray(cfg?.preferred_tenants) ? cfg.preferred_tenants.filter((x: unknown) => typeof x === 'string') : [];
        defaultTenant = typeof cfg?.default_tenant === 'string' ? cfg.default_tenant : undefined;
      } catch {
        preferred = [];
      }
      // Signed out (or in as someone else) meanwhile: not this answer.
      if (getToken() !== asked) return;
      const user = String(info.user_name ?? '');
      setLinkUser(user);
      setAuth({ user, tenants: tenantsOf(info, preferred), defaultTenant });
    } catch (e) {
      if (getToken() === asked) setAuthError(e instanceof ApiError ? e.reason : errorText(e));
    }
  }, []);

  useEffect(() => {
    if (!token || auth) return;
    void loadAuth();
  }, [token, auth, loadAuth]);

  const signOut = useCallback(async () => {
    await logout();
    setAuth(null);
    setAuthError('');
    setForbiddenTenant(null);
    navigate(signInPath(undefined, 'signed-out'));
  }, []);

  // OpenSearch Dashboards' hash URLs first, before the hash is lost.
  const legacy = legacyRedirect(location.pathname, location.search, location.hash);
  if (legacy) {
    navigate(legacy, true);
    return null;
  }
  if (loc.path.startsWith('/app/login') || !token) {
    // Signed out on a shared link: sign in here, then stay on the link.
    const atLogin = loc.path.startsWith('/app/login');
    const next = atLogin ? loc.params.get('next') || '/app/dashboards' : loc.href;
    const expired = atLogin && loc.params.get('expired') === '1';
    return <SignIn next={next} expired={expired} onSignedIn={() => setAuth(null)} />;
  }
  if (!auth) return <div className="loading page">{authError ? `Signing in failed: ${authError}` : 'Loading…'}</div>;

  const param = loc.params.get('security_tenant');
  if (param === null) {
    // A link to one object that names no tenant is not opened in a tenant
    // picked here: the reader picks. Landing pages open in the configured
    // default tenant when it is one of the reader's, else the first one.
    if (isDeepLink(loc.path)) {
      return (
        <Shell user={auth.user} tenants={auth.tenants} current={null} onSignOut={signOut}>
          <PickTenant path={loc.path} params={loc.params} tenants={auth.tenants} />
        </Shell>
      );
    }
    const def = auth.defaultTenant ? findTenant(auth.tenants, auth.defaultTenant, auth.user) : undefined;
    const q = new URLSearchParams(loc.params);
    q.set('security_tenant', (def ?? auth.tenants[0])?.id ?? 'global');
    navigate(`${loc.path}?${q}`, true);
    return null;
  }
  const tenant = findTenant(auth.tenants, param, auth.user);
  // security_tenant=private names whoever opens the link: links from a
  // private tenant name their owner, and only the owner opens them.
  const owner = loc.params.get('private_owner');
  if (isPrivate(normalizeTenant(param), auth.user) && owner !== null && owner !== auth.user) {
    return (
      <Shell user={auth.user} tenants={auth.tenants} current={null} onSignOut={signOut}>
        <NoAccess tenant={`the private tenant of ${owner}`} user={auth.user} tenants={auth.tenants} privateOwner={owner} />
      </Shell>
    );
  }
  if (tenant?.kind === 'private' && owner === null) {
    // Our own private tenant: name the owner so the URL shared is honest.
    const q = new URLSearchParams(loc.params);
    q.set('private_owner', auth.user);
    navigate(`${loc.path}?${q}`, true);
    return null;
  }
  if (!tenant || forbiddenTenant === param) {
    return (
      <Shell user={auth.user} tenants={auth.tenants} current={null} onSignOut={signOut}>
        <NoAccess tenant={param} user={auth.user} tenants={auth.tenants} />
      </Shell>
    );
  }
  const session: Session = { user: auth.user, tenants: auth.tenants, tenant, forbidden: () => setForbiddenTenant(param), refresh: loadAuth };
  const p = loc.path.replace(/\/+$/, '');
  let page;
  let m: RegExpExecArray | null;
  if ((m = /^\/app\/goto\/([^/]+)$/.exec(p))) page = <GoTo id={decodeSeg(m[1])} />;
  else if ((m = /^\/app\/dashboards\/view\/([^/]+)$/.exec(p))) page = <DashboardView id={decodeSeg(m[1])} />;
  else if (p === '/app/dashboards') page = <DashboardList />;
  else if (p === '/app/management/objects') page = <SavedObjectsPage />;
  else if (p === '/app/management/index-patterns') page = <IndexPatternsPage />;
  else if (p === '/app/admin/tenants') page = <TenantsAdminPage />;
  else page = <div className="page">Nothing at {loc.path}. <a href={link('/dashboards', tenant.id)}>Dashboards</a></div>;
  return (
    <SessionContext.Provider value={session}>
      <Shell user={auth.user} tenants={auth.tenants} current={tenant} onSignOut={signOut}>
        {page}
      </Shell>
    </SessionContext.Provider>
  );
}

function decodeSeg(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
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

function Shell({
  user,
  tenants,
  current,
  onSignOut,
  children,
}: {
  user: string;
  tenants: Tenant[];
  current: Tenant | null;
  onSignOut: () => Promise<void>;
  children: React.ReactNode;
}) {
  const [leaving, setLeaving] = useState(false);
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
          <A href={link('/admin/tenants', t)} data-testid="nav-admin-tenants">
            Tenants
          </A>
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
          data-testid="signout"
          disabled={leaving}
          onClick={() => {
            setLeaving(true);
            void onSignOut();
          }}
        >
          Sign out
        </button>
      </header>
      <main>{children}</main>
    </div>
  );
}

function NoAccess({ tenant, user, tenants, privateOwner }: { tenant: string; user: string; tenants: Tenant[]; privateOwner?: string }) {
  return (
    <div className="page no-access" data-testid="no-access">
      <h1>{privateOwner !== undefined ? `No access to ${tenant}` : `No access to tenant “${tenant}”`}</h1>
      <p>
        You are signed in as <b>{user}</b>, who has no access to {privateOwner !== undefined ? '' : 'the tenant '}
        <b data-testid="no-access-tenant">{tenant}</b>. The link you opened points into that tenant; nothing from another tenant
        is shown instead.
      </p>
      {privateOwner !== undefined ? (
        <p>A private tenant opens for its owner only. Ask {privateOwner} to copy what they shared into a shared tenant, or open one of your tenants:</p>
      ) : (
        <p>Ask an administrator of “{tenant}” for access, or open one of your tenants:</p>
      )}
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

/** PickTenant: a deep link that names no tenant; the reader picks one. */
function PickTenant({ path, params, tenants }: { path: string; params: URLSearchParams; tenants: Tenant[] }) {
  const to = (t: Tenant) => {
    const q = new URLSearchParams(params);
    q.set('security_tenant', t.id);
    return `${path}?${q}`;
  };
  return (
    <div className="page" data-testid="pick-tenant">
      <h1>Which tenant?</h1>
      <p>The link you opened names no tenant, and the same id can mean different objects in different tenants. Open it in:</p>
      <ul>
        {tenants.map((t) => (
          <li key={t.id}>
            <A href={to(t)} data-testid="pick-tenant-link">
              {t.label}
            </A>
            {t.rw ? '' : ' (read-only)'}
          </li>
        ))}
      </ul>
    </div>
  );
}

type SignInMethod = 'password' | 'token';

/**
 * SignIn: a user name and password (POST /auth/login) by default, or a
 * pasted token (a JWT or an API token). Either way the token stays in
 * this tab only. expired adds the note of a session that ended.
 */
function SignIn({ next, expired, onSignedIn }: { next: string; expired: boolean; onSignedIn: () => void }) {
  const [method, setMethod] = useState<SignInMethod>('password');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [value, setValue] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const passwordInput = useRef<HTMLInputElement>(null);
  const done = () => {
    onSignedIn();
    navigate(next.startsWith('/app/') ? next : '/app/dashboards', true);
  };
  const fail = (err: unknown) => {
    clearToken();
    setError(err instanceof ApiError ? err.reason : errorText(err));
  };
  const withPassword = async (e: React.FormEvent) => {
    e.preventDefault();
    setError('');
    setBusy(true);
    try {
      await login(username.trim(), password);
      done();
    } catch (err) {
      fail(err);
      setPassword('');
      passwordInput.current?.focus();
    } finally {
      setBusy(false);
    }
  };
  const withToken = async (e: React.FormEvent) => {
    e.preventDefault();
    setError('');
    setBusy(true);
    setToken(value);
    try {
      await call('GET', '/_plugins/_security/authinfo', { signIn: true });
      done();
    } catch (err) {
      fail(err);
    } finally {
      setBusy(false);
    }
  };
  const pick = (m: SignInMethod) => {
    setMethod(m);
    setError('');
  };
  return (
    <div className="signin">
      <form onSubmit={method === 'password' ? withPassword : withToken} data-testid={`signin-form-${method}`}>
        <h1>Sign in to tenantgate</h1>
        {expired && (
          <div className="note" data-testid="signin-note">
            Your session expired. Sign in again to continue.
          </div>
        )}
        <div className="tabs" role="tablist">
          <button type="button" role="tab" aria-selected={method === 'password'} className={method === 'password' ? 'tab active' : 'tab'}
            data-testid="signin-tab-password" onClick={() => pick('password')}>
            Password
          </button>
          <button type="button" role="tab" aria-selected={method === 'token'} className={method === 'token' ? 'tab active' : 'tab'}
            data-testid="signin-tab-token" onClick={() => pick('token')}>
            Access token
          </button>
        </div>
        {method === 'password' ? (
          <>
            <label htmlFor="username">User name</label>
            <input id="username" data-testid="username" autoComplete="username" value={username}
              onChange={(e) => setUsername(e.target.value)} autoFocus />
            <label htmlFor="password">Password</label>
            <input id="password" ref={passwordInput} data-testid="password" type="password" autoComplete="current-password" value={password}
              onChange={(e) => setPassword(e.target.value)} />
          </>
        ) : (
          <>
            <label htmlFor="token">Access token (JWT or API token)</label>
            <textarea id="token" data-testid="token" rows={5} value={value} onChange={(e) => setValue(e.target.value)} autoFocus />
            <p className="hint">
              Mint one with <code>tenantgate token --sub NAME --roles …</code>, or create an API token for your user.
            </p>
          </>
        )}
        {error && (
          <div className="error" data-testid="signin-error" role="alert">
            {error}
          </div>
        )}
        <button type="submit" data-testid="signin"
          disabled={busy || (method === 'password' ? !username.trim() || !password : !value.trim())}>
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
    Promise.resolve()
      .then(() => call('GET', `/api/short_url/${pathSeg(id)}`, { tenant: s.tenant.id }))
      .then(
      (r) => {
        const target = String(r?.url ?? '');
        if (!target.startsWith('/app/')) throw new Error('the short link does not point into the UI');
        // Keep the hash: OpenSearch Dashboards' targets (also in imported
        // url objects) name the dashboard there.
        const u = new URL(target, location.origin);
        const to = new URL(legacyRedirect(u.pathname, u.search, u.hash) ?? u.pathname + u.search + u.hash, location.origin);
        // The link opens in the tenant it was resolved in.
        to.searchParams.set('security_tenant', s.tenant.id);
        if (s.tenant.kind === 'private') to.searchParams.set('private_owner', s.user);
        else to.searchParams.delete('private_owner');
        navigate(to.pathname + to.search + to.hash, true);
      },
      (e) => {
        if (e instanceof ApiError && e.status === 403) s.forbidden();
        setError(e instanceof ApiError && e.status === 404 ? `There is no short link “${id}” in the tenant “${s.tenant.label}”.` : errorText(e));
      },
    ).catch((e: any) => setError(errorText(e)));
  }, [id, s.tenant.id]);
  return <div className="page">{error ? <p className="error">{error}</p> : <p className="loading">Opening the link…</p>}</div>;
}
