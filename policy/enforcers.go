package policy

import (
	"fmt"
	"runtime"
	"slices"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
)

// maxInlineWild is the largest number of shared rules handed to casbin
// together with the keyed rules of every key.
const maxInlineWild = 16

// keyedLine is a casbin policy line that can only match requests about
// one key (an exact tenant name).
type keyedLine struct {
	key  string
	line []string
}

// enforcerSet holds one casbin policy indexed by key, and the casbin
// enforcers that evaluate it.
//
// Casbin scans every policy line it holds on each Enforce, so one enforcer
// holding the rules of all tenants degrades linearly with their number.
// Lines keyed by an exact tenant name can only match requests about that
// tenant, so the policy is indexed by that name instead: a decision about
// key hands casbin the lines keyed by key (in policy order) followed by the
// shared lines (wildcards, ${user.name}, any tenant) when there are at
// most maxInlineWild of them; when there are more, the shared lines are
// asked about in a second Enforce. Casbin evaluates the lines it is given
// with the unchanged model and matcher; it is never given fewer lines than
// can match.
//
// The lines are evaluated by a small pool of enforcers that share the
// model and custom functions: a decision takes one, points its policy at
// the key's lines, enforces and gives it back. Keeping one enforcer per
// group of tenants instead would cost megabytes per thousand tenants and a
// cold enforcer (its model, function map and compiled matcher) per
// decision.
type enforcerSet struct {
	byKey  map[string][][]string // key → its keyed lines, then the shared lines when inlined
	inline [][]string            // the shared lines when inlined (for keys without keyed lines), else nil
	wild   [][]string            // the shared lines when not inlined, else nil
	pool   evaluatorPool
}

// enforcerFactory builds one enforcer, with no policy lines, over the
// model of an enforcerSet.
type enforcerFactory func() (*casbin.Enforcer, error)

func newEnforcerSet(keyed []keyedLine, shared [][]string, newEnf enforcerFactory) (enforcerSet, error) {
	s := enforcerSet{byKey: map[string][][]string{}}
	perKey := map[string][][]string{}
	for _, kl := range keyed {
		perKey[kl.key] = append(perKey[kl.key], kl.line)
	}
	shared = slices.Clip(shared)
	if len(shared) <= maxInlineWild {
		if len(shared) > 0 {
			s.inline = shared
		}
	} else {
		s.wild = shared
	}
	for key, lines := range perKey {
		all := make([][]string, 0, len(lines)+len(s.inline))
		s.byKey[key] = append(append(all, lines...), s.inline...)
	}
	var err error
	if s.pool, err = newEvaluatorPool(newEnf); err != nil {
		return enforcerSet{}, err
	}
	return s, nil
}

// linesFor returns the lines casbin is given first for a request about
// key: those keyed by key, then the inlined shared lines.
func (s *enforcerSet) linesFor(key string) [][]string {
	if lines, ok := s.byKey[key]; ok {
		return lines
	}
	return s.inline
}

// enforce asks casbin about key's lines, then about the shared lines when
// they are not inlined. Errors (which a fixed model and validated policy
// should never produce) deny.
func (s *enforcerSet) enforce(key string, rvals ...any) bool {
	if lines := s.linesFor(key); len(lines) > 0 && s.pool.enforce(lines, rvals) {
		return true
	}
	return len(s.wild) > 0 && s.pool.enforce(s.wild, rvals)
}

// evaluator is a casbin enforcer lent to one decision at a time, and the
// assertion holding its policy lines.
type evaluator struct {
	e *casbin.Enforcer
	p *model.Assertion
}

// evaluatorPool lends enforcers built by one factory. It never blocks:
// when every pooled enforcer is in use a new one is built, and one given
// back to a full pool is dropped.
type evaluatorPool struct {
	free   chan *evaluator
	newEnf enforcerFactory
}

func newEvaluatorPool(newEnf enforcerFactory) (evaluatorPool, error) {
	procs := runtime.GOMAXPROCS(0)
	p := evaluatorPool{free: make(chan *evaluator, max(4*procs, 8)), newEnf: newEnf}
	for range procs {
		ev, err := p.build()
		if err != nil {
			return evaluatorPool{}, err
		}
		p.free <- ev
	}
	return p, nil
}

func (p *evaluatorPool) build() (*evaluator, error) {
	e, err := p.newEnf()
	if err != nil {
		return nil, err
	}
	a, ok := e.GetModel()["p"]["p"]
	if !ok {
		return nil, fmt.Errorf("policy: casbin model has no policy definition p")
	}
	return &evaluator{e: e, p: a}, nil
}

// enforce has casbin evaluate rvals against lines, which it must not
// change. Errors deny.
func (p *evaluatorPool) enforce(lines [][]string, rvals []any) bool {
	var ev *evaluator
	select {
	case ev = <-p.free:
	default:
		var err error
		if ev, err = p.build(); err != nil {
			return false
		}
	}
	ev.p.Policy = lines
	ok, err := ev.e.Enforce(rvals...)
	ev.p.Policy = nil
	select {
	case p.free <- ev:
	default:
	}
	return err == nil && ok
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
