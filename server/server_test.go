package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-scanner/vigil/alert"
	"github.com/vigil-scanner/vigil/internal/testutil/regtest"
)

const (
	adminToken = "vgl_admin-token-for-tests"
	readToken  = "vgl_read-token-for-tests"
)

type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	alerts []alert.Alert
}

func startReceiver(t *testing.T) *receiver {
	rc := &receiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var msg struct {
			Alerts []alert.Alert `json:"alerts"`
		}
		if err := json.NewDecoder(r.Body).Decode(&msg); err != nil {
			http.Error(w, "bad", 400)
			return
		}
		rc.mu.Lock()
		rc.alerts = append(rc.alerts, msg.Alerts...)
		rc.mu.Unlock()
	}))
	t.Cleanup(rc.Close)
	return rc
}

// wait polls until cond holds or the deadline passes.
func wait(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(d); ; {
		if cond() {
			return
		}
		if time.Now().After(end) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (rc *receiver) ids() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []string
	for _, a := range rc.alerts {
		out = append(out, a.Repository+" "+a.ID+" "+a.Reason)
	}
	slices.Sort(out)
	return out
}

type client struct {
	base  string
	token string
}

func (c client) do(t *testing.T, method, path, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func TestServerEndToEnd(t *testing.T) {
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + l.Addr().String()
	// The pushed registry notifies the server; the scheduled one is only
	// listed on its interval.
	pushed := regtest.Start(t, regtest.Options{Notify: base + "/api/v1/notifications", NotifyHeaders: map[string]string{"Authorization": "Bearer " + adminToken}})
	scheduled := regtest.Start(t, regtest.Options{})
	rc := startReceiver(t)
	regtest.WriteDB(t, filepath.Join(dir, "cache", "db"),
		regtest.Record{ID: "CVE-2024-0001", Pkg: "openssl", Fixed: "3.1.4-r5", Severity: "HIGH"})
	config := fmt.Sprintf(`listen: %s
store: sqlite://%s/vigil.db
database: {cacheDir: %s/cache, skipUpdate: true, check: 1s}
registries:
  - url: %s
    insecure: true
    repositories: ["*"]
    interval: 1h
  - url: %s
    insecure: true
    interval: 2s
alerts:
  - type: webhook
    url: %s
    minSeverity: UNKNOWN
tokens:
  - {name: admin, scope: admin, hash: %q}
  - {name: reader, scope: read, hash: %q}
`, l.Addr(), dir, dir, pushed.Host, scheduled.Host, rc.URL, HashToken(adminToken), HashToken(readToken))
	cfgPath := filepath.Join(dir, "vigil.yaml")
	os.WriteFile(cfgPath, []byte(config), 0o600)
	cfg, err := LoadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s, err := New(ctx, cfg, Options{Version: "test", Logger: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, l) }()
	t.Cleanup(func() {
		cancel()
		<-done
		s.Close()
	})
	admin, reader, anon := client{base, adminToken}, client{base, readToken}, client{base, ""}

	if code, _ := anon.do(t, "GET", "/healthz", ""); code != 200 {
		t.Fatalf("healthz = %d", code)
	}
	wait(t, 10*time.Second, "readyz", func() bool { code, _ := anon.do(t, "GET", "/readyz", ""); return code == 200 })

	// Scan on push: the registry's notification queues the image at once.
	start := time.Now()
	pushed.Push(t, "team/app:1", []string{"libcrypto3 3.1.4-r0 openssl"})
	wait(t, 10*time.Second, "the alert of a pushed image", func() bool { return len(rc.ids()) == 1 })
	t.Logf("pushed image alerted after %s", time.Since(start).Round(time.Millisecond))
	if got := rc.ids(); got[0] != "team/app CVE-2024-0001 new image" {
		t.Errorf("alert = %q", got)
	}

	// Scheduled: listed within one tick.
	scheduled.Push(t, "web:2", []string{"libssl3 3.1.4-r0 openssl"})
	wait(t, 15*time.Second, "the alert of a scheduled listing", func() bool { return len(rc.ids()) == 2 })

	// Which images are affected by the CVE.
	code, body := reader.do(t, "GET", "/api/v1/vulnerabilities/CVE-2024-0001/images", "")
	var aff struct {
		Images []AffectedImage `json:"images"`
	}
	if err := json.Unmarshal(body, &aff); code != 200 || err != nil || len(aff.Images) != 2 {
		t.Fatalf("affected = %d %s", code, body)
	}
	for _, img := range aff.Images {
		if len(img.Tags) != 1 || len(img.Packages) != 1 || img.Packages[0].FixedVersion != "3.1.4-r5" || img.Digest == "" {
			t.Errorf("affected image = %+v", img)
		}
	}

	// A new advisory in the database: noticed within the refresh, one
	// alert per affected image.
	regtest.WriteDB(t, filepath.Join(dir, "cache", "db"),
		regtest.Record{ID: "CVE-2024-0001", Pkg: "openssl", Fixed: "3.1.4-r5", Severity: "HIGH"},
		regtest.Record{ID: "CVE-2024-0009", Pkg: "openssl", Fixed: "3.1.4-r9", Severity: "LOW"})
	wait(t, 15*time.Second, "new advisory alerts", func() bool { return len(rc.ids()) == 4 })
	time.Sleep(2500 * time.Millisecond) // another listing and database check
	if got := rc.ids(); len(got) != 4 || !slices.Contains(got, "team/app CVE-2024-0009 new advisory") || !slices.Contains(got, "web CVE-2024-0009 new advisory") {
		t.Errorf("alerts = %q", got)
	}

	// Reports in every format.
	code, body = reader.do(t, "GET", "/api/v1/images/"+aff.Images[0].Digest+"/report?format=sarif", "")
	if code != 200 || !strings.Contains(string(body), `"CVE-2024-0001"`) {
		t.Errorf("sarif report = %d %.200s", code, body)
	}

	// Package in range.
	code, body = reader.do(t, "GET", "/api/v1/packages/libcrypto3/images?scheme=apk&range=>=3.1.0-r0,<3.1.4-r5", "")
	if code != 200 || !strings.Contains(string(body), "team/app:1") {
		t.Errorf("package query = %d %s", code, body)
	}
	code, body = reader.do(t, "GET", "/api/v1/packages/libcrypto3/images?scheme=apk&range=>=3.1.5-r0", "")
	if code != 200 || strings.Contains(string(body), "team/app") {
		t.Errorf("package query out of range = %d %s", code, body)
	}

	// Metrics.
	code, body = anon.do(t, "GET", "/metrics", "")
	for _, want := range []string{`vigil_jobs{kind="scan",state="done"} 2`, "vigil_alerts_sent_total 4", "vigil_database_age_seconds ", `vigil_job_duration_seconds_count{kind="scan"}`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}

	// Tokens: none, wrong and read-only are refused, and nothing leaks.
	for _, tc := range []struct {
		c         client
		method, p string
		body      string
		want      int
	}{
		{anon, "GET", "/api/v1/images", "", 401},
		{client{base, "wrong"}, "GET", "/api/v1/images", "", 401},
		{reader, "POST", "/api/v1/scans", `{"image":"` + pushed.Host + `/team/app:1"}`, 403},
		{reader, "POST", "/api/v1/notifications", `{"events":[]}`, 403},
		{admin, "POST", "/api/v1/notifications", `{"events": [`, 400},
		{admin, "POST", "/api/v1/notifications", `{"something":"else"}`, 400},
		{admin, "POST", "/api/v1/notifications", `{"events":[` + strings.Repeat(`{"action":"pull"},`, 70000) + `{}]}`, 413},
		{admin, "POST", "/api/v1/scans", `{"image":"elsewhere.example:5000/x:1"}`, 422},
		{admin, "POST", "/api/v1/scans", `{"image":"` + pushed.Host + `/team/app:1"}`, 202},
	} {
		code, body := tc.c.do(t, tc.method, tc.p, tc.body)
		if code != tc.want {
			t.Errorf("%s %s with token %q = %d %s, want %d", tc.method, tc.p, tc.c.token, code, body, tc.want)
		}
		for _, secret := range []string{adminToken, readToken, HashToken(adminToken)} {
			if strings.Contains(string(body), secret) {
				t.Errorf("answer leaks a secret: %s", body)
			}
		}
	}
	code, body = reader.do(t, "GET", "/api/v1/images?limit=1", "")
	var page struct {
		Images []ImageJSON `json:"images"`
		Next   string      `json:"next"`
	}
	json.Unmarshal(body, &page)
	if code != 200 || len(page.Images) != 1 || page.Next == "" {
		t.Errorf("images page = %d %s", code, body)
	}
	code, body = reader.do(t, "GET", "/api/v1/images?limit=1&after="+page.Next, "")
	if code != 200 || !strings.Contains(string(body), `"images":[{`) || strings.Contains(string(body), page.Images[0].Digest) {
		t.Errorf("images second page = %d %s", code, body)
	}
	for _, p := range []string{"/api/v1/images?limit=abc", "/api/v1/findings?offset=-1", "/api/v1/alerts?limit=1.5"} {
		if code, body := reader.do(t, "GET", p, ""); code != http.StatusBadRequest || !strings.Contains(string(body), "want a whole number") {
			t.Errorf("GET %s = %d %s, want 400 naming the parameter", p, code, body)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown key", "listen: 127.0.0.1:1\nbogus: 1\n", "vigil.yaml:2: unknown key \"bogus\""},
		{"unknown nested key", "registries:\n  - url: r:5000\n    intervall: 1m\n", "vigil.yaml:3: unknown key \"intervall\""},
		{"bad duration", "registries:\n  - url: r:5000\n    interval: soon\n", "vigil.yaml:3: \"soon\" is not a duration"},
		{"bad cron", "registries:\n  - url: r:5000\n    schedule: \"every day\"\n", "vigil.yaml:3: registries[0].schedule:"},
		{"bad alert", "alerts:\n  - type: pager\n", "vigil.yaml:2: alerts[0].type:"},
		{"bad severity", "alerts:\n  - type: webhook\n    url: http://127.0.0.1:9/h\n    minSeverity: SEVERE\n", "vigil.yaml:4: alerts[0].minSeverity:"},
		{"bad token scope", "tokens:\n  - {name: x, scope: root, hash: \"sha256:00\"}\n", "vigil.yaml:2: tokens[0].scope:"},
		{"bad store", "store: mysql://x\n", "vigil.yaml:1: store:"},
		{"bad dashboard URL", "dashboardURL: vigil.example.com\n", "vigil.yaml:1: dashboardURL: \"vigil.example.com\": want an absolute http:// or https:// URL"},
		{"not yaml", "listen: [\n", "vigil.yaml:"},
		{"empty", "", "empty configuration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig("vigil.yaml", []byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestAuthNoneOnlyOnLoopback(t *testing.T) {
	cfg, err := ParseConfig("vigil.yaml", []byte("listen: 0.0.0.0:8080\nauth: none\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(context.Background(), cfg, Options{CacheDir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("auth none on 0.0.0.0: err = %v", err)
	}
}

// testWriter sends log lines to t.Log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
