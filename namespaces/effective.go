package namespaces

import (
	"maps"
	"sort"
)

// Effective is what a namespace sees once inheritance is applied.
type Effective struct {
	// Namespace is the namespace asked for.
	Namespace string
	// Variables merges the variables of the namespace and its ancestors:
	// the nearest definition wins; nested maps are merged key by key.
	Variables map[string]any
	// PluginDefaults holds one default per type, sorted by type.
	PluginDefaults []EffectiveDefault
}

// EffectiveDefault is an inherited plugin default and the namespace it
// comes from.
type EffectiveDefault struct {
	PluginDefault
	Namespace string
}

// DefaultsFor returns the properties of a task of type taskType once the
// matching plugin defaults are applied to its own properties: non-forced
// defaults fill what the task leaves unset, forced ones override it.
// Among matching defaults, the more specific (longer) type wins. Maps
// are merged key by key; props is not modified.
func (e *Effective) DefaultsFor(taskType string, props map[string]any) map[string]any {
	var match []EffectiveDefault
	for _, d := range e.PluginDefaults {
		if d.Matches(taskType) {
			match = append(match, d)
		}
	}
	// Longest type last, so it is merged over the shorter ones.
	sort.SliceStable(match, func(i, j int) bool { return len(match[i].Type) < len(match[j].Type) })
	plain, forced := map[string]any{}, map[string]any{}
	for _, d := range match {
		if d.Forced {
			forced = merge(forced, d.Values)
		} else {
			plain = merge(plain, d.Values)
		}
	}
	return merge(merge(plain, props), forced)
}

// merge returns base with over laid on it: over's values win, and where
// both hold a map the two are merged the same way. Neither argument is
// modified.
func merge(base, over map[string]any) map[string]any {
	out := make(map[string]any, len(base)+len(over))
	maps.Copy(out, base)
	for k, v := range over {
		bm, ok1 := out[k].(map[string]any)
		om, ok2 := v.(map[string]any)
		if ok1 && ok2 {
			out[k] = merge(bm, om)
			continue
		}
		out[k] = v
	}
	return out
}

// effective merges the levels of a lineage given farthest ancestor
// first (a nil level is a namespace that does not exist).
func effective(id string, levels []*Namespace) *Effective {
	e := &Effective{Namespace: id, Variables: map[string]any{}}
	byType := map[string]EffectiveDefault{}
	for _, ns := range levels {
		if ns == nil {
			continue
		}
		e.Variables = merge(e.Variables, ns.Variables)
		for _, d := range ns.PluginDefaults {
			if cur, ok := byType[d.Type]; ok && cur.Forced {
				continue
			}
			byType[d.Type] = EffectiveDefault{PluginDefault: d, Namespace: ns.ID}
		}
	}
	e.PluginDefaults = make([]EffectiveDefault, 0, len(byType))
	for _, d := range byType {
		e.PluginDefaults = append(e.PluginDefaults, d)
	}
	sort.Slice(e.PluginDefaults, func(i, j int) bool { return e.PluginDefaults[i].Type < e.PluginDefaults[j].Type })
	return e
}
