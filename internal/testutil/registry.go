package testutil

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Registry is a Debian docker-registry (CNCF distribution) process serving
// from a temporary directory, stopped when the test ends.
type Registry struct {
	Host    string // 127.0.0.1:port
	Storage string // the filesystem storage root
}

// StartRegistry runs /usr/bin/docker-registry; with user set it requires
// htpasswd basic auth. The test is skipped when the registry is not
// installed (failed under CI, see RequireTool).
func StartRegistry(t testing.TB, user, password string) Registry {
	t.Helper()
	bin := RequireTool(t, "docker-registry")
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
		htpasswd := RequireTool(t, "htpasswd")
		file := filepath.Join(dir, "htpasswd")
		if out, err := exec.Command(htpasswd, "-Bbc", file, user, password).CombinedOutput(); err != nil {
			t.Fatalf("htpasswd: %v\n%s", err, out)
		}
		auth = fmt.Sprintf("auth:\n  htpasswd:\n    realm: vigil-test\n    path: %s\n", file)
	}
	config := fmt.Sprintf("version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\nhttp:\n  addr: %s\n%s", storage, addr, auth)
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
	return Registry{Host: addr, Storage: storage}
}
