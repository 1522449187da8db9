package control

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"

	"go.etcd.io/bbolt"
	"golang.org/x/crypto/bcrypt"

	"github.com/tenantgate/tenantgate/tenants"
)

// keyTenancy is the key of the tenancy settings in bucketSettings.
var keyTenancy = []byte("tenancy")

// get decodes the record key of bucket into v; ErrNotFound when absent.
func get(tx *bbolt.Tx, bucket []byte, kind, key string, v any) error {
	raw := tx.Bucket(bucket).Get([]byte(key))
	if raw == nil {
		return notFound(kind, key)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("decoding %s %q: %w", kind, key, err)
	}
	return nil
}

// put stores v as JSON under key, replacing what was there.
func put(tx *bbolt.Tx, bucket []byte, kind, key string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding %s %q: %w", kind, key, err)
	}
	if err := tx.Bucket(bucket).Put([]byte(key), raw); err != nil {
		return fmt.Errorf("storing %s %q: %w", kind, key, err)
	}
	return nil
}

// del removes key from bucket; ErrNotFound when absent.
func del(tx *bbolt.Tx, bucket []byte, kind, key string) error {
	b := tx.Bucket(bucket)
	if b.Get([]byte(key)) == nil {
		return notFound(kind, key)
	}
	if err := b.Delete([]byte(key)); err != nil {
		return fmt.Errorf("deleting %s %q: %w", kind, key, err)
	}
	return nil
}

// list decodes every record of bucket in key order; fix, when not nil,
// sets the key fields from the key.
func list[T any](tx *bbolt.Tx, bucket []byte, kind string, fix func(*T, string)) ([]T, error) {
	out := []T{}
	err := tx.Bucket(bucket).ForEach(func(k, v []byte) error {
		var rec T
		if err := json.Unmarshal(v, &rec); err != nil {
			return fmt.Errorf("decoding %s %q: %w", kind, k, err)
		}
		if fix != nil {
			fix(&rec, string(k))
		}
		out = append(out, rec)
		return nil
	})
	return out, err
}

// Tenant returns the tenant id, soft-deleted or not.
func (t *Tx) Tenant(id string) (Tenant, error) {
	var rec Tenant
	if err := get(t.tx, bucketTenants, "tenant", id, &rec); err != nil {
		return Tenant{}, err
	}
	rec.ID = id
	return rec, nil
}

// PutTenant stores ten under ten.ID, replacing any tenant of that id. The
// id must pass tenants.ValidateID; errors wrap both ErrInvalid and
// tenants.ErrInvalid.
func (t *Tx) PutTenant(ten Tenant) error {
	if err := tenants.ValidateID(ten.ID); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return put(t.tx, bucketTenants, "tenant", ten.ID, ten)
}

// DeleteTenant removes the tenant id for good (the purge that follows a
// soft delete); ErrNotFound when absent.
func (t *Tx) DeleteTenant(id string) error {
	return del(t.tx, bucketTenants, "tenant", id)
}

// Tenants returns every tenant, soft-deleted ones included, sorted by id.
func (t *Tx) Tenants() ([]Tenant, error) {
	return list(t.tx, bucketTenants, "tenant", func(r *Tenant, k string) { r.ID = k })
}

// User returns the user or service account name.
func (t *Tx) User(name string) (User, error) {
	var rec User
	if err := get(t.tx, bucketUsers, "user", name, &rec); err != nil {
		return User{}, err
	}
	rec.Name = name
	return rec, nil
}

// PutUser stores u under u.Name, replacing any user or service account of
// that name (whatever its Kind). An empty Kind is stored as KindUser. It
// fails with ErrInvalid for a bad name (ValidateName), an unknown Kind, a
// PasswordHash that is not a bcrypt hash, or a service account with a
// password.
func (t *Tx) PutUser(u User) error {
	if err := ValidateName("user", u.Name); err != nil {
		return err
	}
	if err := checkUser(&u); err != nil {
		return err
	}
	return put(t.tx, bucketUsers, "user", u.Name, u)
}

// checkUser normalises u.Kind and checks Kind and PasswordHash.
func checkUser(u *User) error {
	switch u.Kind {
	case "":
		u.Kind = KindUser
	case KindUser, KindServiceAccount:
	default:
		return invalidf("user %q: kind %q is neither %q nor %q", u.Name, u.Kind, KindUser, KindServiceAccount)
	}
	if u.PasswordHash == "" {
		return nil
	}
	if u.Kind == KindServiceAccount {
		return invalidf("service account %q cannot have a password (it signs in with API tokens only)", u.Name)
	}
	if _, err := bcrypt.Cost([]byte(u.PasswordHash)); err != nil {
		return invalidf("user %q: the password hash is not a bcrypt hash", u.Name)
	}
	return nil
}

// DeleteUser removes the user or service account name and every API
// token it owns, so that a later user of the same name does not inherit
// them; ErrNotFound when absent.
func (t *Tx) DeleteUser(name string) error {
	if err := del(t.tx, bucketUsers, "user", name); err != nil {
		return err
	}
	for _, id := range t.tokenIDsOf(name) {
		if err := t.DeleteToken(id); err != nil {
			return err
		}
	}
	return nil
}

// Users returns every user and service account, sorted by name.
func (t *Tx) Users() ([]User, error) {
	return list(t.tx, bucketUsers, "user", func(r *User, k string) { r.Name = k })
}

// Group returns the group name.
func (t *Tx) Group(name string) (Group, error) {
	var rec Group
	if err := get(t.tx, bucketGroups, "group", name, &rec); err != nil {
		return Group{}, err
	}
	rec.Name = name
	return rec, nil
}

// PutGroup stores g under g.Name, replacing any group of that name. Users
// that name the group are not touched.
func (t *Tx) PutGroup(g Group) error {
	if err := ValidateName("group", g.Name); err != nil {
		return err
	}
	return put(t.tx, bucketGroups, "group", g.Name, g)
}

// DeleteGroup removes the group name; ErrNotFound when absent. Users and
// role mappings that name it keep the name (it matches nothing until a
// group of that name exists again).
func (t *Tx) DeleteGroup(name string) error {
	return del(t.tx, bucketGroups, "group", name)
}

// Groups returns every group, sorted by name.
func (t *Tx) Groups() ([]Group, error) {
	return list(t.tx, bucketGroups, "group", func(r *Group, k string) { r.Name = k })
}

// Role returns the role name, with Role.Name set too.
func (t *Tx) Role(name string) (Role, error) {
	var rec Role
	if err := get(t.tx, bucketRoles, "role", name, &rec); err != nil {
		return Role{}, err
	}
	rec.Name, rec.Role.Name = name, name
	return rec, nil
}

// PutRole stores r under r.Name (or r.Role.Name when r.Name is empty),
// replacing any role of that name. The two names must agree when both are
// set. The role's content is not checked against the policy engine's
// rules; callers do that.
func (t *Tx) PutRole(r Role) error {
	if r.Name == "" {
		r.Name = r.Role.Name
	}
	if r.Role.Name != "" && r.Role.Name != r.Name {
		return invalidf("role %q: Role.Name is %q", r.Name, r.Role.Name)
	}
	if err := ValidateName("role", r.Name); err != nil {
		return err
	}
	return put(t.tx, bucketRoles, "role", r.Name, r)
}

// DeleteRole removes the role name; ErrNotFound when absent. Its role
// mapping, if any, is kept.
func (t *Tx) DeleteRole(name string) error {
	return del(t.tx, bucketRoles, "role", name)
}

// Roles returns every role, sorted by name.
func (t *Tx) Roles() ([]Role, error) {
	return list(t.tx, bucketRoles, "role", func(r *Role, k string) { r.Name, r.Role.Name = k, k })
}

// Mapping returns the role mapping of the role name.
func (t *Tx) Mapping(name string) (RoleMapping, error) {
	var rec RoleMapping
	if err := get(t.tx, bucketMappings, "role mapping", name, &rec); err != nil {
		return RoleMapping{}, err
	}
	rec.Name = name
	return rec, nil
}

// PutMapping stores m under m.Name, replacing any mapping of that name.
// The role need not exist.
func (t *Tx) PutMapping(m RoleMapping) error {
	if err := ValidateName("role mapping", m.Name); err != nil {
		return err
	}
	return put(t.tx, bucketMappings, "role mapping", m.Name, m)
}

// DeleteMapping removes the role mapping name; ErrNotFound when absent.
func (t *Tx) DeleteMapping(name string) error {
	return del(t.tx, bucketMappings, "role mapping", name)
}

// Mappings returns every role mapping, sorted by name.
func (t *Tx) Mappings() ([]RoleMapping, error) {
	return list(t.tx, bucketMappings, "role mapping", func(r *RoleMapping, k string) { r.Name = k })
}

// ownerKey is the owner's length (4 bytes, big endian) and the owner: the
// prefix of the owner's keys in bucketTokensByOwner, each followed by a
// token id. No owner's prefix is the prefix of another's.
func ownerKey(owner string) []byte {
	k := make([]byte, 4, 4+len(owner))
	binary.BigEndian.PutUint32(k, uint32(len(owner)))
	return append(k, owner...)
}

func ownerTokenKey(owner, id string) []byte {
	return append(ownerKey(owner), id...)
}

// Token returns the API token id.
func (t *Tx) Token(id string) (Token, error) {
	var rec Token
	if err := get(t.tx, bucketTokens, "token", id, &rec); err != nil {
		return Token{}, err
	}
	rec.ID = id
	return rec, nil
}

// PutToken stores tok under tok.ID, replacing any token of that id, and
// indexes it by owner. The owner must exist (ErrNotFound otherwise); the
// id must pass ValidateName and the hash must not be empty (ErrInvalid).
func (t *Tx) PutToken(tok Token) error {
	if err := ValidateName("token", tok.ID); err != nil {
		return err
	}
	if len(tok.Hash) == 0 {
		return invalidf("token %q has no hash", tok.ID)
	}
	if tok.Owner == "" || t.tx.Bucket(bucketUsers).Get([]byte(tok.Owner)) == nil {
		return fmt.Errorf("owner %q of token %q: %w", tok.Owner, tok.ID, ErrNotFound)
	}
	if prev, err := t.Token(tok.ID); err == nil && prev.Owner != tok.Owner {
		if err := t.tx.Bucket(bucketTokensByOwner).Delete(ownerTokenKey(prev.Owner, tok.ID)); err != nil {
			return fmt.Errorf("re-indexing token %q: %w", tok.ID, err)
		}
	}
	if err := put(t.tx, bucketTokens, "token", tok.ID, tok); err != nil {
		return err
	}
	if err := t.tx.Bucket(bucketTokensByOwner).Put(ownerTokenKey(tok.Owner, tok.ID), []byte{}); err != nil {
		return fmt.Errorf("indexing token %q: %w", tok.ID, err)
	}
	return nil
}

// DeleteToken revokes the API token id and drops it from its owner's
// index; ErrNotFound when absent.
func (t *Tx) DeleteToken(id string) error {
	tok, err := t.Token(id)
	if err != nil {
		return err
	}
	if err := del(t.tx, bucketTokens, "token", id); err != nil {
		return err
	}
	if err := t.tx.Bucket(bucketTokensByOwner).Delete(ownerTokenKey(tok.Owner, id)); err != nil {
		return fmt.Errorf("unindexing token %q: %w", id, err)
	}
	return nil
}

// tokenIDsOf returns the ids of owner's tokens, sorted, from the owner
// index (no scan of every token).
func (t *Tx) tokenIDsOf(owner string) []string {
	prefix := ownerKey(owner)
	var ids []string
	c := t.tx.Bucket(bucketTokensByOwner).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		ids = append(ids, string(k[len(prefix):]))
	}
	return ids
}

// TokensOf returns the API tokens of the user or service account owner,
// sorted by id. An owner without tokens (or that does not exist) has
// none; that is not an error.
func (t *Tx) TokensOf(owner string) ([]Token, error) {
	ids := t.tokenIDsOf(owner)
	out := make([]Token, 0, len(ids))
	for _, id := range ids {
		tok, err := t.Token(id)
		if err != nil {
			return nil, fmt.Errorf("owner index of %q: %w", owner, err)
		}
		out = append(out, tok)
	}
	return out, nil
}

// AllTokens returns every API token, sorted by id.
func (t *Tx) AllTokens() ([]Token, error) {
	return list(t.tx, bucketTokens, "token", func(r *Token, k string) { r.ID = k })
}

// Tenancy returns the stored tenancy configuration, or DefaultTenancy
// when none is stored. PreferredTenants is never nil.
func (t *Tx) Tenancy() (Tenancy, error) {
	c, _, err := t.StoredTenancy()
	return c, err
}

// StoredTenancy is Tenancy that also reports whether a configuration is
// stored (false: the result is DefaultTenancy), so callers can fall back
// to their own defaults instead.
func (t *Tx) StoredTenancy() (Tenancy, bool, error) {
	raw := t.tx.Bucket(bucketSettings).Get(keyTenancy)
	if raw == nil {
		return DefaultTenancy(), false, nil
	}
	var rec Tenancy
	if err := json.Unmarshal(raw, &rec); err != nil {
		return Tenancy{}, true, fmt.Errorf("decoding tenancy settings: %w", err)
	}
	if rec.PreferredTenants == nil {
		rec.PreferredTenants = []string{}
	}
	return rec, true, nil
}

// PutTenancy stores the tenancy configuration. It checks nothing: whether
// the default tenant exists and may be used is the caller's rule.
func (t *Tx) PutTenancy(c Tenancy) error {
	if c.PreferredTenants == nil {
		c.PreferredTenants = []string{}
	}
	return put(t.tx, bucketSettings, "settings", string(keyTenancy), c)
}
