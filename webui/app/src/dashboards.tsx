// The dashboards list and the dashboard view.
import { useEffect, useMemo, useState } from 'react';
import { ApiError, bulkGet, call, find, SavedObject } from './api';
import { A, useSession } from './app';
import { PanelBody, PanelScope, PanelSource, parseVisState } from './panel';
import { SampleDataButton } from './sample';
import { addressable, isPrivate, link, navigate, pathSeg, useLocation } from './router';
import { asText, errorText } from './text';
import { PanelBoundary } from './boundary';
import { Shown } from './management';
import { DEFAULT_TIME, describeRange, formatG, parseG, QUICK_RANGES, resolveRange, TimeRange } from './time';

export function DashboardList() {
  const s = useSession();
  const [q, setQ] = useState('');
  const [state, setState] = useState<{ items?: SavedObject[]; total?: number; error?: string }>({});
  useEffect(() => {
    let cancelled = false;
    const timer = setTimeout(async () => {
      try {
        const r = await find(s.tenant.id, ['dashboard'], q);
        const items = [...r.saved_objects].sort((a, b) => dashTitle(a).localeCompare(dashTitle(b)) || a.id.localeCompare(b.id));
        if (!cancelled) setState({ items, total: r.total });
      } catch (e: any) {
        if (cancelled) return;
        if (e instanceof ApiError && e.status === 403) s.forbidden();
        setState({ error: errorText(e) });
      }
    }, 150);
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [s.tenant.id, q]);
  return (
    <div className="page">
      <h1>
        Dashboards <span className="muted">in {s.tenant.label}</span>
      </h1>
      <input
        className="search"
        type="search"
        placeholder="Search dashboards…"
        data-testid="dashboard-search"
        value={q}
        onChange={(e) => setQ(e.target.value)}
      />
      {state.error && <div className="error">{state.error}</div>}
      {!state.items && !state.error && <div className="loading">Loading…</div>}
      {state.items && state.items.length === 0 && (
        <p className="muted" data-testid="no-dashboards">
          No dashboards{q ? ` match “${q}”` : ''} in this tenant.
          {s.tenant.rw && <> Import some under <A href={link('/management/objects', s.tenant.id)}>Saved objects</A>, or load sample data.</>}
        </p>
      )}
      {state.items && state.items.length === 0 && !q && s.tenant.rw && <SampleDataButton tenant={s.tenant.id} />}
      <Shown items={state.items} total={state.total} />
      <ul className="list" data-testid="dashboard-list">
        {state.items?.map((d) => (
          <li key={d.id}>
            {addressable(d.id) ? (
              <A href={link(`/dashboards/view/${pathSeg(d.id)}`, s.tenant.id)} data-testid="dashboard-link">
                {dashTitle(d)}
              </A>
            ) : (
              <span data-testid="dashboard-unlinkable" title="This id cannot be used in a URL.">
                {dashTitle(d)}
              </span>
            )}
            {asText(d.attributes?.description) && <div className="muted">{asText(d.attributes?.description)}</div>}
          </li>
        ))}
      </ul>
    </div>
  );
}

function dashTitle(d: SavedObject): string {
  return asText(d.attributes?.title) || d.id;
}

interface Loaded {
  dashboard: SavedObject;
  panels: { panel: any; src: PanelSource; title: string }[];
}

const key = (type: string, id: string) => `${type}:${id}`;

function refByName(o: SavedObject, name: string | undefined) {
  return name ? o.references?.find((r) => r.name === name) : undefined;
}

function indexRef(o: SavedObject): { type: string; id: string } | undefined {
  let ss: any = {};
  try {
    ss = JSON.parse(o.attributes?.kibanaSavedObjectMeta?.searchSourceJSON ?? '{}');
  } catch {
    ss = {};
  }
  if (typeof ss.index === 'string') return { type: 'index-pattern', id: ss.index };
  const r = refByName(o, ss.indexRefName) ?? o.references?.find((r) => r.type === 'index-pattern');
  return r ? { type: 'index-pattern', id: r.id } : undefined;
}

/** loadDashboard fetches the dashboard and everything its panels name. */
async function loadDashboard(tenant: string, id: string): Promise<Loaded> {
  const dashboard = (await call('GET', `/api/saved_objects/dashboard/${pathSeg(id)}`, { tenant })) as SavedObject;
  if (!dashboard || typeof dashboard !== 'object') throw new Error('the server answered no dashboard');
  if (!dashboard.attributes || typeof dashboard.attributes !== 'object') dashboard.attributes = {};
  const raw = dashboard.attributes.panelsJSON;
  let parsed: unknown = [];
  try {
    parsed = typeof raw === 'string' ? JSON.parse(raw || '[]') : (raw ?? []);
  } catch (e) {
    throw new Error(`the dashboard's panelsJSON is not JSON: ${errorText(e)}`);
  }
  if (!Array.isArray(parsed)) throw new Error("the dashboard's panelsJSON is not a list of panels");
  // A panel that is not an object draws as "names no saved object".
  const panels: any[] = parsed.map((p) => (p && typeof p === 'object' ? p : {}));
  const objs = new Map<string, SavedObject>();
  const fetchAll = async (want: { type: string; id: string }[]) => {
    const todo = want.filter((w, i) => !objs.has(key(w.type, w.id)) && want.findIndex((x) => key(x.type, x.id) === key(w.type, w.id)) === i);
    for (const o of await bulkGet(tenant, todo.map(({ type, id }) => ({ type, id })))) objs.set(key(o.type, o.id), o);
  };
  const panelRef = (p: any) => refByName(dashboard, p.panelRefName) ?? (p.id && p.type ? { type: p.type, id: p.id, name: '' } : undefined);
  await fetchAll(panels.map(panelRef).filter((r): r is { type: string; id: string; name: string } => !!r));
  const searchOf = (v: SavedObject) => refByName(v, v.attributes?.savedSearchRefName) ?? (v.attributes?.savedSearchId ? { type: 'search', id: v.attributes.savedSearchId, name: '' } : undefined);
  const found = () => [...objs.values()].filter((o) => !o.error);
  await fetchAll(found().filter((o) => o.type === 'visualization').map(searchOf).filter((r): r is any => !!r).map((r) => ({ type: 'search', id: r.id })));
  const idx: { type: string; id: string }[] = [];
  for (const o of found()) {
    if (o.type === 'visualization' || o.type === 'search') {
      const r = indexRef(o);
      if (r) idx.push(r);
    }
    if (o.type === 'visualization') {
      for (const r of o.references ?? []) if (r.type === 'index-pattern') idx.push({ type: 'index-pattern', id: r.id });
    }
  }
  await fetchAll(idx);
  const get = (type: string, id: string) => {
    const o = objs.get(key(type, id));
    return o && !o.error ? o : undefined;
  };
  const out = panels.map((p) => {
    const ref = panelRef(p);
    const obj = ref ? get(ref.type, ref.id) : undefined;
    if (!obj) {
      const src: PanelSource = { missing: ref ? `Could not find ${ref.type} “${ref.id}” in this tenant.` : 'This panel names no saved object.' };
      return { panel: p, src, title: asText(p.title) };
    }
    let src: PanelSource;
    if (obj.type === 'search') {
      const ip = indexRef(obj);
      src = { search: obj, indexPattern: ip && get(ip.type, ip.id) };
    } else {
      const sr = searchOf(obj);
      const search = sr ? get('search', sr.id) : undefined;
      const ip = indexRef(search ?? obj) ?? indexRef(obj);
      const refPatterns: Record<string, SavedObject> = {};
      for (const r of obj.references ?? []) {
        const o = r.type === 'index-pattern' ? get(r.type, r.id) : undefined;
        if (o) refPatterns[r.name] = o;
      }
      src = { vis: obj, search, indexPattern: ip && get(ip.type, ip.id), refPatterns, embeddableConfig: p.embeddableConfig };
      const needsIndex = !['markdown', 'input_control_vis'].includes(parseVisState(obj).type);
      if (needsIndex && !src.indexPattern) src.missing = `The index pattern of “${asText(obj.attributes?.title)}” is missing.`;
    }
    return { panel: p, src, title: asText(p.title ?? obj.attributes?.title) };
  });
  return { dashboard, panels: out };
}

export function DashboardView({ id }: { id: string }) {
  const s = useSession();
  const loc = useLocation();
  const [state, setState] = useState<{ data?: Loaded; error?: string; notFound?: boolean }>({});
  const [refresh, setRefresh] = useState(0);
  // Filters applied by input control panels, by panel.
  const [controlFilters, setControlFilters] = useState<Record<string, any[]>>({});
  useEffect(() => {
    let cancelled = false;
    setState({});
    loadDashboard(s.tenant.id, id).then(
      (data) => !cancelled && setState({ data }),
      (e) => {
        if (cancelled) return;
        if (e instanceof ApiError && e.status === 403) s.forbidden();
        setState({ error: errorText(e), notFound: e instanceof ApiError && e.status === 404 });
      },
    );
    return () => {
      cancelled = true;
    };
  }, [s.tenant.id, id]);

  const urlTime = parseG(loc.params.get('_g'));
  const dash = state.data?.dashboard;
  const time: TimeRange =
    urlTime ?? (dash?.attributes?.timeRestore && dash.attributes.timeFrom ? { from: dash.attributes.timeFrom, to: dash.attributes.timeTo ?? 'now' } : DEFAULT_TIME);
  useEffect(() => {
    // Put the time into the URL so that the link copied carries it.
    if (!urlTime && dash) {
      const q = new URLSearchParams(loc.params);
      q.set('_g', formatG(time));
      navigate(`${loc.path}?${q}`, true);
    }
  }, [dash, urlTime?.from, urlTime?.to]);

  const scope: PanelScope | undefined = useMemo(() => {
    if (!dash) return undefined;
    let ss: any = {};
    try {
      ss = JSON.parse(dash.attributes?.kibanaSavedObjectMeta?.searchSourceJSON ?? '{}');
    } catch {
      ss = {};
    }
    const r = resolveRange(time);
    const filters = [...(ss.filter ?? []), ...Object.values(controlFilters).flat()];
    return {
      tenant: s.tenant.id,
      ...r,
      dashboardQuery: ss.query,
      dashboardFilters: filters,
      onForbidden: s.forbidden,
      onControlFilters: (panelKey: string, f: any[]) => setControlFilters((c) => ({ ...c, [panelKey]: f })),
    };
  }, [dash, time.from, time.to, s.tenant.id, refresh, controlFilters]);

  if (state.error) {
    return (
      <div className="page">
        <h1>{state.notFound ? 'Dashboard not found' : 'Could not load the dashboard'}</h1>
        <p className="error" data-testid="dashboard-error">
          {state.notFound ? `There is no dashboard “${id}” in the tenant “${s.tenant.label}”.` : state.error}
        </p>
        <A href={link('/dashboards', s.tenant.id)}>All dashboards in {s.tenant.label}</A>
      </div>
    );
  }
  if (!state.data || !scope) return <div className="page loading">Loading…</div>;
  const setTime = (t: TimeRange) => {
    const q = new URLSearchParams(loc.params);
    q.set('_g', formatG(t));
    navigate(`${loc.path}?${q}`);
  };
  return (
    <div className="dashboard">
      <div className="toolbar">
        <div className="crumbs">
          <A href={link('/dashboards', s.tenant.id)}>Dashboards</A> ›{' '}
          <span data-testid="dashboard-title">{dashTitle(state.data.dashboard)}</span>
          <span className="badge">{s.tenant.label}</span>
        </div>
        <span className="spacer" />
        <TimePicker time={time} onChange={setTime} />
        <button onClick={() => setRefresh((n) => n + 1)} data-testid="refresh">
          Refresh
        </button>
        <ShareMenu tenant={s.tenant.id} owner={s.tenant.kind === 'private' ? s.user : undefined} />
      </div>
      <div className="grid">
        {state.data.panels.map(({ panel, src, title }, i) => {
          const g = gridOf(panel.gridData, i);
          const hide = panel.embeddableConfig?.hidePanelTitles;
          return (
            <section
              key={`${i}:${asText(panel.panelIndex)}`}
              className="panel"
              data-testid="panel"
              data-title={title}
              style={{ gridColumn: `${g.x + 1} / span ${g.w}`, gridRow: `${g.y + 1} / span ${g.h}` }}
            >
              {!hide && <h2 className="panel-title">{title}</h2>}
              <div className="panel-body">
                <PanelBoundary resetKey={scope}>
                  <PanelBody src={src} scope={scope} panelKey={asText(panel.panelIndex, String(i))} />
                </PanelBoundary>
              </div>
            </section>
          );
        })}
      </div>
    </div>
  );
}

/** gridOf reads a panel's gridData, numbers only (0-based, 48 columns). */
function gridOf(g: any, i: number): { x: number; y: number; w: number; h: number } {
  const n = (v: unknown, d: number, min: number) => (typeof v === 'number' && Number.isFinite(v) && v >= min ? Math.floor(v) : d);
  return { x: n(g?.x, 0, 0), y: n(g?.y, i * 15, 0), w: n(g?.w, 24, 1), h: n(g?.h, 15, 1) };
}

function TimePicker({ time, onChange }: { time: TimeRange; onChange: (t: TimeRange) => void }) {
  const [open, setOpen] = useState(false);
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  return (
    <div className="popover-wrap">
      <button onClick={() => setOpen(!open)} data-testid="time-picker">
        {describeRange(time)}
      </button>
      {open && (
        <div className="popover">
          <div className="quick">
            {QUICK_RANGES.map((q) => (
              <button
                key={q.from}
                className="link"
                onClick={() => {
                  onChange({ from: q.from, to: 'now' });
                  setOpen(false);
                }}
              >
                {q.label}
              </button>
            ))}
          </div>
          <form
            onSubmit={(e) => {
              e.preventDefault();
              const f = new Date(from);
              const t = new Date(to);
              if (Number.isNaN(f.getTime()) || Number.isNaN(t.getTime())) return;
              onChange({ from: f.toISOString(), to: t.toISOString() });
              setOpen(false);
            }}
          >
            <div className="muted">Absolute</div>
            <input type="datetime-local" step="1" value={from} onChange={(e) => setFrom(e.target.value)} aria-label="from" />
            <input type="datetime-local" step="1" value={to} onChange={(e) => setTo(e.target.value)} aria-label="to" />
            <button type="submit">Apply</button>
          </form>
        </div>
      )}
    </div>
  );
}

function ShareMenu({ tenant, owner }: { tenant: string; owner?: string }) {
  const [open, setOpen] = useState(false);
  const [short, setShort] = useState('');
  const [msg, setMsg] = useState('');
  const full = `${location.origin}${location.pathname}${location.search}`;
  const copy = async (text: string) => {
    try {
      await navigator.clipboard.writeText(text);
      setMsg('Copied.');
    } catch {
      setMsg('Select the link and copy it.');
    }
  };
  return (
    <div className="popover-wrap">
      <button onClick={() => setOpen(!open)} data-testid="share">
        Share
      </button>
      {open && (
        <div className="popover share">
          <label>Link (keeps the tenant and the time range)</label>
          {owner !== undefined && (
            <p className="panel-note" data-testid="share-private-note">
              This dashboard is in your private tenant: its links open for you ({owner}) only. To share it, copy it into a shared
              tenant under Saved objects.
            </p>
          )}
          <input readOnly value={full} data-testid="share-link" onFocus={(e) => e.target.select()} />
          <button onClick={() => copy(full)}>Copy link</button>
          <hr />
          <button
            data-testid="short-link-create"
            onClick={async () => {
              setMsg('');
              try {
                const r = await call('POST', '/api/shorten_url', { tenant, body: { url: location.pathname + location.search } });
                // /goto/{id} opened in a browser is handed to the UI, which
                // resolves it with the reader's own token.
                const q = new URLSearchParams({ security_tenant: tenant });
                if (owner !== undefined && isPrivate(tenant)) q.set('private_owner', owner);
                const url = `${location.origin}/goto/${pathSeg(asText(r?.urlId))}?${q}`;
                setShort(url);
              } catch (e: any) {
                setMsg(`Short link failed: ${errorText(e)}`);
              }
            }}
          >
            Create short link
          </button>
          {short && (
            <>
              <input readOnly value={short} data-testid="short-link" onFocus={(e) => e.target.select()} />
              <button onClick={() => copy(short)}>Copy short link</button>
            </>
          )}
          {msg && <div className="muted">{msg}</div>}
        </div>
      )}
    </div>
  );
}
