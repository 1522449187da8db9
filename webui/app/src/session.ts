// The rules of a signed-in session that need no browser: when its token
// expires, how long to wait before ending it, why it ended, and the
// server's message in an error answer. api.ts keeps the session itself.

/** MAX_DELAY is the longest delay setTimeout honours (2^31-1 ms, about
 * 24.8 days); a longer one fires at once, so expiryDelay never asks for
 * more and the caller simply checks again when it fires. */
export const MAX_DELAY = 2 ** 31 - 1;

/** parseExpiry reads an RFC 3339 time (the sign-in answer's "expires")
 * as epoch ms; undefined when it is missing or not a time. */
export function parseExpiry(v: unknown): number | undefined {
  if (typeof v !== 'string' || !v.trim()) return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : t;
}

/** jwtExpiry is the exp claim of a JWT as epoch ms; undefined for API
 * tokens (tgat_…), malformed tokens and JWTs without exp. The claim is
 * only read, never trusted: the server decides. */
export function jwtExpiry(token: string): number | undefined {
  const parts = token.trim().split('.');
  if (parts.length !== 3 || !parts[1]) return undefined;
  try {
    const b64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
    const claims = JSON.parse(atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4)));
    const exp = claims?.exp;
    return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/** isExpired tells whether a session with this expiry has ended at now;
 * a session without an expiry ends only when the server says so. */
export function isExpired(expires: number | undefined, now: number): boolean {
  return expires !== undefined && now >= expires;
}

/** expiryDelay is how long to wait before ending the session: 0 when it
 * has expired, at most MAX_DELAY, undefined without an expiry. */
export function expiryDelay(expires: number | undefined, now: number): number | undefined {
  if (expires === undefined) return undefined;
  return Math.min(Math.max(expires - now, 0), MAX_DELAY);
}

/** EndReason is why a session ended: the user signed out, or the
 * token expired or was refused (a 401). */
export type EndReason = 'signed-out' | 'expired';

/** signInPath is the sign-in page's URL after a session ended: next is
 * where to return (only paths inside the UI), reason adds the note. */
export function signInPath(next: string | undefined, reason?: EndReason): string {
  const q = new URLSearchParams();
  if (next && next.startsWith('/app/') && !next.startsWith('/app/login')) q.set('next', next);
  if (reason === 'expired') q.set('expired', '1');
  const qs = q.toString();
  return `/app/login${qs ? `?${qs}` : ''}`;
}

/** reasonOf is the server's message in an error answer: OpenSearch's
 * error.reason, the message of Kestra-style and Security API answers
 * ({"statusCode","error","message"}, {"status","message"}), a plain
 * error string, else the start of the text. */
export function reasonOf(status: number, body: any, text: string): string {
  if (body && typeof body === 'object') {
    if (body.error && typeof body.error === 'object' && body.error.reason) return String(body.error.reason);
    if (typeof body.message === 'string' && body.message) return body.message;
    if (typeof body.error === 'string' && body.error) return body.error;
  }
  return text.slice(0, 300) || `HTTP ${status}`;
}
