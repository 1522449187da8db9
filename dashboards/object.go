package dashboards

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// The saved-object types tenantgate stores, with OpenSearch Dashboards'
// names.
const (
	TypeIndexPattern  = "index-pattern"
	TypeVisualization = "visualization"
	TypeDashboard     = "dashboard"
	TypeSearch        = "search"
	TypeConfig        = "config"
	TypeURL           = "url"
)

// Types lists the supported types.
var Types = []string{TypeIndexPattern, TypeVisualization, TypeDashboard, TypeSearch, TypeConfig, TypeURL}

// Supported reports whether typ is a supported saved-object type.
func Supported(typ string) bool { return slices.Contains(Types, typ) }

// icons are the management icons OpenSearch Dashboards reports in import
// results.
var icons = map[string]string{
	TypeIndexPattern: "indexPatternApp", TypeVisualization: "visualizeApp", TypeDashboard: "dashboardApp",
	TypeSearch: "discoverApp", TypeConfig: "advancedSettingsApp", TypeURL: "link",
}

// Reference is one entry of an object's "references": the object it
// points to (Type, ID) under a Name its attributes use.
type Reference struct {
	Name string `json:"name"`
	Type string `json:"type"`
	ID   string `json:"id"`
}

// ObjectRef names one saved object.
type ObjectRef struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

func (r ObjectRef) key() string { return r.Type + ":" + r.ID }

// Object is a saved object as the API shows it.
type Object struct {
	Type             string
	ID               string
	Attributes       json.RawMessage
	References       []Reference
	MigrationVersion json.RawMessage
	// UpdatedAt is RFC 3339 with milliseconds, in UTC.
	UpdatedAt string
	// Version is the optimistic-concurrency token (see EncodeVersion).
	Version string
	// OriginID is the id of the object this one was copied from with new
	// ids (import or copy with createNewCopies).
	OriginID string
	// Score is the search score (find only).
	Score *float64
	// MissingReferences lists references to objects that do not exist in
	// the tenant (create and update only; see Client.Create).
	MissingReferences []ObjectRef
	// Error is set instead of everything but Type and ID when one item of
	// a bulk call failed.
	Error *ItemError
}

// MarshalJSON writes OpenSearch Dashboards' shape.
func (o Object) MarshalJSON() ([]byte, error) {
	if o.Error != nil {
		return json.Marshal(struct {
			ID    string     `json:"id"`
			Type  string     `json:"type"`
			Error *ItemError `json:"error"`
		}{o.ID, o.Type, o.Error})
	}
	refs := o.References
	if refs == nil {
		refs = []Reference{}
	}
	attrs := o.Attributes
	if len(attrs) == 0 {
		attrs = json.RawMessage("{}")
	}
	return json.Marshal(struct {
		Type              string          `json:"type"`
		ID                string          `json:"id"`
		Attributes        json.RawMessage `json:"attributes"`
		References        []Reference     `json:"references"`
		MigrationVersion  json.RawMessage `json:"migrationVersion,omitempty"`
		UpdatedAt         string          `json:"updated_at,omitempty"`
		Version           string          `json:"version,omitempty"`
		OriginID          string          `json:"originId,omitempty"`
		Score             *float64        `json:"score,omitempty"`
		MissingReferences []ObjectRef     `json:"missingReferences,omitempty"`
	}{o.Type, o.ID, attrs, refs, o.MigrationVersion, o.UpdatedAt, o.Version, o.OriginID, o.Score, o.MissingReferences})
}

// ref returns the object's type and id.
func (o *Object) ref() ObjectRef { return ObjectRef{o.Type, o.ID} }

// title returns the "title" attribute, or "".
func (o *Object) title() string {
	var a struct {
		Title any `json:"title"`
	}
	_ = json.Unmarshal(o.Attributes, &a)
	s, _ := a.Title.(string)
	return s
}

// EncodeVersion returns OpenSearch Dashboards' version of a document:
// base64 of the JSON array [seq_no, primary_term] ("WzEsMV0=" for 1, 1).
func EncodeVersion(seqNo, primaryTerm int64) string {
	return base64.StdEncoding.EncodeToString([]byte("[" + strconv.FormatInt(seqNo, 10) + "," + strconv.FormatInt(primaryTerm, 10) + "]"))
}

// DecodeVersion parses a version made by EncodeVersion. Anything else is
// ErrInvalid with OpenSearch Dashboards' message.
func DecodeVersion(v string) (seqNo, primaryTerm int64, err error) {
	bad := invalidf("Invalid version [%s]", v)
	raw, derr := base64.StdEncoding.DecodeString(v)
	if derr != nil {
		return 0, 0, bad
	}
	var pair []json.Number
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if dec.Decode(&pair) != nil || len(pair) != 2 {
		return 0, 0, bad
	}
	seqNo, err1 := pair[0].Int64()
	primaryTerm, err2 := pair[1].Int64()
	if err1 != nil || err2 != nil || seqNo < 0 || primaryTerm < 1 {
		return 0, 0, bad
	}
	return seqNo, primaryTerm, nil
}

// docID is the document id of a saved object in .kibana.
func docID(typ, id string) string { return typ + ":" + id }

// encodeDoc returns the stored document: OpenSearch Dashboards' raw
// format, where the attributes sit under the type's name.
func encodeDoc(o *Object) (json.RawMessage, error) {
	refs := o.References
	if refs == nil {
		refs = []Reference{}
	}
	m := map[string]any{"type": o.Type, o.Type: o.Attributes, "references": refs, "updated_at": o.UpdatedAt}
	if len(o.MigrationVersion) > 0 && string(o.MigrationVersion) != "null" {
		m["migrationVersion"] = o.MigrationVersion
	}
	if o.OriginID != "" {
		m["originId"] = o.OriginID
	}
	return json.Marshal(m)
}

// decodeDoc turns a stored document back into an Object.
func decodeDoc(docID string, src json.RawMessage, seqNo int64) (*Object, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(src, &m); err != nil {
		return nil, fmt.Errorf("decoding saved object %q: %w", docID, err)
	}
	o := &Object{Version: EncodeVersion(seqNo, 1), MigrationVersion: m["migrationVersion"]}
	if err := json.Unmarshal(m["type"], &o.Type); err != nil || o.Type == "" {
		return nil, fmt.Errorf("saved object %q has no type", docID)
	}
	o.ID = strings.TrimPrefix(docID, o.Type+":")
	o.Attributes = m[o.Type]
	if raw, ok := m["references"]; ok {
		if err := json.Unmarshal(raw, &o.References); err != nil {
			return nil, fmt.Errorf("decoding references of %q: %w", docID, err)
		}
	}
	_ = json.Unmarshal(m["updated_at"], &o.UpdatedAt)
	_ = json.Unmarshal(m["originId"], &o.OriginID)
	return o, nil
}

// validate checks an object before it is stored: a supported type, an
// attributes object, and, per type, that every name its attributes use
// for a reference (a dashboard panel's panelRefName, a visualization's
// savedSearchRefName, a search source's indexRefName) is in references.
func validate(o *Object) error {
	if !Supported(o.Type) {
		return unsupportedType(o.Type)
	}
	if o.ID == "" {
		return invalidf("[%s] saved object id must not be empty", o.Type)
	}
	if o.ID == "." || o.ID == ".." || strings.ContainsFunc(o.ID, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return invalidf("[%s] saved object id [%s] is not allowed: not . or .., no control characters", o.Type, o.ID)
	}
	var attrs map[string]json.RawMessage
	if err := json.Unmarshal(o.Attributes, &attrs); err != nil || attrs == nil {
		return invalidf("[request body.attributes]: expected a plain object value for [%s/%s]", o.Type, o.ID)
	}
	names := map[string]bool{}
	for i, r := range o.References {
		if r.Name == "" || r.Type == "" || r.ID == "" {
			return invalidf("[%s/%s] reference %d needs name, type and id", o.Type, o.ID, i)
		}
		names[r.Name] = true
	}
	need := func(what, name string) error {
		if !names[name] {
			return invalidf("[%s/%s] %s names reference [%s], which is not in references", o.Type, o.ID, what, name)
		}
		return nil
	}
	str := func(key string) (string, bool, error) {
		raw, ok := attrs[key]
		if !ok || string(raw) == "null" {
			return "", false, nil
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", false, invalidf("[%s/%s] attribute [%s] must be a string", o.Type, o.ID, key)
		}
		return s, true, nil
	}
	// Titles and descriptions are text everywhere they are shown.
	for _, key := range []string{"title", "description"} {
		if _, _, err := str(key); err != nil {
			return err
		}
	}
	if o.Type == TypeIndexPattern {
		if t, _, err := str("title"); err != nil {
			return err
		} else if t == "" {
			return invalidf("[index-pattern/%s] attribute [title] (the index pattern) is required", o.ID)
		}
	}
	if o.Type == TypeURL {
		u, _, err := str("url")
		if err != nil {
			return err
		}
		if err := CheckShortURLTarget(u); err != nil {
			return err
		}
	}
	if o.Type == TypeVisualization || o.Type == TypeSearch || o.Type == TypeDashboard {
		if name, ok, err := str("savedSearchRefName"); err != nil {
			return err
		} else if ok {
			if err := need("savedSearchRefName", name); err != nil {
				return err
			}
		}
		var meta struct {
			SearchSourceJSON *string `json:"searchSourceJSON"`
		}
		if raw, ok := attrs["kibanaSavedObjectMeta"]; ok {
			if err := json.Unmarshal(raw, &meta); err != nil {
				return invalidf("[%s/%s] kibanaSavedObjectMeta.searchSourceJSON must be a string", o.Type, o.ID)
			}
		}
		if meta.SearchSourceJSON != nil && strings.TrimSpace(*meta.SearchSourceJSON) != "" {
			var ss struct {
				IndexRefName string `json:"indexRefName"`
			}
			if err := json.Unmarshal([]byte(*meta.SearchSourceJSON), &ss); err != nil {
				return invalidf("[%s/%s] kibanaSavedObjectMeta.searchSourceJSON is not a JSON object", o.Type, o.ID)
			}
			if ss.IndexRefName != "" {
				if err := need("searchSourceJSON.indexRefName", ss.IndexRefName); err != nil {
					return err
				}
			}
		}
	}
	if o.Type == TypeVisualization {
		if vs, ok, err := str("visState"); err != nil {
			return err
		} else if ok && !json.Valid([]byte(vs)) {
			return invalidf("[visualization/%s] attribute [visState] is not valid JSON", o.ID)
		}
	}
	if o.Type == TypeDashboard {
		return validatePanels(o, names)
	}
	return nil
}

// validatePanels checks that every panel of a dashboard resolves: a
// panelRefName found in references (the format since 7.0), or a legacy
// panel with its own type and id.
func validatePanels(o *Object, names map[string]bool) error {
	var attrs struct {
		PanelsJSON *string `json:"panelsJSON"`
	}
	if err := json.Unmarshal(o.Attributes, &attrs); err != nil {
		return invalidf("[dashboard/%s] attribute [panelsJSON] must be a string", o.ID)
	}
	if attrs.PanelsJSON == nil || strings.TrimSpace(*attrs.PanelsJSON) == "" {
		return nil
	}
	var panels []struct {
		PanelRefName string `json:"panelRefName"`
		Type         string `json:"type"`
		ID           string `json:"id"`
	}
	if err := json.Unmarshal([]byte(*attrs.PanelsJSON), &panels); err != nil {
		return invalidf("[dashboard/%s] attribute [panelsJSON] is not a JSON array of panels", o.ID)
	}
	for i, p := range panels {
		switch {
		case p.PanelRefName != "":
			if !names[p.PanelRefName] {
				return invalidf("[dashboard/%s] panel %d names reference [%s], which is not in references", o.ID, i, p.PanelRefName)
			}
		case p.Type == "" || p.ID == "":
			return invalidf("[dashboard/%s] panel %d has neither a panelRefName nor a type and id", o.ID, i)
		}
	}
	return nil
}
