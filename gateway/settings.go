package gateway

import (
	"encoding/json"
	"sort"
	"strings"
)

// noOpSettings are index settings that only tune OpenSearch's cluster
// (shards, replicas, refresh): on a single Bleve index they change no
// result, so they are accepted. Every other setting is refused by name
// rather than dropped.
var noOpSettings = map[string]bool{
	"index.number_of_shards": true, "index.number_of_replicas": true, "index.auto_expand_replicas": true,
	"index.refresh_interval": true, "index.number_of_routing_shards": true, "index.codec": true,
	"index.hidden": false,
}

// checkSettings validates the "settings" of a create-index request or an
// index template.
func checkSettings(raw json.RawMessage) error {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return badRequest("settings_exception", "[settings] must be an object")
	}
	flat := map[string]any{}
	flatten("", m, flat)
	keys := make([]string, 0, len(flat))
	for k := range flat {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		name := k
		if !strings.HasPrefix(name, "index.") {
			name = "index." + name
		}
		switch {
		case noOpSettings[name]:
		case strings.HasPrefix(name, "index.analysis."):
			return badRequest("illegal_argument_exception", "unsupported setting [%s]: custom analysis is not supported by tenantgate; text fields may use the analyzers standard, simple, whitespace, keyword, english and stop", name)
		case name == "index.max_result_window":
			return badRequest("illegal_argument_exception", "unsupported setting [%s]: the result window is set for the whole gateway by limits.max_result_window", name)
		default:
			return badRequest("illegal_argument_exception", "unknown or unsupported setting [%s]", name)
		}
	}
	return nil
}

func flatten(prefix string, m map[string]any, out map[string]any) {
	for k, v := range m {
		key := k
		if prefix != "" {
			key = prefix + "." + k
		}
		if sub, ok := v.(map[string]any); ok {
			flatten(key, sub, out)
			continue
		}
		out[key] = v
	}
}
