// Saved objects come from imports and other clients: any attribute the UI
// shows may be a number, an object or null rather than a string. asText is
// the one boundary every such value crosses before it is rendered, sorted
// or compared.

/** asText shows any JSON value as text: strings as they are, null and
 * undefined as the fallback, numbers and booleans by String, objects and
 * arrays as JSON. It never throws. */
export function asText(v: unknown, fallback = ''): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return fallback;
  if (typeof v === 'object') {
    try {
      return JSON.stringify(v) ?? fallback;
    } catch {
      return String(fallback);
    }
  }
  try {
    return String(v);
  } catch {
    return fallback;
  }
}

/** errorText is an error's message as text, whatever was thrown. */
export function errorText(e: unknown): string {
  if (e && typeof e === 'object' && 'message' in e) return asText((e as { message: unknown }).message, 'unknown error');
  return asText(e, 'unknown error');
}

/** titleOf is a saved object's title as text, whatever the attribute
 * holds: the title, else a url object's url, else the id. */
export function titleOf(o: { id: unknown; attributes?: any }): string {
  return asText(o.attributes?.title) || asText(o.attributes?.url) || asText(o.id);
}
