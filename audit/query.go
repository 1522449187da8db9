package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"go.etcd.io/bbolt"
)

// Page sizes of Query.
const (
	// DefaultPageSize is the page size when Filter.Size is zero.
	DefaultPageSize = 25
	// MaxPageSize is the largest Filter.Size Query accepts.
	MaxPageSize = 1000
)

// Filter selects the records Query returns. Its zero value selects every
// record of every tenant, first page.
type Filter struct {
	// Tenant scopes the query: nil means every tenant and instance-level
	// records; a pointer to a tenant name means that tenant's records only
	// (read from the tenant index, so other tenants' records are never
	// read); a pointer to "" means instance-level records only.
	Tenant *string
	// Actor, Target and Outcome match exactly when set.
	Actor, Target, Outcome string
	// Action matches exactly when set, or as a prefix when it ends with
	// "*": "tenant.*" matches "tenant.create" and "tenant.lock", "*"
	// matches every action. A "*" anywhere else is an ordinary character.
	Action string
	// From and To bound the record time: From <= Time < To. A zero value
	// leaves that side open.
	From, To time.Time
	// Page is the 1-based page number (0 means 1).
	Page int
	// Size is the page size (0 means DefaultPageSize, at most
	// MaxPageSize).
	Size int
}

// Page is one page of a Query.
type Page struct {
	// Results are the page's records, newest first; never nil.
	Results []Record `json:"results"`
	// Total is how many records match the filter, on all pages.
	Total int `json:"total"`
}

// normalize applies the defaults of f and validates it.
func (f Filter) normalize() (Filter, error) {
	if f.Tenant != nil && strings.IndexByte(*f.Tenant, 0) >= 0 {
		return f, invalidf("tenant name contains a NUL byte")
	}
	switch f.Outcome {
	case "", OutcomeSuccess, OutcomeFailure, OutcomeDenied:
	default:
		return f, invalidf("outcome %q is not one of success, failure, denied", f.Outcome)
	}
	if f.Page < 0 {
		return f, invalidf("page must be 1 or more")
	}
	if f.Page == 0 {
		f.Page = 1
	}
	if f.Size < 0 || f.Size > MaxPageSize {
		return f, invalidf("size must be between 1 and %d", MaxPageSize)
	}
	if f.Size == 0 {
		f.Size = DefaultPageSize
	}
	if f.Page-1 > math.MaxInt/f.Size {
		return f, invalidf("page %d is too large", f.Page)
	}
	if !f.From.IsZero() && !f.To.IsZero() && f.From.After(f.To) {
		return f, invalidf("from is after to")
	}
	return f, nil
}

// filterFields are the fields a Filter matches, decoded without the rest
// of a record.
type filterFields struct {
	Actor   string `json:"actor"`
	Action  string `json:"action"`
	Target  string `json:"target"`
	Outcome string `json:"outcome"`
}

// matcher returns the test of f's field filters, nil when it has none.
func (f Filter) matcher() func(*filterFields) bool {
	if f.Actor == "" && f.Action == "" && f.Target == "" && f.Outcome == "" {
		return nil
	}
	action, prefix := f.Action, false
	if strings.HasSuffix(action, "*") {
		action, prefix = strings.TrimSuffix(action, "*"), true
	}
	return func(r *filterFields) bool {
		switch {
		case f.Actor != "" && r.Actor != f.Actor,
			f.Target != "" && r.Target != f.Target,
			f.Outcome != "" && r.Outcome != f.Outcome:
			return false
		case prefix:
			return strings.HasPrefix(r.Action, action)
		case action != "":
			return r.Action == action
		}
		return true
	}
}

// Query returns the page of records that f selects, newest first, and
// how many records match in all. It returns an error wrapping ErrInvalid
// when f is malformed.
func (t *Trail) Query(f Filter) (Page, error) {
	f, err := f.normalize()
	if err != nil {
		return Page{}, err
	}
	match := f.matcher()
	skip := (f.Page - 1) * f.Size
	page := Page{Results: []Record{}}
	err = t.db.View(func(tx *bbolt.Tx) error {
		records := tx.Bucket(recordsBucket)
		if records == nil {
			return nil
		}
		c := records.Cursor()
		var prefix []byte
		if f.Tenant != nil {
			index := tx.Bucket(tenantsBucket)
			if index == nil {
				return nil
			}
			c, prefix = index.Cursor(), tenantPrefix(*f.Tenant)
		}
		return scan(c, prefix, f.From, f.To, func(key, val []byte) error {
			if f.Tenant != nil {
				if val = records.Get(key); val == nil {
					return fmt.Errorf("audit index names record %x, which is missing", key)
				}
			}
			if match != nil {
				var ff filterFields
				if err := json.Unmarshal(val, &ff); err != nil {
					return fmt.Errorf("decoding audit record %x: %w", key, err)
				}
				if !match(&ff) {
					return nil
				}
			}
			page.Total++
			if page.Total <= skip || len(page.Results) >= f.Size {
				return nil
			}
			var r Record
			if err := json.Unmarshal(val, &r); err != nil {
				return fmt.Errorf("decoding audit record %x: %w", key, err)
			}
			page.Results = append(page.Results, r)
			return nil
		})
	})
	if err != nil {
		return Page{}, fmt.Errorf("querying the audit trail: %w", err)
	}
	return page, nil
}

// scan calls fn, newest first, for every key of c that starts with prefix
// and whose record key (the rest of the key) has a time in [from, to),
// with the record key and the value. It is the one place where a query is
// confined to a tenant: with a tenant prefix it reads only that tenant's
// part of the index.
func scan(c *bbolt.Cursor, prefix []byte, from, to time.Time, fn func(key, val []byte) error) error {
	lo := append(slices.Clone(prefix), timeKey(from)...)
	var hi []byte
	switch {
	case !to.IsZero():
		hi = append(slices.Clone(prefix), timeKey(to)...)
	case len(prefix) > 0:
		// Just past the prefix: it ends in the 0x00 separator.
		hi = slices.Clone(prefix)
		hi[len(hi)-1] = 1
	}
	var k, v []byte
	if hi == nil {
		k, v = c.Last()
	} else if k, _ = c.Seek(hi); k == nil {
		k, v = c.Last()
	} else {
		k, v = c.Prev()
	}
	for ; k != nil && bytes.HasPrefix(k, prefix) && bytes.Compare(k, lo) >= 0; k, v = c.Prev() {
		if len(k) != len(prefix)+keyLen {
			continue
		}
		if err := fn(k[len(prefix):], v); err != nil {
			return err
		}
	}
	return nil
}

// purgeChunk is how many records one transaction of Purge deletes, so
// that a large purge does not hold the write lock for long (a variable
// so tests can make it small).
var purgeChunk = 10000

// Purge deletes every record older than before (Time < before) and
// returns how many it deleted. It is the only way records leave the
// trail, meant for a retention policy run by the operator; deleting or
// purging a tenant never calls it, so a tenant's records outlive it. It
// works in transactions of purgeChunk records: if it fails midway, the
// records deleted so far stay deleted.
func (t *Trail) Purge(before time.Time) (int, error) {
	bound := timeKey(before)
	total := 0
	for {
		n, err := t.purgeSome(bound)
		total += n
		if err != nil {
			return total, fmt.Errorf("purging the audit trail: %w", err)
		}
		if n < purgeChunk {
			return total, nil
		}
	}
}

// purgeSome deletes up to purgeChunk of the oldest records whose key is
// below bound, with their index entries.
func (t *Trail) purgeSome(bound []byte) (int, error) {
	n := 0
	err := t.db.Update(func(tx *bbolt.Tx) error {
		records, index, err := buckets(tx)
		if err != nil {
			return err
		}
		type entry struct {
			key    []byte
			tenant string
		}
		var doomed []entry
		c := records.Cursor()
		for k, v := c.First(); k != nil && bytes.Compare(k, bound) < 0 && len(doomed) < purgeChunk; k, v = c.Next() {
			var r struct {
				Tenant string `json:"tenant"`
			}
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("decoding audit record %x: %w", k, err)
			}
			doomed = append(doomed, entry{slices.Clone(k), r.Tenant})
		}
		for _, e := range doomed {
			if err := index.Delete(indexKey(e.tenant, e.key)); err != nil {
				return err
			}
			if err := records.Delete(e.key); err != nil {
				return err
			}
		}
		n = len(doomed)
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}
