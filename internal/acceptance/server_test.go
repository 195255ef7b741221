package acceptance_test

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-scanner/vigil/internal/testutil/regtest"
	"github.com/vigil-scanner/vigil/internal/testutil/smtptest"
)

// hook is a webhook receiver keeping every message as JSON objects.
type hook struct {
	*httptest.Server
	mu       sync.Mutex
	messages [][]map[string]any // the "alerts" of each message
}

func startHook(t *testing.T) *hook {
	h := &hook{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var msg struct {
			Alerts []map[string]any `json:"alerts"`
		}
		if err := json.Unmarshal(body, &msg); err != nil || r.Method != http.MethodPost {
			t.Errorf("webhook: %s %s", r.Method, body)
			http.Error(w, "bad", http.StatusBadRequest)
			return
		}
		h.mu.Lock()
		h.messages = append(h.messages, msg.Alerts)
		h.mu.Unlock()
	}))
	t.Cleanup(h.Close)
	return h
}

// alerts returns every alert received, in order.
func (h *hook) alerts() []map[string]any {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []map[string]any
	for _, m := range h.messages {
		out = append(out, m...)
	}
	return out
}

// summary lists alerts as "repository id package reason", sorted.
func summary(alerts []map[string]any) []string {
	var out []string
	for _, a := range alerts {
		out = append(out, fmt.Sprintf("%v %v %v %v", a["repository"], a["id"], a["package"], a["reason"]))
	}
	slices.Sort(out)
	return out
}

// The images: Alpine 3.19 with apk databases listing "name version origin".
var (
	appPkgs = []string{"musl 1.2.4-r2 musl", "libcrypto3 3.1.4-r0 openssl"}
	webPkgs = []string{"musl 1.2.4-r2 musl", "libssl3 3.1.4-r0 openssl"}
)

// TestServerAcceptance runs `vigil server --config FILE` with the
// configuration of issue 8's "Interfaces the acceptance tests will use"
// against a real registry whose notifications call the server, a webhook
// receiver and a real SMTP server, and checks each interface that section
// names: /healthz, /metrics, the affected-images query, the webhook body,
// the email, and a database replaced in cacheDir — by `vigil db build`,
// then by `vigil db update` from a repository it was pushed to — noticed
// within one interval, every stored inventory re-matched without pulling.
func TestServerAcceptance(t *testing.T) {
	home := t.TempDir()
	cache := filepath.Join(home, "cache")
	feeds, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	// The database: CVE-2024-0001 in openssl below 3.1.4-r5.
	vigil(t, home, "db", "build", "--quiet", "--cache-dir", cache, "--sources", "alpine", "--mirror", "alpine="+filepath.Join(feeds, "alpine-1"))

	// An admin token, made as the documentation says, its hash in a file.
	hashFile := filepath.Join(home, "ci.token.sha256")
	out := vigil(t, home, "server", "token", "--name", "ci", "--scope", "admin", "--hash-file", hashFile)
	token, _, _ := strings.Cut(strings.TrimPrefix(out, "token: "), "\n")
	if !strings.HasPrefix(token, "vgl_") {
		t.Fatalf("vigil server token printed %q", out)
	}

	// The registry's token may only post notifications.
	notifyFile := filepath.Join(home, "registry.token.sha256")
	out = vigil(t, home, "server", "token", "--name", "registry", "--scope", "notify", "--hash-file", notifyFile)
	notifyToken, _, _ := strings.Cut(strings.TrimPrefix(out, "token: "), "\n")

	addr := freeAddr(t)
	base := "http://" + addr
	// The registry notifies the server of every push, with its token
	// (docs/server.md); vigil lists it through a counting proxy.
	reg := regtest.Start(t, regtest.Options{Proxy: true, Notify: base + "/api/v1/notifications",
		NotifyHeaders: map[string]string{"Authorization": "Bearer " + notifyToken}})
	appDigest := reg.Push(t, "team/app:1", appPkgs) // a nested repository name: "*" must take it
	webDigest := reg.Push(t, "web:1", webPkgs)
	wh := startHook(t)
	smtp := smtptest.Start(t, smtptest.Options{})

	config := fmt.Sprintf(`listen: %s
store: sqlite://%s
database: {cacheDir: %s, skipUpdate: true}
dashboardURL: %s
registries:
  - url: %s
    insecure: true
    repositories: ["*"]
    interval: 30s
alerts:
  - type: webhook
    url: %s/hook
    minSeverity: UNKNOWN
  - type: email
    smtp: %s
    from: vigil@example.com
    to: [security@example.com]
    minSeverity: UNKNOWN
tokens: [{name: ci, scope: admin, hashFile: %s}, {name: registry, scope: notify, hashFile: %s}]
`, addr, filepath.Join(home, "store", "vigil.db"), cache, base, reg.ProxyHost, wh.URL, smtp.Addr, hashFile, notifyFile)
	cfgPath := filepath.Join(home, "vigil.yaml")
	if err := os.WriteFile(cfgPath, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	vigil(t, home, "server", "check", cfgPath)
	srv := start(t, home, "server", "--config", cfgPath)

	// /healthz answers 200 while serving.
	waitFor(t, 30*time.Second, "/healthz", func() bool {
		code, _, _ := get(t, base+"/healthz", "")
		return code == http.StatusOK
	})

	// The first listing (at start) scans both images: one alert each.
	waitFor(t, 30*time.Second, "the alerts of the first listing", func() bool { return len(wh.alerts()) >= 2 })
	want := []string{"team/app CVE-2024-0001 libcrypto3 new image", "web CVE-2024-0001 libssl3 new image"}
	if got := summary(wh.alerts()); !slices.Equal(got, want) {
		t.Fatalf("first alerts:\n got %q\nwant %q", got, want)
	}
	// The webhook body has every field the issue names.
	for _, a := range wh.alerts() {
		for _, k := range []string{"idempotencyKey", "reason", "image", "repository", "digest", "id", "aliases", "package", "installedVersion", "fixedVersion", "severity"} {
			if _, ok := a[k]; !ok {
				t.Errorf("webhook alert lacks %q: %v", k, a)
			}
		}
		if _, ok := a["aliases"].([]any); !ok {
			t.Errorf("aliases is not an array: %v", a)
		}
		d, _ := a["digest"].(string)
		if d != appDigest && d != webDigest {
			t.Errorf("alert digest %q is neither image's", d)
		}
		if a["fixedVersion"] != "3.1.4-r5" || a["installedVersion"] != "3.1.4-r0" || a["idempotencyKey"] == "" {
			t.Errorf("alert = %v", a)
		}
		if want := base + "/images/" + d; a["dashboardURL"] != want {
			t.Errorf("dashboardURL = %v, want %s", a["dashboardURL"], want)
		}
		if img, _ := a["image"].(string); !strings.HasSuffix(img, ":1@"+d) || !strings.HasPrefix(img, reg.ProxyHost+"/") {
			t.Errorf("image = %q", img)
		}
	}

	// A push is scanned at once, on the registry's notification (not the
	// 30 s listing).
	pushed := time.Now()
	app2 := reg.Push(t, "team/app:2", appPkgs, "etc/build=2")
	took := waitFor(t, 25*time.Second, "the alert of a pushed image", func() bool { return len(wh.alerts()) >= 3 })
	t.Logf("pushed image alerted %s after the push", took.Round(time.Millisecond))
	if a := wh.alerts()[2]; a["digest"] != app2 || a["reason"] != "new image" {
		t.Errorf("alert of the pushed image = %v", a)
	}
	_, _, metrics := get(t, base+"/metrics", "")
	if !strings.Contains(string(metrics), `vigil_jobs{kind="push",state="done"}`) || strings.Contains(string(metrics), `vigil_jobs{kind="push",state="done"} 0`) {
		t.Errorf("the pushed image was not scanned on a notification (%s after the push):\n%s", time.Since(pushed), metrics)
	}

	// GET /metrics: Prometheus text.
	code, ctype, metrics := get(t, base+"/metrics", "")
	if code != http.StatusOK || !strings.HasPrefix(ctype, "text/plain") {
		t.Errorf("/metrics = %d %q", code, ctype)
	}
	for _, want := range []string{"# TYPE vigil_jobs gauge", `vigil_jobs{kind="scan",state="done"} 3`, "# TYPE vigil_job_duration_seconds histogram",
		"vigil_alerts_sent_total ", "vigil_database_age_seconds "} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %q:\n%s", want, metrics)
		}
	}

	// Which images does CVE-2024-0001 affect: answered from the store.
	affected := func(id string) map[string]affectedImage {
		t.Helper()
		code, _, body := get(t, base+"/api/v1/vulnerabilities/"+id+"/images", token)
		var res struct {
			Images []affectedImage `json:"images"`
		}
		if err := json.Unmarshal(body, &res); code != http.StatusOK || err != nil {
			t.Fatalf("affected images of %s = %d %s", id, code, body)
		}
		out := map[string]affectedImage{}
		for _, img := range res.Images {
			out[img.Digest] = img
		}
		return out
	}
	if code, _, _ := get(t, base+"/api/v1/vulnerabilities/CVE-2024-0001/images", ""); code != http.StatusUnauthorized {
		t.Errorf("affected images without a token = %d, want 401", code)
	}
	if code, _, _ := get(t, base+"/api/v1/vulnerabilities/CVE-2024-0001/images", notifyToken); code != http.StatusForbidden {
		t.Errorf("affected images with the registry's notify token = %d, want 403", code)
	}
	got := affected("CVE-2024-0001")
	for _, w := range []struct {
		digest, repo, tag, pkg string
	}{{appDigest, "team/app", "1", "libcrypto3"}, {app2, "team/app", "2", "libcrypto3"}, {webDigest, "web", "1", "libssl3"}} {
		img := got[w.digest]
		want := affectedImage{Digest: w.digest, Repository: w.repo, Tags: []string{w.tag},
			Packages: []affectedPackage{{Name: w.pkg, Version: "3.1.4-r0", FixedVersion: "3.1.4-r5"}}}
		if !img.equal(want) {
			t.Errorf("affected image %s = %+v, want %+v", w.digest, img, want)
		}
	}
	if len(got) != 3 {
		t.Errorf("%d images affected, want 3", len(got))
	}

	// A database replaced in cacheDir by vigil db build: CVE-2024-0003 in
	// musl, which every image has. It is noticed within one interval
	// (30 s) and every stored inventory is re-matched without pulling.
	waitFor(t, 30*time.Second, "the first email", func() bool { raws, _ := smtp.Messages(t); return len(raws) >= 3 })
	reg.ResetCounts()
	vigil(t, home, "db", "build", "--quiet", "--cache-dir", cache, "--sources", "alpine", "--mirror", "alpine="+filepath.Join(feeds, "alpine-2"))
	took = waitFor(t, 30*time.Second, "the new advisory's alerts", func() bool { return len(wh.alerts()) >= 6 })
	t.Logf("database replaced: alerts of the new advisory %s later", took.Round(time.Millisecond))
	want = []string{"team/app CVE-2024-0003 musl new advisory", "team/app CVE-2024-0003 musl new advisory", "web CVE-2024-0003 musl new advisory"}
	if got := summary(wh.alerts()[3:]); !slices.Equal(got, want) {
		t.Errorf("alerts after the database change:\n got %q\nwant %q", got, want)
	}
	if n := len(affected("CVE-2024-0003")); n != 3 {
		t.Errorf("CVE-2024-0003 affects %d images, want 3", n)
	}
	if get, _ := reg.Count(regtest.Blob); get != 0 {
		t.Errorf("the re-match downloaded %d blobs", get)
	}
	if get, _ := reg.Count(regtest.Manifest); get != 0 {
		t.Errorf("the re-match downloaded %d manifests", get)
	}
	var status struct {
		DB struct {
			Digest string `json:"digest"`
		} `json:"database"`
		Changes []struct {
			Digest      string `json:"digest"`
			Appeared    int    `json:"appeared"`
			Disappeared int    `json:"disappeared"`
		} `json:"databaseChanges"`
	}
	_, _, body := get(t, base+"/api/v1/status", token)
	if err := json.Unmarshal(body, &status); err != nil || len(status.Changes) == 0 || status.Changes[0].Digest != status.DB.Digest || status.Changes[0].Appeared != 3 {
		t.Errorf("status after the database change: %s", body)
	}

	// Email: one message per event (three scans, one database change),
	// plain text and HTML, naming the findings and linking the images.
	waitFor(t, 30*time.Second, "the emails", func() bool { raws, _ := smtp.Messages(t); return len(raws) >= 4 })
	raws, facts := smtp.Messages(t)
	if len(raws) != 4 {
		t.Errorf("%d emails, want 4", len(raws))
	}
	last := readEmail(t, raws[len(raws)-1])
	if facts[len(facts)-1].MailFrom != "vigil@example.com" || !slices.Equal(facts[len(facts)-1].RcptTos, []string{"security@example.com"}) {
		t.Errorf("envelope = %+v", facts[len(facts)-1])
	}
	for _, want := range []string{"CVE-2024-0003", "musl", base + "/images/" + appDigest, base + "/images/" + webDigest} {
		if !strings.Contains(last.text, want) || !strings.Contains(last.html, want) {
			t.Errorf("the database change's email lacks %q:\n%s", want, last.text)
		}
	}

	// A database replaced by vigil db update, from a repository it was
	// published to: CVE-2024-0001 withdrawn, CVE-2024-0005 added (musl).
	dbReg := regtest.Start(t, regtest.Options{})
	published := filepath.Join(home, "published")
	vigil(t, home, "db", "build", "--quiet", "--cache-dir", published, "--sources", "alpine", "--mirror", "alpine="+filepath.Join(feeds, "alpine-3"))
	ref := dbReg.Host + "/security/vigil-db:1"
	vigil(t, home, "db", "push", ref, "--insecure", "--quiet", "--cache-dir", published)
	reg.ResetCounts()
	vigil(t, home, "db", "update", "--quiet", "--cache-dir", cache, "--db-repository", ref, "--insecure")
	took = waitFor(t, 30*time.Second, "the alerts of the updated database", func() bool { return len(wh.alerts()) >= 9 })
	t.Logf("database updated: alerts %s later", took.Round(time.Millisecond))
	want = []string{"team/app CVE-2024-0005 musl new advisory", "team/app CVE-2024-0005 musl new advisory", "web CVE-2024-0005 musl new advisory"}
	if got := summary(wh.alerts()[6:]); !slices.Equal(got, want) {
		t.Errorf("alerts after the update:\n got %q\nwant %q", got, want)
	}
	waitFor(t, 10*time.Second, "CVE-2024-0001 withdrawn", func() bool { return len(affected("CVE-2024-0001")) == 0 })
	if get, _ := reg.Count(regtest.Blob); get != 0 {
		t.Errorf("the re-match downloaded %d blobs", get)
	}
	_, _, body = get(t, base+"/api/v1/status", token)
	status.Changes = nil
	if err := json.Unmarshal(body, &status); err != nil || len(status.Changes) < 2 || status.Changes[0].Digest != status.DB.Digest ||
		status.Changes[0].Appeared != 3 || status.Changes[0].Disappeared != 3 {
		t.Errorf("status after the update: %s", body)
	}
	waitFor(t, 30*time.Second, "the update's email", func() bool { raws, _ := smtp.Messages(t); return len(raws) >= 5 })

	// Nothing is sent twice: not by the next checks, not after a restart.
	srv.stop(t)
	start(t, home, "server", "--config", cfgPath)
	waitFor(t, 30*time.Second, "the restarted server to load its database", func() bool {
		code, _, _ := get(t, base+"/readyz", "")
		return code == http.StatusOK
	})
	time.Sleep(3 * time.Second) // delivery rounds, and a listing if a new slot began
	if n := len(wh.alerts()); n != 9 {
		t.Errorf("%d webhook alerts after the restart, want the same 9: %q", n, summary(wh.alerts()))
	}
	keys := map[any]bool{}
	for _, a := range wh.alerts() {
		if keys[a["idempotencyKey"]] {
			t.Errorf("alert sent twice: %v", a)
		}
		keys[a["idempotencyKey"]] = true
	}
	if raws, _ := smtp.Messages(t); len(raws) != 5 {
		t.Errorf("%d emails after the restart, want the same 5", len(raws))
	}
}

type affectedImage struct {
	Digest     string            `json:"digest"`
	Repository string            `json:"repository"`
	Tags       []string          `json:"tags"`
	Packages   []affectedPackage `json:"packages"`
}

type affectedPackage struct {
	Name         string `json:"name"`
	Version      string `json:"version"`
	FixedVersion string `json:"fixedVersion"`
}

func (a affectedImage) equal(b affectedImage) bool {
	return a.Digest == b.Digest && a.Repository == b.Repository && slices.Equal(a.Tags, b.Tags) && slices.Equal(a.Packages, b.Packages)
}

type email struct{ subject, text, html string }

// readEmail reads a multipart/alternative message's subject and parts.
func readEmail(t *testing.T, raw []byte) email {
	t.Helper()
	msg, err := mail.ReadMessage(strings.NewReader(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	var e email
	e.subject, _ = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p)
		switch ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); ct {
		case "text/plain":
			e.text = string(b)
		case "text/html":
			e.html = string(b)
		}
	}
	return e
}
