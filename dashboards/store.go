package dashboards

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tenantgate/tenantgate/index"
)

// Store is what saved objects need from storage: one tenant's indices,
// by logical name. *index.View of the system kind (index.Service's
// SystemView, which allows ".kibana") implements it.
type Store interface {
	Exists(ctx context.Context, logical string) (bool, error)
	CreateIndex(ctx context.Context, logical string, m *index.Mapping) error
	Apply(ctx context.Context, logical string, ops []index.Op) ([]index.OpResult, error)
	Get(ctx context.Context, logical, id string) (*index.Doc, error)
	Search(ctx context.Context, expr string, req *index.SearchRequest) (*index.SearchResult, error)
}

var _ Store = (*index.View)(nil)

// Mapping returns the explicit mapping of a .kibana index: dynamic false
// at the root so that attributes (visState, panelsJSON, index-pattern
// field lists …) stay in _source without growing the mapping; keyword
// type, originId and references; date updated_at; and per type a text
// title with a keyword sub-field and a text description.
func Mapping() *index.Mapping {
	kw := func() *index.Property { return &index.Property{Type: index.TypeKeyword} }
	title := func() *index.Property {
		return &index.Property{Type: index.TypeText, Fields: map[string]*index.Property{"keyword": kw()}}
	}
	props := map[string]*index.Property{
		"type":       kw(),
		"originId":   kw(),
		"updated_at": {Type: index.TypeDate},
		"references": {Type: index.TypeObject, Properties: map[string]*index.Property{"name": kw(), "type": kw(), "id": kw()}},
	}
	for _, t := range Types {
		p := &index.Property{Type: index.TypeObject, Dynamic: "false", Properties: map[string]*index.Property{}}
		switch t {
		case TypeURL:
			p.Properties["url"] = &index.Property{Type: index.TypeText}
		case TypeConfig:
			p.Properties["buildNum"] = kw()
		default:
			p.Properties["title"] = title()
			p.Properties["description"] = &index.Property{Type: index.TypeText}
		}
		props[t] = p
	}
	return &index.Mapping{Dynamic: "false", Properties: props}
}

// searchable are the text fields of each type that a find without
// search_fields searches.
var searchable = map[string][]string{
	TypeIndexPattern: {"title"}, TypeVisualization: {"title", "description"}, TypeDashboard: {"title", "description"},
	TypeSearch: {"title", "description"}, TypeURL: {"url"},
}

// Client reads and writes the saved objects of one tenant.
type Client struct {
	store Store
	now   func() time.Time
}

// New returns a client over store, which must be one tenant's system
// view.
func New(store Store) *Client { return &Client{store: store, now: time.Now} }

func (c *Client) timestamp() string { return c.now().UTC().Format("2006-01-02T15:04:05.000Z") }

// ensure creates the tenant's .kibana with its mapping on first write.
func (c *Client) ensure(ctx context.Context) error {
	ok, err := c.store.Exists(ctx, IndexName)
	if err != nil || ok {
		return err
	}
	err = c.store.CreateIndex(ctx, IndexName, Mapping())
	if errors.Is(err, index.ErrExists) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("creating %s: %w", IndexName, err)
	}
	return nil
}

// exists reports whether the tenant has a .kibana yet (reads of a tenant
// without one find nothing).
func (c *Client) exists(ctx context.Context) (bool, error) { return c.store.Exists(ctx, IndexName) }
