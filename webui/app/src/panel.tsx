// One dashboard panel: runs its search and draws it.
import { useEffect, useMemo, useState } from 'react';
import { search, SavedObject } from './api';
import { EChart, PALETTE } from './chart';
import { renderMarkdown } from './markdown';
import { asText, errorText } from './text';
import { Agg, buildQuery, Cell, controlFilter, formatKey, formatNumber, plan, Plan, Query, SortColumn, sortRows, Table, tabify } from './vis';

export interface PanelSource {
  /** vis is the visualization, absent for a saved-search panel. */
  vis?: SavedObject;
  /** search is the saved search (the panel itself or the vis's source). */
  search?: SavedObject;
  indexPattern?: SavedObject;
  /** refPatterns are the index patterns the vis references, by reference
   * name (input controls name theirs through indexPatternRefName). */
  refPatterns?: Record<string, SavedObject>;
  /** embeddableConfig is the panel's own state on the dashboard; its vis
   * part overrides the visualization's uiStateJSON, as in OSD. */
  embeddableConfig?: any;
  missing?: string;
}

export interface PanelScope {
  tenant: string;
  fromMs: number;
  toMs: number;
  dashboardQuery?: Query;
  dashboardFilters: any[];
  onForbidden: () => void;
  /** onControlFilters replaces the filters an input control panel applies. */
  onControlFilters?: (panelKey: string, filters: any[]) => void;
}

function searchSource(o: SavedObject | undefined): any {
  try {
    return JSON.parse(o?.attributes?.kibanaSavedObjectMeta?.searchSourceJSON ?? '{}');
  } catch {
    return {};
  }
}

function scopeQuery(src: PanelSource, scope: PanelScope) {
  const visSS = searchSource(src.vis);
  const searchSS = searchSource(src.search);
  return buildQuery({
    timeField: src.indexPattern?.attributes?.timeFieldName || undefined,
    fromMs: scope.fromMs,
    toMs: scope.toMs,
    queries: [scope.dashboardQuery, visSS.query, searchSS.query],
    filters: [...scope.dashboardFilters, ...(visSS.filter ?? []), ...(searchSS.filter ?? [])],
  });
}

export function PanelBody({ src, scope, panelKey = '' }: { src: PanelSource; scope: PanelScope; panelKey?: string }) {
  if (src.missing) return <div className="panel-error">{src.missing}</div>;
  if (!src.vis) return <SearchTable src={src} scope={scope} />;
  const vs = parseVisState(src.vis);
  if (vs.type === 'markdown') return <Markdown source={asText(vs.params?.markdown)} params={vs.params} />;
  if (vs.type === 'input_control_vis') return <InputControls src={src} scope={scope} vs={vs} panelKey={panelKey} />;
  return <VisPanel src={src} scope={scope} vs={vs} />;
}

function Markdown({ source, params }: { source: string; params: any }) {
  const html = useMemo(() => renderMarkdown(source, { openLinksInNewTab: params?.openLinksInNewTab === true }), [source, params?.openLinksInNewTab]);
  const size = typeof params?.fontSize === 'number' && params.fontSize > 0 ? params.fontSize : undefined;
  return <div className="markdown" data-testid="markdown" style={size ? { fontSize: size } : undefined} dangerouslySetInnerHTML={{ __html: html }} />;
}

/** parseVisState reads a visualization's visState; anything but a JSON
 * object reads as {} and a non-string type as "". */
export function parseVisState(v: SavedObject): any {
  let vs: any;
  try {
    vs = JSON.parse(v.attributes?.visState ?? '{}');
  } catch {
    return {};
  }
  if (!vs || typeof vs !== 'object' || Array.isArray(vs)) return {};
  return { ...vs, type: asText(vs.type), aggs: Array.isArray(vs.aggs) ? vs.aggs.filter((a: unknown) => a && typeof a === 'object') : [] };
}

/** usePanelData runs load whenever deps change and keeps its latest
 * result or error; a 403 tells the dashboard the tenant is not the reader's.
 * A load overtaken by a newer one is dropped. */
function usePanelData<T>(scope: PanelScope, load: () => Promise<T>, deps: unknown[]): { data?: T; error?: string } {
  const [state, setState] = useState<{ data?: T; error?: string }>({});
  useEffect(() => {
    let cancelled = false;
    load().then(
      (data) => {
        if (!cancelled) setState({ data });
      },
      (e: any) => {
        if (cancelled) return;
        if (e?.status === 403) scope.onForbidden();
        setState({ error: errorText(e) });
      },
    );
    return () => {
      cancelled = true;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  return state;
}

function VisPanel({ src, scope, vs }: { src: PanelSource; scope: PanelScope; vs: any }) {
  const index = asText(src.indexPattern?.attributes?.title);
  const state = usePanelData(
    scope,
    async () => {
      if (!index) throw new Error('no index pattern');
      const p = plan((vs.aggs ?? []) as Agg[], scope.toMs - scope.fromMs);
      const body: Record<string, unknown> = { size: 0, track_total_hits: true, query: scopeQuery(src, scope) };
      if (p.aggs) body.aggs = p.aggs;
      const resp = await search(scope.tenant, index, body);
      return { table: tabify(resp, p), plan: p };
    },
    [src, scope, vs, index],
  );
  if (state.error) return <div className="panel-error" data-testid="panel-error">{state.error}</div>;
  if (!state.data) return <div className="loading">Loading…</div>;
  const { table, plan: p } = state.data;
  switch (vs.type) {
    case 'metric':
      return <MetricView table={table} />;
    case 'table':
      return <TableView table={table} plan={p} perPage={vs.params?.perPage ?? 10} sort={visUiState(src).sortColumn} />;
    case 'pie':
      return <PieView table={table} plan={p} donut={vs.params?.isDonut !== false} />;
    case 'gauge':
    case 'goal':
      return <GaugeView table={table} params={vs.params} />;
    case 'histogram':
    case 'horizontal_bar':
    case 'line':
    case 'area':
      return <XYView table={table} plan={p} vs={vs} colors={uiColors(src)} />;
    default:
      return <TableView table={table} plan={p} perPage={10} note={`visualization type "${vs.type}" shown as a table`} />;
  }
}

/** visUiState is the vis part of the uiState: the visualization's
 * uiStateJSON overridden by the panel's embeddableConfig. */
function visUiState(src: PanelSource): any {
  let saved: any = {};
  try {
    saved = JSON.parse(src.vis?.attributes?.uiStateJSON ?? '{}')?.vis ?? {};
  } catch {
    saved = {};
  }
  return { ...saved, ...(src.embeddableConfig?.vis ?? {}) };
}

function uiColors(src: PanelSource): Record<string, string> {
  return visUiState(src).colors ?? {};
}

function MetricView({ table }: { table: Table }) {
  const buckets = table.columns.filter((c) => !c.metric);
  const metrics = table.columns.filter((c) => c.metric);
  return (
    <div className="metrics">
      {table.rows.flatMap((row, ri) =>
        metrics.map((m, mi) => {
          const label = [...buckets.map((_, bi) => String(row[bi])), m.label].join(' - ');
          return (
            <div className="metric" key={`${ri}-${mi}`}>
              <div className="metric-value" data-testid="metric-value">
                {formatNumber(row[buckets.length + mi])}
              </div>
              <div className="metric-label">{label}</div>
            </div>
          );
        }),
      )}
    </div>
  );
}

function TableView({ table, plan: p, perPage, note, sort: initialSort }: { table: Table; plan: Plan; perPage: number; note?: string; sort?: SortColumn | null }) {
  const [page, setPage] = useState(0);
  const [sort, setSort] = useState<SortColumn | null>(initialSort && initialSort.colIndex < table.columns.length ? initialSort : null);
  const sorted = useMemo(() => sortRows(table.rows, sort), [table, sort]);
  const pages = Math.max(1, Math.ceil(sorted.length / perPage));
  const rows = sorted.slice(page * perPage, (page + 1) * perPage);
  const toggle = (colIndex: number) =>
    setSort(sort?.colIndex === colIndex ? { colIndex, direction: sort.direction === 'asc' ? 'desc' : 'asc' } : { colIndex, direction: 'asc' });
  return (
    <div className="table-wrap">
      {note && <div className="panel-note">{note}</div>}
      <table className="data-table">
        <thead>
          <tr>
            {table.columns.map((c, i) => (
              <th key={`${i}:${c.id}`} className="sortable" onClick={() => toggle(i)} aria-sort={sort?.colIndex === i ? (sort.direction === 'asc' ? 'ascending' : 'descending') : 'none'}>
                {asText(c.label)}
                {sort?.colIndex === i ? (sort.direction === 'asc' ? ' ▲' : ' ▼') : ''}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => (
            <tr key={i}>
              {r.map((cell, j) => (
                <td key={j} className={table.columns[j].metric ? 'num' : ''}>
                  {table.columns[j].metric ? formatNumber(cell) : formatKey(table.columns[j].agg, cell, p.interval)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      {pages > 1 && (
        <div className="pager">
          <button disabled={page === 0} onClick={() => setPage(page - 1)}>
            ‹
          </button>
          <span>
            {page + 1} / {pages}
          </span>
          <button disabled={page + 1 >= pages} onClick={() => setPage(page + 1)}>
            ›
          </button>
        </div>
      )}
    </div>
  );
}

function seriesOf(table: Table, p: Plan, vs: any) {
  const segIdx = p.buckets.findIndex((b) => b.schema === 'segment');
  const groupIdx = p.buckets.findIndex((b, i) => i !== segIdx && (b.schema === 'group' || b.schema === 'split'));
  const nb = p.buckets.length;
  const xs: Cell[] = [];
  const seen = new Set<string>();
  for (const r of table.rows) {
    const x = segIdx >= 0 ? r[segIdx] : 'all';
    if (!seen.has(String(x))) {
      seen.add(String(x));
      xs.push(x);
    }
  }
  if (segIdx >= 0 && p.buckets[segIdx].type === 'date_histogram') xs.sort((a, b) => Number(a) - Number(b));
  const series = new Map<string, Map<string, number>>();
  for (const r of table.rows) {
    const x = String(segIdx >= 0 ? r[segIdx] : 'all');
    p.metrics.forEach((m, mi) => {
      const name = groupIdx >= 0 ? (p.metrics.length > 1 ? `${r[groupIdx]} - ${table.columns[nb + mi].label}` : String(r[groupIdx])) : table.columns[nb + mi].label;
      if (!series.has(name)) series.set(name, new Map());
      const s = series.get(name)!;
      s.set(x, (s.get(x) ?? 0) + Number(r[nb + mi] ?? 0));
    });
  }
  const xLabel = segIdx >= 0 ? table.columns[segIdx].label : '';
  const xFmt = (x: Cell) => (segIdx >= 0 ? formatKey(p.buckets[segIdx], x, p.interval) : String(x));
  return { xs, series, xLabel, xFmt, stacked: (vs.params?.seriesParams?.[0]?.mode ?? 'stacked') === 'stacked' };
}

function summaryOf(series: Map<string, Map<string, number>>, xs: Cell[]): string {
  return JSON.stringify(Object.fromEntries([...series].map(([n, s]) => [n, xs.map((x) => s.get(String(x)) ?? 0)])));
}

function XYView({ table, plan: p, vs, colors }: { table: Table; plan: Plan; vs: any; colors: Record<string, string> }) {
  const option = useMemo(() => {
    const { xs, series, xLabel, xFmt, stacked } = seriesOf(table, p, vs);
    const kind = vs.type === 'histogram' || vs.type === 'horizontal_bar' ? 'bar' : 'line';
    const yLabel = table.columns.find((c) => c.metric)?.label ?? '';
    const names = [...series.keys()];
    const horizontal = vs.type === 'horizontal_bar';
    const cat = { type: 'category', data: xs.map(xFmt), name: xLabel, nameLocation: 'middle', nameGap: 28 };
    const val = { type: 'value', name: yLabel, nameLocation: 'middle', nameGap: 45 };
    return {
      option: {
        color: PALETTE,
        animation: false,
        tooltip: { trigger: 'axis' },
        legend: { right: 0, top: 'middle', orient: 'vertical', type: 'scroll' },
        grid: { left: 60, right: 130, top: 10, bottom: 45 },
        xAxis: horizontal ? val : cat,
        yAxis: horizontal ? cat : val,
        series: names.map((n, i) => ({
          name: n,
          type: kind,
          stack: stacked && (names.length > 1 || vs.type === 'area') ? 'total' : undefined,
          areaStyle: vs.type === 'area' ? { opacity: 0.8 } : undefined,
          // A single bucket would draw no area and no line: show its point.
          showSymbol: vs.type === 'line' || xs.length === 1,
          itemStyle: colors[n] ? { color: colors[n] } : { color: PALETTE[i % PALETTE.length] },
          data: xs.map((x) => series.get(n)!.get(String(x)) ?? 0),
        })),
      },
      summary: summaryOf(series, xs),
    };
  }, [table, p, vs, colors]);
  return <EChart option={option.option} summary={option.summary} />;
}

function PieView({ table, plan: p, donut }: { table: Table; plan: Plan; donut: boolean }) {
  const option = useMemo(() => {
    const segIdx = Math.max(0, p.buckets.findIndex((b) => b.schema === 'segment'));
    const nb = p.buckets.length;
    const data = table.rows.map((r) => ({
      name: nb ? formatKey(p.buckets[segIdx], r[segIdx], p.interval) : table.columns[0].label,
      value: Number(r[nb] ?? 0),
    }));
    return {
      option: {
        color: PALETTE,
        animation: false,
        tooltip: { trigger: 'item' },
        legend: { right: 0, top: 'middle', orient: 'vertical', type: 'scroll' },
        series: [{ type: 'pie', radius: donut ? ['40%', '70%'] : '70%', center: ['40%', '50%'], data, label: { show: false } }],
      },
      summary: JSON.stringify(Object.fromEntries(data.map((d) => [d.name, d.value]))),
    };
  }, [table, p, donut]);
  return <EChart option={option.option} summary={option.summary} />;
}

function GaugeView({ table, params }: { table: Table; params: any }) {
  const option = useMemo(() => {
    const nb = table.columns.filter((c) => !c.metric).length;
    const value = Number(table.rows[0]?.[nb] ?? 0);
    const ranges: { from: number; to: number }[] = params?.gauge?.colorsRange ?? [{ from: 0, to: 10000 }];
    const max = Math.max(...ranges.map((r) => Number(r.to)), value);
    const colors = ['#1a9850', '#fee08b', '#d73027', '#91cf60', '#fc8d59'];
    return {
      option: {
        animation: false,
        series: [
          {
            type: 'gauge',
            min: 0,
            max,
            startAngle: 200,
            endAngle: -20,
            progress: { show: true, width: 18 },
            axisLine: { lineStyle: { width: 18, color: ranges.map((r, i) => [Number(r.to) / max, colors[i % colors.length]]) } },
            detail: { valueAnimation: false, formatter: '{value}', fontSize: 28, offsetCenter: [0, '30%'] },
            title: { offsetCenter: [0, '60%'] },
            data: [{ value, name: table.columns[nb]?.label ?? '' }],
          },
        ],
      },
      summary: JSON.stringify({ [table.columns[nb]?.label ?? 'value']: value }),
    };
  }, [table, params]);
  return <EChart option={option.option} summary={option.summary} />;
}

function getPath(src: any, path: string): unknown {
  // A column may name a sub-field of a field that holds a string or a
  // number here ("message.keyword" on "message": "…"): `in` would throw.
  if (src === null || typeof src !== 'object') return undefined;
  if (path in src) return src[path];
  const i = path.indexOf('.');
  if (i < 0) return undefined;
  // Try every split: {"http": {"response.status_code": …}} and nested objects.
  for (let j = i; j >= 0; j = path.indexOf('.', j + 1)) {
    const head = path.slice(0, j);
    if (head in src) {
      const v = getPath(src[head], path.slice(j + 1));
      if (v !== undefined) return v;
    }
  }
  return undefined;
}

function SearchTable({ src, scope }: { src: PanelSource; scope: PanelScope }) {
  const index = asText(src.indexPattern?.attributes?.title);
  const timeField: string | undefined = asText(src.indexPattern?.attributes?.timeFieldName) || undefined;
  const rawColumns = src.search?.attributes?.columns;
  const columns: string[] = (Array.isArray(rawColumns) ? rawColumns : ['_source']).map((c: unknown) => asText(c)).filter((c: string) => c);
  const state = usePanelData(
    scope,
    async () => {
      if (!index) throw new Error('no index pattern');
      const rawSort = src.search?.attributes?.sort;
      const saved = (Array.isArray(rawSort) ? rawSort : []).filter((x: unknown): x is [string, string] => Array.isArray(x) && typeof x[0] === 'string' && typeof x[1] === 'string');
      const sort = saved.length ? saved.map(([f, d]) => ({ [f]: { order: d } })) : timeField ? [{ [timeField]: { order: 'desc' } }] : [];
      const resp = await search(scope.tenant, index, { size: 50, track_total_hits: true, sort, query: scopeQuery(src, scope) });
      const total = resp.hits?.total;
      return { hits: (resp.hits?.hits ?? []) as any[], total: typeof total === 'number' ? total : (total?.value as number | undefined) };
    },
    [src, scope, index, timeField],
  );
  if (state.error) return <div className="panel-error" data-testid="panel-error">{state.error}</div>;
  if (!state.data) return <div className="loading">Loading…</div>;
  const view = state.data;
  const cols = [...new Set([...(timeField ? [timeField] : []), ...columns])];
  return (
    <div className="table-wrap">
      <div className="panel-note" data-testid="hit-count">
        {formatNumber(view.total ?? 0)} hits{(view.total ?? 0) > view.hits.length ? ` (showing ${view.hits.length})` : ''}
      </div>
      <table className="data-table">
        <thead>
          <tr>
            {cols.map((c) => (
              <th key={c}>{c === '_source' ? 'Document' : c}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {view.hits.map((h, i) => (
            <tr key={`${i}:${asText(h?._id)}`}>
              {cols.map((c) => {
                const v = c === '_source' ? h?._source : getPath(h?._source, c);
                return (
                  <td key={c} className={c === '_source' ? 'doc' : ''}>
                    {v === undefined ? '-' : typeof v === 'object' ? JSON.stringify(v) : String(v)}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** ListControl is one "list" input control: the top terms of its field. */
function ListControl({ control, pattern, scope, value, onChange, useTime }: { control: any; pattern?: SavedObject; scope: PanelScope; value: Cell[]; onChange: (v: Cell[]) => void; useTime: boolean }) {
  const index = asText(pattern?.attributes?.title);
  const timeField: string | undefined = asText(pattern?.attributes?.timeFieldName) || undefined;
  const loaded = usePanelData(
    scope,
    async () => {
      if (!index) throw new Error('the index pattern of this control is missing');
      const o = control.options ?? {};
      const query = useTime && timeField ? buildQuery({ timeField, fromMs: scope.fromMs, toMs: scope.toMs, queries: [], filters: [] }) : { match_all: {} };
      const resp = await search(scope.tenant, index, {
        size: 0,
        query,
        aggs: { options: { terms: { field: control.fieldName, size: o.size ?? 5, order: { _count: o.order ?? 'desc' } } } },
      });
      return (resp.aggregations?.options?.buckets ?? []).map((b: any) => b.key_as_string ?? b.key) as Cell[];
    },
    [index, control, useTime && scope.fromMs, useTime && scope.toMs, scope.tenant],
  );
  const state = { options: loaded.data, error: loaded.error };
  const multi = control.options?.multiselect !== false;
  return (
    <label className="control">
      <span className="control-label">{asText(control.label) || asText(control.fieldName)}</span>
      {state.error ? (
        <span className="panel-error">{state.error}</span>
      ) : (
        <select
          multiple={multi}
          size={multi ? Math.min(Math.max(state.options?.length ?? 1, 2), 8) : undefined}
          disabled={!state.options}
          data-testid="control-select"
          value={multi ? value.map(String) : String(value[0] ?? '')}
          onChange={(e) => {
            const picked = [...e.target.selectedOptions].map((o) => o.value).filter((v) => v !== '');
            onChange(picked.map((v) => state.options?.find((o) => String(o) === v) ?? v));
          }}
        >
          {!multi && <option value="">Select…</option>}
          {state.options?.map((o) => (
            <option key={String(o)} value={String(o)}>
              {String(o)}
            </option>
          ))}
        </select>
      )}
    </label>
  );
}

/** InputControls draws an input_control_vis: list controls whose values,
 * once applied, filter every panel of the dashboard. */
function InputControls({ src, scope, vs, panelKey }: { src: PanelSource; scope: PanelScope; vs: any; panelKey: string }) {
  const controls: any[] = (Array.isArray(vs.params?.controls) ? vs.params.controls : []).filter((c: unknown) => c && typeof c === 'object');
  const [staged, setStaged] = useState<Record<string, Cell[]>>({});
  const [applied, setApplied] = useState<Record<string, Cell[]>>({});
  const patternOf = (c: any) => (c.indexPatternRefName && src.refPatterns?.[c.indexPatternRefName]) || src.indexPattern;
  const apply = (values: Record<string, Cell[]>) => {
    setApplied(values);
    const filters = controls.map((c) => controlFilter(c, values[c.id] ?? [], patternOf(c)?.id)).filter((f) => f);
    scope.onControlFilters?.(panelKey, filters);
  };
  const same = JSON.stringify(staged) === JSON.stringify(applied);
  const auto = !!vs.params?.updateFiltersOnChange;
  return (
    <div className="controls">
      {controls.map((c, i) =>
        c.type === 'list' ? (
          <ListControl
            key={`${i}:${asText(c.id)}`}
            control={c}
            pattern={patternOf(c)}
            scope={scope}
            useTime={!!vs.params?.useTimeFilter}
            value={staged[c.id] ?? []}
            onChange={(v) => {
              const next = { ...staged, [c.id]: v };
              setStaged(next);
              if (auto) apply(next);
            }}
          />
        ) : (
          <div key={`${i}:${asText(c.id)}`} className="panel-note">
            {`The ${asText(c.type)} control “${asText(c.label) || asText(c.fieldName)}” is not supported yet.`}
          </div>
        ),
      )}
      {!auto && (
        <div className="actions">
          <button disabled={same} onClick={() => apply(staged)} data-testid="control-apply">
            Apply changes
          </button>
          <button disabled={same} onClick={() => setStaged(applied)}>
            Cancel changes
          </button>
          <button
            disabled={Object.values(staged).every((v) => v.length === 0) && Object.values(applied).every((v) => v.length === 0)}
            onClick={() => {
              setStaged({});
              apply({});
            }}
          >
            Clear form
          </button>
        </div>
      )}
    </div>
  );
}
