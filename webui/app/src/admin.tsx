// Tenant administration over Kestra's /api/v1/tenants: the list (with
// deleted tenants on request), create, lock and freeze, delete and
// restore. The server decides who may do what; this page shows its
// answer, a 403 included.
import { useEffect, useState } from 'react';
import { ApiError, call } from './api';
import { useSession } from './app';
import { pathSeg } from './router';
import { TenantRecord, tenantRecords, TenantOp } from './tenantadmin';
import { errorText } from './text';

/** why is the server's message for an API error, else the error's. */
function why(e: unknown): string {
  return e instanceof ApiError ? e.reason : errorText(e);
}

function when(iso: string | undefined): string {
  if (!iso) return '';
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : new Date(t).toLocaleString();
}

export function TenantsAdminPage() {
  const s = useSession();
  const [withDeleted, setWithDeleted] = useState(false);
  const [reload, setReload] = useState(0);
  const [state, setState] = useState<{ items?: TenantRecord[]; error?: string }>({});
  const [msg, setMsg] = useState<{ text: string; error?: boolean } | null>(null);
  const [busy, setBusy] = useState(false);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [form, setForm] = useState({ id: '', name: '', description: '', adminUsername: '' });

  useEffect(() => {
    let cancelled = false;
    call('GET', `/api/v1/tenants${withDeleted ? '?deleted=true' : ''}`).then(
      (r) => !cancelled && setState({ items: tenantRecords(r) }),
      (e) => !cancelled && setState({ error: why(e) }),
    );
    return () => {
      cancelled = true;
    };
  }, [withDeleted, reload]);

  // Every change: the server's answer, the list again, and the tenant
  // switcher again (a new, deleted or restored tenant).
  const act = async (what: () => Promise<unknown>, done: string) => {
    setBusy(true);
    setMsg(null);
    try {
      await what();
      setMsg({ text: done });
      setReload((n) => n + 1);
      await s.refresh();
      return true;
    } catch (e) {
      setMsg({ text: why(e), error: true });
      return false;
    } finally {
      setBusy(false);
      setConfirming(null);
    }
  };
  const op = (t: TenantRecord, o: TenantOp) =>
    act(() => call('POST', `/api/v1/tenants/${pathSeg(t.id)}/${o}`), `${verbs[o]} tenant ${t.id}.`);
  const remove = (t: TenantRecord) => act(() => call('DELETE', `/api/v1/tenants/${pathSeg(t.id)}`), `Deleted tenant ${t.id}.`);
  const create = async (e: React.FormEvent) => {
    e.preventDefault();
    const body: Record<string, string> = { id: form.id.trim(), name: form.name.trim() || form.id.trim() };
    if (form.description.trim()) body.description = form.description.trim();
    if (form.adminUsername.trim()) body.adminUsername = form.adminUsername.trim();
    const ok = await act(() => call('POST', '/api/v1/tenants', { body }), `Created tenant ${body.id}.`);
    if (ok) setForm({ id: '', name: '', description: '', adminUsername: '' });
  };
  const field = (k: keyof typeof form) => ({
    value: form[k],
    onChange: (e: React.ChangeEvent<HTMLInputElement>) => setForm({ ...form, [k]: e.target.value }),
  });

  return (
    <div className="page admin" data-testid="admin-tenants">
      <h1>Tenants</h1>
      {state.error !== undefined ? (
        <div className="error" data-testid="admin-error">
          {state.error}
        </div>
      ) : (
        <>
          <form className="create-tenant" onSubmit={create}>
            <input placeholder="id (e.g. stage)" data-testid="new-tenant-id" aria-label="Tenant id" required {...field('id')} />
            <input placeholder="name" data-testid="new-tenant-name" aria-label="Name" {...field('name')} />
            <input placeholder="description" data-testid="new-tenant-description" aria-label="Description" {...field('description')} />
            <input placeholder="admin user name (optional)" data-testid="new-tenant-admin" aria-label="Admin user name" {...field('adminUsername')} />
            <button type="submit" data-testid="create-tenant" disabled={busy || !form.id.trim()}>
              Create tenant
            </button>
          </form>
          <div className="actions">
            <label>
              <input type="checkbox" data-testid="show-deleted" checked={withDeleted} onChange={(e) => setWithDeleted(e.target.checked)} /> Show
              deleted tenants
            </label>
          </div>
          {msg && (
            <div className={msg.error ? 'error' : 'ok'} data-testid="admin-result">
              {msg.text}
            </div>
          )}
          {!state.items ? (
            <p className="loading">Loading…</p>
          ) : state.items.length === 0 ? (
            <p data-testid="no-tenants">No tenants{withDeleted ? '' : ' (deleted ones are hidden)'}.</p>
          ) : (
            <table className="data-table tenants-table">
              <thead>
                <tr>
                  <th>Id</th>
                  <th>Name</th>
                  <th>Description</th>
                  <th>State</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {state.items.map((t) => (
                  <tr key={t.id} data-testid="tenant-row" data-id={t.id} className={t.deleted ? 'deleted' : undefined}>
                    <td>
                      <code>{t.id}</code>
                    </td>
                    <td>{t.name}</td>
                    <td>{t.description}</td>
                    <td>
                      {t.deleted && (
                        <span className="badge badge-deleted" data-testid="badge-deleted">
                          deleted{t.restorableUntil ? `, restorable until ${when(t.restorableUntil)}` : ''}
                        </span>
                      )}
                      {t.locked && (
                        <span className="badge badge-locked" data-testid="badge-locked">
                          locked
                        </span>
                      )}
                      {t.frozen && (
                        <span className="badge badge-frozen" data-testid="badge-frozen">
                          frozen
                        </span>
                      )}
                      {t.reserved && (
                        <span className="badge" data-testid="badge-reserved" title="Declared in the security files: the API cannot change it">
                          reserved
                        </span>
                      )}
                      {t.hidden && (
                        <span className="badge" data-testid="badge-hidden">
                          hidden
                        </span>
                      )}
                    </td>
                    <td>
                      <div className="row-actions">
                        {t.deleted ? (
                          <button data-testid="tenant-restore" disabled={busy} onClick={() => op(t, 'restore')}>
                            Restore
                          </button>
                        ) : confirming === t.id ? (
                          <span className="confirm" data-testid="confirm-delete">
                            Delete {t.id}? Its dashboards go too (restorable for a while).{' '}
                            <button className="danger" data-testid="tenant-delete-confirm" disabled={busy} onClick={() => remove(t)}>
                              Delete
                            </button>{' '}
                            <button data-testid="tenant-delete-cancel" onClick={() => setConfirming(null)}>
                              Cancel
                            </button>
                          </span>
                        ) : (
                          <>
                            <button data-testid={t.locked ? 'tenant-unlock' : 'tenant-lock'} disabled={busy} onClick={() => op(t, t.locked ? 'unlock' : 'lock')}>
                              {t.locked ? 'Unlock' : 'Lock'}
                            </button>
                            <button data-testid={t.frozen ? 'tenant-unfreeze' : 'tenant-freeze'} disabled={busy} onClick={() => op(t, t.frozen ? 'unfreeze' : 'freeze')}>
                              {t.frozen ? 'Unfreeze' : 'Freeze'}
                            </button>
                            <button className="danger" data-testid="tenant-delete" disabled={busy} onClick={() => setConfirming(t.id)}>
                              Delete
                            </button>
                          </>
                        )}
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
      <p className="hint">
        Locked: every request to the tenant is refused (superadmins excepted). Frozen: reads work, writes are refused. A deleted tenant
        disappears at once and can be restored until its retention window ends, then it is purged.
      </p>
    </div>
  );
}

const verbs: Record<TenantOp, string> = {
  lock: 'Locked',
  unlock: 'Unlocked',
  freeze: 'Froze',
  unfreeze: 'Unfroze',
  restore: 'Restored',
};
