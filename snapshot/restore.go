package snapshot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/tenantgate/tenantgate/control"
	"github.com/tenantgate/tenantgate/index"
	"github.com/tenantgate/tenantgate/secrets"
	"github.com/tenantgate/tenantgate/tenants"
)

// plan is one index a restore writes: where it comes from in the
// snapshot and the catalog entry it becomes.
type plan struct {
	src   IndexEntry
	dst   index.Entry
	stage string
	// replaces is set when dst is registered already (an overwrite).
	replaces  bool
	installed bool
	// release ends the reservation of dst's name (index.Service.ReserveRestore).
	release func()
}

// Restore restores the snapshot at path into dst. In order, so that a
// refusal or a failure leaves live data as it was:
//
//  1. the manifest is read and checked (format version, checksum);
//  2. the indices to restore are chosen (opts.Tenant, opts.Pattern) and
//     their names computed (for a clone, the new tenant's physical
//     names); an existing index is refused unless opts.Overwrite, a
//     clone into an existing tenant is refused, and a clone of secrets
//     without a secrets key is ErrNoKey;
//  3. every file is copied onto dst's file system into staging
//     directories invisible to readers, its size and SHA-256 checked;
//  4. each index is swapped in atomically (readers see the old index or
//     the new one), a clone's namespace secrets are re-sealed for the new
//     tenant, and each index is checked against the manifest (document
//     count, canary query);
//  5. the control-plane records are written (a clone's tenant is created
//     through the admin service, with the new tenant's Admin role for
//     opts.AdminUsername; roles that named the source tenant are not
//     copied) and the catalog entries registered, which makes the
//     indices visible.
//
// A failure in 3 or 4 removes what was staged and installed, except
// indices an Overwrite already replaced.
func Restore(ctx context.Context, path string, dst Target, opts RestoreOptions) (res *Result, err error) {
	start := time.Now()
	m, err := ReadManifest(path)
	if err != nil {
		return nil, err
	}
	svc := dst.IndexService()
	plans, from, err := planRestore(m, svc, dst, opts)
	if err != nil {
		return nil, err
	}
	res = &Result{Path: path, Manifest: m, Tenant: opts.As}
	p := Progress{Phase: "stage", IndicesTotal: len(plans)}
	for _, pl := range plans {
		p.BytesTotal += pl.src.Size
	}
	report := func() {
		if opts.Progress != nil {
			opts.Progress(p)
		}
	}
	if err := checkFreeSpace(ctx, dst, p.BytesTotal); err != nil {
		return nil, err
	}
	defer func() {
		defer func() {
			for _, pl := range plans {
				if pl.release != nil {
					pl.release()
				}
			}
		}()
		if err == nil {
			return
		}
		for _, pl := range plans {
			if pl.stage != "" {
				_ = os.RemoveAll(pl.stage)
			}
			if pl.installed && !pl.replaces {
				if derr := svc.Backend().DeleteIndex(context.WithoutCancel(ctx), pl.dst.Physical); derr != nil && !errors.Is(derr, index.ErrNotFound) {
					err = errors.Join(err, fmt.Errorf("removing the restored index %s: %w", pl.dst.Physical, derr))
				}
			}
		}
	}()

	bySource := map[string]*plan{}
	sel := map[string]bool{}
	for _, pl := range plans {
		bySource[pl.src.Physical] = pl
		sel[pl.src.Physical] = true
	}
	err = extract(ctx, path, m, sel, func(physical string) (string, error) {
		d, err := dst.StagingDir(ctx)
		if err != nil {
			return "", err
		}
		bySource[physical].stage = d
		return d, nil
	}, pacedWrap(ctx, newLimiter(opts.MaxBytesPerSec), opts.Wrap), func(physical string, n int64) {
		p.Index = physical
		p.BytesDone += n
		report()
	})
	if err != nil {
		return nil, err
	}

	p.Phase = "install"
	for _, pl := range plans {
		p.Index = pl.dst.Physical
		report()
		// An index registered since the plan is refused; a back-end index
		// nobody registered is the leftover of a failed restore or
		// create: replacing it loses nothing.
		// The name stays reserved until the restore has registered it or
		// removed what it installed.
		if pl.release, err = svc.ReserveRestore(pl.dst, pl.replaces); err != nil {
			return nil, err
		}
		if err := dst.Install(ctx, pl.dst.Physical, pl.stage, true); err != nil {
			return nil, err
		}
		pl.stage, pl.installed = "", true
		if opts.As != "" && pl.src.Secrets > 0 {
			if err := reseal(ctx, svc.Backend(), pl.dst.Physical, pl.src.Owner, pl.dst.Owner, dst.SecretsKey()); err != nil {
				return nil, err
			}
		}
		p.IndicesDone++
		report()
	}

	p.Phase = "verify"
	for _, pl := range plans {
		p.Index = pl.dst.Physical
		report()
		if err := checkIndex(ctx, svc.Backend(), pl.dst.Physical, pl.src); err != nil {
			return nil, err
		}
		res.Indices = append(res.Indices, IndexResult{Physical: pl.dst.Physical, Source: pl.src.Physical, Owner: pl.dst.Owner,
			Logical: pl.dst.Logical, DocCount: pl.src.DocCount, Size: pl.src.Size, Verified: true})
		res.Bytes += pl.src.Size
	}

	switch {
	case opts.As != "":
		admin := opts.AdminUsername
		if admin == "" {
			admin = opts.Actor.Name
		}
		if err := dst.CreateTenant(ctx, opts.Actor, from, opts.As, admin); err != nil {
			return nil, fmt.Errorf("creating tenant [%s]: %w", opts.As, err)
		}
	case m.Control != nil && (opts.Tenant == "" || opts.Tenant == m.Control.Tenant.ID) && opts.Pattern == "":
		// Roles and mappings may be instance-level ones that name the
		// tenant, and grant more than a tenant's admin may grant: only a
		// superadmin's restore writes them back; a tenant admin's
		// restore brings back the indices and leaves them as they are.
		if !opts.Actor.Superadmin {
			break
		}
		if err := dst.RestoreControl(ctx, m.Control, opts.Overwrite); err != nil {
			return nil, err
		}
		res.ControlRestored = true
	}
	for _, pl := range plans {
		if pl.replaces {
			continue
		}
		if err := svc.Catalog().Register(pl.dst); err != nil {
			return nil, fmt.Errorf("registering the restored index %s: %w", pl.dst.Physical, err)
		}
	}
	res.Verified = true
	res.Duration = time.Since(start)
	p.Phase, p.Index = "done", ""
	report()
	return res, nil
}

// planRestore chooses the indices to restore and their names, and makes
// every refusal before anything is written. For a clone it returns the
// source tenant's record.
func planRestore(m *Manifest, svc *index.Service, dst Target, opts RestoreOptions) ([]*plan, control.Tenant, error) {
	var from control.Tenant
	sel, err := selectManifest(m, opts.Pattern, opts.Tenant)
	if err != nil {
		return nil, from, err
	}
	newOwner := ""
	if opts.As != "" {
		if err := tenants.ValidateID(opts.As); err != nil {
			return nil, from, fmt.Errorf("%v: %w", err, ErrInvalid)
		}
		src := ""
		for _, ie := range sel {
			id := tenantOf(ie.Owner)
			if id == "" || src != "" && id != src {
				return nil, from, fmt.Errorf("a clone takes the indices of one custom tenant, and the snapshot's selection holds indices of %s and %s; select one with the tenant option: %w",
					cmpOr(src, ie.Owner), ie.Owner, ErrInvalid)
			}
			src = id
		}
		if m.Control != nil && (src == "" || m.Control.Tenant.ID == src) {
			from = m.Control.Tenant
		} else if src != "" {
			from = control.Tenant{ID: src, Name: src}
		} else {
			return nil, from, fmt.Errorf("the snapshot holds no tenant to clone: %w", ErrNotFound)
		}
		if from.ID == opts.As {
			return nil, from, fmt.Errorf("a clone needs a new tenant id, not the source's [%s]: %w", opts.As, ErrInvalid)
		}
		newOwner = tenants.CustomRef(opts.As).Owner()
		if len(svc.Catalog().List(newOwner)) > 0 {
			return nil, from, fmt.Errorf("tenant [%s] already holds indices: %w", opts.As, ErrExists)
		}
	}
	var plans []*plan
	var refused []error
	for _, ie := range sel {
		e := index.Entry{Physical: ie.Physical, Owner: ie.Owner, Logical: ie.Logical, Created: ie.Created}
		if newOwner != "" {
			e.Owner, e.Physical = newOwner, tenants.CustomRef(opts.As).Physical(ie.Logical)
			if len(e.Physical) > index.MaxNameBytes {
				return nil, from, fmt.Errorf("index [%s] would be named [%s] in tenant [%s], longer than %d bytes: %w", ie.Logical, e.Physical, opts.As, index.MaxNameBytes, ErrInvalid)
			}
			if ie.Secrets > 0 && dst.SecretsKey().IsZero() {
				return nil, from, fmt.Errorf("the snapshot holds %d namespace secrets of tenant [%s], which a clone must re-seal for tenant [%s], "+
					"and no secrets.encryption_key is configured: %w", ie.Secrets, from.ID, opts.As, ErrNoKey)
			}
		}
		if err := svc.CheckRestore(e, opts.Overwrite && newOwner == ""); err != nil {
			refused = append(refused, err)
			continue
		}
		_, registered := svc.Catalog().Entry(e.Physical)
		plans = append(plans, &plan{src: ie, dst: e, replaces: registered})
	}
	if len(refused) > 0 {
		err := errors.Join(refused...)
		kind := ErrExists
		if !errors.Is(err, index.ErrExists) {
			kind = ErrInvalid
		}
		return nil, from, fmt.Errorf("nothing restored: %w: %w", err, kind)
	}
	return plans, from, nil
}

// reseal re-seals every namespace secret of the .namespaces index
// physical, bound to tenant owner from, for tenant owner to (the AAD
// binds each ciphertext to its tenant, namespace and key).
func reseal(ctx context.Context, b index.Backend, physical, from, to string, key secrets.Key) error {
	if key.IsZero() {
		return fmt.Errorf("re-sealing the namespace secrets for %s: %w", strings.TrimPrefix(to, "custom:"), ErrNoKey)
	}
	for from0 := 0; ; from0 += 500 {
		res, err := b.Search(ctx, []string{physical}, &index.SearchRequest{Query: json.RawMessage(secretQuery), From: from0, Size: 500,
			Sort: json.RawMessage(`[{"namespace":"asc"},{"key":"asc"}]`), TrackTotalHits: json.RawMessage("true")})
		if err != nil {
			return fmt.Errorf("re-sealing the namespace secrets: %w", err)
		}
		var ops []index.Op
		for _, h := range res.Hits {
			var doc map[string]json.RawMessage
			var f struct {
				Namespace string `json:"namespace"`
				Key       string `json:"key"`
				Sealed    []byte `json:"sealed"`
			}
			if err := json.Unmarshal(h.Source, &doc); err != nil {
				return fmt.Errorf("re-sealing secret %s: %w", h.ID, err)
			}
			if err := json.Unmarshal(h.Source, &f); err != nil {
				return fmt.Errorf("re-sealing secret %s: %w", h.ID, err)
			}
			plain, err := key.Open(f.Sealed, secrets.AAD(from, f.Namespace, f.Key))
			if err != nil {
				return fmt.Errorf("re-sealing secret %s of namespace %s: the configured key does not open it: %w", f.Key, f.Namespace, err)
			}
			sealed, err := key.Seal(plain, secrets.AAD(to, f.Namespace, f.Key))
			clear(plain)
			if err != nil {
				return fmt.Errorf("re-sealing secret %s of namespace %s: %w", f.Key, f.Namespace, err)
			}
			if doc["sealed"], err = json.Marshal(sealed); err != nil {
				return err
			}
			raw, err := json.Marshal(doc)
			if err != nil {
				return err
			}
			ops = append(ops, index.Op{Type: index.OpIndex, ID: h.ID, Source: raw})
		}
		if len(ops) > 0 {
			out, err := b.Apply(ctx, physical, ops)
			if err != nil {
				return fmt.Errorf("re-sealing the namespace secrets: %w", err)
			}
			for _, r := range out {
				if r.Err != nil {
					return fmt.Errorf("re-sealing secret %s: %w", r.ID, r.Err)
				}
			}
		}
		if len(res.Hits) < 500 {
			return nil
		}
	}
}
