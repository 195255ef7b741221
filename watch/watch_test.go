package watch

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	ggcr "github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/vigil-scanner/vigil/image/remote"
	"github.com/vigil-scanner/vigil/internal/testutil"
	"github.com/vigil-scanner/vigil/vulndb"
)

// registry is a docker-registry (distribution) process behind a proxy
// that counts the blob downloads made through it.
type registry struct {
	direct    string // 127.0.0.1:port of the registry itself, for pushes
	host      string // 127.0.0.1:port of the counting proxy, for the watch
	blobReads atomic.Int64
	failBlobs atomic.Bool // the proxy answers blob downloads with 403
}

func startRegistry(t *testing.T) *registry {
	t.Helper()
	bin := testutil.RequireTool(t, "docker-registry")
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	config := fmt.Sprintf("version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n",
		filepath.Join(dir, "storage"), addr)
	cfgPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", cfgPath)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	for deadline := time.Now().Add(15 * time.Second); ; {
		resp, err := http.Get("http://" + addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("registry did not start: %v\n%s", err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	reg := &registry{direct: addr}
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: addr})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/") {
			reg.blobReads.Add(1)
			if reg.failBlobs.Load() {
				http.Error(w, "denied", http.StatusForbidden)
				return
			}
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	reg.host = strings.TrimPrefix(srv.URL, "http://")
	return reg
}

// push writes an Alpine 3.19 image whose apk database lists pkgs
// ("name version origin") to the registry as repo:tag.
func (reg *registry) push(t *testing.T, repoTag string, pkgs ...string) {
	t.Helper()
	var apk strings.Builder
	for _, p := range pkgs {
		f := strings.Fields(p)
		fmt.Fprintf(&apk, "P:%s\nV:%s\nA:x86_64\no:%s\nm:Natanael Copa <ncopa@alpinelinux.org>\n\n", f[0], f[1], f[2])
	}
	layerTar := tarOf(t, map[string]string{
		"etc/os-release":       "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.19.1\n",
		"etc/alpine-release":   "3.19.1\n",
		"lib/apk/db/installed": apk.String(),
	})
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(layerTar)), nil })
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		t.Fatal(err)
	}
	img, err = mutate.ConfigFile(img, &v1.ConfigFile{OS: "linux", Architecture: "amd64",
		RootFS: v1.RootFS{Type: "layers", DiffIDs: mustDiffIDs(t, layer)}})
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.NewTag(reg.direct+"/"+repoTag, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := ggcr.Write(ref, img, ggcr.WithAuthFromKeychain(authn.NewMultiKeychain())); err != nil {
		t.Fatal(err)
	}
}

func mustDiffIDs(t *testing.T, l v1.Layer) []v1.Hash {
	d, err := l.DiffID()
	if err != nil {
		t.Fatal(err)
	}
	return []v1.Hash{d}
}

func tarOf(t *testing.T, files map[string]string) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, n := range []string{"etc/os-release", "etc/alpine-release", "lib/apk/db/installed"} {
		body := files[n]
		if err := tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0)}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(body))
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// record is an alpine:3.19 advisory: id affects pkg below fixed.
type record struct{ id, pkg, fixed, severity string }

// makeDB writes a database of records built at built.
func makeDB(t *testing.T, built time.Time, records ...record) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "vigil.db")
	w, err := vulndb.NewWriter(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, r := range records {
		if err := w.PutVulnerability(ctx, vulndb.Vulnerability{ID: r.id, Title: r.id}); err != nil {
			t.Fatal(err)
		}
		if err := w.PutAffected(ctx, vulndb.Affected{VulnID: r.id, Source: "alpine", Ecosystem: "alpine:3.19", Package: r.pkg,
			Status: vulndb.StatusFixed, Severity: r.severity, Fixed: []string{r.fixed},
			Ranges: []vulndb.Range{{Scheme: vulndb.SchemeAPK, Events: []vulndb.Event{{Introduced: "0"}, {Fixed: r.fixed}}}}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Commit(ctx, vulndb.Metadata{BuiltAt: built, NextUpdate: built.Add(24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	return path
}

func openDB(path *string) func(context.Context) (*vulndb.DB, error) {
	return func(context.Context) (*vulndb.DB, error) { return vulndb.Open(*path) }
}

// readAlerts parses and empties buf's JSON lines.
func readAlerts(t *testing.T, buf *bytes.Buffer) []Alert {
	t.Helper()
	var out []Alert
	sc := bufio.NewScanner(buf)
	for sc.Scan() {
		var a Alert
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			t.Fatalf("alert line %q: %v", sc.Text(), err)
		}
		out = append(out, a)
	}
	buf.Reset()
	return out
}

// brief is an alert as "image-without-digest id package reason".
func brief(alerts []Alert) []string {
	var out []string
	for _, a := range alerts {
		img, _, _ := strings.Cut(a.Image, "@")
		img = img[strings.Index(img, "/")+1:] // drop the registry host
		out = append(out, fmt.Sprintf("%s %s %s %s", img, a.ID, a.Package, a.Reason))
	}
	slices.Sort(out)
	return out
}

var (
	imageA = []string{"musl 1.2.4-r2 musl", "libcrypto3 3.1.4-r0 openssl"}
	imageB = []string{"busybox 1.36.1-r15 busybox"}
	imageC = []string{"musl 1.2.4-r3 musl", "libssl3 3.1.4-r1 openssl"}
	built1 = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	db1    = []record{
		{"CVE-2024-0001", "openssl", "3.1.4-r5", "HIGH"},
		{"CVE-2024-0002", "busybox", "1.36.1-r20", "CRITICAL"},
	}
)

func TestWatchCycles(t *testing.T) {
	reg := startRegistry(t)
	reg.push(t, "team/a:1", imageA...)
	reg.push(t, "b:latest", imageB...)
	dbPath := makeDB(t, built1, db1...)
	var out bytes.Buffer
	opts := Options{
		Registry: reg.host, Access: remote.Access{Insecure: true}, StateDir: t.TempDir(), Database: openDB(&dbPath),
		Severities: []string{"HIGH", "CRITICAL"}, Output: &out,
	}
	ctx := context.Background()
	step := func(what string, wantPulled, wantMatched int, want ...string) {
		t.Helper()
		blobs := reg.blobReads.Load()
		sum, err := Once(ctx, opts)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		alerts := readAlerts(t, &out)
		if got := brief(alerts); !slices.Equal(got, want) {
			t.Errorf("%s: alerts\n%s\nwant\n%s", what, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if sum.Pulled != wantPulled || sum.Matched != wantMatched || sum.Alerts != len(alerts) || sum.Failed != 0 {
			t.Errorf("%s: summary %+v, want %d pulled, %d matched, %d alerts", what, sum, wantPulled, wantMatched, len(alerts))
		}
		if wantPulled == 0 && reg.blobReads.Load() != blobs {
			t.Errorf("%s: %d blobs downloaded without a new image", what, reg.blobReads.Load()-blobs)
		}
		for _, a := range alerts {
			if !strings.Contains(a.Image, "@sha256:") || a.InstalledVersion == "" || a.FixedVersion == "" || a.Severity == "" || a.Time.IsZero() {
				t.Errorf("%s: alert lacks a field: %+v", what, a)
			}
		}
	}

	step("first cycle", 2, 2,
		"b:latest CVE-2024-0002 busybox new image",
		"team/a:1 CVE-2024-0001 libcrypto3 new image")
	step("unchanged registry", 0, 0)

	reg.push(t, "team/a:2", imageC...)
	step("new tag", 1, 1, "team/a:2 CVE-2024-0001 libssl3 new image")

	dbPath = makeDB(t, built1.Add(time.Hour), append(db1,
		record{"CVE-2025-0003", "musl", "1.2.4-r3", "HIGH"},
		record{"CVE-2025-0004", "busybox", "1.36.1-r16", "LOW"}, // filtered by severity
	)...)
	step("database update", 0, 3, "team/a:1 CVE-2025-0003 musl database update")
	step("nothing new", 0, 0)

	// Widened filters match every image again: the LOW finding is new.
	opts.Severities = nil
	step("filters changed", 0, 3, "b:latest CVE-2025-0004 busybox database update")
	opts.Severities = []string{"HIGH", "CRITICAL"}

	// The state names every tag and keeps one inventory per digest.
	st, err := loadState(opts.StateDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Tags) != 3 || len(st.Seen) != 3 || !st.DBBuiltAt.Equal(built1.Add(time.Hour)) {
		t.Errorf("state: %d tags, %d images, built %v", len(st.Tags), len(st.Seen), st.DBBuiltAt)
	}
	invs, _ := filepath.Glob(filepath.Join(opts.StateDir, inventoryDir, "sha256-*.json"))
	if len(invs) != 3 {
		t.Errorf("%d inventories stored, want 3", len(invs))
	}

	// A second watch of the same registry that skips existing findings
	// records them silently, then alerts on what a database adds.
	quiet := opts
	quiet.StateDir, quiet.SkipExisting, quiet.Repositories = t.TempDir(), true, []string{"b"}
	dbPath = makeDB(t, built1, db1...)
	if sum, err := Once(ctx, quiet); err != nil || sum.Alerts != 0 || sum.Pulled != 1 || sum.Tags != 1 {
		t.Fatalf("skip existing: %+v, %v", sum, err)
	}
	dbPath = makeDB(t, built1.Add(2*time.Hour), append(db1, record{"CVE-2025-0005", "busybox", "1.36.1-r16", "HIGH"})...)
	if _, err := Once(ctx, quiet); err != nil {
		t.Fatal(err)
	}
	if got, want := brief(readAlerts(t, &out)), []string{"b:latest CVE-2025-0005 busybox database update"}; !slices.Equal(got, want) {
		t.Errorf("skip existing, then update: %q, want %q", got, want)
	}
}

func TestWatchWebhook(t *testing.T) {
	reg := startRegistry(t)
	reg.push(t, "app:1", imageA...)
	dbPath := makeDB(t, built1, db1...)

	var mu sync.Mutex
	var received []Alert
	failures := 1 // the first request fails; the retry succeeds
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if failures > 0 {
			failures--
			http.Error(w, "try later", http.StatusServiceUnavailable)
			return
		}
		var body webhookBody
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("webhook got %s %s", r.Method, r.Header.Get("Content-Type"))
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			t.Errorf("webhook body: %v", err)
		}
		received = append(received, body.Alerts...)
	}))
	defer hook.Close()

	var out bytes.Buffer
	opts := Options{
		Registry: reg.host, Access: remote.Access{Insecure: true}, StateDir: t.TempDir(), Database: openDB(&dbPath),
		Output: &out, Webhook: hook.URL, retryPause: 10 * time.Millisecond,
	}
	ctx := context.Background()
	if _, err := Once(ctx, opts); err != nil {
		t.Fatal(err)
	}
	if got, want := brief(received), []string{"app:1 CVE-2024-0001 libcrypto3 new image"}; !slices.Equal(got, want) {
		t.Errorf("webhook received %q, want %q", got, want)
	}

	// A webhook that keeps failing fails the cycle and saves nothing: the
	// alerts come again at the next cycle.
	mu.Lock()
	failures, received = 100, nil
	mu.Unlock()
	dbPath = makeDB(t, built1.Add(time.Hour), append(db1, record{"CVE-2025-0003", "musl", "1.2.4-r3", "HIGH"})...)
	if _, err := Once(ctx, opts); err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("failing webhook: err %v", err)
	}
	mu.Lock()
	if failures != 100-webhookAttempts {
		t.Errorf("webhook tried %d times, want %d", 100-failures, webhookAttempts)
	}
	failures = 0
	mu.Unlock()
	if _, err := Once(ctx, opts); err != nil {
		t.Fatal(err)
	}
	if got, want := brief(received), []string{"app:1 CVE-2025-0003 musl database update"}; !slices.Equal(got, want) {
		t.Errorf("after recovery the webhook received %q, want %q", got, want)
	}
}

func TestWatchPullFailure(t *testing.T) {
	reg := startRegistry(t)
	reg.push(t, "a:1", imageA...)
	reg.push(t, "b:1", imageB...)
	dbPath := makeDB(t, built1, db1...)
	var out bytes.Buffer
	opts := Options{Registry: reg.host, Access: remote.Access{Insecure: true}, StateDir: t.TempDir(), Database: openDB(&dbPath), Output: &out,
		Repositories: []string{"a", "b", "missing"}}
	ctx := context.Background()
	reg.failBlobs.Store(true)
	sum, err := Once(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	// Two images cannot be pulled and one repository cannot be listed;
	// the cycle goes on and saves what it has.
	if sum.Failed != 3 || sum.Pulled != 0 || sum.Tags != 2 || len(readAlerts(t, &out)) != 0 {
		t.Errorf("broken registry: %+v", sum)
	}
	reg.failBlobs.Store(false)
	sum, err = Once(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a:1 CVE-2024-0001 libcrypto3 new image", "b:1 CVE-2024-0002 busybox new image"}
	if got := brief(readAlerts(t, &out)); sum.Pulled != 2 || !slices.Equal(got, want) {
		t.Errorf("after recovery: %+v, alerts %q, want %q", sum, got, want)
	}
}

func TestInventoryPathRejectsBadDigests(t *testing.T) {
	for _, d := range []string{"", "sha256:../../etc/passwd", "sha256:abc", "../x", "md5:" + strings.Repeat("0", 32)} {
		if p, err := inventoryPath("/state", d); err == nil {
			t.Errorf("inventoryPath(%q) = %q, want an error", d, p)
		}
	}
	good := "sha256:" + strings.Repeat("ab", 32)
	if p, err := inventoryPath("/state", good); err != nil || p != "/state/inventories/sha256-"+strings.Repeat("ab", 32)+".json" {
		t.Errorf("inventoryPath(%q) = %q, %v", good, p, err)
	}
}
