package snapshot

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/tenantgate/tenantgate/control"
	"github.com/tenantgate/tenantgate/tenants"
)

// FormatVersion is the version of the snapshot format this package writes
// and reads.
const FormatVersion = 1

// ManifestName is the name of the manifest file inside a snapshot.
const ManifestName = "manifest.json"

// Manifest describes one snapshot. It is written last, and its Checksum
// covers the rest of it.
type Manifest struct {
	FormatVersion int       `json:"format_version"`
	ToolVersion   string    `json:"tool_version"`
	Name          string    `json:"name"`
	Created       time.Time `json:"created"`
	// InstanceID is the persistent id of the data directory the snapshot
	// was taken from (control.Store.InstanceID).
	InstanceID string    `json:"instance_id"`
	Selection  Selection `json:"selection"`
	// Indices are sorted by physical name.
	Indices []IndexEntry `json:"indices"`
	// Control holds the tenant's control-plane records; set only for
	// snapshots of one custom tenant.
	Control *Control `json:"control,omitempty"`
	// Checksum is "sha256:<hex>" of the manifest's JSON encoding with
	// Checksum empty.
	Checksum string `json:"checksum"`
}

// Selection is what a snapshot was asked to hold.
type Selection struct {
	// Pattern is the physical-name pattern (comma-separated, * as
	// wildcard); "" means every index.
	Pattern string `json:"pattern,omitempty"`
	// Tenant is the custom tenant id, or "global"; "" means every tenant.
	Tenant string `json:"tenant,omitempty"`
}

// IndexEntry is one index in a snapshot.
type IndexEntry struct {
	Physical string `json:"physical"`
	// Owner is tenants.Ref.Owner() of the owning tenant ("global",
	// "custom:<id>", "private:<user>").
	Owner string `json:"owner"`
	// Tenant is the custom tenant id ("" for the global and private
	// tenants).
	Tenant   string    `json:"tenant,omitempty"`
	Logical  string    `json:"logical"`
	Created  time.Time `json:"created"`
	DocCount uint64    `json:"doc_count"`
	// SampleID is the id of one document, found again by the canary
	// query after a restore ("" for an empty index).
	SampleID string `json:"sample_id,omitempty"`
	// Secrets counts the sealed namespace secrets in a .namespaces index.
	Secrets int `json:"secrets,omitempty"`
	// Size is the sum of the files' sizes.
	Size  int64       `json:"size"`
	Files []FileEntry `json:"files"`
}

// FileEntry is one file of an index, by its path relative to the index's
// directory (slash-separated).
type FileEntry struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Control is a tenant's control-plane records in a snapshot: the tenant
// and the roles and role mappings that name it. Namespaces, their
// variables, plugin defaults and secrets (only as ciphertext) live in the
// tenant's .namespaces index and travel with the indices.
type Control struct {
	Tenant   control.Tenant        `json:"tenant"`
	Roles    []control.Role        `json:"roles,omitempty"`
	Mappings []control.RoleMapping `json:"mappings,omitempty"`
}

// checksumKey is the last key of an encoded manifest.
const checksumKey = `"checksum": "`

// encodeManifest returns the manifest file: indented JSON whose
// "checksum" is the SHA-256 of the same bytes with an empty checksum.
func encodeManifest(m *Manifest) ([]byte, error) {
	c := *m
	c.Checksum = ""
	body, err := json.MarshalIndent(&c, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding the manifest: %w", err)
	}
	sum := sha256.Sum256(body)
	m.Checksum = "sha256:" + hex.EncodeToString(sum[:])
	i := bytes.LastIndex(body, []byte(checksumKey+`"`))
	if i < 0 {
		return nil, fmt.Errorf("encoding the manifest: no checksum field")
	}
	at := i + len(checksumKey)
	out := make([]byte, 0, len(body)+len(m.Checksum)+1)
	out = append(append(append(out, body[:at]...), m.Checksum...), body[at:]...)
	return append(out, '\n'), nil
}

// decodeManifest parses and checks a manifest file: a format version this
// package reads (ErrFormat), then the checksum over the bytes as written
// (ErrCorrupt), then the content.
func decodeManifest(raw []byte) (*Manifest, error) {
	var head struct {
		FormatVersion *int `json:"format_version"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return nil, fmt.Errorf("the manifest does not parse (%v): %w", err, ErrCorrupt)
	}
	switch {
	case head.FormatVersion == nil:
		return nil, fmt.Errorf("the manifest has no format_version: %w", ErrCorrupt)
	case *head.FormatVersion != FormatVersion:
		return nil, fmt.Errorf("snapshot format version %d, this tool reads version %d: %w", *head.FormatVersion, FormatVersion, ErrFormat)
	}
	i := bytes.LastIndex(raw, []byte(checksumKey))
	if i < 0 {
		return nil, fmt.Errorf("the manifest has no checksum: %w", ErrCorrupt)
	}
	at := i + len(checksumKey)
	end := bytes.IndexByte(raw[at:], '"')
	if end < 0 {
		return nil, fmt.Errorf("the manifest's checksum does not parse: %w", ErrCorrupt)
	}
	stored := string(raw[at : at+end])
	body := append(append([]byte{}, raw[:at]...), raw[at+end:]...)
	body = bytes.TrimSuffix(body, []byte("\n"))
	sum := sha256.Sum256(body)
	if want := "sha256:" + hex.EncodeToString(sum[:]); subtle.ConstantTimeCompare([]byte(want), []byte(stored)) != 1 {
		return nil, fmt.Errorf("the manifest's checksum does not match its content (tampered with or damaged): %w", ErrCorrupt)
	}
	var m Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("the manifest does not parse (%v): %w", err, ErrCorrupt)
	}
	for _, ie := range m.Indices {
		if err := safeRel(ie.Physical); err != nil || strings.Contains(ie.Physical, "/") {
			return nil, fmt.Errorf("the manifest names the index %q: %w", ie.Physical, ErrCorrupt)
		}
		for _, f := range ie.Files {
			if err := safeRel(f.Path); err != nil {
				return nil, fmt.Errorf("index %s: %w", ie.Physical, err)
			}
		}
		// The physical name follows from the owner and the logical name,
		// as the index service computes it: a manifest may not name
		// another tenant's index (or squat on its name) under an owner.
		ref, ok := refOfOwner(ie.Owner)
		if !ok || ie.Tenant != tenantOf(ie.Owner) || ie.Logical == "" || ref.Physical(ie.Logical) != ie.Physical {
			return nil, fmt.Errorf("the manifest's index %q does not belong to owner %q as logical index %q: %w", ie.Physical, ie.Owner, ie.Logical, ErrCorrupt)
		}
	}
	return &m, nil
}

// refOfOwner returns the tenant of an index owner (tenants.Ref.Owner).
func refOfOwner(owner string) (tenants.Ref, bool) {
	if owner == tenants.GlobalRef.Owner() {
		return tenants.GlobalRef, true
	}
	if user, ok := strings.CutPrefix(owner, "private:"); ok && user != "" {
		return tenants.PrivateRef(user), true
	}
	if id, ok := strings.CutPrefix(owner, "custom:"); ok && tenants.ValidateID(id) == nil {
		return tenants.CustomRef(id), true
	}
	return tenants.Ref{}, false
}
