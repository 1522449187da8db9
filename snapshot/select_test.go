package snapshot_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tenantgate/tenantgate/config"
	"github.com/tenantgate/tenantgate/instance"
	"github.com/tenantgate/tenantgate/internal/testserver"
	"github.com/tenantgate/tenantgate/snapshot"
	"github.com/tenantgate/tenantgate/tenants"
)

// TestSelection checks which indices a pattern or a tenant selects.
func TestSelection(t *testing.T) {
	s := start(t)
	an := tenants.CustomRef("analysts")
	systemPut(t, s, tenants.GlobalRef, ".kibana", "g")
	systemPut(t, s, hr, ".kibana", "h")
	systemPut(t, s, an, ".kibana", "a")
	bulk(t, s, "human_resources", "staff", "s", 0, 2)
	bulk(t, s, "analysts", "sales", "s", 0, 2)
	bulk(t, s, "global_tenant", "shared", "s", 0, 2)
	sorted := func(v ...string) []string { slices.Sort(v); return v }
	cases := []struct {
		name    string
		pattern string
		tenant  string
		want    []string
		control string
		err     error
	}{
		{name: "kibana pattern", pattern: ".kibana*", want: sorted(".kibana", hr.Physical(".kibana"), an.Physical(".kibana"))},
		{name: "tenant suffix pattern", pattern: "*_humanresources", want: sorted(hr.Physical(".kibana"), hr.Physical("staff"))},
		{name: "two patterns", pattern: "shared, sales*", want: sorted("shared", an.Physical("sales"))},
		{name: "tenant", tenant: "human_resources", want: sorted(hr.Physical(".kibana"), hr.Physical("staff")), control: "human_resources"},
		{name: "tenant and pattern", tenant: "analysts", pattern: ".kibana*", want: sorted(an.Physical(".kibana")), control: "analysts"},
		{name: "global tenant", tenant: "global", want: sorted(".kibana", "shared")},
		{name: "everything", want: sorted(".kibana", "shared", hr.Physical(".kibana"), hr.Physical("staff"), an.Physical(".kibana"), an.Physical("sales"))},
		{name: "no match", pattern: "nothing*", err: snapshot.ErrNotFound},
		{name: "unknown tenant", tenant: "nobody", err: snapshot.ErrNotFound},
		{name: "bad tenant", tenant: "Bad Tenant", err: snapshot.ErrInvalid},
	}
	repo := t.TempDir()
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := snapshot.Create(context.Background(), instanceOf(t, s), snapshot.Options{Out: repo, Name: fmt.Sprintf("s%d", i), Pattern: c.pattern, Tenant: c.tenant})
			if c.err != nil {
				if !errors.Is(err, c.err) {
					t.Fatalf("error %v, want %v", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := physicals(res.Manifest); !slices.Equal(got, c.want) {
				t.Fatalf("indices %v, want %v", got, c.want)
			}
			gotControl := ""
			if res.Manifest.Control != nil {
				gotControl = res.Manifest.Control.Tenant.ID
				for _, r := range res.Manifest.Control.Roles {
					if r.Name == "all_access" {
						t.Fatalf("a tenant snapshot carries the instance-wide role %s", r.Name)
					}
				}
			}
			if gotControl != c.control {
				t.Fatalf("control records of %q, want %q", gotControl, c.control)
			}
		})
	}
	// Every failed Create left nothing in the repository.
	list, err := snapshot.List(repo)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range list {
		if !in.Complete {
			t.Errorf("List shows an incomplete snapshot %s: %s", in.Name, in.Problem)
		}
	}
}

// TestSnapshotWhileWriting keeps a writer indexing through the server
// while a snapshot is taken, restores it into another instance and finds
// there every document acknowledged before Create was called.
func TestSnapshotWhileWriting(t *testing.T) {
	s := start(t)
	bulk(t, s, "human_resources", "events", "seed", 0, 200)
	tok := super(t)
	var mu sync.Mutex
	var acked []string
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			id := fmt.Sprintf("w-%d", i)
			r := s.Do(t, "PUT", "/events/_doc/"+id, tok, "human_resources", map[string]any{"n": i, "msg": "written while snapshotting"})
			if r.Status != 201 && r.Status != 200 {
				t.Errorf("write %s: %d %s", id, r.Status, r.Body)
				return
			}
			mu.Lock()
			acked = append(acked, id)
			mu.Unlock()
		}
	}()
	// Let the writer run a little, then snapshot while it goes on.
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 30 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	mu.Lock()
	before := slices.Clone(acked)
	mu.Unlock()
	out := filepath.Join(t.TempDir(), "events.tar.zst")
	res, err := snapshot.Create(context.Background(), instanceOf(t, s), snapshot.Options{Out: out, Pattern: "events*"})
	mu.Lock()
	during := len(acked) - len(before)
	mu.Unlock()
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if len(before) == 0 {
		t.Fatal("the writer acknowledged nothing before the snapshot")
	}
	t.Logf("%d writes acknowledged before the snapshot, %d more while it ran", len(before), during)

	dst := start(t)
	if _, err := snapshot.Restore(context.Background(), res.Path, instanceOf(t, dst), snapshot.RestoreOptions{}); err != nil {
		t.Fatal(err)
	}
	ids := append(before, "seed-0", "seed-199")
	r := dst.Do(t, "POST", "/events/_search", tok, "human_resources", map[string]any{
		"size": len(ids), "_source": false, "query": map[string]any{"ids": map[string]any{"values": ids}}})
	if r.Status != 200 {
		t.Fatalf("search restored index: %d %s", r.Status, r.Body)
	}
	var body struct {
		Hits struct {
			Hits []struct {
				ID string `json:"_id"`
			} `json:"hits"`
		} `json:"hits"`
	}
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, h := range body.Hits.Hits {
		found[h.ID] = true
	}
	var missing []string
	for _, id := range ids {
		if !found[id] {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		t.Fatalf("%d acknowledged documents missing from the snapshot: %s", len(missing), strings.Join(missing[:min(10, len(missing))], ", "))
	}
	if n := count(t, dst, tok, "human_resources", "events"); n < 200+len(before) || uint64(n) != res.Manifest.Indices[0].DocCount {
		t.Fatalf("restored index holds %d documents; %d acknowledged before, manifest says %d", n, 200+len(before), res.Manifest.Indices[0].DocCount)
	}
	r = dst.Do(t, "POST", "/events/_search", tok, "human_resources", map[string]any{"query": map[string]any{"match": map[string]any{"msg": "seed 17"}}})
	if r.Status != 200 || !strings.Contains(string(r.Body), `"seed-17"`) {
		t.Fatalf("restored index does not answer a match query: %d %s", r.Status, r.Body)
	}
}

// TestOffline takes a snapshot of a stopped data directory and restores
// it into another stopped one, opened as the CLI does (instance.Open);
// the restored directory then serves the data.
func TestOffline(t *testing.T) {
	cfgSrc := testserver.Config(t.TempDir())
	cfgSrc.Auth.Passwords.BcryptCost = 4
	s := testserver.StartConfig(t, cfgSrc)
	bulk(t, s, "analysts", "sales", "x", 0, 12)
	s.Stop()

	open := func(cfg config.Config) (*instance.Instance, *snapshot.Instance) {
		inst, err := instance.Open(context.Background(), cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		return inst, &snapshot.Instance{Index: inst.Index, Store: inst.Store, Admin: inst.Admin}
	}
	inst, src := open(cfgSrc)
	id, _ := inst.Store.InstanceID()
	res, err := snapshot.Create(context.Background(), src, snapshot.Options{Out: t.TempDir(), Name: "offline", Tenant: "analysts"})
	inst.Close()
	if err != nil {
		t.Fatal(err)
	}
	if res.Manifest.InstanceID != id || id == "" {
		t.Fatalf("manifest instance id %q, data directory's %q", res.Manifest.InstanceID, id)
	}

	cfgDst := testserver.Config(t.TempDir())
	cfgDst.Auth.Passwords.BcryptCost = 4
	inst, dst := open(cfgDst)
	if other, _ := inst.Store.InstanceID(); other == id {
		t.Fatal("two data directories share an instance id")
	}
	_, err = snapshot.Restore(context.Background(), res.Path, dst, snapshot.RestoreOptions{})
	inst.Close()
	if err != nil {
		t.Fatal(err)
	}
	s2 := testserver.StartConfig(t, cfgDst)
	if n := count(t, s2, super(t), "analysts", "sales"); n != 12 {
		t.Fatalf("restored offline: %d documents, want 12", n)
	}
}
