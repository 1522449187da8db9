package admin

import (
	"errors"
	"strings"
	"time"
	"unicode"

	"github.com/tenantgate/tenantgate/auth"
	"github.com/tenantgate/tenantgate/control"
	"github.com/tenantgate/tenantgate/policy"
)

// API tokens. A token is stored as the SHA-256 of the whole token; the
// token itself is returned once, by the call that creates it.
//
// Who manages an account's tokens: a user their own; a holder of
// restapi:admin/internalusers anyone's; the Admin of tenant T the
// service accounts of T. Only a superadmin manages a superadmin's
// tokens, other than their own.

// Token lifetimes used when Options leaves them zero.
const (
	defaultTokenAge = 30 * 24 * time.Hour
	maxTokenAge     = 365 * 24 * time.Hour
	sessionTokenAge = 8 * time.Hour
)

// SessionTokenName is the name of the API token a password sign-in (the
// UI's POST /auth/login) creates.
const SessionTokenName = "web session"

// maxTokenText bounds a token's name and description, in bytes.
const (
	maxTokenName        = 256
	maxTokenDescription = 4096
)

// TokenInput is an API token to create.
type TokenInput struct {
	// Name labels the token for its owner; required.
	Name string
	// Description is free text.
	Description string
	// MaxAge is the token's lifetime, "1h" or ISO-8601 "PT1H"
	// (auth.ParseMaxAge); "" means Options.DefaultTokenAge. It may not
	// exceed Options.MaxTokenAge.
	MaxAge string
}

// IssuedToken is a token just created.
type IssuedToken struct {
	// Token is the whole token, "tgat_…". It is not stored and cannot be
	// shown again.
	Token string
	// Record is what is stored: id, prefix, hash, times.
	Record control.Token
}

func (s *Service) tokenAges() (def, max, session time.Duration) {
	def, max, session = s.o.DefaultTokenAge, s.o.MaxTokenAge, s.o.SessionTokenAge
	if max <= 0 {
		max = maxTokenAge
	}
	if def <= 0 {
		def = min(defaultTokenAge, max)
	}
	if session <= 0 {
		session = min(sessionTokenAge, max)
	}
	return def, max, session
}

// tokenOwner loads the account owner of kind ("" any) whose tokens a
// wants to manage: 404 when a may not see it, 403 for another's
// superadmin account unless a is a superadmin.
func (s *Service) tokenOwner(tx *control.Tx, a Actor, kind, owner string) (control.User, error) {
	u, err := s.loadAccount(tx, a, kind, owner, true)
	if err != nil {
		return u, err
	}
	if u.Name == a.Name {
		if u.Kind != control.KindUser && !s.managesAccount(a, u) {
			return u, errorf(ErrForbidden, "a service account cannot manage its own API tokens; ask an administrator of it")
		}
		return u, nil
	}
	if s.superUser(u) && !a.Superadmin {
		return u, onlySuperadmin(a, owner)
	}
	return u, nil
}

// mayTryTokens gives the 403 of a caller who manages no account's tokens
// but their own, before anything is looked up.
func (s *Service) mayTryTokens(a Actor, kind, owner string) bool {
	return owner == a.Name || s.mayTry(a, kind)
}

// CreateToken creates an API token for the account owner of kind ("" any).
func (s *Service) CreateToken(a Actor, kind, owner string, in TokenInput) (IssuedToken, error) {
	ch := change{action: "token.create", tenant: s.peekAccount(owner).Tenant, target: owner, usersOnly: true}
	if !s.mayTryTokens(a, kind, owner) {
		return IssuedToken{}, s.deny(a, ch, noPermission(policy.ClusterInternalUsers, a.Name))
	}
	age, perr := s.tokenAge(in)
	if perr != nil {
		return IssuedToken{}, s.deny(a, ch, perr)
	}
	var out IssuedToken
	err := s.mutate(a, ch, func(tx *control.Tx) (any, any, error) {
		u, err := s.tokenOwner(tx, a, kind, owner)
		if err != nil {
			return nil, nil, err
		}
		if err := s.closedToTenantAdmin(tx, a, u); err != nil {
			return nil, nil, err
		}
		// A token carries every role of its account: a tenant admin may
		// not mint one for a service account mapped to a role outside its
		// tenant that they do not hold (nor may they change that account).
		if u.Name != a.Name && !s.managesUsers(a) {
			if role := s.roleOutside(tx, a, u); role != "" {
				return nil, nil, errorf(ErrForbidden, "service account [%s] is mapped to role [%s], which is not a role of tenant [%s]: only holders of [%s] may create its tokens",
					u.Name, role, u.Tenant, policy.ClusterInternalUsers)
			}
		}
		out, err = s.issueTx(tx, owner, in, age)
		return nil, out.Record, err
	})
	if err != nil {
		return IssuedToken{}, err
	}
	return out, nil
}

// tokenAge checks in and returns the token's lifetime.
func (s *Service) tokenAge(in TokenInput) (time.Duration, *Error) {
	switch {
	case strings.TrimSpace(in.Name) == "":
		return 0, errorf(ErrInvalid, "a token needs a name")
	case len(in.Name) > maxTokenName:
		return 0, errorf(ErrInvalid, "a token's name is at most %d bytes", maxTokenName)
	case strings.ContainsFunc(in.Name, unicode.IsControl):
		return 0, errorf(ErrInvalid, "a token's name must not contain control characters")
	case len(in.Description) > maxTokenDescription:
		return 0, errorf(ErrInvalid, "a token's description is at most %d bytes", maxTokenDescription)
	}
	def, max, _ := s.tokenAges()
	age, err := auth.ParseMaxAge(in.MaxAge)
	switch {
	case err != nil:
		return 0, errorf(ErrInvalid, "%s", err.Error())
	case age == 0:
		return def, nil
	case age > max:
		return 0, errorf(ErrInvalid, "max_age %q is longer than auth.api_tokens.max_age (%s)", in.MaxAge, max)
	}
	return age, nil
}

// issueTx stores a new token for owner and removes the owner's tokens
// that have expired, so sign-ins do not pile up dead sessions.
func (s *Service) issueTx(tx *control.Tx, owner string, in TokenInput, age time.Duration) (IssuedToken, error) {
	tok, err := auth.NewAPIToken()
	if err != nil {
		return IssuedToken{}, err
	}
	now := s.o.Clock().UTC()
	old, err := tx.TokensOf(owner)
	if err != nil {
		return IssuedToken{}, err
	}
	for _, t := range old {
		if !t.Expires.IsZero() && !now.Before(t.Expires) {
			if err := tx.DeleteToken(t.ID); err != nil {
				return IssuedToken{}, err
			}
		}
	}
	rec := control.Token{
		ID: tok.ID, Owner: owner, Name: in.Name, Description: in.Description, Prefix: tok.Prefix,
		Hash: tok.Hash, Created: now, Expires: now.Add(age),
	}
	if err := tx.PutToken(rec); err != nil {
		return IssuedToken{}, err
	}
	return IssuedToken{Token: tok.Token, Record: rec}, nil
}

// Tokens lists the API tokens of the account owner of kind ("" any),
// with their last use as of now.
func (s *Service) Tokens(a Actor, kind, owner string) ([]control.Token, error) {
	if !s.mayTryTokens(a, kind, owner) {
		return nil, s.deny(a, change{action: "token.read", target: owner}, noPermission(policy.ClusterInternalUsers, a.Name))
	}
	if err := s.FlushLastUsed(); err != nil {
		return nil, err
	}
	var out []control.Token
	err := s.o.Store.View(func(tx *control.Tx) error {
		if _, err := s.tokenOwner(tx, a, kind, owner); err != nil {
			return err
		}
		var err error
		out, err = tx.TokensOf(owner)
		return err
	})
	if err != nil {
		return nil, s.denyRead(a, change{action: "token.read", tenant: s.peekAccount(owner).Tenant, target: owner}, err)
	}
	return out, nil
}

// RevokeToken revokes the API token id of the account owner of kind (""
// any); the owner's other tokens keep working.
func (s *Service) RevokeToken(a Actor, kind, owner, id string) (control.Token, error) {
	ch := change{action: "token.revoke", tenant: s.peekAccount(owner).Tenant, target: owner, usersOnly: true}
	if !s.mayTryTokens(a, kind, owner) {
		return control.Token{}, s.deny(a, ch, noPermission(policy.ClusterInternalUsers, a.Name))
	}
	var out control.Token
	err := s.mutate(a, ch, func(tx *control.Tx) (any, any, error) {
		u, err := s.tokenOwner(tx, a, kind, owner)
		if err != nil {
			return nil, nil, err
		}
		if err := s.closedToTenantAdmin(tx, a, u); err != nil {
			return nil, nil, err
		}
		t, err := s.ownedToken(tx, owner, id)
		if err != nil {
			return nil, nil, err
		}
		out = t
		return t, nil, tx.DeleteToken(id)
	})
	return out, err
}

// ownedToken loads owner's token id; 404 when it is another's.
func (s *Service) ownedToken(tx *control.Tx, owner, id string) (control.Token, error) {
	t, err := tx.Token(id)
	switch {
	case errors.Is(err, control.ErrNotFound), err == nil && t.Owner != owner:
		return t, errorf(ErrNotFound, "token [%s] of [%s] not found", id, owner)
	}
	return t, err
}

// SessionToken creates the token of a password sign-in for the user a,
// whom the caller has just authenticated: named SessionTokenName, valid
// for Options.SessionTokenAge.
func (s *Service) SessionToken(a Actor) (IssuedToken, error) {
	ch := change{action: "token.create", target: a.Name, usersOnly: true}
	_, _, age := s.tokenAges()
	var out IssuedToken
	err := s.mutate(a, ch, func(tx *control.Tx) (any, any, error) {
		u, err := tx.User(a.Name)
		if err != nil || u.Kind != control.KindUser || u.Disabled {
			return nil, nil, errorf(ErrForbidden, "[%s] cannot sign in", a.Name)
		}
		out, err = s.issueTx(tx, a.Name, TokenInput{Name: SessionTokenName}, age)
		return nil, out.Record, err
	})
	if err != nil {
		return IssuedToken{}, err
	}
	return out, nil
}

// SignOut revokes the API token id that the caller a presented.
func (s *Service) SignOut(a Actor, id string) error {
	ch := change{action: "token.revoke", target: a.Name, usersOnly: true}
	return s.mutate(a, ch, func(tx *control.Tx) (any, any, error) {
		t, err := s.ownedToken(tx, a.Name, id)
		if err != nil {
			return nil, nil, err
		}
		return t, nil, tx.DeleteToken(id)
	})
}
