// API access: every call carries the bearer token from sessionStorage and
// the tenant in the securitytenant header; writes carry osd-xsrf. The
// token (pasted, or from a password sign-in with its expiry) stays in this
// tab only.
import { parseExpiry, reasonOf } from './session';

const TOKEN_KEY = 'tenantgate.token';
const EXPIRES_KEY = 'tenantgate.expires';

export function getToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}
/** setToken keeps a token and, when known, when it expires (epoch ms). */
export function setToken(token: string, expires?: number): void {
  sessionStorage.setItem(TOKEN_KEY, token.trim());
  if (expires !== undefined) sessionStorage.setItem(EXPIRES_KEY, String(expires));
  else sessionStorage.removeItem(EXPIRES_KEY);
}
/** getExpiry is the stored token's expiry (epoch ms) from the sign-in
 * answer; undefined for pasted tokens. */
export function getExpiry(): number | undefined {
  const v = Number(sessionStorage.getItem(EXPIRES_KEY) ?? '');
  return v > 0 ? v : undefined;
}
export function clearToken(): void {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(EXPIRES_KEY);
}

/** ApiError is a non-2xx answer; reason is the server's message. */
export class ApiError extends Error {
  constructor(
    public status: number,
    public reason: string,
    public body: unknown,
    public read: boolean,
  ) {
    super(`${status}: ${reason}`);
  }
}

export interface CallOptions {
  tenant?: string;
  body?: unknown;
  form?: FormData;
  /** read marks POSTs that only read (_search, _find, _bulk_get, _export). */
  read?: boolean;
  blob?: boolean;
  /** signIn marks the sign-in itself: a 401 is its answer (wrong
   * password, bad token), not a session that ended. */
  signIn?: boolean;
}

export async function call(method: string, path: string, opts: CallOptions = {}): Promise<any> {
  const headers: Record<string, string> = {};
  const token = getToken();
  if (token) headers['Authorization'] = `Bearer ${token}`;
  if (opts.tenant) headers['securitytenant'] = opts.tenant;
  if (method !== 'GET' && method !== 'HEAD') headers['osd-xsrf'] = 'true';
  let body: BodyInit | undefined;
  if (opts.form) {
    body = opts.form;
  } else if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  const resp = await fetch(path, { method, headers, body });
  if (resp.ok && opts.blob) return resp.blob();
  const text = await resp.text();
  let parsed: any = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!resp.ok) {
    const read = opts.read ?? (method === 'GET' || method === 'HEAD');
    const err = new ApiError(resp.status, reasonOf(resp.status, parsed, text), parsed, read);
    if (resp.status === 401 && !opts.signIn) window.dispatchEvent(new CustomEvent('tenantgate:unauthorized'));
    throw err;
  }
  return parsed;
}

/** SignedIn is the answer of a password sign-in. */
export interface SignedIn {
  token: string;
  /** expires is epoch ms; undefined when the server named no expiry. */
  expires?: number;
  user: string;
}

/**
 * login signs in with a user name and password (POST /auth/login) and
 * keeps the token it returns, with its expiry, like a pasted one. Wrong
 * credentials throw an ApiError with the server's message.
 */
export async function login(username: string, password: string): Promise<SignedIn> {
  clearToken();
  const r = await call('POST', '/auth/login', { body: { username, password }, signIn: true });
  if (!r || typeof r.token !== 'string' || !r.token) throw new Error('the server answered the sign-in without a token');
  const out: SignedIn = { token: r.token, expires: parseExpiry(r.expires), user: typeof r.user === 'string' ? r.user : username };
  setToken(out.token, out.expires);
  return out;
}

/**
 * logout revokes the token on the server (POST /auth/logout) and forgets
 * it here. Failures are ignored: the token is forgotten either way, and a
 * JWT cannot be revoked anyway.
 */
export async function logout(): Promise<void> {
  const token = getToken();
  clearToken();
  if (!token) return;
  try {
    await fetch('/auth/logout', { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'osd-xsrf': 'true' } });
  } catch {
    // signed out here all the same
  }
}

/** SavedObject is an OpenSearch Dashboards saved object. */
export interface SavedObject {
  type: string;
  id: string;
  attributes: any;
  references?: { name: string; type: string; id: string }[];
  updated_at?: string;
  version?: string;
  error?: { statusCode: number; message: string };
}

export async function bulkGet(tenant: string, objs: { type: string; id: string }[]): Promise<SavedObject[]> {
  if (objs.length === 0) return [];
  const r = await call('POST', '/api/saved_objects/_bulk_get', { tenant, body: objs, read: true });
  return r.saved_objects as SavedObject[];
}

/** FIND_LIMIT is the most objects a list fetches: the server's find window
 * (page * per_page) ends at 10,000. */
export const FIND_LIMIT = 10_000;

/**
 * find lists saved objects, paging through all of them (per_page objects a
 * request) up to limit; total is the server's count, so a caller shows
 * "showing the first N" when saved_objects.length < total.
 */
export async function find(
  tenant: string,
  types: string[],
  search = '',
  perPage = 1000,
  limit = FIND_LIMIT,
): Promise<{ saved_objects: SavedObject[]; total: number }> {
  const out: SavedObject[] = [];
  const seen = new Set<string>();
  let total = 0;
  for (let page = 1; out.length < limit && (page - 1) * perPage < limit; page++) {
    const q = new URLSearchParams();
    for (const t of types) q.append('type', t);
    q.set('per_page', String(perPage));
    q.set('page', String(page));
    if (search.trim()) {
      q.set('search', search.trim().endsWith('*') ? search.trim() : `${search.trim()}*`);
      q.set('search_fields', 'title');
    }
    const r = await call('GET', `/api/saved_objects/_find?${q}`, { tenant });
    const batch: SavedObject[] = Array.isArray(r?.saved_objects) ? r.saved_objects : [];
    total = typeof r?.total === 'number' ? r.total : out.length + batch.length;
    for (const o of batch) {
      // Objects may move between pages while paging: keep each once.
      const k = `${o?.type}:${o?.id}`;
      if (!o || typeof o !== 'object' || seen.has(k)) continue;
      seen.add(k);
      out.push({ ...o, type: String(o.type ?? ''), id: String(o.id ?? ''), attributes: o.attributes && typeof o.attributes === 'object' ? o.attributes : {} });
    }
    if (batch.length < perPage || page * perPage >= total) break;
  }
  return { saved_objects: out.slice(0, limit), total: Math.max(total, out.length) };
}

export function search(tenant: string, index: string, body: unknown): Promise<any> {
  return call('POST', `/${encodeURIComponent(index)}/_search`, { tenant, body, read: true });
}
