// Package control is tenantgate's control-plane store: tenants, users
// and service accounts, groups, roles, role mappings, API tokens and the
// tenancy settings, in one bbolt file (<data_dir>/control.db) so that a
// change and everything it implies (a new tenant and its Admin role and
// mapping, plus the audit record) commit or roll back together.
//
// Open the store once and share it:
//
//	st, err := control.Open(filepath.Join(dataDir, "control.db"))
//	…
//	defer st.Close()
//
// Changes run in closures; returning an error rolls everything back:
//
//	err = st.Update(func(tx *control.Tx) error {
//		if err := tx.PutTenant(control.Tenant{ID: "stage", Name: "Staging"}); err != nil {
//			return err
//		}
//		return tx.PutRole(control.Role{Name: "admin@stage", …})
//	})
//
// View runs a read-only transaction over one consistent state. Each
// record type has Get, Put (overwrites), Delete and List accessors on Tx;
// Get and Delete return ErrNotFound for a missing record, lists are
// sorted by key, and records are stored as JSON with snake_case fields.
// Users and service accounts share one name space (User.Kind tells them
// apart). API tokens are also indexed by owner, so Tx.TokensOf reads only
// the owner's tokens, and DeleteUser revokes them.
//
// Other packages keep their own buckets in the same file: Store.DB hands
// them the database (index.NewCatalog), and Tx.Bolt the transaction, so
// the audit trail can append in the very transaction it records.
//
// At start-up the YAML security files (tenants.yml, roles.yml,
// roles_mapping.yml, internal_users.yml) are applied with
// Store.ApplyFiles: their entries become reserved records with Source
// "file", entries dropped from the files go, and records created through
// the API are left alone. Applying the same files twice changes nothing.
//
// The store checks what keeps it consistent (names, user kinds, bcrypt
// hashes, token owners), not who may change what: reserved and hidden
// records, tenant admins and superadmins are the admin layer's rules.
package control
