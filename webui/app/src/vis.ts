// From saved objects to search requests and back: the query of a panel
// (time range, KQL/Lucene queries, filters), the aggregations of a
// visState, and the response flattened into a table (like OSD's tabify).

import { dateInterval, Interval } from './time';
import { asText } from './text';

export interface Query {
  query: unknown;
  language?: string;
}

/** queryClause turns a saved query into a query DSL clause (null when empty). */
export function queryClause(q: Query | undefined): unknown | null {
  if (!q || q.query === undefined || q.query === null) return null;
  if (typeof q.query === 'object') return Object.keys(q.query as object).length ? q.query : null;
  const s = String(q.query).trim();
  if (!s) return null;
  if (q.language === 'kuery') return { kql: { query: s } };
  return { query_string: { query: s, analyze_wildcard: true } };
}

/** filterClauses converts OSD filter objects ({meta, query|range|exists…}). */
export function filterClauses(filters: any[] | undefined): { must: unknown[]; mustNot: unknown[] } {
  const must: unknown[] = [];
  const mustNot: unknown[] = [];
  for (const f of filters ?? []) {
    if (!f || f.meta?.disabled) continue;
    const { meta, $state, query, ...rest } = f;
    const clause = query ?? rest;
    if (!clause || Object.keys(clause).length === 0) continue;
    (meta?.negate ? mustNot : must).push(clause);
  }
  return { must, mustNot };
}

export interface Scope {
  timeField?: string;
  fromMs: number;
  toMs: number;
  queries: (Query | undefined)[];
  filters: any[];
}

export function buildQuery(s: Scope): unknown {
  const filter: unknown[] = [];
  if (s.timeField) {
    filter.push({
      range: { [s.timeField]: { gte: new Date(s.fromMs).toISOString(), lte: new Date(s.toMs).toISOString() } },
    });
  }
  for (const q of s.queries) {
    const c = queryClause(q);
    if (c) filter.push(c);
  }
  const { must, mustNot } = filterClauses(s.filters);
  filter.push(...must);
  const bool: Record<string, unknown> = { filter };
  if (mustNot.length) bool.must_not = mustNot;
  return { bool };
}

export interface Agg {
  id: string;
  enabled?: boolean;
  type: string;
  schema: string;
  params: any;
}

const METRICS = new Set(['count', 'sum', 'avg', 'min', 'max', 'cardinality', 'value_count']);
const BUCKETS = new Set(['terms', 'date_histogram', 'histogram', 'filters', 'range']);

export function isMetric(a: Agg): boolean {
  return a.schema === 'metric' || METRICS.has(a.type);
}

export function metricLabel(a: Agg): string {
  const custom = asText(a.params?.customLabel);
  if (custom) return custom;
  const f = asText(a.params?.field);
  switch (a.type) {
    case 'count':
      return 'Count';
    case 'sum':
      return `Sum of ${f}`;
    case 'avg':
      return `Average ${f}`;
    case 'min':
      return `Min ${f}`;
    case 'max':
      return `Max ${f}`;
    case 'cardinality':
      return `Unique count of ${f}`;
    default:
      return `${a.type} ${f ?? ''}`.trim();
  }
}

export function bucketLabel(a: Agg, interval?: Interval): string {
  const custom = asText(a.params?.customLabel);
  if (custom) return custom;
  const f = asText(a.params?.field);
  switch (a.type) {
    case 'terms':
      return `${f}: ${a.params?.order === 'asc' ? 'Ascending' : 'Descending'}`;
    case 'date_histogram':
      return `${f} per ${asText(interval?.label, 'interval')}`;
    case 'filters':
      return 'Filters';
    case 'range':
      return `${f} ranges`;
    default:
      return f || asText(a.type);
  }
}

function metricRequest(a: Agg): unknown | null {
  switch (a.type) {
    case 'count':
      return null;
    case 'sum':
    case 'avg':
    case 'min':
    case 'max':
    case 'cardinality':
    case 'value_count':
      return { [a.type]: { field: a.params.field } };
    default:
      throw new Error(`metric aggregation "${a.type}" is not supported yet`);
  }
}

export function filterLabel(f: any): string {
  const q = f?.input?.query;
  return asText(f?.label) || (typeof q === 'string' && q ? q : '*');
}

export interface Plan {
  aggs: Record<string, unknown> | undefined;
  buckets: Agg[];
  metrics: Agg[];
  interval?: Interval;
}

/** plan builds the nested aggregations of a visState over a time span. */
export function plan(all: Agg[], durationMs: number): Plan {
  const enabled = all.filter((a) => a.enabled !== false);
  const metrics = enabled.filter(isMetric);
  const buckets = enabled.filter((a) => !isMetric(a));
  if (metrics.length === 0) metrics.push({ id: '__count', type: 'count', schema: 'metric', params: {} });
  let interval: Interval | undefined;
  const metricAggs: Record<string, unknown> = {};
  for (const m of metrics) {
    const r = metricRequest(m);
    if (r) metricAggs[m.id] = r;
  }
  const hasMetricAggs = Object.keys(metricAggs).length > 0;
  let inner: Record<string, unknown> | undefined = hasMetricAggs ? metricAggs : undefined;
  for (let i = buckets.length - 1; i >= 0; i--) {
    const b = buckets[i];
    let req: Record<string, unknown>;
    const p = b.params ?? {};
    switch (b.type) {
      case 'terms': {
        const by = metrics.find((m) => m.id === String(p.orderBy));
        const order =
          p.orderBy === '_key' ? { _key: p.order ?? 'desc' } : by && by.type !== 'count' ? { [by.id]: p.order ?? 'desc' } : { _count: p.order ?? 'desc' };
        req = { terms: { field: p.field, size: p.size ?? 5, order } };
        break;
      }
      case 'date_histogram':
        interval = dateInterval(p.interval, durationMs);
        req = { date_histogram: { field: p.field, ...interval.es, min_doc_count: 1 } };
        break;
      case 'histogram':
        req = { histogram: { field: p.field, interval: Number(p.interval) || 1, min_doc_count: p.min_doc_count ? 0 : 1 } };
        break;
      case 'filters': {
        const filters: Record<string, unknown> = {};
        for (const f of p.filters ?? []) filters[filterLabel(f)] = queryClause(f.input) ?? { match_all: {} };
        req = { filters: { filters } };
        break;
      }
      case 'range':
        req = { range: { field: p.field, ranges: (p.ranges ?? []).map((r: any) => ({ from: r.from ?? undefined, to: r.to ?? undefined })) } };
        break;
      default:
        throw new Error(`bucket aggregation "${b.type}" is not supported yet`);
    }
    const sub = i === buckets.length - 1 ? inner : { ...(hasMetricAggs ? metricAggs : {}), ...inner };
    if (sub && Object.keys(sub).length) req.aggs = sub;
    inner = { [b.id]: req };
  }
  return { aggs: inner, buckets, metrics, interval };
}

export type Cell = string | number | null;

/** Table is a flattened aggregation response: one row per leaf bucket. */
export interface Table {
  columns: { id: string; label: string; agg: Agg; metric: boolean }[];
  rows: Cell[][];
}

function bucketsOf(b: Agg, node: any): { key: Cell; node: any }[] {
  const res = node?.[b.id];
  if (!res) return [];
  if (Array.isArray(res.buckets)) {
    return res.buckets.map((x: any) => ({
      key: b.type === 'range' ? (x.key ?? `${x.from ?? '-∞'} to ${x.to ?? '+∞'}`) : x.key,
      node: x,
    }));
  }
  if (res.buckets && typeof res.buckets === 'object') {
    const labels: string[] = b.type === 'filters' ? (b.params?.filters ?? []).map(filterLabel) : Object.keys(res.buckets);
    return labels.filter((l) => res.buckets[l]).map((l) => ({ key: l, node: res.buckets[l] }));
  }
  return [];
}

/** tabify flattens a search response into rows of bucket keys and metric values. */
export function tabify(resp: any, p: Plan): Table {
  const columns = [
    ...p.buckets.map((b) => ({ id: b.id, label: bucketLabel(b, p.interval), agg: b, metric: false })),
    ...p.metrics.map((m) => ({ id: m.id, label: metricLabel(m), agg: m, metric: true })),
  ];
  const rows: Cell[][] = [];
  const total = resp?.hits?.total;
  const root = { ...(resp?.aggregations ?? {}), doc_count: typeof total === 'number' ? total : (total?.value ?? 0) };
  const walk = (node: any, level: number, prefix: Cell[]) => {
    if (level === p.buckets.length) {
      rows.push([
        ...prefix,
        ...p.metrics.map((m) => (m.type === 'count' ? (node.doc_count ?? null) : (node[m.id]?.value ?? null))),
      ]);
      return;
    }
    for (const { key, node: child } of bucketsOf(p.buckets[level], node)) walk(child, level + 1, [...prefix, key]);
  };
  walk(root, 0, []);
  return { columns, rows };
}

/** formatKey shows a bucket key: dates by the interval, others as they are. */
export function formatKey(agg: Agg, key: Cell, interval?: Interval): string {
  if (key === null) return '';
  if (agg.type === 'date_histogram' && typeof key === 'number') {
    const d = new Date(key);
    const ms = interval?.ms ?? 60_000;
    const pad = (n: number) => String(n).padStart(2, '0');
    const date = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
    const time = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
    if (ms < 60_000) return `${time}:${pad(d.getSeconds())}`;
    if (ms < 86_400_000) return ms < 3_600_000 * 3 ? time : `${date} ${time}`;
    return date;
  }
  return String(key);
}

export function formatNumber(v: Cell): string {
  if (v === null || v === undefined) return '-';
  if (typeof v !== 'number') return String(v);
  return Number.isInteger(v) ? v.toLocaleString('en-US') : v.toLocaleString('en-US', { maximumFractionDigits: 3 });
}

export function isSupportedBucket(a: Agg): boolean {
  return BUCKETS.has(a.type);
}

export interface SortColumn {
  colIndex: number;
  direction: 'asc' | 'desc';
}

/** sortRows orders table rows by one column as OSD's table does (lodash
 * orderBy on the raw values); rows without a value go last. */
export function sortRows(rows: Cell[][], sort: SortColumn | null | undefined): Cell[][] {
  if (!sort || sort.colIndex < 0) return rows;
  const i = sort.colIndex;
  const dir = sort.direction === 'desc' ? -1 : 1;
  return [...rows].sort((a, b) => {
    const x = a[i];
    const y = b[i];
    if (x === y) return 0;
    if (x === null || x === undefined) return 1;
    if (y === null || y === undefined) return -1;
    return (x < y ? -1 : x > y ? 1 : 0) * dir;
  });
}

/** controlFilter is the filter a list control applies, in OSD's shape
 * (a phrase filter for one value, a phrases filter for several). */
export function controlFilter(control: any, values: Cell[], indexId?: string): any | null {
  if (values.length === 0) return null;
  const field = control.fieldName;
  const meta = { key: field, controlledBy: control.id, index: indexId, negate: false, disabled: false };
  if (values.length === 1)
    return { meta: { ...meta, type: 'phrase', params: { query: values[0] } }, query: { match_phrase: { [field]: values[0] } } };
  return {
    meta: { ...meta, type: 'phrases', params: values },
    query: { bool: { should: values.map((v) => ({ match_phrase: { [field]: v } })), minimum_should_match: 1 } },
  };
}
