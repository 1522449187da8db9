package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/tenantgate/tenantgate/executions"
	"github.com/tenantgate/tenantgate/flows"
	"github.com/tenantgate/tenantgate/index"
	"github.com/tenantgate/tenantgate/namespaces"
	"github.com/tenantgate/tenantgate/secrets"
	"github.com/tenantgate/tenantgate/tenants"
)

// Options configure a Runner.
type Options struct {
	// Index holds every tenant's indices; the runner works in each
	// tenant's system view.
	Index *index.Service
	// Key decrypts namespace secrets (secrets.encryption_key); the zero
	// Key makes secret() fail.
	Key secrets.Key
	// Now is the clock (nil means time.Now).
	Now func() time.Time
	// Log receives what goes wrong outside a request (nil means
	// slog.Default()).
	Log *slog.Logger
	// Workers is how many executions run at once (2 when 0).
	Workers int
	// Live reports whether a tenant is live, so that Start resumes its
	// unfinished executions; a deleted tenant's, and the executions and
	// logs a purged tenant left behind, are left as they are. Nil
	// resumes every tenant's.
	Live func(tenants.Ref) bool
	// ClaimTimeout is how long an external worker may hold a task run
	// without reporting before another worker may claim it (10 minutes
	// when 0).
	ClaimTimeout time.Duration
}

// Runner creates, runs, kills and hands out executions. Start it once,
// Close it once; it is safe for concurrent use.
type Runner struct {
	o      Options
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	started bool
	closed  bool
	queue   []item
	queued  map[string]bool
	busy    map[string]bool
	watch   map[string]chan struct{}
	maskers map[string]*secrets.Masker
	kick    chan struct{}
}

// item is one execution to advance.
type item struct {
	ref tenants.Ref
	id  string
}

func (it item) key() string { return it.ref.Owner() + "\x00" + it.id }

// New returns a runner; nothing runs until Start.
func New(o Options) *Runner {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Workers <= 0 {
		o.Workers = 2
	}
	if o.ClaimTimeout <= 0 {
		o.ClaimTimeout = 10 * time.Minute
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Runner{o: o, ctx: ctx, cancel: cancel, queued: map[string]bool{}, busy: map[string]bool{},
		watch: map[string]chan struct{}{}, maskers: map[string]*secrets.Masker{}, kick: make(chan struct{}, 1)}
}

// stores are one tenant's stores, built over its system view.
type stores struct {
	ref   tenants.Ref
	flows *flows.Store
	ns    *namespaces.Store
	ex    *executions.Store
}

func (r *Runner) stores(ref tenants.Ref) stores {
	v := r.o.Index.SystemView(ref)
	return stores{ref: ref, flows: flows.NewStore(v, r.o.Now), ns: namespaces.NewStore(v, ref.Owner(), r.o.Key, r.o.Now),
		ex: executions.NewStore(v, r.o.Now)}
}

func (r *Runner) now() time.Time { return r.o.Now().UTC() }

// Start starts the pool and queues every execution of every tenant that
// has not finished (found through the index catalog: each tenant with an
// ".executions" index). Executions created before Start wait for it.
func (r *Runner) Start(ctx context.Context) error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return ErrClosed
	}
	if r.started {
		r.mu.Unlock()
		return errors.New("worker: already started")
	}
	r.started = true
	r.mu.Unlock()
	var errs []error
	for _, e := range r.o.Index.Catalog().All() {
		if e.Logical != executions.IndexName {
			continue
		}
		ref, ok := refOf(e.Owner)
		if !ok {
			r.o.Log.Warn("worker: skipping executions of an unknown owner", "owner", e.Owner)
			continue
		}
		if r.o.Live != nil && !r.o.Live(ref) {
			continue
		}
		active, err := r.stores(ref).ex.Active(ctx)
		if err != nil {
			errs = append(errs, fmt.Errorf("resuming executions of %s: %w", ref, err))
			continue
		}
		for _, x := range active {
			r.enqueue(ref, x.ID)
		}
		if len(active) > 0 {
			r.o.Log.Info("worker: resuming executions", "tenant", ref.String(), "count", len(active))
		}
	}
	for range r.o.Workers {
		r.wg.Add(1)
		go r.loop()
	}
	r.signal()
	return errors.Join(errs...)
}

// refOf reads back tenants.Ref.Owner().
func refOf(owner string) (tenants.Ref, bool) {
	if owner == "global" {
		return tenants.GlobalRef, true
	}
	if id, ok := strings.CutPrefix(owner, "private:"); ok && id != "" {
		return tenants.PrivateRef(id), true
	}
	if id, ok := strings.CutPrefix(owner, "custom:"); ok && id != "" {
		return tenants.CustomRef(id), true
	}
	return tenants.Ref{}, false
}

// Close stops the pool and waits for it. An execution in the middle of
// a task stays as stored and resumes at the next Start.
func (r *Runner) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	r.mu.Unlock()
	r.cancel()
	r.wg.Wait()
	return nil
}

func (r *Runner) signal() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// enqueue asks the pool to advance execution id (once, however often it
// is asked before a goroutine takes it).
func (r *Runner) enqueue(ref tenants.Ref, id string) {
	it := item{ref: ref, id: id}
	r.mu.Lock()
	if !r.queued[it.key()] {
		r.queued[it.key()] = true
		r.queue = append(r.queue, it)
	}
	r.mu.Unlock()
	r.signal()
}

// take removes the first queued execution no goroutine is advancing.
func (r *Runner) take() (item, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, it := range r.queue {
		k := it.key()
		if r.busy[k] {
			continue
		}
		r.queue = append(r.queue[:i:i], r.queue[i+1:]...)
		delete(r.queued, k)
		r.busy[k] = true
		if len(r.queue) > 0 {
			r.signal()
		}
		return it, true
	}
	return item{}, false
}

func (r *Runner) done(it item) {
	r.mu.Lock()
	delete(r.busy, it.key())
	more := len(r.queue) > 0
	r.mu.Unlock()
	if more {
		r.signal()
	}
}

func (r *Runner) loop() {
	defer r.wg.Done()
	for {
		it, ok := r.take()
		if !ok {
			select {
			case <-r.ctx.Done():
				return
			case <-r.kick:
			}
			continue
		}
		r.run(r.ctx, it)
		r.done(it)
		if r.ctx.Err() != nil {
			return
		}
	}
}

// notify wakes the Waits on the execution.
func (r *Runner) notify(it item) {
	r.mu.Lock()
	ch := r.watch[it.key()]
	delete(r.watch, it.key())
	r.mu.Unlock()
	if ch != nil {
		close(ch)
	}
}

func (r *Runner) watcher(it item) <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	ch := r.watch[it.key()]
	if ch == nil {
		ch = make(chan struct{})
		r.watch[it.key()] = ch
	}
	return ch
}

// masker returns the masker of an execution, loading the values of every
// secret its namespace sees the first time.
func (r *Runner) masker(ctx context.Context, st stores, ns, id string) *secrets.Masker {
	k := item{ref: st.ref, id: id}.key()
	r.mu.Lock()
	m := r.maskers[k]
	r.mu.Unlock()
	if m != nil {
		return m
	}
	m = secrets.NewMasker()
	if !r.o.Key.IsZero() {
		infos, err := st.ns.Secrets(ctx, ns)
		if err != nil {
			r.o.Log.Warn("worker: listing secrets to mask", "tenant", st.ref.String(), "namespace", ns, "err", err)
		}
		for _, s := range infos {
			v, err := st.ns.SecretValue(ctx, ns, s.Key)
			if err != nil {
				r.o.Log.Warn("worker: reading a secret to mask", "tenant", st.ref.String(), "namespace", ns, "key", s.Key, "err", err)
				continue
			}
			m.Add(v)
		}
	}
	r.mu.Lock()
	if cur := r.maskers[k]; cur != nil {
		m = cur
	} else {
		r.maskers[k] = m
	}
	r.mu.Unlock()
	return m
}

func (r *Runner) forget(it item) {
	r.mu.Lock()
	delete(r.maskers, it.key())
	r.mu.Unlock()
}

// Create starts an execution of the flow namespace/flowID of the tenant
// with inputs (checked and typed by Inputs) and labels (added to the
// flow's, a given key replacing the flow's). A missing or deleted flow
// wraps flows.ErrNotFound, a disabled one is ErrDisabled, bad inputs
// ErrInvalid. The execution is stored CREATED and queued; it returns as
// stored.
func (r *Runner) Create(ctx context.Context, ref tenants.Ref, namespace, flowID string, inputs map[string]any, labels []flows.Label) (*executions.Execution, error) {
	st := r.stores(ref)
	f, err := st.flows.Get(ctx, namespace, flowID, 0)
	if err != nil {
		return nil, err
	}
	if f.Disabled {
		return nil, fmt.Errorf("%w: flow %s.%s", ErrDisabled, namespace, flowID)
	}
	typed, err := Inputs(f.Inputs, inputs)
	if err != nil {
		return nil, err
	}
	e := executions.Execution{
		ID: executions.NewID(), Namespace: f.Namespace, FlowID: f.ID, FlowRevision: f.Revision,
		State: executions.NewStateInfo(executions.StateCreated, r.now()), Inputs: typed,
		Labels: mergeLabels(f.Labels, labels),
	}
	m := r.masker(ctx, st, e.Namespace, e.ID)
	if e.Inputs != nil {
		e.Inputs = maskMap(m, e.Inputs)
	}
	created, err := st.ex.Create(ctx, e)
	if err != nil {
		r.forget(item{ref: ref, id: e.ID})
		return nil, err
	}
	r.enqueue(ref, created.ID)
	return created, nil
}

func mergeLabels(flow, given []flows.Label) []flows.Label {
	var out []flows.Label
	override := map[string]bool{}
	for _, l := range given {
		override[l.Key] = true
	}
	for _, l := range flow {
		if !override[l.Key] {
			out = append(out, l)
		}
	}
	return append(out, given...)
}

// Wait returns the execution once it has finished, or when ctx is done
// (then the execution as it is and ctx's error).
func (r *Runner) Wait(ctx context.Context, ref tenants.Ref, id string) (*executions.Execution, error) {
	st := r.stores(ref)
	it := item{ref: ref, id: id}
	for {
		ch := r.watcher(it)
		e, err := st.ex.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		if e.State.Current.Terminal() {
			return e, nil
		}
		t := time.NewTimer(time.Second)
		select {
		case <-ch:
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return e, ctx.Err()
		}
		t.Stop()
	}
}

// Kill kills an execution that has not finished: it goes to KILLING,
// its task runs that had not finished to KILLED, then it goes to KILLED.
// A finished execution wraps executions.ErrTerminal; a missing one
// executions.ErrNotFound. It returns the execution as stored.
func (r *Runner) Kill(ctx context.Context, ref tenants.Ref, id string) (*executions.Execution, error) {
	st := r.stores(ref)
	it := item{ref: ref, id: id}
	defer r.notify(it)
	_, err := st.ex.Update(ctx, id, func(e *executions.Execution) error {
		if e.State.Current == executions.StateKilling {
			return nil
		}
		if e.State.Current.Terminal() {
			return fmt.Errorf("%w: execution %s is %s", executions.ErrTerminal, id, e.State.Current)
		}
		return e.State.To(executions.StateKilling, r.now())
	})
	if err != nil {
		return nil, err
	}
	e, err := r.finishKill(ctx, st, id)
	if err != nil {
		return nil, err
	}
	r.forget(it)
	return e, nil
}

// finishKill moves a KILLING execution and its unfinished task runs to
// KILLED.
func (r *Runner) finishKill(ctx context.Context, st stores, id string) (*executions.Execution, error) {
	return st.ex.Update(ctx, id, func(e *executions.Execution) error {
		if e.State.Current.Terminal() {
			return nil // killed meanwhile
		}
		now := r.now()
		for i := range e.TaskRunList {
			tr := &e.TaskRunList[i]
			if tr.State.Current.Terminal() {
				continue
			}
			if tr.State.Current != executions.StateKilling {
				if err := tr.State.To(executions.StateKilling, now); err != nil {
					return err
				}
			}
			if err := tr.State.To(executions.StateKilled, now); err != nil {
				return err
			}
		}
		return e.State.To(executions.StateKilled, now)
	})
}
