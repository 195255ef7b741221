package oci

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	vimage "github.com/vigil-scanner/vigil/image/remote"
	"github.com/vigil-scanner/vigil/internal/testutil"
	"github.com/vigil-scanner/vigil/vulndb"
)

// registry is a docker-registry (distribution) process serving from a
// temporary directory.
type registry struct {
	host    string // 127.0.0.1:port
	storage string
}

// startRegistry runs /usr/bin/docker-registry; with user set it requires
// htpasswd basic auth.
func startRegistry(t *testing.T, user, password string) registry {
	t.Helper()
	bin := testutil.RequireTool(t, "docker-registry")
	dir := t.TempDir()
	storage := filepath.Join(dir, "storage")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	auth := ""
	if user != "" {
		htpasswd := testutil.RequireTool(t, "htpasswd")
		file := filepath.Join(dir, "htpasswd")
		if out, err := exec.Command(htpasswd, "-Bbc", file, user, password).CombinedOutput(); err != nil {
			t.Fatalf("htpasswd: %v\n%s", err, out)
		}
		auth = fmt.Sprintf("auth:\n  htpasswd:\n    realm: vigil-test\n    path: %s\n", file)
	}
	config := fmt.Sprintf("version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n%s", storage, addr, auth)
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
	deadline := time.Now().Add(15 * time.Second)
	for {
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
	return registry{host: addr, storage: storage}
}

// makeDB writes a small database whose NextUpdate is next and whose one
// vulnerability is titled title.
func makeDB(t *testing.T, path, title string, next time.Time) {
	t.Helper()
	w, err := vulndb.NewWriter(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := w.PutVulnerability(ctx, vulndb.Vulnerability{ID: "CVE-2024-0001", Title: title}); err != nil {
		t.Fatal(err)
	}
	if err := w.PutAffected(ctx, vulndb.Affected{VulnID: "CVE-2024-0001", Source: "test", Ecosystem: "npm", Package: "x",
		Ranges: []vulndb.Range{{Scheme: "npm", Events: []vulndb.Event{{Introduced: "0"}, {Fixed: "1.0.0"}}}}, Status: vulndb.StatusFixed}); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(ctx, vulndb.Metadata{BuiltAt: time.Now().UTC().Truncate(time.Second), NextUpdate: next}); err != nil {
		t.Fatal(err)
	}
}

func title(t *testing.T, path string) string {
	t.Helper()
	db, err := vulndb.Open(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer db.Close()
	v, ok, err := db.Vulnerability("CVE-2024-0001")
	if err != nil || !ok {
		t.Fatalf("vulnerability: %v %v", ok, err)
	}
	return v.Title
}

func TestPushUpdateCycle(t *testing.T) {
	reg := startRegistry(t, "", "")
	ctx := context.Background()
	src := filepath.Join(t.TempDir(), DBFileName)
	makeDB(t, src, "published", time.Now().Add(24*time.Hour))
	ref := reg.host + "/vigil/db:1"
	if _, err := Push(ctx, src, ref, vimage.Access{Insecure: true}); err != nil {
		t.Fatal(err)
	}

	local := DefaultPath(t.TempDir())
	os.MkdirAll(filepath.Dir(local), 0o755)
	makeDB(t, local, "stale", time.Now().Add(-time.Hour))
	opts := UpdateOptions{Path: local, Repositories: []string{reg.host + "/missing/db:1", ref}, Registry: vimage.Access{Insecure: true}}

	res, err := Update(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Updated || res.Repository != ref || title(t, local) != "published" {
		t.Fatalf("stale database not replaced: %+v, title %q", res, title(t, local))
	}
	res, err = Update(ctx, opts)
	if err != nil || res.Updated {
		t.Fatalf("fresh database re-downloaded: %+v, %v", res, err)
	}
	if _, err := EnsureFresh(ctx, opts, true); err != nil {
		t.Errorf("EnsureFresh(skip): %v", err)
	}

	// Tamper with the stored blob: an update must fail and keep the old DB.
	blobs, _ := filepath.Glob(filepath.Join(reg.storage, "docker/registry/v2/blobs/sha256/*/*/data"))
	corrupted := 0
	for _, b := range blobs {
		data, _ := os.ReadFile(b)
		if len(data) > 4 && bytes.Equal(data[:4], []byte{0x28, 0xb5, 0x2f, 0xfd}) { // zstd magic: the DB layer
			data[len(data)/2] ^= 0xff
			os.WriteFile(b, data, 0o644)
			corrupted++
		}
	}
	if corrupted != 1 {
		t.Fatalf("corrupted %d blobs, want 1", corrupted)
	}
	makeDB(t, local, "old", time.Now().Add(-time.Hour))
	opts.Repositories = []string{ref}
	_, err = Update(ctx, opts)
	if err == nil {
		t.Fatal("update from a corrupted blob succeeded")
	}
	if !strings.Contains(err.Error(), "checksum") && !strings.Contains(err.Error(), "digest mismatch") {
		t.Errorf("error does not say the digest is wrong: %v", err)
	}
	if got := title(t, local); got != "old" {
		t.Errorf("old database replaced after a failed update: title %q", got)
	}
	leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(local), ".vigil-db-*"))
	if len(leftovers) > 0 {
		t.Errorf("temporary files left behind: %v", leftovers)
	}
}

func TestPushUpdateWithAuth(t *testing.T) {
	reg := startRegistry(t, "vigil", "s3cret")
	ctx := context.Background()
	src := filepath.Join(t.TempDir(), DBFileName)
	makeDB(t, src, "authed", time.Now().Add(24*time.Hour))
	ref := reg.host + "/private/db:1"
	none := vimage.Access{Insecure: true}
	if _, err := Push(ctx, src, ref, none); err == nil {
		t.Fatal("anonymous push to an authenticated registry succeeded")
	}
	good := vimage.Access{Insecure: true, Auth: vimage.Basic("vigil", "s3cret")}
	if _, err := Push(ctx, src, ref, good); err != nil {
		t.Fatal(err)
	}
	local := filepath.Join(t.TempDir(), DBFileName)
	if _, err := Update(ctx, UpdateOptions{Path: local, Repositories: []string{ref}, Registry: none}); err == nil {
		t.Fatal("anonymous pull succeeded")
	}
	if _, err := os.Stat(local); err == nil {
		t.Fatal("failed update created a database file")
	}
	res, err := Update(ctx, UpdateOptions{Path: local, Repositories: []string{ref}, Registry: good})
	if err != nil || !res.Updated || title(t, local) != "authed" {
		t.Fatalf("authenticated update: %+v, %v", res, err)
	}
}
