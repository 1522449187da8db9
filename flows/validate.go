package flows

import (
	"fmt"
	"regexp"
)

// Kestra's identifier rules, so flows move between the two.
var (
	flowIDPattern    = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._-]*$`)
	namespacePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)
	taskIDPattern    = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_-]*$`)
	inputIDPattern   = regexp.MustCompile(`^[a-zA-Z0-9][.a-zA-Z0-9_-]*$`)
)

const (
	// MaxIDLength is the longest flow id Kestra accepts.
	MaxIDLength = 100
	// MaxNamespaceLength is the longest namespace Kestra accepts.
	MaxNamespaceLength = 150
)

// inputTypes are Kestra's input types.
var inputTypes = map[string]bool{
	"STRING": true, "ENUM": true, "SELECT": true, "MULTISELECT": true,
	"INT": true, "FLOAT": true, "BOOLEAN": true, "BOOL": true,
	"DATETIME": true, "DATE": true, "TIME": true, "DURATION": true,
	"FILE": true, "JSON": true, "URI": true, "SECRET": true, "ARRAY": true,
	"YAML": true, "EMAIL": true,
}

// nestedTaskKeys are the properties of Kestra's flowable tasks that hold
// lists of tasks (If's then/else, Switch's defaults, Parallel, Sequential,
// ForEach, WorkingDirectory, AllowFailure's tasks, a task's own errors and
// finally). Switch's cases is a mapping of such lists and Dag's tasks
// are {task, dependsOn} items, both handled in walkTasks.
var nestedTaskKeys = []string{"tasks", "then", "else", "cases", "defaults", "errors", "finally", "afterExecution"}

// validate applies Kestra's rules to a decoded flow.
func validate(f *Flow, p *parser) {
	switch {
	case f.ID == "":
		p.add("id", "is required")
	case len(f.ID) > MaxIDLength:
		p.add("id", "must be at most %d characters", MaxIDLength)
	case !flowIDPattern.MatchString(f.ID):
		p.add("id", "must match %q", flowIDPattern.String())
	}
	switch {
	case f.Namespace == "":
		p.add("namespace", "is required")
	case len(f.Namespace) > MaxNamespaceLength:
		p.add("namespace", "must be at most %d characters", MaxNamespaceLength)
	case !namespacePattern.MatchString(f.Namespace):
		p.add("namespace", "must match %q", namespacePattern.String())
	}
	if len(f.Tasks) == 0 && len(p.violationsAt("tasks")) == 0 {
		p.add("tasks", "must not be empty")
	}

	ids := map[string]string{} // task id -> path of its first use
	lists := []struct {
		key   string
		tasks []Task
	}{{"tasks", f.Tasks}, {"errors", f.Errors}, {"finally", f.Finally}, {"afterExecution", f.AfterExecution}}
	for _, l := range lists {
		for i, t := range l.tasks {
			walkTask(fmt.Sprintf("%s[%d]", l.key, i), t.Properties, ids, p)
		}
	}

	triggerIDs := map[string]string{}
	for i, t := range f.Triggers {
		path := fmt.Sprintf("triggers[%d]", i)
		checkID(path+".id", t.Properties["id"], taskIDPattern, p)
		checkType(path+".type", t.Properties["type"], p)
		if t.ID != "" {
			if first, dup := triggerIDs[t.ID]; dup {
				p.add(path+".id", "duplicate trigger id %q (first at %s)", t.ID, first)
			} else {
				triggerIDs[t.ID] = path + ".id"
			}
		}
	}

	inputIDs := map[string]string{}
	for i, in := range f.Inputs {
		path := fmt.Sprintf("inputs[%d]", i)
		checkID(path+".id", in.Properties["id"], inputIDPattern, p)
		if checkType(path+".type", in.Properties["type"], p) && !inputTypes[in.Type] {
			p.add(path+".type", "unknown input type %q", in.Type)
		}
		if in.ID != "" {
			if first, dup := inputIDs[in.ID]; dup {
				p.add(path+".id", "duplicate input id %q (first at %s)", in.ID, first)
			} else {
				inputIDs[in.ID] = path + ".id"
			}
		}
	}
}

// violationsAt returns the violations already recorded at path.
func (p *parser) violationsAt(path string) []Violation {
	var out []Violation
	for _, v := range p.violations {
		if v.Path == path {
			out = append(out, v)
		}
	}
	return out
}

// walkTask checks one task and every task nested in it.
func walkTask(path string, m map[string]any, ids map[string]string, p *parser) {
	checkID(path+".id", m["id"], taskIDPattern, p)
	checkType(path+".type", m["type"], p)
	if id := str(m["id"]); id != "" {
		if first, dup := ids[id]; dup {
			p.add(path+".id", "duplicate task id %q (first at %s)", id, first)
		} else {
			ids[id] = path + ".id"
		}
	}
	for _, key := range nestedTaskKeys {
		if cases, ok := m[key].(map[string]any); ok && key == "cases" {
			// Switch: a mapping of value to a list of tasks.
			for _, c := range sortedKeys(cases) {
				walkList(path+".cases."+c, cases[c], ids, p)
			}
			continue
		}
		walkList(path+"."+key, m[key], ids, p)
	}
	// Dag items and a few wrappers hold one task under "task".
	if t, ok := m["task"].(map[string]any); ok {
		walkTask(path+".task", t, ids, p)
	}
}

// walkList walks a list of tasks; anything that is not a list of task
// mappings (a property that happens to share a name) is left alone.
func walkList(path string, v any, ids map[string]string, p *parser) {
	list, ok := v.([]any)
	if !ok {
		return
	}
	for i, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			continue
		}
		ip := fmt.Sprintf("%s[%d]", path, i)
		if _, isTask := m["type"]; !isTask {
			// Dag: {task: {...}, dependsOn: [...]}
			if t, ok := m["task"].(map[string]any); ok {
				walkTask(ip+".task", t, ids, p)
				continue
			}
			if _, hasID := m["id"]; !hasID {
				continue
			}
		}
		walkTask(ip, m, ids, p)
	}
}

func checkID(path string, v any, pattern *regexp.Regexp, p *parser) {
	id, ok := scalarString(v)
	switch {
	case v == nil || (ok && id == ""):
		p.add(path, "is required")
	case !ok:
		p.add(path, "must be a string")
	case !pattern.MatchString(id):
		p.add(path, "must match %q", pattern.String())
	}
}

func checkType(path string, v any, p *parser) bool {
	switch t := v.(type) {
	case nil:
		p.add(path, "is required")
	case string:
		if t == "" {
			p.add(path, "is required")
			return false
		}
		return true
	default:
		p.add(path, "must be a string")
	}
	return false
}
