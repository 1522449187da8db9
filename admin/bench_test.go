package admin

import (
	"testing"
	"time"

	"github.com/tenantgate/tenantgate/auth"
	"github.com/tenantgate/tenantgate/control"
)

// BenchmarkAuthenticate measures what each kind of credential costs on
// the request path once the directory is loaded: an API token (lookup,
// SHA-256, constant-time compare), a password with a warm cache (HMAC
// lookup, no bcrypt), and enriching a JWT principal from the directory
// (the JWT's own verification is in auth's benchmarks).
func BenchmarkAuthenticate(b *testing.B) {
	s := tenantTestService(b, Options{})
	hash, err := auth.HashPassword("a-long-password", 4)
	if err != nil {
		b.Fatal(err)
	}
	tok, err := auth.NewAPIToken()
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC()
	if err := s.o.Store.Update(func(tx *control.Tx) error {
		if err := tx.PutUser(control.User{Name: "alice", PasswordHash: hash, Groups: []string{}}); err != nil {
			return err
		}
		return tx.PutToken(control.Token{ID: tok.ID, Owner: "alice", Prefix: tok.Prefix, Hash: tok.Hash,
			Created: now, Expires: now.Add(time.Hour)})
	}); err != nil {
		b.Fatal(err)
	}
	if err := s.Reload(); err != nil {
		b.Fatal(err)
	}
	b.Run("api-token", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.Token(tok.Token); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("password-cached", func(b *testing.B) {
		if _, err := s.Password("alice", "a-long-password"); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.Password("alice", "a-long-password"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("jwt-enrich", func(b *testing.B) {
		p := auth.Principal{Name: "alice", BackendRoles: []string{"analyst"}}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.Enrich(p); err != nil {
				b.Fatal(err)
			}
		}
	})
}
