package admin

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/tenantgate/tenantgate/auth"
	"github.com/tenantgate/tenantgate/control"
)

// Directory is an immutable snapshot of users, service accounts and API
// tokens, swapped whole after every change, so authentication on the
// request path reads memory only.
type Directory struct {
	users  map[string]control.User
	tokens map[string]control.Token // by token id
}

// User returns the user or service account name.
func (d *Directory) User(name string) (control.User, bool) {
	u, ok := d.users[name]
	return u, ok
}

// Token returns the API token with the given id.
func (d *Directory) Token(id string) (control.Token, bool) {
	t, ok := d.tokens[id]
	return t, ok
}

// lastUse gathers API token uses not yet stored.
type lastUse struct {
	mu sync.Mutex
	at map[string]time.Time // token id → last use
}

// errBadCredentials is the one message for an unknown user, a wrong
// password and a user who may not sign in with a password, so the
// answer does not tell them apart.
var errBadCredentials = fmt.Errorf("%w: invalid username or password", auth.ErrUnauthenticated)

// Password authenticates a user by password (HTTP Basic or the UI's
// sign-in). Unknown users cost a bcrypt like known ones. Service
// accounts and disabled users cannot sign in with a password.
func (a *Service) Password(user, password string) (auth.Principal, error) {
	u, ok := a.Directory().User(user)
	if !ok || u.PasswordHash == "" || u.Kind != control.KindUser || u.Disabled {
		a.dummyCheck(password)
		return auth.Principal{}, errBadCredentials
	}
	if !a.passwords.Check(user, password, u.PasswordHash) {
		return auth.Principal{}, errBadCredentials
	}
	return principalOf(u, auth.MethodPassword, ""), nil
}

// Token authenticates an API token (tgat_…): it must exist, match in
// constant time, be unexpired, and belong to an enabled user or service
// account. A revoked or expired token fails at once.
func (a *Service) Token(raw string) (auth.Principal, error) {
	id, ok := auth.ParseAPIToken(raw)
	if !ok {
		return auth.Principal{}, fmt.Errorf("%w: malformed API token", auth.ErrUnauthenticated)
	}
	dir := a.Directory()
	t, ok := dir.Token(id)
	if !ok || !auth.TokenMatches(t.Hash, raw) {
		return auth.Principal{}, fmt.Errorf("%w: the API token is unknown or revoked", auth.ErrUnauthenticated)
	}
	now := a.o.Clock()
	if !t.Expires.IsZero() && !now.Before(t.Expires) {
		return auth.Principal{}, fmt.Errorf("%w: the API token expired at %s", auth.ErrUnauthenticated, t.Expires.UTC().Format(time.RFC3339))
	}
	u, ok := dir.User(t.Owner)
	if !ok || u.Disabled {
		return auth.Principal{}, fmt.Errorf("%w: the API token's owner is disabled or gone", auth.ErrUnauthenticated)
	}
	a.used.mu.Lock()
	a.used.at[id] = now
	a.used.mu.Unlock()
	return principalOf(u, auth.MethodAPIToken, id), nil
}

// Enrich adds what the directory knows of a user authenticated elsewhere
// (a JWT): their groups and superadmin flag. A disabled user is refused.
func (a *Service) Enrich(p auth.Principal) (auth.Principal, error) {
	u, ok := a.Directory().User(p.Name)
	if !ok || u.Kind != control.KindUser {
		return p, nil
	}
	if u.Disabled {
		return p, fmt.Errorf("%w: user [%s] is disabled", auth.ErrUnauthenticated, p.Name)
	}
	p.Groups = slices.Clone(u.Groups)
	p.Superadmin = u.Superadmin
	return p, nil
}

func principalOf(u control.User, method, tokenID string) auth.Principal {
	return auth.Principal{
		Name: u.Name, BackendRoles: slices.Clone(u.BackendRoles), Groups: slices.Clone(u.Groups),
		Superadmin: u.Superadmin, Method: method, TokenID: tokenID,
	}
}

// FlushLastUsed stores the last-use times of API tokens gathered since
// the previous flush, in one transaction, so a token used on every
// request does not cost a disk write each time.
func (a *Service) FlushLastUsed() error {
	a.used.mu.Lock()
	pending := a.used.at
	a.used.at = map[string]time.Time{}
	a.used.mu.Unlock()
	if len(pending) == 0 {
		return nil
	}
	err := a.o.Store.Update(func(tx *control.Tx) error {
		for id, at := range pending {
			t, err := tx.Token(id)
			if errors.Is(err, control.ErrNotFound) {
				continue // revoked meanwhile
			} else if err != nil {
				return err
			}
			if at.After(t.LastUsed) {
				t.LastUsed = at
				if err := tx.PutToken(t); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return a.reloadDirectory()
}
