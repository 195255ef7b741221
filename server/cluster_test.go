package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-scanner/vigil/alert"
	"github.com/vigil-scanner/vigil/internal/cli"
	"github.com/vigil-scanner/vigil/internal/testutil/pgtest"
	"github.com/vigil-scanner/vigil/internal/testutil/regtest"
	"github.com/vigil-scanner/vigil/server"
)

// TestMain lets the test binary run as `vigil` in child processes, so the
// cluster test can kill a real server process with SIGKILL.
func TestMain(m *testing.M) {
	if os.Getenv("VIGIL_TEST_RUN_CLI") == "1" {
		os.Exit(cli.Main(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// keyReceiver records each delivered alert's idempotency key, answering
// slowly so that a server can be killed while delivering.
type keyReceiver struct {
	*httptest.Server
	mu       sync.Mutex
	keys     map[string]int
	messages int
}

func startKeyReceiver(t *testing.T, delay time.Duration) *keyReceiver {
	rc := &keyReceiver{keys: map[string]int{}}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var msg struct {
			Alerts []alert.Alert `json:"alerts"`
		}
		if err := json.NewDecoder(r.Body).Decode(&msg); err != nil {
			http.Error(w, "bad", 400)
			return
		}
		time.Sleep(delay)
		rc.mu.Lock()
		for _, a := range msg.Alerts {
			rc.keys[a.IdempotencyKey]++
		}
		rc.messages++
		rc.mu.Unlock()
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *keyReceiver) counts() (distinct, total int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, n := range rc.keys {
		distinct++
		total += n
	}
	return distinct, total
}

type proc struct {
	cmd  *exec.Cmd
	addr string
	logs *strings.Builder
}

// startServer runs `vigil server` as a child process.
func startServer(t *testing.T, name, config string) *proc {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	dir := t.TempDir()
	path := filepath.Join(dir, name+".yaml")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(config, "LISTEN", addr)), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "server", "--config", path)
	cmd.Env = append(os.Environ(), "VIGIL_TEST_RUN_CLI=1")
	logs := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = &syncWriter{b: logs}, &syncWriter{b: logs}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, addr: addr, logs: logs}
	t.Cleanup(func() { p.kill() })
	for end := time.Now().Add(20 * time.Second); ; {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(end) {
			t.Fatalf("%s did not become ready: %v\n%s", name, err, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return p
}

func (p *proc) kill() {
	if p.cmd.ProcessState == nil {
		p.cmd.Process.Signal(syscall.SIGKILL)
		p.cmd.Wait()
	}
}

type syncWriter struct {
	mu sync.Mutex
	b  *strings.Builder
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func status(t *testing.T, addr, token string) server.Status {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+addr+"/api/v1/status", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var st server.Status
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatalf("status: %v: %s", err, b)
	}
	return st
}

// TestClusterKill runs two servers on one PostgreSQL store, kills one with
// SIGKILL while it scans and delivers, and checks that every job is done
// and every alert delivered; then restarts everything and checks that
// nothing is lost or repeated.
func TestClusterKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL, a registry and three server processes")
	}
	dsn := pgtest.Start(t)
	reg := regtest.Start(t, regtest.Options{Proxy: true})
	const images = 12
	for i := range images {
		reg.Push(t, fmt.Sprintf("app%02d:1", i), []string{"libcrypto3 3.1.4-r0 openssl"}, fmt.Sprintf("etc/id=%d", i))
	}
	reg.SlowBlobs.Store(400) // scans take a while: kill mid-scan
	rc := startKeyReceiver(t, 400*time.Millisecond)
	const token = "vgl_cluster-test"
	config := func(cache string) string {
		regtest.WriteDB(t, filepath.Join(cache, "db"), regtest.Record{ID: "CVE-2024-0001", Pkg: "openssl", Fixed: "3.1.4-r5", Severity: "HIGH"})
		return fmt.Sprintf(`listen: LISTEN
store: %s
database: {cacheDir: %s, skipUpdate: true}
workers: 2
lease: 3s
registries:
  - url: %s
    insecure: true
    interval: 1h
alerts:
  - {type: webhook, name: hook, url: %s}
tokens:
  - {name: t, scope: admin, hash: %q}
`, dsn, cache, reg.ProxyHost, rc.URL, server.HashToken(token))
	}
	cfgA, cfgB := config(t.TempDir()), config(t.TempDir())
	a := startServer(t, "a", cfgA)
	b := startServer(t, "b", cfgB)

	// Kill A once some work is under way: scans running and a delivery
	// in flight.
	for end := time.Now().Add(30 * time.Second); ; {
		st := status(t, b.addr, token)
		// Some images scanned (so alerts are being delivered) and some
		// still to scan.
		if done := st.Jobs["scan/done"]; done >= 2 && done <= images-4 {
			break
		}
		if time.Now().After(end) {
			t.Fatalf("work never got under way: %+v\nA:\n%s\nB:\n%s", st, a.logs, b.logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	a.kill()
	t.Log("killed server A mid-scan")

	// Wait until every alert was delivered and recorded as sent: a
	// delivery the receiver has but B has not yet marked sent would be
	// sent again (with the same key) after B is killed below.
	for end := time.Now().Add(90 * time.Second); ; {
		if d, _ := rc.counts(); d == images && status(t, b.addr, token).Alerts["hook/sent"] == images {
			break
		}
		if time.Now().After(end) {
			d, n := rc.counts()
			t.Fatalf("%d of %d alerts delivered (%d deliveries) after the kill\nB:\n%s", d, images, n, b.logs)
		}
		time.Sleep(200 * time.Millisecond)
	}
	st := status(t, b.addr, token)
	if st.Jobs["scan/done"] != images || st.Jobs["scan/failed"] != 0 || st.Jobs["scan/queued"] != 0 || st.Alerts["hook/sent"] != images {
		t.Errorf("after the kill: jobs %v, alerts %v", st.Jobs, st.Alerts)
	}
	distinct, total := rc.counts()
	t.Logf("alerts: %d distinct, %d deliveries (a repeat carries the same idempotency key)", distinct, total)

	// Restart everything: nothing lost, nothing repeated.
	b.kill()
	a = startServer(t, "a2", cfgA)
	b = startServer(t, "b2", cfgB)
	time.Sleep(3 * time.Second)
	if d, n := rc.counts(); d != distinct || n != total {
		t.Errorf("after restarting: %d distinct alerts, %d deliveries; before %d, %d", d, n, distinct, total)
	}
	st = status(t, a.addr, token)
	if st.Jobs["scan/done"] != images || st.Alerts["hook/sent"] != images {
		t.Errorf("after restarting: jobs %v, alerts %v", st.Jobs, st.Alerts)
	}
}
