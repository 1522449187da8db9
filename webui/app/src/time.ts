// Time ranges: OpenSearch Dashboards date math (now-15m, now/d) and its
// URL form _g=(time:(from:now-15m,to:now)); auto intervals as OSD picks them.

export interface TimeRange {
  from: string;
  to: string;
}

export const DEFAULT_TIME: TimeRange = { from: 'now-15m', to: 'now' };

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
  M: 30 * 86_400_000,
  y: 365 * 86_400_000,
};

/** parseDateMath turns now-15m, now/d or an absolute date into epoch ms. */
export function parseDateMath(s: string, now: number, roundUp = false): number {
  const m = /^now(?:([+-])(\d+)(ms|[smhdwMy]))?(?:\/([smhdwMy]))?$/.exec(s.trim());
  if (!m) {
    const t = Date.parse(s);
    if (Number.isNaN(t)) throw new Error(`invalid time "${s}"`);
    return t;
  }
  let t = now;
  if (m[1]) {
    const n = Number(m[2]) * (m[1] === '-' ? -1 : 1);
    const d = new Date(t);
    if (m[3] === 'M') t = d.setUTCMonth(d.getUTCMonth() + n);
    else if (m[3] === 'y') t = d.setUTCFullYear(d.getUTCFullYear() + n);
    else t += n * UNIT_MS[m[3]];
  }
  if (m[4]) {
    const d = new Date(t);
    const u = m[4];
    if (u === 'y') d.setMonth(0, 1);
    if (u === 'M' || u === 'y') d.setDate(1);
    if (u === 'w') d.setDate(d.getDate() - ((d.getDay() + 6) % 7));
    if (u !== 's' && u !== 'm' && u !== 'h') d.setHours(0, 0, 0, 0);
    if (u === 'h') d.setMinutes(0, 0, 0);
    if (u === 'm') d.setSeconds(0, 0);
    if (u === 's') d.setMilliseconds(0);
    t = d.getTime();
    if (roundUp) {
      const next = parseDateMath(`now+1${u}/${u}`, t) - 1;
      t = next;
    }
  }
  return t;
}

export function resolveRange(r: TimeRange, now = Date.now()): { fromMs: number; toMs: number } {
  return { fromMs: parseDateMath(r.from, now), toMs: parseDateMath(r.to, now, true) };
}

function risonValue(s: string): string {
  return /^[A-Za-z0-9_.\-/+]+$/.test(s) && !/^[-\d]/.test(s) ? s : `'${s.replace(/!/g, '!!').replace(/'/g, "!'")}'`;
}

/** formatG writes the _g parameter as OpenSearch Dashboards does. */
export function formatG(r: TimeRange): string {
  return `(time:(from:${risonValue(r.from)},to:${risonValue(r.to)}))`;
}

/** parseG reads the time out of an _g parameter; undefined when absent. */
export function parseG(g: string | null): TimeRange | undefined {
  if (!g) return undefined;
  const v = (key: string): string | undefined => {
    const m = new RegExp(`${key}:('((?:[^'!]|!.)*)'|[^,)]+)`).exec(g);
    if (!m) return undefined;
    return m[2] !== undefined ? m[2].replace(/!(.)/g, '$1') : m[1];
  };
  const from = v('from');
  const to = v('to');
  return from && to ? { from, to } : undefined;
}

export const QUICK_RANGES: { label: string; from: string }[] = [
  { label: 'Last 15 minutes', from: 'now-15m' },
  { label: 'Last 1 hour', from: 'now-1h' },
  { label: 'Last 24 hours', from: 'now-24h' },
  { label: 'Last 7 days', from: 'now-7d' },
  { label: 'Last 30 days', from: 'now-30d' },
  { label: 'Last 90 days', from: 'now-90d' },
  { label: 'Last 1 year', from: 'now-1y' },
];

export function describeRange(r: TimeRange): string {
  const q = QUICK_RANGES.find((q) => q.from === r.from && r.to === 'now');
  return q ? q.label : `${r.from} → ${r.to}`;
}

/** Interval is a date_histogram interval. */
export interface Interval {
  ms: number;
  /** es is the request's interval: {fixed_interval} or {calendar_interval}. */
  es: Record<string, string>;
  /** label is "30 seconds", "hour", … as in OSD's axis titles. */
  label: string;
}

const S = 1000, MIN = 60 * S, H = 60 * MIN, D = 24 * H, W = 7 * D;
// OSD's calcAutoIntervalNear: the bound just above the per-bucket target.
const BOUNDS: [number, number][] = [
  [Infinity, 365 * D],
  [365 * D, 30 * D],
  [3 * W, W],
  [W, D],
  [24 * H, 12 * H],
  [6 * H, 3 * H],
  [2 * H, H],
  [45 * MIN, 30 * MIN],
  [20 * MIN, 10 * MIN],
  [9 * MIN, 5 * MIN],
  [3 * MIN, MIN],
  [45 * S, 30 * S],
  [15 * S, 10 * S],
  [7.5 * S, 5 * S],
  [5 * S, S],
  [500, 100],
];

function intervalOf(ms: number): Interval {
  if (ms >= 365 * D) return { ms, es: { calendar_interval: '1y' }, label: 'year' };
  if (ms >= 30 * D) return { ms, es: { calendar_interval: '1M' }, label: 'month' };
  if (ms === W) return { ms, es: { calendar_interval: '1w' }, label: 'week' };
  const units: [number, string, string][] = [
    [D, 'd', 'day'],
    [H, 'h', 'hour'],
    [MIN, 'm', 'minute'],
    [S, 's', 'second'],
  ];
  for (const [u, code, name] of units) {
    if (ms % u === 0) {
      const n = ms / u;
      return { ms, es: { fixed_interval: `${n}${code}` }, label: n === 1 ? name : `${n} ${name}s` };
    }
  }
  return { ms, es: { fixed_interval: `${ms}ms` }, label: `${ms} milliseconds` };
}

/** autoInterval picks the interval OSD's "auto" gives for ~50 buckets. */
export function autoInterval(durationMs: number, barTarget = 50): Interval {
  const target = durationMs / barTarget;
  const i = BOUNDS.findIndex(([bound]) => bound <= target);
  if (i > 0) return intervalOf(BOUNDS[i - 1][1]);
  return intervalOf(Math.max(Math.floor(target), 1));
}

/** dateInterval resolves a visState date_histogram interval ("auto", "m", "30s", "1d"). */
export function dateInterval(interval: string | undefined, durationMs: number): Interval {
  if (!interval || interval === 'auto') return autoInterval(durationMs);
  const m = /^(\d*)(ms|[smhdwMy])$/.exec(interval);
  if (!m) return autoInterval(durationMs);
  const n = m[1] ? Number(m[1]) : 1;
  if (m[2] === 'M' || m[2] === 'y' || (m[2] === 'w' && n === 1)) {
    const label = { M: 'month', y: 'year', w: 'week' }[m[2]]!;
    return { ms: n * UNIT_MS[m[2]], es: { calendar_interval: `${n}${m[2]}` }, label: n === 1 ? label : `${n} ${label}s` };
  }
  return intervalOf(n * UNIT_MS[m[2]]);
}
