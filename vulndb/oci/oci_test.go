package oci

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"

	vimage "github.com/vigil-scanner/vigil/image/remote"
	"github.com/vigil-scanner/vigil/internal/testutil/regtest"
	"github.com/vigil-scanner/vigil/vulndb"
)

// fixture describes the records of a test database. Version 2 changes one
// npm advisory's text and adds an npm advisory, and nothing else.
func fixture(version int) ([]vulndb.Affected, []vulndb.Vulnerability) {
	rng := func(scheme, fixed string) []vulndb.Range {
		return []vulndb.Range{{Scheme: scheme, Events: []vulndb.Event{{Introduced: "0"}, {Fixed: fixed}}}}
	}
	aff := []vulndb.Affected{
		{VulnID: "CVE-2024-0001", Source: "alpine", Ecosystem: "alpine:3.19", Package: "openssl", Ranges: rng("apk", "3.1.4-r3"), Fixed: []string{"3.1.4-r3"}, Status: vulndb.StatusFixed},
		{VulnID: "CVE-2024-0002", Source: "alpine", Ecosystem: "alpine:3.19", Package: "musl", Ranges: rng("apk", "1.2.4-r3"), Fixed: []string{"1.2.4-r3"}, Status: vulndb.StatusFixed},
		{VulnID: "CVE-2024-0001", Source: "debian", Ecosystem: "debian:12", Package: "openssl", Ranges: rng("deb", "3.0.11-1~deb12u2"), Fixed: []string{"3.0.11-1~deb12u2"}, Status: vulndb.StatusFixed, Severity: "HIGH"},
		{VulnID: "CVE-2024-0003", Source: "debian", Ecosystem: "debian:12", Package: "curl", Status: vulndb.StatusAffected},
		{VulnID: "GHSA-aaaa-bbbb-cccc", Source: "osv:npm", Ecosystem: "npm", Package: "lodash", Ranges: rng("npm", "4.17.21"), Fixed: []string{"4.17.21"}, Status: vulndb.StatusFixed},
		{VulnID: "GHSA-dddd-eeee-ffff", Source: "osv:npm", Ecosystem: "npm", Package: "minimist", Ranges: rng("npm", "1.2.6"), Fixed: []string{"1.2.6"}, Status: vulndb.StatusFixed},
		{VulnID: "PYSEC-2024-1", Source: "osv:PyPI", Ecosystem: "PyPI", Package: "requests", Ranges: rng("pep440", "2.31.0"), Fixed: []string{"2.31.0"}, Status: vulndb.StatusFixed},
	}
	vulns := []vulndb.Vulnerability{
		{ID: "CVE-2024-0001", Description: "openssl bug", CVSS: []vulndb.CVSS{{Source: "nvd", Version: "3.1", Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", Score: 9.8}}, Sources: []string{"nvd"}},
		{ID: "CVE-2024-0001", Severities: []vulndb.Severity{{Source: "redhat", Severity: "MEDIUM"}}, Sources: []string{"redhat"}},
		{ID: "CVE-2024-0001", EPSS: &vulndb.EPSS{Score: 0.5, Percentile: 0.9}, Sources: []string{"epss"}},
		{ID: "CVE-2024-0001", KEV: &vulndb.KEV{DateAdded: "2024-02-01"}, Sources: []string{"kev"}},
		{ID: "CVE-2024-0002", Description: "musl bug", Sources: []string{"nvd"}},
		{ID: "CVE-2024-0003", Description: "curl bug", Sources: []string{"nvd"}},
		{ID: "CVE-2024-9999", Description: "no package", Sources: []string{"nvd"}},
		{ID: "GHSA-aaaa-bbbb-cccc", Aliases: []string{"CVE-2021-23337"}, Title: "lodash injection", Sources: []string{"osv:npm"}},
		{ID: "CVE-2021-23337", Description: "lodash, NVD", Aliases: []string{"GHSA-aaaa-bbbb-cccc"}, Sources: []string{"nvd"}},
		{ID: "CVE-2021-23337", EPSS: &vulndb.EPSS{Score: 0.01234}, Sources: []string{"epss"}},
		{ID: "GHSA-dddd-eeee-ffff", Aliases: []string{"CVE-2021-44906"}, Title: "minimist pollution", Sources: []string{"osv:npm"}},
		{ID: "PYSEC-2024-1", Title: "requests leak", Sources: []string{"osv:PyPI"}},
	}
	// Filler, so that the npm part is larger than a day's delta of it
	// (a part smaller than twice its delta is published without one).
	for i := range 300 {
		id := fmt.Sprintf("GHSA-fill-%04d-xxxx", i)
		aff = append(aff, vulndb.Affected{VulnID: id, Source: "osv:npm", Ecosystem: "npm", Package: fmt.Sprintf("filler-%d", i),
			Ranges: rng("npm", fmt.Sprintf("%d.%d.%d", i%7, i%13, i%29)), Fixed: []string{fmt.Sprintf("%d.%d.%d", i%7, i%13, i%29)}, Status: vulndb.StatusFixed})
		vulns = append(vulns, vulndb.Vulnerability{ID: id, Title: fmt.Sprintf("filler %d: %x", i, i*2654435761), Sources: []string{"osv:npm"}})
	}
	if version >= 2 {
		vulns[10].Title = "minimist prototype pollution"
		aff = append(aff, vulndb.Affected{VulnID: "GHSA-gggg-hhhh-iiii", Source: "osv:npm", Ecosystem: "npm", Package: "lodash", Ranges: rng("npm", "4.17.22"), Fixed: []string{"4.17.22"}, Status: vulndb.StatusFixed})
		vulns = append(vulns, vulndb.Vulnerability{ID: "GHSA-gggg-hhhh-iiii", Title: "lodash again", Sources: []string{"osv:npm"}})
	}
	return aff, vulns
}

// makeDB builds a fixture database in dir.
// publish builds version n of the test database (makeDB), pushes it
// anonymously as ref, and returns its directory.
func publish(t *testing.T, ref string, n int, next time.Time) string {
	t.Helper()
	src := filepath.Join(t.TempDir(), "db")
	makeDB(t, src, n, next)
	if _, err := Push(context.Background(), src, ref, PushOptions{Registry: anon}); err != nil {
		t.Fatal(err)
	}
	return src
}

func makeDB(t *testing.T, dir string, version int, next time.Time) {
	t.Helper()
	w, err := vulndb.NewWriter(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	aff, vulns := fixture(version)
	for _, v := range vulns {
		if err := w.PutVulnerability(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range aff {
		if err := w.PutAffected(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	built := time.Now().UTC().Truncate(time.Second)
	if err := w.Commit(ctx, vulndb.Metadata{BuiltAt: built, NextUpdate: next, Sources: []vulndb.SourceReport{{Name: "fixture", Base: fmt.Sprint("v", version)}}}); err != nil {
		t.Fatal(err)
	}
}

func open(t *testing.T, dir string) *vulndb.DB {
	t.Helper()
	db, err := vulndb.Open(dir)
	if err != nil {
		t.Fatalf("open %s: %v", dir, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// sameAnswers checks that got answers like want for every package of the
// ecosystems and every id those packages' records lead to.
func sameAnswers(t *testing.T, want, got *vulndb.DB, version int, ecosystems ...string) {
	t.Helper()
	aff, _ := fixture(version)
	for _, a := range aff {
		if !slices.Contains(ecosystems, a.Ecosystem) {
			continue
		}
		w, err1 := want.Affected(a.Ecosystem, a.Package)
		g, err2 := got.Affected(a.Ecosystem, a.Package)
		if err1 != nil || err2 != nil || !reflect.DeepEqual(w, g) {
			t.Errorf("Affected(%s, %s): got %+v, %v; want %+v, %v", a.Ecosystem, a.Package, g, err2, w, err1)
		}
		ids := []string{a.VulnID}
		for i := 0; i < len(ids) && i < 20; i++ {
			wv, wok, err1 := want.Vulnerability(ids[i])
			gv, gok, err2 := got.Vulnerability(ids[i])
			if err1 != nil || err2 != nil || wok != gok || !reflect.DeepEqual(wv, gv) {
				t.Errorf("Vulnerability(%s): got %+v %v %v; want %+v %v %v", ids[i], gv, gok, err2, wv, wok, err1)
			}
			if wv != nil {
				ids = append(ids, wv.Aliases...)
			}
		}
	}
}

// proxy is a reverse proxy in front of a registry that counts requests and
// lets a test change answers.
type proxy struct {
	host string
	mu   sync.Mutex
	hits map[string]int // "manifest", "blob", "other"
	// hook, when set, may answer a request itself (returning true); n is
	// how many requests of the same path came before, plus one.
	hook func(w http.ResponseWriter, r *http.Request, n int) bool
	seen map[string]int
}

func startProxy(t *testing.T, target string) *proxy {
	t.Helper()
	u, _ := url.Parse("http://" + target)
	rp := httputil.NewSingleHostReverseProxy(u)
	p := &proxy{hits: map[string]int{}, seen: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		kind := "other"
		switch {
		case strings.Contains(r.URL.Path, "/manifests/"):
			kind = "manifest"
		case strings.Contains(r.URL.Path, "/blobs/") && r.Method == http.MethodGet:
			kind = "blob"
		}
		p.mu.Lock()
		p.hits[kind]++
		p.seen[r.Method+r.URL.Path]++
		n, hook := p.seen[r.Method+r.URL.Path], p.hook
		p.mu.Unlock()
		if hook != nil && hook(w, r, n) {
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	p.host = strings.TrimPrefix(srv.URL, "http://")
	return p
}

func (p *proxy) count(kind string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.hits[kind]
}

func (p *proxy) reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hits, p.seen = map[string]int{}, map[string]int{}
}

var anon = Registry{Access: vimage.Access{Insecure: true}}

func localKinds(t *testing.T, dir string) []string {
	t.Helper()
	idx, err := vulndb.ReadIndex(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range idx.Parts {
		if p.Local {
			out = append(out, p.PartKey.String())
		}
	}
	slices.Sort(out)
	return out
}

// TestPushUpdateCycle publishes two versions and follows them with a
// client that scans an Alpine image with a Node application.
func TestPushUpdateCycle(t *testing.T) {
	reg := regtest.Start(t, regtest.Options{})
	px := startProxy(t, reg.Host)
	ctx := context.Background()
	v1dir, v2dir := filepath.Join(t.TempDir(), "v1"), filepath.Join(t.TempDir(), "v2")
	makeDB(t, v1dir, 1, time.Now().Add(24*time.Hour))
	makeDB(t, v2dir, 2, time.Now().Add(48*time.Hour))
	ref := px.host + "/vigil/db:2"
	pushed, err := Push(ctx, v1dir, ref, PushOptions{Registry: anon})
	if err != nil {
		t.Fatal(err)
	}
	if pushed.Reused != 0 || pushed.Deltas != 0 || pushed.Uploaded == 0 {
		t.Errorf("first push: %+v", pushed)
	}

	client := DefaultDir(t.TempDir())
	need := Selection{Ecosystems: []string{"alpine:3.19", "npm"}}
	opts := UpdateOptions{Dir: client, Repositories: []string{px.host + "/missing/db:2", ref}, Need: need, Registry: anon}
	res, err := Update(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Updated || res.Repository != ref || res.Parts != 4 {
		t.Errorf("first update: %+v", res)
	}
	if got, want := localKinds(t, client), []string{"alpine:3.19", "epss", "kev", "npm"}; !slices.Equal(got, want) {
		t.Errorf("parts on disk %q, want %q", got, want)
	}
	full1 := open(t, v1dir)
	db := open(t, client)
	sameAnswers(t, full1, db, 1, "alpine:3.19", "npm")
	if _, err := db.Affected("debian:12", "openssl"); !errors.Is(err, vulndb.ErrMissingPart) {
		t.Errorf("lookup in a part not downloaded: %v, want ErrMissingPart", err)
	}
	if p := db.Metadata().Provenance; p == nil || p.Kind != vulndb.ProvenancePulled || p.Repository != ref || p.Manifest != res.Manifest {
		t.Errorf("provenance %+v", p)
	}
	if s := db.Metadata().Sources; len(s) != 1 || s[0].Base != "v1" {
		t.Errorf("sources %+v", s)
	}

	// Fresh: no request at all.
	px.reset()
	res, err = Update(ctx, opts)
	if err != nil || res.Skipped != "fresh" || px.count("manifest")+px.count("blob")+px.count("other") != 0 {
		t.Errorf("fresh database: %+v, %v; %v requests", res, err, px.hits)
	}
	// Asked explicitly: one manifest request, nothing downloaded.
	opts.Repositories = []string{ref}
	opts.Check = true
	res, err = Update(ctx, opts)
	if err != nil || res.Updated || px.count("manifest") != 1 || px.count("blob") != 0 {
		t.Errorf("check of an unchanged repository: %+v, %v; requests %v", res, err, px.hits)
	}

	// Version 2 changes only npm: the push reuses the other blobs and
	// publishes a delta, and the client fetches only that.
	pushed, err = Push(ctx, v2dir, ref, PushOptions{Registry: anon})
	if err != nil {
		t.Fatal(err)
	}
	if pushed.Uploaded != 1 || pushed.Deltas != 1 {
		t.Errorf("second push: %+v, want one part and one delta uploaded", pushed)
	}
	px.reset()
	res, err = Update(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Updated || res.Parts != 0 || res.Deltas != 1 || px.count("blob") != 2 { // the delta and the config
		t.Errorf("update to version 2: %+v; requests %v", res, px.hits)
	}
	db2 := open(t, client)
	sameAnswers(t, open(t, v2dir), db2, 2, "alpine:3.19", "npm")
	if v, _, _ := db2.Vulnerability("GHSA-dddd-eeee-ffff"); v == nil || v.Title != "minimist prototype pollution" {
		t.Errorf("changed record: %+v", v)
	}

	// A client that asks for more later gets it; a full update then
	// holds every part, which db push needs.
	opts.Need = Selection{All: true}
	if _, err := Update(ctx, opts); err != nil {
		t.Fatal(err)
	}
	idx, _ := vulndb.ReadIndex(client)
	if !idx.Complete() {
		t.Errorf("update --all left parts out: %+v", idx.Parts)
	}
	sameAnswers(t, open(t, v2dir), open(t, client), 2, "alpine:3.19", "npm", "debian:12", "PyPI")
	shown, ok, err := open(t, client).Show("CVE-2024-9999")
	if err != nil || !ok || len(shown.Vulnerabilities) != 1 {
		t.Errorf("Show of a record no package names: %+v %v %v", shown, ok, err)
	}
}

// TestDeltaChain: a client two versions behind updates from two deltas.
func TestDeltaChain(t *testing.T) {
	reg := regtest.Start(t, regtest.Options{})
	ctx := context.Background()
	ref := reg.Host + "/vigil/db:2"
	client := DefaultDir(t.TempDir())
	opts := UpdateOptions{Dir: client, Repositories: []string{ref}, Need: Selection{Ecosystems: []string{"npm"}}, Check: true, Registry: anon}
	dirs := make([]string, 4)
	for v := 1; v <= 3; v++ {
		dirs[v] = filepath.Join(t.TempDir(), fmt.Sprint("v", v))
		makeDB(t, dirs[v], min(v, 2), time.Now().Add(time.Hour))
		if v == 3 { // a third version: one more npm change
			w, _ := vulndb.NewWriter(dirs[v])
			aff, vulns := fixture(2)
			for _, x := range vulns {
				w.PutVulnerability(ctx, x)
			}
			for _, a := range aff {
				if a.Package == "minimist" {
					a.Fixed = append(a.Fixed, "1.2.7")
				}
				w.PutAffected(ctx, a)
			}
			if err := w.Commit(ctx, vulndb.Metadata{BuiltAt: time.Now().UTC().Truncate(time.Second), NextUpdate: time.Now().Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := Push(ctx, dirs[v], ref, PushOptions{Registry: anon}); err != nil {
			t.Fatal(err)
		}
		if v == 1 {
			if _, err := Update(ctx, opts); err != nil {
				t.Fatal(err)
			}
		}
	}
	res, err := Update(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Deltas != 2 || res.Parts != 0 {
		t.Errorf("two versions behind: %+v, want two deltas", res)
	}
	got, _ := open(t, client).Affected("npm", "minimist")
	if len(got) != 1 || !slices.Contains(got[0].Fixed, "1.2.7") {
		t.Errorf("minimist after the chain: %+v", got)
	}
}

// TestBadBlobRejected: a blob that arrives corrupted is rejected and
// downloaded again; one that stays corrupted fails the update and leaves
// the previous database as it was.
func TestBadBlobRejected(t *testing.T) {
	reg := regtest.Start(t, regtest.Options{})
	px := startProxy(t, reg.Host)
	ctx := context.Background()
	ref := px.host + "/vigil/db:2"
	src := publish(t, ref, 1, time.Now().Add(time.Hour))
	// Each blob's first download has one byte flipped.
	px.hook = func(w http.ResponseWriter, r *http.Request, n int) bool {
		if !strings.Contains(r.URL.Path, "/blobs/") || r.Method != http.MethodGet || n > 1 {
			return false
		}
		rec := httptest.NewRecorder()
		u, _ := url.Parse("http://" + reg.Host)
		httputil.NewSingleHostReverseProxy(u).ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		if len(body) > 8 {
			body[len(body)/2] ^= 0x55
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		w.Write(body)
		return true
	}
	var logs bytes.Buffer
	client := DefaultDir(t.TempDir())
	opts := UpdateOptions{Dir: client, Repositories: []string{ref}, Need: Selection{All: true},
		Registry: Registry{Access: vimage.Access{Insecure: true}, Logger: slog.New(slog.NewTextHandler(&logs, nil))}}
	res, err := Update(ctx, opts)
	if err != nil {
		t.Fatalf("update with blobs corrupted once: %v", err)
	}
	if !strings.Contains(logs.String(), "part rejected") {
		t.Errorf("no warning about the rejected parts:\n%s", logs.String())
	}
	sameAnswers(t, open(t, src), open(t, client), 1, "alpine:3.19", "npm", "debian:12", "PyPI")
	_ = res

	// Now corrupt every download of the new version's blobs.
	px.hook = nil
	publish(t, ref, 2, time.Now().Add(time.Hour))
	before, _ := os.ReadFile(filepath.Join(client, vulndb.IndexFileName))
	blobs, _ := filepath.Glob(filepath.Join(reg.Storage, "docker/registry/v2/blobs/sha256/*/*/data"))
	for _, b := range blobs {
		data, _ := os.ReadFile(b)
		if len(data) > 4 && bytes.Equal(data[:4], []byte{0x28, 0xb5, 0x2f, 0xfd}) { // zstd: parts and deltas
			data[len(data)/2] ^= 0xff
			os.WriteFile(b, data, 0o644)
		}
	}
	opts.Check = true
	_, err = Update(ctx, opts)
	if err == nil {
		t.Fatal("update from corrupted blobs succeeded")
	}
	if !strings.Contains(err.Error(), "digest mismatch") && !strings.Contains(err.Error(), "checksum") {
		t.Errorf("error does not say the digest is wrong: %v", err)
	}
	after, _ := os.ReadFile(filepath.Join(client, vulndb.IndexFileName))
	if !bytes.Equal(before, after) {
		t.Error("failed update changed the index")
	}
	sameAnswers(t, open(t, src), open(t, client), 1, "alpine:3.19", "npm", "debian:12", "PyPI")
	assertNoTemp(t, client)
}

func assertNoTemp(t *testing.T, dir string) {
	t.Helper()
	for _, d := range []string{dir, filepath.Join(dir, vulndb.PartsDirName)} {
		entries, _ := os.ReadDir(d)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".tmp-") {
				t.Errorf("temporary file left behind: %s", filepath.Join(d, e.Name()))
			}
		}
	}
}

// TestRateLimit: a 429 with a short Retry-After is waited out; one with a
// long Retry-After moves on to the next repository at once, and says why.
func TestRateLimit(t *testing.T) {
	reg := regtest.Start(t, regtest.Options{})
	px := startProxy(t, reg.Host)
	ctx := context.Background()
	publish(t, reg.Host+"/vigil/db:2", 1, time.Now().Add(time.Hour))
	limited := px.host + "/vigil/db:2"
	retryAfter := "1"
	px.hook = func(w http.ResponseWriter, r *http.Request, n int) bool {
		if strings.Contains(r.URL.Path, "/manifests/") && n == 1 {
			w.Header().Set("Retry-After", retryAfter)
			http.Error(w, "slow down", http.StatusTooManyRequests)
			return true
		}
		return false
	}
	client := DefaultDir(t.TempDir())
	start := time.Now()
	res, err := Update(ctx, UpdateOptions{Dir: client, Repositories: []string{limited}, Need: Selection{All: true}, Registry: anon})
	if err != nil || !res.Updated {
		t.Fatalf("update after a short Retry-After: %+v, %v", res, err)
	}
	if d := time.Since(start); d < time.Second {
		t.Errorf("Retry-After: 1 not honoured: done in %s", d)
	}

	px.reset()
	retryAfter = "3600"
	client = DefaultDir(t.TempDir())
	res, err = Update(ctx, UpdateOptions{Dir: client, Repositories: []string{limited}, Need: Selection{All: true}, Registry: anon})
	if err == nil {
		t.Fatal("update from a registry asking for an hour succeeded")
	}
	if !strings.Contains(err.Error(), "429") || !strings.Contains(err.Error(), "retry after 1h0m0s") {
		t.Errorf("unclear rate-limit error: %v", err)
	}
	if n := px.count("manifest"); n != 1 {
		t.Errorf("%d manifest requests to the rate-limited registry, want 1", n)
	}
	px.reset()
	res, err = Update(ctx, UpdateOptions{Dir: client, Repositories: []string{limited, reg.Host + "/vigil/db:2"}, Need: Selection{All: true}, Registry: anon})
	if err != nil || res.Repository != reg.Host+"/vigil/db:2" {
		t.Errorf("mirror after a rate limit: %+v, %v", res, err)
	}
}

// TestBuiltNotReplaced: a database built locally is left alone by scans
// unless a repository was named; db update replaces it.
func TestBuiltNotReplaced(t *testing.T) {
	reg := regtest.Start(t, regtest.Options{})
	ctx := context.Background()
	ref := reg.Host + "/vigil/db:2"
	publish(t, ref, 2, time.Now().Add(time.Hour))
	client := DefaultDir(t.TempDir())
	makeDB(t, client, 1, time.Now().Add(-time.Hour)) // built here, stale
	opts := UpdateOptions{Dir: client, Repositories: []string{ref}, Need: Selection{Ecosystems: []string{"npm"}}, Registry: anon}
	res, err := Update(ctx, opts)
	if err != nil || res.Skipped != "built locally" {
		t.Fatalf("scan refresh of a built database: %+v, %v", res, err)
	}
	if p := open(t, client).Metadata().Provenance; p.Kind != vulndb.ProvenanceBuilt {
		t.Errorf("provenance %+v", p)
	}
	opts.ReplaceBuilt = true
	res, err = Update(ctx, opts)
	if err != nil || !res.Updated {
		t.Fatalf("asked replacement: %+v, %v", res, err)
	}
	if got, want := localKinds(t, client), []string{"epss", "kev", "npm"}; !slices.Equal(got, want) {
		t.Errorf("parts on disk %q, want %q", got, want)
	}
	if v, _, _ := open(t, client).Vulnerability("GHSA-dddd-eeee-ffff"); v.Title != "minimist prototype pollution" {
		t.Errorf("not the published version: %+v", v)
	}
}

// TestInterruptedUpdate cuts an update in the middle of a blob: the old
// database stays usable, and the next update does not fetch again the
// parts that were complete.
func TestInterruptedUpdate(t *testing.T) {
	reg := regtest.Start(t, regtest.Options{})
	px := startProxy(t, reg.Host)
	ctx := context.Background()
	v1, v2 := filepath.Join(t.TempDir(), "v1"), filepath.Join(t.TempDir(), "v2")
	makeDB(t, v1, 1, time.Now().Add(time.Hour))
	makeDB(t, v2, 2, time.Now().Add(time.Hour))
	ref := px.host + "/vigil/db:2"
	if _, err := Push(ctx, v1, ref, PushOptions{Registry: anon}); err != nil {
		t.Fatal(err)
	}
	client := DefaultDir(t.TempDir())
	opts := UpdateOptions{Dir: client, Repositories: []string{ref}, Need: Selection{Ecosystems: []string{"npm"}}, Registry: anon, Parallel: 1}
	if _, err := Update(ctx, opts); err != nil {
		t.Fatal(err)
	}
	// Version 2 as full parts (no delta: a fresh repository).
	ref2 := px.host + "/vigil/db2:2"
	if _, err := Push(ctx, v2, ref2, PushOptions{Registry: anon}); err != nil {
		t.Fatal(err)
	}
	opts.Repositories = []string{ref2}
	opts.Check = true
	opts.Need = Selection{All: true}
	// The third blob stalls half-way.
	blobs := 0
	px.hook = func(w http.ResponseWriter, r *http.Request, n int) bool {
		if !strings.Contains(r.URL.Path, "/blobs/") || r.Method != http.MethodGet {
			return false
		}
		px.mu.Lock()
		blobs++
		b := blobs
		px.mu.Unlock()
		if b != 3 {
			return false
		}
		rec := httptest.NewRecorder()
		u, _ := url.Parse("http://" + reg.Host)
		httputil.NewSingleHostReverseProxy(u).ServeHTTP(rec, r)
		w.Header().Set("Content-Length", fmt.Sprint(rec.Body.Len()))
		w.WriteHeader(http.StatusOK)
		w.Write(rec.Body.Bytes()[:rec.Body.Len()/2])
		w.(http.Flusher).Flush()
		<-r.Context().Done()
		return true
	}
	opts.StallTimeout = 500 * time.Millisecond
	_, err := Update(ctx, opts)
	if err == nil {
		t.Fatal("update through a stalled transfer succeeded")
	}
	if !strings.Contains(err.Error(), "stalled") {
		t.Errorf("error does not say the transfer stalled: %v", err)
	}
	sameAnswers(t, open(t, v1), open(t, client), 1, "npm")
	assertNoTemp(t, client)
	px.hook = nil
	px.reset()
	res, err := Update(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	// Five parts were to download (epss and kev did not change and were
	// on disk); two were complete before the stall.
	if res.Parts != 3 {
		t.Errorf("resumed update downloaded %d parts, want 3", res.Parts)
	}
	sameAnswers(t, open(t, v2), open(t, client), 2, "alpine:3.19", "npm", "debian:12", "PyPI")
}

func TestPushUpdateWithAuth(t *testing.T) {
	reg := regtest.Start(t, regtest.Options{User: "vigil", Password: "s3cret"})
	ctx := context.Background()
	src := filepath.Join(t.TempDir(), "db")
	makeDB(t, src, 1, time.Now().Add(24*time.Hour))
	ref := reg.Host + "/private/db:2"
	if _, err := Push(ctx, src, ref, PushOptions{Registry: anon}); err == nil {
		t.Fatal("anonymous push to an authenticated registry succeeded")
	}
	good := Registry{Access: vimage.Access{Insecure: true, Auth: authn.FromConfig(authn.AuthConfig{Username: "vigil", Password: "s3cret"})}}
	if _, err := Push(ctx, src, ref, PushOptions{Registry: good}); err != nil {
		t.Fatal(err)
	}
	local := DefaultDir(t.TempDir())
	_, err := Update(ctx, UpdateOptions{Dir: local, Repositories: []string{ref}, Need: Selection{All: true}, Registry: anon})
	if err == nil {
		t.Fatal("anonymous pull succeeded")
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("the password is in the error: %v", err)
	}
	if _, err := vulndb.ReadIndex(local); err == nil {
		t.Fatal("failed update created a database")
	}
	res, err := Update(ctx, UpdateOptions{Dir: local, Repositories: []string{ref}, Need: Selection{All: true}, Registry: good})
	if err != nil || !res.Updated {
		t.Fatalf("authenticated update: %+v, %v", res, err)
	}
	sameAnswers(t, open(t, src), open(t, local), 1, "alpine:3.19", "npm", "debian:12", "PyPI")
}

// TestPushIncomplete: a database pulled for a scan cannot be pushed.
func TestPushIncomplete(t *testing.T) {
	reg := regtest.Start(t, regtest.Options{})
	ctx := context.Background()
	ref := reg.Host + "/vigil/db:2"
	publish(t, ref, 1, time.Now().Add(time.Hour))
	client := DefaultDir(t.TempDir())
	if _, err := Update(ctx, UpdateOptions{Dir: client, Repositories: []string{ref}, Need: Selection{Ecosystems: []string{"npm"}}, Registry: anon}); err != nil {
		t.Fatal(err)
	}
	_, err := Push(ctx, client, reg.Host+"/mirror/db:2", PushOptions{Registry: anon})
	if err == nil || !strings.Contains(err.Error(), "lacks") {
		t.Errorf("push of a partial database: %v", err)
	}
}

// TestRepairMissingPart: a part file removed from under a fresh database
// is fetched again by the next scan's refresh instead of failing it.
func TestRepairMissingPart(t *testing.T) {
	reg := regtest.Start(t, regtest.Options{})
	ctx := context.Background()
	ref := reg.Host + "/vigil/db:2"
	src := publish(t, ref, 1, time.Now().Add(time.Hour))
	client := DefaultDir(t.TempDir())
	opts := UpdateOptions{Dir: client, Repositories: []string{ref}, Need: Selection{Ecosystems: []string{"npm"}}, Registry: anon}
	if _, err := Update(ctx, opts); err != nil {
		t.Fatal(err)
	}
	idx, _ := vulndb.ReadIndex(client)
	for _, p := range idx.Parts {
		if p.Ecosystem == "npm" {
			os.Remove(vulndb.PartPath(client, p.Content))
		}
	}
	if _, err := vulndb.Open(client); err == nil {
		t.Fatal("Open with a part file missing succeeded")
	}
	res, err := Update(ctx, opts)
	if err != nil || res.Parts != 1 {
		t.Fatalf("repair: %+v, %v", res, err)
	}
	sameAnswers(t, open(t, src), open(t, client), 1, "npm")
}
