package policy

import (
	"fmt"
	"hash/maphash"
	"math/bits"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
)

// maxInlineWild is the largest number of shared rules copied into every
// bucket of an enforcerSet.
const maxInlineWild = 16

// rulesPerBucket is the average number of keyed rules per enforcer.
// Casbin evaluates every rule of an enforcer in turn, so this (and the
// number of shared rules) bounds the cost of an uncached decision
// whatever the number of tenants.
const rulesPerBucket = 8

// keyedLine is a casbin policy line that can only match requests about
// one key (an exact tenant name).
type keyedLine struct {
	key  string
	line []string
}

// enforcerSet spreads one casbin policy over many small enforcers.
//
// Casbin scans every policy line on each Enforce, so one enforcer holding
// the rules of all tenants degrades linearly with their number. Lines
// keyed by an exact tenant name are therefore partitioned by a hash of the
// name into buckets of about rulesPerBucket lines, each with its own
// enforcer. Shared lines (wildcards, ${user.name}, any tenant) are copied
// into every bucket when there are at most maxInlineWild of them, so a
// decision is one Enforce over a handful of lines; when there are more
// they live in one more enforcer, asked after the key's bucket.
type enforcerSet struct {
	seed    maphash.Seed
	mask    uint64
	buckets []*casbin.Enforcer // nil where a bucket has no lines
	wild    *casbin.Enforcer   // nil when shared lines are inlined in the buckets
}

// enforcerFactory builds one enforcer over policy lines.
type enforcerFactory func(lines [][]string) (*casbin.Enforcer, error)

func newEnforcerSet(keyed []keyedLine, shared [][]string, newEnf enforcerFactory) (enforcerSet, error) {
	s := enforcerSet{seed: maphash.MakeSeed()}
	n := 1
	if len(keyed) > rulesPerBucket {
		n = 1 << bits.Len(uint((len(keyed)-1)/rulesPerBucket))
	}
	s.mask = uint64(n - 1)
	perBucket := make([][][]string, n)
	for _, kl := range keyed {
		b := s.bucketOf(kl.key)
		perBucket[b] = append(perBucket[b], kl.line)
	}
	inline := len(shared) <= maxInlineWild
	s.buckets = make([]*casbin.Enforcer, n)
	var err error
	for i, lines := range perBucket {
		if inline {
			lines = append(lines, shared...)
		}
		if len(lines) == 0 {
			continue
		}
		if s.buckets[i], err = newEnf(lines); err != nil {
			return enforcerSet{}, err
		}
	}
	if !inline {
		if s.wild, err = newEnf(shared); err != nil {
			return enforcerSet{}, err
		}
	}
	return s, nil
}

func (s *enforcerSet) bucketOf(key string) uint64 {
	return maphash.String(s.seed, key) & s.mask
}

// enforce asks the enforcer of key's bucket, then the shared one. Errors
// (which a fixed model and validated policy should never produce) deny.
func (s *enforcerSet) enforce(key string, rvals ...any) bool {
	if e := s.buckets[s.bucketOf(key)]; e != nil {
		if ok, err := e.Enforce(rvals...); err == nil && ok {
			return true
		}
	}
	if s.wild != nil {
		ok, err := s.wild.Enforce(rvals...)
		return err == nil && ok
	}
	return false
}

// newEnforcer builds an enforcer over lines with the custom functions fns
// and runs the request warm through it, so the matcher expression is
// compiled (and checked) now rather than on the first real decision.
func newEnforcer(base model.Model, fns map[string]func(args ...any) (any, error), lines [][]string, warm ...any) (*casbin.Enforcer, error) {
	e, err := casbin.NewEnforcer(base.Copy())
	if err != nil {
		return nil, fmt.Errorf("policy: casbin enforcer: %w", err)
	}
	for name, fn := range fns {
		e.AddFunction(name, fn)
	}
	if len(lines) > 0 {
		if _, err := e.AddPolicies(lines); err != nil {
			return nil, fmt.Errorf("policy: casbin policies: %w", err)
		}
	}
	if _, err := e.Enforce(warm...); err != nil {
		return nil, fmt.Errorf("policy: casbin matcher: %w", err)
	}
	return e, nil
}
