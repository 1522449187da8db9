package sample

import (
	"encoding/json"
	"fmt"
)

// Set is one sample data set, ready to load.
type Set struct {
	// Name is the set's name on the command line ("weblogs", "nginx").
	Name string
	// Index is the logical index the documents go to.
	Index string
	// TemplateName and Template are the name and body of the index
	// template (PUT /_index_template/{name}) that maps Index.
	TemplateName string
	Template     json.RawMessage
	// Docs are the documents, in order; IDs holds their ids.
	Docs []json.RawMessage
	IDs  []string
	// Objects is the saved objects export (NDJSON, OpenSearch Dashboards'
	// format, with the trailing export summary line).
	Objects []byte
	// DashboardID is the dashboard to open after loading.
	DashboardID string
	// Notes say how the set was adapted to what tenantgate supports.
	Notes []string
}

// Names lists the sets Open knows.
var Names = []string{"weblogs", "nginx"}

// Options select and shape a set for Open.
type Options struct {
	// Weblogs shapes the generated web logs (zero values: defaults).
	Weblogs WeblogOptions
	// FixturesDir is the folder holding the OpenSearch Dashboards exports
	// (nginx-1.0.0.ndjson and nginx-sample/), needed by the nginx set.
	FixturesDir string
}

// Open returns the set called name.
func Open(name string, o Options) (*Set, error) {
	switch name {
	case "weblogs":
		return Weblogs(o.Weblogs)
	case "nginx":
		if o.FixturesDir == "" {
			return nil, fmt.Errorf("%w: the nginx set needs the fixtures folder (the one holding nginx-1.0.0.ndjson and nginx-sample/)", ErrInvalid)
		}
		return Nginx(o.FixturesDir)
	}
	return nil, fmt.Errorf("%w: unknown sample set %q (known: weblogs, nginx)", ErrInvalid, name)
}
