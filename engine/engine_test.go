package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/vigil-scanner/vigil/alert"
	"github.com/vigil-scanner/vigil/image/remote"
	"github.com/vigil-scanner/vigil/internal/testutil/regtest"
	"github.com/vigil-scanner/vigil/inventory"
	"github.com/vigil-scanner/vigil/store"
)

// hook is a webhook receiver that records the alerts it is sent and can
// be made to fail.
type hook struct {
	*httptest.Server
	mu       sync.Mutex
	alerts   []alert.Alert
	messages int
	status   atomic.Int32 // answer with this status when non-zero
}

func startHook(t *testing.T) *hook {
	h := &hook{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s := h.status.Load(); s != 0 {
			http.Error(w, "down", int(s))
			return
		}
		body, _ := io.ReadAll(r.Body)
		var msg struct {
			Alerts []alert.Alert `json:"alerts"`
		}
		if err := json.Unmarshal(body, &msg); err != nil {
			t.Errorf("webhook body: %v", err)
			http.Error(w, "bad", 400)
			return
		}
		h.mu.Lock()
		h.alerts = append(h.alerts, msg.Alerts...)
		h.messages++
		h.mu.Unlock()
	}))
	t.Cleanup(h.Close)
	return h
}

// take returns and forgets the alerts received, as "repo:tag id package reason".
func (h *hook) take() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, a := range h.alerts {
		tag := ""
		if len(a.Tags) > 0 {
			tag = a.Tags[0]
		}
		out = append(out, fmt.Sprintf("%s:%s %s %s %s", a.Repository, tag, a.ID, a.Package, a.Reason))
	}
	h.alerts = nil
	slices.Sort(out)
	return out
}

func webhookRoute(t *testing.T, url string) Route {
	r := alert.Route{Type: alert.TypeWebhook, URL: url}
	s, err := alert.NewSender(r, alert.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return Route{Name: "hook", Route: r, Sender: s}
}

var (
	openssl   = []string{"musl 1.2.4-r2 musl", "libcrypto3 3.1.4-r0 openssl"}
	rebuilt   = []string{"musl 1.2.4-r2 musl", "libcrypto3 3.1.4-r0 openssl", "busybox 1.36.1-r15 busybox"}
	db1       = []regtest.Record{{ID: "CVE-2024-0001", Pkg: "openssl", Fixed: "3.1.4-r5", Severity: "HIGH"}, {ID: "CVE-2024-0002", Pkg: "busybox", Fixed: "1.36.1-r20", Severity: "CRITICAL"}}
	dbAdded   = append(slices.Clone(db1), regtest.Record{ID: "CVE-2024-0003", Pkg: "musl", Fixed: "1.2.4-r3", Severity: "MEDIUM"})
	fastRetry = func(int) time.Duration { return 0 }
)

func newEngine(t *testing.T, st *store.Store, dbPath string, regs []Registry, routes ...Route) *Engine {
	t.Helper()
	e, err := New(Options{Store: st, Registries: regs, Routes: routes, DBPath: dbPath, Backoff: fastRetry, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestEngineCycles(t *testing.T) {
	reg := regtest.Start(t, regtest.Options{Proxy: true})
	reg.Push(t, "team/app:1", openssl)
	reg.Push(t, "web:latest", []string{"busybox 1.36.1-r15 busybox"})
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "db", "vigil.db")
	regtest.WriteDB(t, dbPath, db1...)
	st, err := store.Open(context.Background(), "sqlite://"+filepath.Join(dir, "vigil.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	h := startHook(t)
	regs := []Registry{{Host: reg.ProxyHost, Access: remote.Access{Insecure: true}}}
	ctx := context.Background()
	once := func() Summary {
		t.Helper()
		e := newEngine(t, st, dbPath, regs, webhookRoute(t, h.URL))
		sum, err := e.Once(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return sum
	}

	once()
	want := []string{"team/app:1 CVE-2024-0001 libcrypto3 new image", "web:latest CVE-2024-0002 busybox new image"}
	if got := h.take(); !slices.Equal(got, want) {
		t.Fatalf("first cycle alerts:\n got %q\nwant %q", got, want)
	}
	if h.messages != 2 {
		t.Errorf("%d webhook messages, want 2 (one per image scanned)", h.messages)
	}

	// An unchanged registry: only the listing, no pull, no alert.
	reg.ResetCounts()
	once()
	if got := h.take(); len(got) != 0 {
		t.Errorf("unchanged cycle alerted: %q", got)
	}
	if get, _ := reg.Count(regtest.Blob); get != 0 {
		t.Errorf("unchanged cycle downloaded %d blobs", get)
	}
	if get, _ := reg.Count(regtest.Manifest); get != 0 {
		t.Errorf("unchanged cycle downloaded %d manifests (HEAD is enough)", get)
	}
	// One ping per repository a process talks to (the token scope),
	// never one per request.
	if pings, _ := reg.Count(regtest.Ping); pings > 3 {
		t.Errorf("%d /v2/ pings in one cycle of 2 repositories", pings)
	}

	// A rebuilt tag alerts only on what the rebuild introduced.
	reg.Push(t, "team/app:1", rebuilt)
	once()
	want = []string{"team/app:1 CVE-2024-0002 busybox rebuilt tag"}
	if got := h.take(); !slices.Equal(got, want) {
		t.Fatalf("rebuilt tag alerts:\n got %q\nwant %q", got, want)
	}

	// A new advisory: exactly one alert per affected image, nothing next
	// cycle. The database is replaced in place, as `vigil db build` does.
	regtest.WriteDB(t, dbPath, dbAdded...)
	once()
	want = []string{"team/app:1 CVE-2024-0003 musl new advisory"}
	if got := h.take(); !slices.Equal(got, want) {
		t.Fatalf("new advisory alerts:\n got %q\nwant %q", got, want)
	}
	once()
	if got := h.take(); len(got) != 0 {
		t.Errorf("cycle after the advisory alerted again: %q", got)
	}
	changes, _ := st.DBChanges(ctx, 10)
	// Two stored images have musl 1.2.4-r2: the tag's image and the
	// digest it had before the rebuild (kept, not alerted on).
	if len(changes) != 1 || changes[0].Appeared != 2 || changes[0].Disappeared != 0 {
		t.Errorf("db changes = %+v, want 2 appeared", changes)
	}

	// A webhook that is down gets its alerts when it comes back.
	h.status.Store(503)
	reg.Push(t, "down:1", openssl, "etc/x=down")
	sum := once()
	if sum.AlertsFailed != 2 || sum.AlertsSent != 0 {
		t.Errorf("webhook down: %+v", sum)
	}
	h.status.Store(0)
	once()
	want = []string{"down:1 CVE-2024-0001 libcrypto3 new image", "down:1 CVE-2024-0003 musl new image"}
	if got := h.take(); !slices.Equal(got, want) {
		t.Fatalf("after the webhook came back:\n got %q\nwant %q", got, want)
	}

	// A permanent refusal parks the alert and does not block others.
	h.status.Store(410)
	reg.Push(t, "parked:1", []string{"busybox 1.36.1-r15 busybox"}, "etc/x=parked")
	once()
	parked, _ := st.AlertLog(ctx, store.AlertParked, 10, 0)
	if len(parked) != 1 || !strings.Contains(parked[0].LastError, "410") {
		t.Errorf("parked = %+v", parked)
	}
	h.status.Store(0)
	once()
	if got := h.take(); len(got) != 0 {
		t.Errorf("a parked alert was sent again: %q", got)
	}
}

// TestEngineBadRegistries: a rate-limiting registry is waited for and the
// 429s counted, an unreadable image is recorded with its error and read
// again later, and an unreachable registry is reported while the others
// go on.
func TestEngineBadRegistries(t *testing.T) {
	reg := regtest.Start(t, regtest.Options{Proxy: true})
	reg.Push(t, "app:1", openssl)
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "db", "vigil.db")
	regtest.WriteDB(t, dbPath, db1...)
	st, err := store.Open(context.Background(), "sqlite://"+filepath.Join(dir, "vigil.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	h := startHook(t)
	regs := []Registry{
		{Host: reg.ProxyHost, Access: remote.Access{Insecure: true}},
		{Host: "127.0.0.1:1", Access: remote.Access{Insecure: true}}, // nothing listens there
	}
	ctx := context.Background()
	once := func() (Summary, *Engine) {
		t.Helper()
		e := newEngine(t, st, dbPath, regs, webhookRoute(t, h.URL))
		sum, err := e.Once(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return sum, e
	}

	reg.Fail429.Store(2)
	reg.FailBlobs.Store(true)
	sum, e := once()
	if e.RateLimited()[reg.ProxyHost] != 2 {
		t.Errorf("429s counted = %v, want 2", e.RateLimited())
	}
	if len(sum.ListingErrors) != 1 || !strings.Contains(sum.ListingErrors[0], "127.0.0.1:1") {
		t.Errorf("listing errors = %q, want the unreachable registry's", sum.ListingErrors)
	}
	if sum.Failed == 0 {
		t.Errorf("unreadable image: no job failed: %+v", sum)
	}
	imgs, _ := st.Images(ctx, store.ImageFilter{})
	if len(imgs) != 1 || !strings.Contains(imgs[0].Error, "403") {
		t.Fatalf("unreadable image not recorded with its error: %+v", imgs)
	}
	regsSt, _ := st.Registries(ctx)
	for _, r := range regsSt {
		if r.URL == reg.ProxyHost && (r.RateLimited != 2 || r.LastError != "") {
			t.Errorf("registry status = %+v", r)
		}
	}
	if got := h.take(); len(got) != 0 {
		t.Errorf("alerts before the image could be read: %q", got)
	}

	// The registry serves the image again: the next cycle reads it.
	reg.FailBlobs.Store(false)
	once()
	if got := h.take(); len(got) != 1 {
		counts, _ := st.JobCounts(ctx)
		fails, _ := st.Failures(ctx, 10)
		t.Errorf("after the image became readable: alerts %q; jobs %v %+v", got, counts, fails)
	}
	imgs, _ = st.Images(ctx, store.ImageFilter{})
	if len(imgs) != 1 || imgs[0].Error != "" || imgs[0].ScannedAt.IsZero() {
		t.Errorf("image after retry = %+v", imgs)
	}
}

// TestRecatalog: an inventory made by another vigil build or cataloger
// set is catalogued again, without a new image digest.
func TestRecatalog(t *testing.T) {
	reg := regtest.Start(t, regtest.Options{Proxy: true})
	digest := reg.Push(t, "app:1", openssl)
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "db", "vigil.db")
	regtest.WriteDB(t, dbPath, db1...)
	st, err := store.Open(context.Background(), "sqlite://"+filepath.Join(dir, "vigil.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	regs := []Registry{{Host: reg.ProxyHost, Access: remote.Access{Insecure: true}}}
	if _, err := newEngine(t, st, dbPath, regs).Once(ctx); err != nil {
		t.Fatal(err)
	}
	inv, key, err := st.Inventory(ctx, digest)
	if err != nil || key != inventoryKey() {
		t.Fatalf("inventory key %q, %v", key, err)
	}
	// As if an older vigil had made it, with a package the new
	// catalogers no longer report.
	inv.Results[0].Packages = append(inv.Results[0].Packages, inventory.Package{Name: "ghost", Version: "1"})
	img, _ := st.Image(ctx, digest)
	img.InventoryKey = "catalogers v0: old"
	if err := st.SaveInventory(ctx, time.Now(), *img, inv); err != nil {
		t.Fatal(err)
	}
	reg.ResetCounts()
	if _, err := newEngine(t, st, dbPath, regs).Once(ctx); err != nil {
		t.Fatal(err)
	}
	inv, key, _ = st.Inventory(ctx, digest)
	if key != inventoryKey() {
		t.Errorf("inventory not catalogued again: key %q", key)
	}
	for _, p := range inv.Results[0].Packages {
		if p.Name == "ghost" {
			t.Error("the old inventory was kept")
		}
	}
	if get, _ := reg.Count(regtest.Blob); get == 0 {
		t.Error("the image was not read again")
	}
}

// TestMultiPlatformAndPagination: an index is scanned once per configured
// platform, and the catalog and tag lists are read page by page.
func TestMultiPlatformAndPagination(t *testing.T) {
	reg := regtest.Start(t, regtest.Options{Proxy: true})
	_, children := reg.PushIndex(t, "multi:1", map[string][]string{
		"linux/amd64": openssl,
		"linux/arm64": {"busybox 1.36.1-r15 busybox"},
		"linux/s390x": openssl,
	})
	for _, tag := range []string{"a", "b", "c"} {
		reg.Push(t, "paged/r"+tag+":"+tag, openssl, "etc/tag="+tag)
		reg.Push(t, "paged/ra:"+tag+"2", openssl, "etc/tag2="+tag)
	}
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "db", "vigil.db")
	regtest.WriteDB(t, dbPath, db1...)
	st, err := store.Open(context.Background(), "sqlite://"+filepath.Join(dir, "vigil.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	h := startHook(t)
	regs := []Registry{{Host: reg.ProxyHost, Access: remote.Access{Insecure: true}, PageSize: 2,
		Platforms: []v1.Platform{{OS: "linux", Architecture: "amd64"}, {OS: "linux", Architecture: "arm64"}}}}
	if _, err := newEngine(t, st, dbPath, regs, webhookRoute(t, h.URL)).Once(ctx); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"linux/amd64", "linux/arm64"} {
		img, err := st.Image(ctx, children[p])
		if err != nil || img.ScannedAt.IsZero() || img.Platform != p {
			t.Errorf("%s image: %+v, %v", p, img, err)
		}
	}
	if _, err := st.Image(ctx, children["linux/s390x"]); err == nil {
		t.Error("a platform not configured was scanned")
	}
	if got, _ := reg.Count(regtest.Catalog); got < 2 {
		t.Errorf("catalog read in %d requests, want pages of 2", got)
	}
	repos, _ := st.Repositories(ctx, reg.ProxyHost)
	tags := 0
	for _, r := range repos {
		tags += r.Tags
	}
	if len(repos) != 4 || tags != 7 {
		t.Errorf("repositories %+v: want 4 with 7 tags in all", repos)
	}
	want := []string{"multi:1 CVE-2024-0001 libcrypto3 new image", "multi:1 CVE-2024-0002 busybox new image"}
	got := h.take()
	if len(got) < 2 || !slices.Contains(got, want[0]) || !slices.Contains(got, want[1]) {
		t.Errorf("alerts = %q, want both platforms' findings", got)
	}
	// A second cycle reads no index again.
	reg.ResetCounts()
	if _, err := newEngine(t, st, dbPath, regs, webhookRoute(t, h.URL)).Once(ctx); err != nil {
		t.Fatal(err)
	}
	if get, _ := reg.Count(regtest.Manifest); get != 0 {
		t.Errorf("unchanged cycle read %d manifests", get)
	}
}
