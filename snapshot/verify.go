package snapshot

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/tenantgate/tenantgate/index"
	"github.com/tenantgate/tenantgate/index/bleve"
)

// Verify checks the snapshot at path: the manifest (format version,
// checksum), every file's size and SHA-256, then opens every index from a
// temporary copy (in opts.Out when set, else the system's temporary
// directory; removed afterwards) and runs the canary queries: the
// document count and a search for the sample document by its id must
// match the manifest. Pattern and Tenant of opts limit the indices
// checked. It returns the first problem found: ErrCorrupt for files that
// do not match, ErrVerify for an index that does not answer as recorded.
func Verify(ctx context.Context, path string, opts Options) (*Result, error) {
	start := time.Now()
	m, err := ReadManifest(path)
	if err != nil {
		return nil, err
	}
	sel, err := selectManifest(m, opts.Pattern, opts.Tenant)
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(opts.Out, "tenantgate-verify-*")
	if err != nil {
		return nil, fmt.Errorf("verifying %s: %w", path, err)
	}
	defer os.RemoveAll(tmp)
	res := &Result{Path: path, Manifest: m}
	p := Progress{Phase: "verify", IndicesTotal: len(sel)}
	names := map[string]bool{}
	for _, ie := range sel {
		names[ie.Physical] = true
		p.BytesTotal += ie.Size
	}
	report := func() {
		if opts.Progress != nil {
			opts.Progress(p)
		}
	}
	err = extract(ctx, path, m, names, func(physical string) (string, error) {
		d := filepath.Join(tmp, physical)
		return d, os.MkdirAll(d, 0o750)
	}, opts.Wrap, func(physical string, n int64) {
		p.Index = physical
		p.BytesDone += n
		report()
	})
	if err != nil {
		return nil, err
	}
	b, err := bleve.New(tmp, bleve.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, err
	}
	defer b.Close()
	for _, ie := range sel {
		p.Index = ie.Physical
		report()
		if err := checkIndex(ctx, b, ie.Physical, ie); err != nil {
			return nil, err
		}
		res.Indices = append(res.Indices, IndexResult{Physical: ie.Physical, Owner: ie.Owner, Logical: ie.Logical, DocCount: ie.DocCount, Size: ie.Size, Verified: true})
		res.Bytes += ie.Size
		p.IndicesDone++
		report()
	}
	res.Verified = true
	res.Duration = time.Since(start)
	return res, nil
}

// selectManifest returns the indices of m that pattern (physical names)
// and tenant select; a selection that matches nothing is ErrNotFound.
func selectManifest(m *Manifest, pattern, tenant string) ([]IndexEntry, error) {
	owner := ""
	if tenant != "" {
		var err error
		if owner, err = ownerOf(tenant); err != nil {
			return nil, err
		}
	}
	var out []IndexEntry
	for _, ie := range m.Indices {
		if (owner == "" || ie.Owner == owner) && matchAny(pattern, ie.Physical) {
			out = append(out, ie)
		}
	}
	if len(out) == 0 && (pattern != "" || tenant != "" && (m.Control == nil || m.Control.Tenant.ID != tenant)) {
		return nil, fmt.Errorf("the snapshot holds no index that matches: %w", ErrNotFound)
	}
	return out, nil
}

// checkIndex runs the canary queries of ie against the physical index
// physical of b: its document count, a match_all count, and a term query
// on the sample document's id.
func checkIndex(ctx context.Context, b index.Backend, physical string, ie IndexEntry) error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("index %s: "+format+": %w", append(append([]any{physical}, args...), ErrVerify)...)
	}
	st, err := b.Stats(ctx, physical)
	if err != nil {
		return fail("does not open (%v)", err)
	}
	if st.DocCount != ie.DocCount {
		return fail("holds %d documents, the manifest says %d", st.DocCount, ie.DocCount)
	}
	res, err := b.Search(ctx, []string{physical}, &index.SearchRequest{CountOnly: true})
	if err != nil {
		return fail("does not answer a match_all query (%v)", err)
	}
	if res.Total != int64(ie.DocCount) {
		return fail("a match_all query counts %d documents, the manifest says %d", res.Total, ie.DocCount)
	}
	if ie.SampleID == "" {
		return nil
	}
	q, _ := json.Marshal(map[string]any{"term": map[string]any{"_id": ie.SampleID}})
	res, err = b.Search(ctx, []string{physical}, &index.SearchRequest{Query: q, Size: 1})
	if err != nil {
		return fail("does not answer a term query on _id (%v)", err)
	}
	if len(res.Hits) != 1 || res.Hits[0].ID != ie.SampleID {
		return fail("a term query does not find document [%s]", ie.SampleID)
	}
	return nil
}
