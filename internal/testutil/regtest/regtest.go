// Package regtest runs a real container registry (Debian's docker-registry,
// the CNCF distribution registry) for tests, pushes small Alpine images to
// it and writes small vulnerability databases about them.
package regtest

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
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
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	ggcr "github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/vigil-scanner/vigil/internal/testutil"
	"github.com/vigil-scanner/vigil/vulndb"
)

// Registry is a running docker-registry.
type Registry struct {
	// Host is 127.0.0.1:port.
	Host string
	// Storage is the registry's filesystem storage root (blobs under
	// docker/registry/v2/blobs), for tests that damage what it serves.
	Storage string
	// Proxy, when started with Options.Proxy, is a counting proxy in front
	// of the registry; its host is ProxyHost.
	ProxyHost string
	// Requests counts the requests through the proxy by "METHOD kind",
	// kind being ping, catalog, tags, manifest or blob.
	requests [5][3]atomic.Int64
	// Fail429, when positive, makes the proxy answer that many requests
	// 429 with Retry-After: 1.
	Fail429 atomic.Int64
	// FailBlobs makes the proxy refuse blob downloads (403).
	FailBlobs atomic.Bool
	// SlowBlobs delays each blob download by this many milliseconds.
	SlowBlobs atomic.Int64
}

// Options configure a registry.
type Options struct {
	// Notify is a URL the registry sends its notifications to.
	Notify string
	// NotifyHeaders are sent with each notification.
	NotifyHeaders map[string]string
	// Proxy starts a counting, fault-injecting proxy in front.
	Proxy bool
	// User and Password, when set, make the registry require htpasswd
	// basic authentication.
	User, Password string
}

// Start runs a registry until the test ends.
func Start(t testing.TB, opts Options) *Registry {
	t.Helper()
	bin := testutil.RequireTool(t, "docker-registry")
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	config := fmt.Sprintf("version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\nhttp:\n  addr: %s\n",
		filepath.Join(dir, "storage"), addr)
	if opts.User != "" {
		htpasswd := testutil.RequireTool(t, "htpasswd")
		file := filepath.Join(dir, "htpasswd")
		if out, err := exec.Command(htpasswd, "-Bbc", file, opts.User, opts.Password).CombinedOutput(); err != nil {
			t.Fatalf("htpasswd: %v\n%s", err, out)
		}
		config += fmt.Sprintf("auth:\n  htpasswd:\n    realm: vigil-test\n    path: %s\n", file)
	}
	if opts.Notify != "" {
		// As docs/server.md configures it: blob pushes are not sent.
		config += fmt.Sprintf("notifications:\n  endpoints:\n    - name: vigil\n      url: %s\n      timeout: 2s\n      threshold: 3\n      backoff: 1s\n      ignoredmediatypes: [application/octet-stream]\n", opts.Notify)
		if len(opts.NotifyHeaders) > 0 {
			config += "      headers:\n"
			for k, v := range opts.NotifyHeaders {
				config += fmt.Sprintf("        %s: [%q]\n", k, v)
			}
		}
	}
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
	reg := &Registry{Host: addr, Storage: filepath.Join(dir, "storage")}
	if opts.Proxy {
		proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: addr})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			reg.requests[kindOf(r.URL.Path)][methodOf(r.Method)].Add(1)
			if reg.Fail429.Load() > 0 && reg.Fail429.Add(-1) >= 0 {
				w.Header().Set("Retry-After", "1")
				http.Error(w, `{"errors":[{"code":"TOOMANYREQUESTS"}]}`, http.StatusTooManyRequests)
				return
			}
			if strings.Contains(r.URL.Path, "/blobs/") {
				if reg.FailBlobs.Load() {
					http.Error(w, "denied", http.StatusForbidden)
					return
				}
				if d := reg.SlowBlobs.Load(); d > 0 {
					time.Sleep(time.Duration(d) * time.Millisecond)
				}
			}
			proxy.ServeHTTP(w, r)
		}))
		t.Cleanup(srv.Close)
		reg.ProxyHost = strings.TrimPrefix(srv.URL, "http://")
	}
	return reg
}

// Request kinds counted by the proxy.
const (
	Ping = iota
	Catalog
	Tags
	Manifest
	Blob
)

func kindOf(p string) int {
	switch {
	case p == "/v2/" || p == "/v2":
		return Ping
	case strings.HasSuffix(p, "/_catalog"):
		return Catalog
	case strings.HasSuffix(p, "/tags/list"):
		return Tags
	case strings.Contains(p, "/manifests/"):
		return Manifest
	}
	return Blob
}

func methodOf(m string) int {
	switch m {
	case http.MethodHead:
		return 1
	case http.MethodGet:
		return 0
	}
	return 2
}

// Count returns the number of proxied requests of a kind: GETs, HEADs.
func (r *Registry) Count(kind int) (get, head int64) {
	return r.requests[kind][0].Load(), r.requests[kind][1].Load()
}

// ResetCounts zeroes the request counts.
func (r *Registry) ResetCounts() {
	for i := range r.requests {
		for j := range r.requests[i] {
			r.requests[i][j].Store(0)
		}
	}
}

// Push writes an Alpine 3.19 image whose apk database lists pkgs ("name
// version origin") as repo:tag, with extra, when given, as a second
// layer's file contents (to make distinct images). It returns the manifest
// digest.
func (r *Registry) Push(t testing.TB, repoTag string, pkgs []string, extra ...string) string {
	t.Helper()
	return r.PushImage(t, repoTag, Image(t, pkgs, extra...))
}

// PushImage writes img as repo:tag and returns its manifest digest.
func (r *Registry) PushImage(t testing.TB, repoTag string, img v1.Image) string {
	t.Helper()
	ref, err := name.NewTag(r.Host+"/"+repoTag, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := ggcr.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d.String()
}

// Base is the base layer every pushed image shares.
func Base(t testing.TB) v1.Layer {
	return Layer(t, map[string]string{
		"etc/os-release":     "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.19.1\n",
		"etc/alpine-release": "3.19.1\n",
	})
}

// Image builds an Alpine image: the shared base layer and a layer with
// the apk database (and extra files "path=content").
func Image(t testing.TB, pkgs []string, extra ...string) v1.Image {
	t.Helper()
	var apk strings.Builder
	for _, p := range pkgs {
		f := strings.Fields(p)
		fmt.Fprintf(&apk, "P:%s\nV:%s\nA:x86_64\no:%s\nm:Natanael Copa <ncopa@alpinelinux.org>\n\n", f[0], f[1], f[2])
	}
	files := map[string]string{"lib/apk/db/installed": apk.String()}
	for _, e := range extra {
		k, v, _ := strings.Cut(e, "=")
		files[k] = v
	}
	base, top := Base(t), Layer(t, files)
	img, err := mutate.AppendLayers(empty.Image, base, top)
	if err != nil {
		t.Fatal(err)
	}
	d1, _ := base.DiffID()
	d2, _ := top.DiffID()
	img, err = mutate.ConfigFile(img, &v1.ConfigFile{OS: "linux", Architecture: "amd64", Created: v1.Time{Time: time.Now().UTC().Truncate(time.Second)},
		RootFS: v1.RootFS{Type: "layers", DiffIDs: []v1.Hash{d1, d2}}})
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// Layer builds a layer of regular files (path → contents), written in
// path order with mode 0644 and the epoch as their time.
func Layer(t testing.TB, files map[string]string) v1.Layer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, n := range slices.Sorted(maps.Keys(files)) {
		body := files[n]
		if err := tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0)}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(body))
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// Record is an alpine:3.19 advisory: ID affects the origin Pkg below
// Fixed.
type Record struct{ ID, Pkg, Fixed, Severity string }

// WriteDB writes a database of records into the database directory dir
// (replacing what it held atomically, as `vigil db build` does).
func WriteDB(t testing.TB, dir string, records ...Record) {
	t.Helper()
	w, err := vulndb.NewWriter(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, r := range records {
		if err := w.PutVulnerability(ctx, vulndb.Vulnerability{ID: r.ID, Title: "title of " + r.ID}); err != nil {
			t.Fatal(err)
		}
		if err := w.PutAffected(ctx, vulndb.Affected{VulnID: r.ID, Source: "alpine", Ecosystem: "alpine:3.19", Package: r.Pkg,
			Status: vulndb.StatusFixed, Severity: r.Severity, Fixed: []string{r.Fixed},
			Ranges: []vulndb.Range{{Scheme: vulndb.SchemeAPK, Events: []vulndb.Event{{Introduced: "0"}, {Fixed: r.Fixed}}}}}); err != nil {
			t.Fatal(err)
		}
	}
	built := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	if err := w.Commit(ctx, vulndb.Metadata{BuiltAt: built, NextUpdate: built.Add(24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
}

// PushIndex writes a multi-platform index as repo:tag with one image per
// platform ("linux/amd64" → packages). It returns the index digest and
// each platform's image digest.
func (r *Registry) PushIndex(t testing.TB, repoTag string, images map[string][]string) (string, map[string]string) {
	t.Helper()
	var adds []mutate.IndexAddendum
	digests := map[string]string{}
	for platform, pkgs := range images {
		p, err := v1.ParsePlatform(platform)
		if err != nil {
			t.Fatal(err)
		}
		img := Image(t, pkgs, "etc/platform="+platform)
		cfg, _ := img.ConfigFile()
		cfg = cfg.DeepCopy()
		cfg.OS, cfg.Architecture, cfg.Variant = p.OS, p.Architecture, p.Variant
		if img, err = mutate.ConfigFile(img, cfg); err != nil {
			t.Fatal(err)
		}
		d, _ := img.Digest()
		digests[platform] = d.String()
		adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: p}})
	}
	idx := mutate.AppendManifests(empty.Index, adds...)
	ref, err := name.NewTag(r.Host+"/"+repoTag, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := ggcr.WriteIndex(ref, idx); err != nil {
		t.Fatal(err)
	}
	d, _ := idx.Digest()
	return d.String(), digests
}
