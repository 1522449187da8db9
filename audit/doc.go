// Package audit is tenantgate's audit trail: an append-only log of
// security-relevant events (sign-ins, 401s and 403s, and every change made
// through the admin APIs) kept in two buckets of the control-plane bbolt
// file.
//
// There are two ways in. An administrative change appends its record with
// [Trail.AppendTx] inside the transaction that makes the change, so the
// change and its record commit or roll back together; a caller that must
// refuse a change whose record cannot be written (audit.fail_closed) just
// returns the error from its transaction. Events on the request path
// (authentication failures, denials, sign-ins) go through [Trail.Record],
// which never blocks: it queues the record for a goroutine owned by the
// Trail that writes queued records in batches, and drops (and counts, see
// [Trail.Dropped]) what does not fit in the queue.
//
// Secrets never reach the trail. [Diff] builds a record's before, after
// and RFC 6902 diff with every password, hash, secret and token replaced
// by "***", and AppendTx applies the same redaction again to whatever it
// is given.
//
// Records are read newest first with [Trail.Query]. A query scoped to a
// tenant reads a per-tenant index and never touches another tenant's
// records. Records are never updated or deleted, and deleting a tenant
// keeps its records; the only way to remove any is [Trail.Purge], for a
// retention policy.
//
// Typical use:
//
//	trail, err := audit.NewTrail(store.DB(), audit.Options{Logger: log})
//	defer trail.Close() // before the database is closed
//
//	err = store.Update(func(tx *control.Tx) error {
//		// … change something …
//		rec := audit.Record{Actor: "admin", Action: "tenant.create", Target: "stage",
//			Tenant: "stage", Outcome: audit.OutcomeSuccess}
//		rec.Before, rec.After, rec.Diff, err = audit.Diff(nil, tenant)
//		if err != nil {
//			return err
//		}
//		return trail.AppendTx(tx.Bolt(), &rec)
//	})
//
//	trail.Record(audit.Record{Action: audit.ActionAuthFailed, Outcome: audit.OutcomeFailure,
//		Status: 401, ClientIP: ip})
package audit
