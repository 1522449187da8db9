package control

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/tenantgate/tenantgate/policy"
	"github.com/tenantgate/tenantgate/tenants"
)

// Security is the content of the YAML security files, keyed by name:
// tenants.yml (tenants.ParseFile), roles.yml (policy.ParseRoles),
// roles_mapping.yml (policy.ParseRoleMappings) and the optional
// internal_users.yml (ParseInternalUsers). ApplyFiles writes it to the
// store. A nil map stands for a missing file: everything that file
// declared before is dropped.
type Security struct {
	// Tenants are the custom tenants of tenants.yml.
	Tenants map[string]tenants.Tenant
	// Roles are the roles of roles.yml.
	Roles map[string]policy.Role
	// Mappings are the role mappings of roles_mapping.yml.
	Mappings map[string]policy.RoleMapping
	// Users are the users and service accounts of internal_users.yml.
	Users map[string]User
}

// fileDeleter is who DeletedBy names when ApplyFiles soft-deletes a
// tenant that left tenants.yml.
const fileDeleter = "tenants.yml"

// ApplyFiles makes the store match the security files in one transaction
// (see Tx.ApplyFiles) and reports how many records it created, changed or
// deleted. On error nothing is changed.
func (s *Store) ApplyFiles(sec Security, now time.Time) (changes int, err error) {
	err = s.Update(func(tx *Tx) error {
		n, err := tx.ApplyFiles(sec, now)
		changes = n
		return err
	})
	if err != nil {
		return 0, err
	}
	return changes, nil
}

// ApplyFiles writes the security files into the store within t, so a
// caller can add its own records (an audit entry) to the same
// transaction. It reports how many records it created, changed or
// deleted. On error it may have written part of the files: the caller
// returns the error from its closure, which rolls them back.
//
// Every entry of the files is stored with Source SourceFile and Reserved
// set; Hidden and Static are the file's. An API record of the same name
// is taken over. Created is kept from the stored record; Updated is set
// to now only when the content changes, so applying the same files again
// changes nothing and reports 0. A file tenant's Locked and Frozen state
// is kept (it is operational state an administrator set, not part of the
// declaration); DeletedAt is not: the file declares the tenant live.
//
// File records that are no longer in the files are removed: users (with
// their tokens), roles and role mappings at once; tenants are
// soft-deleted (DeletedAt now, DeletedBy "tenants.yml"), so their data
// follows the usual retention and purge, and putting the tenant back in
// the file restores it. API records not in the files are left alone;
// groups and the tenancy settings are not touched.
func (t *Tx) ApplyFiles(sec Security, now time.Time) (int, error) {
	a := applier{tx: t, now: now.UTC()}
	for _, id := range sortedKeys(sec.Tenants) {
		ft := sec.Tenants[id]
		rec := Tenant{ID: id, Name: id, Description: ft.Description,
			Flags: Flags{Reserved: true, Hidden: ft.Hidden, Static: ft.Static}}
		if old, err := t.Tenant(id); err == nil {
			rec.Locked, rec.Frozen = old.Locked, old.Frozen
		}
		if err := upsert(&a, bucketTenants, id, &rec, &rec.Meta, t.PutTenant); err != nil {
			return 0, err
		}
	}
	for _, name := range sortedKeys(sec.Roles) {
		rec := Role{Role: sec.Roles[name], Name: name}
		rec.Role.Name, rec.Reserved = name, true
		if err := upsert(&a, bucketRoles, name, &rec, &rec.Meta, t.PutRole); err != nil {
			return 0, err
		}
	}
	for _, name := range sortedKeys(sec.Mappings) {
		rec := RoleMapping{RoleMapping: sec.Mappings[name], Name: name}
		rec.Reserved = true
		if err := upsert(&a, bucketMappings, name, &rec, &rec.Meta, t.PutMapping); err != nil {
			return 0, err
		}
	}
	for _, name := range sortedKeys(sec.Users) {
		rec := sec.Users[name]
		rec.Name, rec.Reserved = name, true
		// PutUser normalises Kind; do it first so that the comparison
		// with the stored record sees what PutUser would store.
		if err := checkUser(&rec); err != nil {
			return 0, err
		}
		if err := upsert(&a, bucketUsers, name, &rec, &rec.Meta, t.PutUser); err != nil {
			return 0, err
		}
	}

	if err := a.prune(bucketRoles, keySet(sec.Roles), t.DeleteRole); err != nil {
		return 0, err
	}
	if err := a.prune(bucketMappings, keySet(sec.Mappings), t.DeleteMapping); err != nil {
		return 0, err
	}
	if err := a.prune(bucketUsers, keySet(sec.Users), t.DeleteUser); err != nil {
		return 0, err
	}
	if err := a.prune(bucketTenants, keySet(sec.Tenants), a.softDeleteTenant); err != nil {
		return 0, err
	}
	return a.changes, nil
}

// applier carries one ApplyFiles run.
type applier struct {
	tx      *Tx
	now     time.Time
	changes int
}

// upsert stores rec (whose Meta is meta) as a file record under key
// unless the stored record already has the same content.
func upsert[T any](a *applier, bucket []byte, key string, rec *T, meta *Meta, store func(T) error) error {
	meta.Source = SourceFile
	meta.Created, meta.Updated = a.now, a.now
	if raw := a.tx.tx.Bucket(bucket).Get([]byte(key)); raw != nil {
		var old Meta
		if err := json.Unmarshal(raw, &old); err != nil {
			return fmt.Errorf("decoding %s %q: %w", bucket, key, err)
		}
		if !old.Created.IsZero() {
			meta.Created = old.Created
		}
		meta.Updated = old.Updated
		same, err := json.Marshal(rec)
		if err != nil {
			return fmt.Errorf("encoding %s %q: %w", bucket, key, err)
		}
		if bytes.Equal(same, raw) {
			return nil
		}
		meta.Updated = a.now
	}
	if err := store(*rec); err != nil {
		return err
	}
	a.changes++
	return nil
}

// prune removes, with remove, the file records of bucket whose key is not
// in keep. A soft-deleted tenant counts as removed already.
func (a *applier) prune(bucket []byte, keep map[string]bool, remove func(string) error) error {
	var gone []string
	err := a.tx.tx.Bucket(bucket).ForEach(func(k, v []byte) error {
		if keep[string(k)] {
			return nil
		}
		var rec struct {
			Source    string     `json:"source"`
			DeletedAt *time.Time `json:"deleted_at"`
		}
		if err := json.Unmarshal(v, &rec); err != nil {
			return fmt.Errorf("decoding %s %q: %w", bucket, k, err)
		}
		if rec.Source == SourceFile && rec.DeletedAt == nil {
			gone = append(gone, string(k))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, key := range gone {
		if err := remove(key); err != nil {
			return err
		}
		a.changes++
	}
	return nil
}

// softDeleteTenant marks the file tenant id deleted now.
func (a *applier) softDeleteTenant(id string) error {
	ten, err := a.tx.Tenant(id)
	if err != nil {
		return err
	}
	now := a.now
	ten.DeletedAt, ten.DeletedBy, ten.Updated = &now, fileDeleter, now
	return a.tx.PutTenant(ten)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func keySet[V any](m map[string]V) map[string]bool {
	set := make(map[string]bool, len(m))
	for k := range m {
		set[k] = true
	}
	return set
}

// internalUsersVersion is the only config_version of internal_users.yml.
const internalUsersVersion = 2

type internalUsersFile struct {
	Meta *struct {
		Type          string `yaml:"type"`
		ConfigVersion int    `yaml:"config_version"`
	} `yaml:"_meta"`
	Users map[string]*fileUser `yaml:",inline"`
}

// fileUser is one entry of internal_users.yml: OpenSearch's fields and
// tenantgate's extensions.
type fileUser struct {
	Hash          string            `yaml:"hash"`
	Password      *string           `yaml:"password"`
	Reserved      bool              `yaml:"reserved"`
	Hidden        bool              `yaml:"hidden"`
	Static        bool              `yaml:"static"`
	BackendRoles  []string          `yaml:"backend_roles"`
	SecurityRoles []string          `yaml:"opendistro_security_roles"`
	Attributes    map[string]string `yaml:"attributes"`
	Description   string            `yaml:"description"`

	Kind       string   `yaml:"kind"`
	Superadmin bool     `yaml:"superadmin"`
	Groups     []string `yaml:"groups"`
	Email      string   `yaml:"email"`
	FirstName  string   `yaml:"first_name"`
	LastName   string   `yaml:"last_name"`
}

// ParseInternalUsers parses an internal_users.yml in OpenSearch Security
// format ("_meta: {type: internalusers, config_version: 2}", one entry per
// user name) with tenantgate's extensions. OpenSearch's fields are hash
// (a bcrypt hash), reserved, hidden, static, backend_roles, attributes,
// description and opendistro_security_roles (accepted only empty: map
// roles in roles_mapping.yml); the extensions are kind ("user", the
// default, or "service_account"), superadmin, groups, email, first_name
// and last_name. A plain-text password is refused, as are unknown keys,
// bad names (ValidateName), malformed hashes and service accounts with a
// hash; errors wrap ErrInvalid. The users come back with Name and Kind
// set and no Meta.
func ParseInternalUsers(data []byte) (map[string]User, error) {
	var f internalUsersFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, invalidf("internal_users.yml: empty document")
		}
		return nil, invalidf("internal_users.yml: %v", err)
	}
	if f.Meta == nil || f.Meta.Type != "internalusers" || f.Meta.ConfigVersion != internalUsersVersion {
		return nil, invalidf("internal_users.yml: _meta must be {type: internalusers, config_version: %d}", internalUsersVersion)
	}
	out := make(map[string]User, len(f.Users))
	for _, name := range sortedKeys(f.Users) {
		fu := f.Users[name]
		if err := ValidateName("user", name); err != nil {
			return nil, fmt.Errorf("internal_users.yml: %w", err)
		}
		if fu == nil {
			fu = &fileUser{}
		}
		if fu.Password != nil {
			return nil, invalidf("internal_users.yml: user [%s]: password in plain text is not accepted; "+
				"use hash with a bcrypt hash of the password", name)
		}
		if len(fu.SecurityRoles) > 0 {
			return nil, invalidf("internal_users.yml: user [%s]: opendistro_security_roles is not supported by tenantgate; "+
				"map the user to its roles in roles_mapping.yml", name)
		}
		for _, g := range fu.Groups {
			if err := ValidateName("group", g); err != nil {
				return nil, fmt.Errorf("internal_users.yml: user [%s]: %w", name, err)
			}
		}
		u := User{
			Name: name, Kind: fu.Kind,
			FirstName: fu.FirstName, LastName: fu.LastName, Email: fu.Email, Description: fu.Description,
			Groups: fu.Groups, BackendRoles: fu.BackendRoles, Attributes: fu.Attributes,
			Superadmin: fu.Superadmin, PasswordHash: fu.Hash,
			Flags: Flags{Reserved: fu.Reserved, Hidden: fu.Hidden, Static: fu.Static},
		}
		if err := checkUser(&u); err != nil {
			return nil, fmt.Errorf("internal_users.yml: %w", err)
		}
		out[name] = u
	}
	return out, nil
}
