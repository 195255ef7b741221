package server_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vigil-scanner/vigil/internal/cli"
	"github.com/vigil-scanner/vigil/internal/testutil/regtest"
	"github.com/vigil-scanner/vigil/server"
)

// TestClientMode checks that `vigil sbom --server URL` (the client mode
// every scanning command has) gives the same report and exit code as a
// local scan with the same database.
func TestClientMode(t *testing.T) {
	dir := t.TempDir()
	cache := filepath.Join(dir, "cache")
	regtest.WriteDB(t, filepath.Join(cache, "db"), regtest.Record{ID: "CVE-2024-0001", Pkg: "openssl", Fixed: "3.1.4-r5", Severity: "HIGH"})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	const token = "vgl_client-mode"
	cfg, err := server.ParseConfig("vigil.yaml", fmt.Appendf(nil, "listen: %s\nstore: sqlite://%s/s.db\ndatabase: {cacheDir: %s, skipUpdate: true}\ntokens: [{name: ci, scope: read, hash: %q}]\n",
		l.Addr(), dir, cache, server.HashToken(token)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s, err := server.New(ctx, cfg, server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, l) }()
	defer func() { cancel(); <-done; s.Close() }()

	inv := filepath.Join(dir, "inv.json")
	os.WriteFile(inv, []byte(`{"schemaVersion":1,"artifact":{"name":"app","type":"container_image","os":{"family":"alpine","name":"3.19.1"}},
"results":[{"target":"app (alpine 3.19.1)","class":"os-pkgs","type":"alpine","packages":[{"name":"libcrypto3","version":"3.1.4-r0","sourceName":"openssl"},{"name":"libssl3","version":"3.1.4_r0!","sourceName":"openssl"},{"name":"zlib","version":"1.3-r0"}]}],
"warnings":[{"path":"app/package-lock.json","message":"node: malformed lockfile"}]}`), 0o644)
	run := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := cli.Main(context.Background(), append([]string{"--cache-dir", filepath.Join(dir, "empty")}, args...), strings.NewReader(""), &out, &errb)
		return code, out.String(), errb.String()
	}
	wait(t, func() bool {
		c, _, _ := run("sbom", "--server", "http://"+l.Addr().String(), "--server-token", token, inv)
		return c != 2
	})

	stamp := regexp.MustCompile(`"createdAt": "[^"]*"`)
	for _, format := range []string{"json", "sarif", "table"} {
		rc, remote, errs := run("sbom", "--server", "http://"+l.Addr().String(), "--server-token", token, "--exit-code", "5", "--format", format, inv)
		lc, local, _ := run("--cache-dir", cache, "sbom", "--skip-db-update", "--exit-code", "5", "--format", format, inv)
		if rc != 5 || lc != 5 {
			t.Errorf("%s: exit codes: client mode %d (%s), local %d; want 5", format, rc, errs, lc)
		}
		if stamp.ReplaceAllString(remote, "") != stamp.ReplaceAllString(local, "") {
			t.Errorf("%s: client mode report differs from a local scan:\n%s\n--- local:\n%s", format, remote, local)
		}
		if !strings.Contains(remote, "CVE-2024-0001") {
			t.Errorf("%s: report lacks the finding:\n%s", format, remote)
		}
		// The inventory's warning and the server matcher's, once each.
		if !strings.Contains(errs, "vigil: scan incomplete: 2 warnings") {
			t.Errorf("%s: stderr %q does not say the scan is incomplete", format, errs)
		}
	}
	if code, _, errs := run("sbom", "--server", "http://"+l.Addr().String(), "--server-token", "wrong", inv); code != 2 || !strings.Contains(errs, "401") {
		t.Errorf("wrong token: exit %d, %s", code, errs)
	}
}

func wait(t *testing.T, cond func() bool) {
	t.Helper()
	for range 100 {
		if cond() {
			return
		}
		timeSleep()
	}
	t.Fatal("server not ready")
}

func timeSleep() { <-time.After(100 * time.Millisecond) }
