package flows

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Flow is one Kestra flow. Source is the YAML it was parsed from, byte
// for byte; the other fields are read from it. Revision is not read from
// the YAML (Kestra ignores it on input): the store sets it.
type Flow struct {
	ID          string
	Namespace   string
	Revision    int
	Description string
	Labels      []Label
	Inputs      []Input
	Variables   map[string]any
	Tasks       []Task
	// Errors, Finally and AfterExecution are the flow-level task lists
	// Kestra runs on failure, always, and after the execution ends.
	Errors         []Task
	Finally        []Task
	AfterExecution []Task
	Triggers       []Trigger
	PluginDefaults []PluginDefault
	Disabled       bool
	// Extra holds the other top-level keys Kestra knows (concurrency,
	// outputs, retry, sla, checks, workerGroup, listeners), decoded but
	// not interpreted yet.
	Extra  map[string]any
	Source []byte
}

// Label is one flow label. Kestra accepts labels as a map or as a list
// of {key, value}; both become this, in source order.
type Label struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Task is one task (or a task nested in a flowable task): its id, its
// plugin type and every property as written (id and type included).
type Task struct {
	ID         string
	Type       string
	Properties map[string]any
}

// Trigger is one trigger: its id, its plugin type and every property as
// written.
type Trigger struct {
	ID         string
	Type       string
	Properties map[string]any
}

// Input is one flow input: its id, its type (STRING, INT, ...) and every
// property as written.
type Input struct {
	ID         string
	Type       string
	Properties map[string]any
}

// PluginDefault is one entry of pluginDefaults: values applied to every
// task whose type is Type or starts with it; Forced ones win over the
// task's own values.
type PluginDefault struct {
	Type   string         `json:"type"`
	Values map[string]any `json:"values,omitempty"`
	Forced bool           `json:"forced,omitempty"`
}

// SameSource reports whether f and g were parsed from identical bytes:
// saving an identical source creates no new revision.
func (f Flow) SameSource(g Flow) bool { return bytes.Equal(f.Source, g.Source) }

// NamespaceCovers reports whether the namespace filter parent matches ns
// on the dot boundary: "company" covers "company" and "company.marketing"
// but not "companyx". An empty parent covers every namespace.
func NamespaceCovers(parent, ns string) bool {
	if parent == "" || parent == ns {
		return true
	}
	return strings.HasPrefix(ns, parent+".")
}

// topLevel lists the top-level keys of Kestra's flow model. The ones
// without a field of their own go to Flow.Extra; deprecated ones are
// reported in Result.DeprecationPaths.
var topLevel = map[string]bool{
	"id": true, "namespace": true, "revision": true, "description": true,
	"labels": true, "inputs": true, "variables": true, "tasks": true,
	"errors": true, "finally": true, "afterExecution": true,
	"triggers": true, "pluginDefaults": true, "taskDefaults": true,
	"disabled": true, "concurrency": true, "outputs": true, "retry": true,
	"sla": true, "checks": true, "workerGroup": true, "listeners": true,
	// tenantId and deleted are set by the server; Kestra ignores them
	// on input, so do we.
	"tenantId": true, "deleted": true,
}

var deprecated = map[string]bool{"taskDefaults": true, "listeners": true}

// Parse reads one flow from YAML and validates it. The error, when the
// flow is invalid, is a *ValidationError wrapping ErrInvalid and listing
// every violation with its path. A stream of several documents is
// refused: use ValidateAll for those.
func Parse(src []byte) (Flow, error) {
	docs := splitDocuments(src)
	if len(docs) > 1 {
		return Flow{}, &ValidationError{Violations: []Violation{{Message: fmt.Sprintf("expected one flow, found %d YAML documents", len(docs))}}}
	}
	f, p := parse(src)
	if len(p.violations) > 0 {
		return f, &ValidationError{Violations: p.violations}
	}
	return f, nil
}

// parser collects violations while reading one document.
type parser struct {
	violations  []Violation
	deprecation []string
	// revision is the document's own "revision" key (0 when absent or
	// not a number): ignored on save, compared by validation.
	revision int
}

func (p *parser) add(path, format string, args ...any) {
	p.violations = append(p.violations, Violation{Path: path, Message: fmt.Sprintf(format, args...)})
}

func parse(src []byte) (Flow, *parser) {
	p := &parser{}
	f := Flow{Source: src}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		p.add("", "invalid YAML: %s", strings.TrimPrefix(err.Error(), "yaml: "))
		return f, p
	}
	if len(doc.Content) == 0 {
		p.add("", "empty document: a flow needs id, namespace and tasks")
		return f, p
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		p.add("", "a flow must be a YAML mapping, not %s", kindName(root))
		return f, p
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		key := k.Value
		if !topLevel[key] {
			p.add(key, "unrecognized field %q (a flow has %s)", key, knownKeys())
			continue
		}
		if deprecated[key] {
			p.deprecation = append(p.deprecation, key)
		}
		if isNull(v) {
			continue
		}
		switch key {
		case "id":
			f.ID = p.scalar(key, v)
		case "namespace":
			f.Namespace = p.scalar(key, v)
		case "description":
			f.Description = p.scalar(key, v)
		case "revision":
			// set by the server, ignored on input; validation compares it
			var n int
			if v.Kind == yaml.ScalarNode && v.Decode(&n) == nil && n > 0 {
				p.revision = n
			}
		case "tenantId", "deleted":
			// set by the server, ignored on input
		case "disabled":
			var b bool
			if v.Kind != yaml.ScalarNode || v.Decode(&b) != nil {
				p.add(key, "must be true or false")
			}
			f.Disabled = b
		case "labels":
			f.Labels = p.labels(key, v)
		case "variables":
			f.Variables = p.mapping(key, v)
		case "inputs":
			for _, m := range p.listOfMaps(key, v) {
				f.Inputs = append(f.Inputs, Input{ID: str(m["id"]), Type: str(m["type"]), Properties: m})
			}
		case "tasks", "errors", "finally", "afterExecution":
			var ts []Task
			for _, m := range p.listOfMaps(key, v) {
				ts = append(ts, Task{ID: str(m["id"]), Type: str(m["type"]), Properties: m})
			}
			switch key {
			case "tasks":
				f.Tasks = ts
			case "errors":
				f.Errors = ts
			case "finally":
				f.Finally = ts
			default:
				f.AfterExecution = ts
			}
		case "triggers":
			for _, m := range p.listOfMaps(key, v) {
				f.Triggers = append(f.Triggers, Trigger{ID: str(m["id"]), Type: str(m["type"]), Properties: m})
			}
		case "pluginDefaults", "taskDefaults":
			for j, m := range p.listOfMaps(key, v) {
				path := fmt.Sprintf("%s[%d]", key, j)
				d := PluginDefault{Type: str(m["type"])}
				if d.Type == "" {
					p.add(path+".type", "is required")
				}
				if vals, ok := m["values"]; ok && vals != nil {
					if vm, ok := vals.(map[string]any); ok {
						d.Values = vm
					} else {
						p.add(path+".values", "must be a mapping")
					}
				}
				if fv, ok := m["forced"]; ok && fv != nil {
					if b, ok := fv.(bool); ok {
						d.Forced = b
					} else {
						p.add(path+".forced", "must be true or false")
					}
				}
				f.PluginDefaults = append(f.PluginDefaults, d)
			}
		default:
			var x any
			if err := v.Decode(&x); err != nil {
				p.add(key, "cannot be read: %v", err)
				continue
			}
			if f.Extra == nil {
				f.Extra = map[string]any{}
			}
			f.Extra[key] = x
		}
	}
	validate(&f, p)
	return f, p
}

func knownKeys() string {
	keys := make([]string, 0, len(topLevel))
	for k := range topLevel {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, ", ")
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.AliasNode:
		return "an alias"
	default:
		return "a scalar"
	}
}

// scalar reads a scalar as a string (Kestra coerces numbers and booleans
// to strings for string fields).
func (p *parser) scalar(path string, n *yaml.Node) string {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind != yaml.ScalarNode {
		p.add(path, "must be a string, not %s", kindName(n))
		return ""
	}
	return n.Value
}

func (p *parser) mapping(path string, n *yaml.Node) map[string]any {
	var m map[string]any
	if err := n.Decode(&m); err != nil {
		p.add(path, "must be a mapping, not %s", kindName(n))
		return nil
	}
	return m
}

// listOfMaps reads a list whose items are mappings with string keys,
// reporting each item that is not.
func (p *parser) listOfMaps(path string, n *yaml.Node) []map[string]any {
	var items []any
	if err := n.Decode(&items); err != nil {
		p.add(path, "must be a list, not %s", kindName(n))
		return nil
	}
	out := make([]map[string]any, 0, len(items))
	for i, it := range items {
		m, ok := it.(map[string]any)
		if !ok {
			p.add(fmt.Sprintf("%s[%d]", path, i), "must be a mapping")
			m = map[string]any{}
		}
		out = append(out, m)
	}
	return out
}

// labels reads Kestra's two label forms: a mapping of key to value, or a
// list of {key, value}. Values must be scalars.
func (p *parser) labels(path string, n *yaml.Node) []Label {
	var out []Label
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if v.Kind != yaml.ScalarNode {
				p.add(path+"."+k.Value, "a label value must be a string, not %s", kindName(v))
				continue
			}
			out = append(out, Label{Key: k.Value, Value: v.Value})
		}
	case yaml.SequenceNode:
		for i, item := range p.listOfMaps(path, n) {
			ip := fmt.Sprintf("%s[%d]", path, i)
			k, kok := scalarString(item["key"])
			v, vok := scalarString(item["value"])
			if !kok || k == "" {
				p.add(ip+".key", "is required")
			}
			if !vok {
				p.add(ip+".value", "is required and must be a string")
			}
			for _, key := range sortedKeys(item) {
				if key != "key" && key != "value" {
					p.add(ip+"."+key, "unrecognized field %q (a label has key and value)", key)
				}
			}
			out = append(out, Label{Key: k, Value: v})
		}
	default:
		p.add(path, "must be a mapping or a list of {key, value}, not %s", kindName(n))
	}
	return out
}

func scalarString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case nil, map[string]any, []any:
		return "", false
	default:
		return fmt.Sprint(x), true
	}
}

// str returns a scalar as a string, "" for anything else.
func str(v any) string {
	s, _ := scalarString(v)
	return s
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
