import { describe, expect, it } from 'vitest';
import { expiryDelay, isExpired, jwtExpiry, MAX_DELAY, parseExpiry, reasonOf, signInPath } from './session';
import { tenantRecords } from './tenantadmin';

// A JWT's parts are base64url; only the payload matters here.
const b64url = (v: unknown) => btoa(JSON.stringify(v)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const jwt = (claims: unknown) => `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url(claims)}.c2ln`;

describe('session expiry', () => {
  it('reads the sign-in answer', () => {
    expect(parseExpiry('2030-01-02T03:04:05Z')).toBe(Date.UTC(2030, 0, 2, 3, 4, 5));
    expect(parseExpiry('2030-01-02T04:04:05+01:00')).toBe(Date.UTC(2030, 0, 2, 3, 4, 5));
    expect(parseExpiry('')).toBeUndefined();
    expect(parseExpiry('soon')).toBeUndefined();
    expect(parseExpiry(1893553445)).toBeUndefined();
    expect(parseExpiry(undefined)).toBeUndefined();
  });
  it('reads exp from JWTs only', () => {
    expect(jwtExpiry(jwt({ sub: 'alice', exp: 1893553445 }))).toBe(1893553445000);
    // base64url characters (- and _) in the payload decode.
    expect(jwtExpiry(jwt({ sub: '>>>???', exp: 1 }))).toBe(1000);
    expect(jwtExpiry(jwt({ sub: 'alice' }))).toBeUndefined();
    expect(jwtExpiry(jwt({ exp: '1893553445' }))).toBeUndefined();
    expect(jwtExpiry('tgat_abc123_secret')).toBeUndefined();
    expect(jwtExpiry('a.%%%.c')).toBeUndefined();
    expect(jwtExpiry('a.bm90IGpzb24.c')).toBeUndefined();
    expect(jwtExpiry('')).toBeUndefined();
  });
  it('ends a session at its expiry, not before', () => {
    expect(isExpired(1000, 999)).toBe(false);
    expect(isExpired(1000, 1000)).toBe(true);
    expect(isExpired(1000, 5000)).toBe(true);
    expect(isExpired(undefined, 5000)).toBe(false);
  });
  it('waits no longer than setTimeout can', () => {
    expect(expiryDelay(undefined, 0)).toBeUndefined();
    expect(expiryDelay(5000, 1000)).toBe(4000);
    expect(expiryDelay(1000, 5000)).toBe(0);
    // A year-long API token: a plain setTimeout would overflow and fire at once.
    expect(expiryDelay(365 * 86_400_000, 0)).toBe(MAX_DELAY);
  });
});

describe('signInPath', () => {
  it('returns to the page after an expired session, with the note', () => {
    expect(signInPath('/app/dashboards?security_tenant=analysts', 'expired')).toBe(
      '/app/login?next=%2Fapp%2Fdashboards%3Fsecurity_tenant%3Danalysts&expired=1',
    );
  });
  it('starts afresh after signing out', () => {
    expect(signInPath(undefined, 'signed-out')).toBe('/app/login');
  });
  it('never returns outside the UI or to the sign-in page', () => {
    expect(signInPath('https://evil.example/app/x', 'expired')).toBe('/app/login?expired=1');
    expect(signInPath('/api/v1/tenants', 'expired')).toBe('/app/login?expired=1');
    expect(signInPath('/app/login?next=/app/x', 'expired')).toBe('/app/login?expired=1');
  });
});

describe('reasonOf', () => {
  it('takes the message of every error shape the server answers with', () => {
    // Kestra-style /api and /auth routes.
    expect(reasonOf(401, { statusCode: 401, error: 'Unauthorized', message: 'invalid user name or password' }, '')).toBe(
      'invalid user name or password',
    );
    // OpenSearch Security API.
    expect(reasonOf(403, { status: 'FORBIDDEN', message: "Resource 'x' is reserved." }, '')).toBe("Resource 'x' is reserved.");
    // OpenSearch.
    expect(reasonOf(404, { error: { type: 'index_not_found_exception', reason: 'no such index [x]' }, status: 404 }, '')).toBe(
      'no such index [x]',
    );
    expect(reasonOf(400, { error: 'bad request' }, '')).toBe('bad request');
  });
  it('falls back to the text, then the status', () => {
    expect(reasonOf(502, undefined, 'Bad Gateway')).toBe('Bad Gateway');
    expect(reasonOf(502, { message: { nested: true } }, '{"message":{"nested":true}}')).toBe('{"message":{"nested":true}}');
    expect(reasonOf(500, undefined, 'x'.repeat(400))).toHaveLength(300);
    expect(reasonOf(503, undefined, '')).toBe('HTTP 503');
  });
});

describe('tenantRecords', () => {
  it('reads the list defensively', () => {
    const got = tenantRecords([
      { id: 'stage', name: 'Staging', description: 'pre-prod', deleted: false, locked: true, frozen: false, reserved: false, hidden: false },
      { id: 'old', name: '', deleted: true, deletedAt: '2030-01-01T00:00:00Z', restorableUntil: '2030-01-08T00:00:00Z', locked: 'yes' },
      { name: 'no id' },
      null,
      'x',
    ]);
    expect(got.map((t) => [t.id, t.name, t.locked, t.deleted, t.restorableUntil ?? ''])).toEqual([
      ['stage', 'Staging', true, false, ''],
      ['old', 'old', false, true, '2030-01-08T00:00:00Z'],
    ]);
    expect(tenantRecords({ error: 'no' })).toEqual([]);
  });
});
