// Saved objects and index pattern management. Write controls only for
// read-write members of the tenant; the server enforces it anyway.
import { useEffect, useState } from 'react';
import { ApiError, call, find, SavedObject } from './api';
import { A, useSession } from './app';
import { addressable, link, pathSeg } from './router';
import { asText, errorText, titleOf } from './text';
import { copyTarget } from './tenants';
import { SampleDataButton } from './sample';

const TYPES = ['index-pattern', 'visualization', 'dashboard', 'search', 'url'];

function useObjects(types: string[], q: string, reload: number) {
  const s = useSession();
  const [state, setState] = useState<{ items?: SavedObject[]; total?: number; error?: string }>({});
  useEffect(() => {
    let cancelled = false;
    find(s.tenant.id, types, q).then(
      (r) => !cancelled && setState({ items: r.saved_objects, total: r.total }),
      (e) => {
        if (cancelled) return;
        if (e instanceof ApiError && e.status === 403) s.forbidden();
        setState({ error: errorText(e) });
      },
    );
    return () => {
      cancelled = true;
    };
  }, [s.tenant.id, q, reload]);
  return state;
}

/** Shown is "Showing the first N of T" when a list stopped before the end. */
export function Shown({ items, total }: { items?: unknown[]; total?: number }) {
  if (!items || total === undefined || items.length >= total) return null;
  return (
    <div className="panel-note" data-testid="list-truncated">
      Showing the first {items.length.toLocaleString('en-US')} of {total.toLocaleString('en-US')} objects; search to narrow the list.
    </div>
  );
}

export function SavedObjectsPage() {
  const s = useSession();
  const [q, setQ] = useState('');
  const [reload, setReload] = useState(0);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [msg, setMsg] = useState<{ text: string; error?: boolean; details?: string[] } | null>(null);
  const [file, setFile] = useState<File | null>(null);
  const [overwrite, setOverwrite] = useState(true);
  const targets = s.tenants.filter((t) => t.rw && t.id !== s.tenant.id);
  const [picked, setTarget] = useState(targets[0]?.id ?? '');
  // The tenant shown can change under this page (back, forward): never
  // copy to a target picked for another tenant.
  const target = copyTarget(targets, picked);
  const { items, total, error } = useObjects(TYPES, q, reload);
  const chosen = (items ?? []).filter((o) => selected.has(`${o.type}:${o.id}`)).map((o) => ({ type: o.type, id: o.id }));
  const fail = (e: any) => setMsg({ text: errorText(e), error: true });
  const report = (verb: string, r: any) => {
    const errors: string[] = (Array.isArray(r?.errors) ? r.errors : []).map((x: any) =>
      `${asText(x?.type)}/${asText(x?.id)}: ${asText(x?.error?.type)} ${asText(x?.error?.message)}`.trim(),
    );
    setMsg({ text: `${verb} ${r.successCount ?? 0} object(s)${errors.length ? `, ${errors.length} failed` : ''}.`, error: errors.length > 0, details: errors });
  };
  const toggle = (k: string) => {
    const n = new Set(selected);
    if (n.has(k)) n.delete(k);
    else n.add(k);
    setSelected(n);
  };
  const exportObjects = async () => {
    try {
      const body = chosen.length ? { objects: chosen, includeReferencesDeep: true } : { type: TYPES.filter((t) => t !== 'url'), includeReferencesDeep: true };
      const blob = (await call('POST', '/api/saved_objects/_export', { tenant: s.tenant.id, body, read: true, blob: true })) as Blob;
      const a = document.createElement('a');
      a.href = URL.createObjectURL(blob);
      a.download = 'export.ndjson';
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
    } catch (e) {
      fail(e);
    }
  };
  return (
    <div className="page">
      <h1>
        Saved objects <span className="muted">in {s.tenant.label}</span>
        {!s.tenant.rw && <span className="badge">read-only</span>}
      </h1>
      <div className="actions">
        <input type="search" className="search" placeholder="Search…" value={q} onChange={(e) => setQ(e.target.value)} />
        <button onClick={exportObjects} data-testid="export">
          Export {chosen.length ? `${chosen.length} selected` : 'all'}
        </button>
        {targets.length > 0 && (
          <span className="group">
            <select value={target} onChange={(e) => setTarget(e.target.value)} data-testid="copy-target" aria-label="target tenant">
              {targets.map((t) => (
                <option key={t.id} value={t.id}>
                  {t.label}
                </option>
              ))}
            </select>
            <button
              data-testid="copy"
              disabled={!chosen.length}
              onClick={async () => {
                try {
                  const r = await call('POST', '/api/saved_objects/_copy', {
                    tenant: s.tenant.id,
                    body: { objects: chosen, target_tenant: target, includeReferences: true, overwrite },
                  });
                  report(`Copied to ${target}:`, r);
                } catch (e) {
                  fail(e);
                }
              }}
            >
              Copy to tenant
            </button>
          </span>
        )}
        {s.tenant.rw && (
          <button
            data-testid="delete"
            className="danger"
            disabled={!chosen.length}
            onClick={async () => {
              if (!window.confirm(`Delete ${chosen.length} object(s) from ${s.tenant.label}?`)) return;
              let n = 0;
              // "." and ".." cannot be addressed in a URL (the server no
              // longer accepts them); say so rather than send a request
              // the browser would resolve to another path.
              const skipped = chosen.filter((o) => !addressable(o.id) || !addressable(o.type));
              try {
                for (const o of chosen) {
                  if (skipped.includes(o)) continue;
                  await call('DELETE', `/api/saved_objects/${pathSeg(o.type)}/${pathSeg(o.id)}`, { tenant: s.tenant.id });
                  n++;
                }
                setMsg({
                  text: `Deleted ${n} object(s).${skipped.length ? ` ${skipped.length} could not be deleted here: their ids cannot be used in a URL.` : ''}`,
                  error: skipped.length > 0,
                });
              } catch (e) {
                fail(e);
              }
              setSelected(new Set());
              setReload((r) => r + 1);
            }}
          >
            Delete
          </button>
        )}
      </div>
      {s.tenant.rw && (
        <form
          className="import"
          onSubmit={async (e) => {
            e.preventDefault();
            if (!file) return;
            const form = new FormData();
            form.append('file', file);
            try {
              const r = await call('POST', `/api/saved_objects/_import?overwrite=${overwrite}`, { tenant: s.tenant.id, form });
              report('Imported', r);
              setReload((n) => n + 1);
            } catch (err) {
              fail(err);
            }
          }}
        >
          <label>
            Import NDJSON <input type="file" accept=".ndjson,application/ndjson" data-testid="import-file" onChange={(e) => setFile(e.target.files?.[0] ?? null)} />
          </label>
          <label>
            <input type="checkbox" checked={overwrite} onChange={(e) => setOverwrite(e.target.checked)} /> overwrite existing
          </label>
          <button type="submit" disabled={!file} data-testid="import">
            Import
          </button>
        </form>
      )}
      {s.tenant.rw && (
        <div className="actions">
          <SampleDataButton tenant={s.tenant.id} />
        </div>
      )}
      {msg && (
        <div className={msg.error ? 'error' : 'ok'} data-testid="result">
          {msg.text}
          {msg.details && msg.details.length > 0 && (
            <ul>
              {msg.details.map((d) => (
                <li key={d}>{d}</li>
              ))}
            </ul>
          )}
        </div>
      )}
      {error && <div className="error">{error}</div>}
      <Shown items={items} total={total} />
      <table className="data-table objects" data-testid="objects">
        <thead>
          <tr>
            <th />
            <th>Type</th>
            <th>Title</th>
            <th>Updated</th>
          </tr>
        </thead>
        <tbody>
          {(items ?? [])
            .slice()
            .sort((a, b) => a.type.localeCompare(b.type) || titleOf(a).localeCompare(titleOf(b)) || a.id.localeCompare(b.id))
            .map((o) => {
              const k = `${o.type}:${o.id}`;
              return (
                <tr key={k} data-testid="object-row" data-type={o.type} data-id={o.id}>
                  <td>
                    <input type="checkbox" checked={selected.has(k)} onChange={() => toggle(k)} aria-label={`select ${titleOf(o)}`} />
                  </td>
                  <td>{o.type}</td>
                  <td>
                    {o.type === 'dashboard' && addressable(o.id) ? <A href={link(`/dashboards/view/${pathSeg(o.id)}`, s.tenant.id)}>{titleOf(o)}</A> : titleOf(o)}
                  </td>
                  <td className="muted">{asText(o.updated_at)}</td>
                </tr>
              );
            })}
        </tbody>
      </table>
    </div>
  );
}

export function IndexPatternsPage() {
  const s = useSession();
  const [reload, setReload] = useState(0);
  const [title, setTitle] = useState('');
  const [timeField, setTimeField] = useState('@timestamp');
  const [msg, setMsg] = useState<{ text: string; error?: boolean } | null>(null);
  const { items, total, error } = useObjects(['index-pattern'], '', reload);
  return (
    <div className="page">
      <h1>
        Index patterns <span className="muted">in {s.tenant.label}</span>
      </h1>
      {s.tenant.rw && (
        <form
          className="actions"
          onSubmit={async (e) => {
            e.preventDefault();
            try {
              await call('POST', '/api/saved_objects/index-pattern', {
                tenant: s.tenant.id,
                body: { attributes: { title: title.trim(), timeFieldName: timeField.trim() || undefined } },
              });
              setMsg({ text: `Created ${title}.` });
              setTitle('');
              setReload((n) => n + 1);
            } catch (err: any) {
              setMsg({ text: errorText(err), error: true });
            }
          }}
        >
          <input placeholder="logs-*" value={title} onChange={(e) => setTitle(e.target.value)} aria-label="index pattern" data-testid="ip-title" />
          <input placeholder="time field" value={timeField} onChange={(e) => setTimeField(e.target.value)} aria-label="time field" />
          <button type="submit" disabled={!title.trim()}>
            Create index pattern
          </button>
        </form>
      )}
      {msg && <div className={msg.error ? 'error' : 'ok'}>{msg.text}</div>}
      {error && <div className="error">{error}</div>}
      <Shown items={items} total={total} />
      <table className="data-table">
        <thead>
          <tr>
            <th>Pattern</th>
            <th>Time field</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {(items ?? []).map((o) => (
            <tr key={o.id}>
              <td>{titleOf(o)}</td>
              <td>{asText(o.attributes?.timeFieldName, '—')}</td>
              <td>
                {s.tenant.rw && (
                  <button
                    className="link danger"
                    onClick={async () => {
                      if (!window.confirm(`Delete index pattern ${titleOf(o)}?`)) return;
                      try {
                        await call('DELETE', `/api/saved_objects/index-pattern/${pathSeg(o.id)}`, { tenant: s.tenant.id });
                      } catch (err: any) {
                        setMsg({ text: errorText(err), error: true });
                      }
                      setReload((n) => n + 1);
                    }}
                  >
                    Delete
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
