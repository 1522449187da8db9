// Tenants as /api/v1/tenants lists them, read defensively: the page
// renders whatever the server (or a proxy in front of it) answered.
import { asText } from './text';

/** TenantRecord is one tenant of GET /api/v1/tenants. */
export interface TenantRecord {
  id: string;
  name: string;
  description: string;
  deleted: boolean;
  deletedAt?: string;
  restorableUntil?: string;
  locked: boolean;
  frozen: boolean;
  reserved: boolean;
  hidden: boolean;
}

/** TenantOp is a POST /api/v1/tenants/{id}/{op} the page offers. */
export type TenantOp = 'lock' | 'unlock' | 'freeze' | 'unfreeze' | 'restore';

/** tenantRecords reads the list answer: entries without an id are
 * dropped, flags are true only when the server says true, and the order
 * is the server's. */
export function tenantRecords(body: unknown): TenantRecord[] {
  if (!Array.isArray(body)) return [];
  const out: TenantRecord[] = [];
  for (const x of body) {
    if (!x || typeof x !== 'object') continue;
    const o = x as Record<string, unknown>;
    const id = asText(o.id);
    if (!id) continue;
    const opt = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
    out.push({
      id,
      name: asText(o.name) || id,
      description: asText(o.description),
      deleted: o.deleted === true,
      deletedAt: opt(o.deletedAt),
      restorableUntil: opt(o.restorableUntil),
      locked: o.locked === true,
      frozen: o.frozen === true,
      reserved: o.reserved === true,
      hidden: o.hidden === true,
    });
  }
  return out;
}
