package dashboard_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/vigil-scanner/vigil/internal/testutil/cdp"
	"github.com/vigil-scanner/vigil/internal/testutil/regtest"
	"github.com/vigil-scanner/vigil/server"
)

const readToken = "vgl_dashboard-read-token"

// push writes an Alpine image built the way a Dockerfile would — a base
// layer, then one RUN apk add layer per package group, each with its
// history entry — and returns its digest.
func push(t *testing.T, reg *regtest.Registry, repoTag string, groups ...[]string) string {
	t.Helper()
	img, err := mutate.AppendLayers(empty.Image, regtest.Base(t))
	if err != nil {
		t.Fatal(err)
	}
	history := []v1.History{{CreatedBy: "/bin/sh -c #(nop) ADD file:alpine-minirootfs-3.19.1-x86_64.tar.gz in / "},
		{CreatedBy: `/bin/sh -c #(nop)  CMD ["/bin/sh"]`, EmptyLayer: true}}
	var apk strings.Builder
	for _, g := range groups {
		var names []string
		for _, p := range g {
			f := strings.Fields(p)
			fmt.Fprintf(&apk, "P:%s\nV:%s\nA:x86_64\no:%s\n\n", f[0], f[1], f[2])
			names = append(names, f[0])
		}
		l := regtest.Layer(t, map[string]string{"lib/apk/db/installed": apk.String()})
		if img, err = mutate.AppendLayers(img, l); err != nil {
			t.Fatal(err)
		}
		history = append(history, v1.History{CreatedBy: "RUN /bin/sh -c apk add --no-cache " + strings.Join(names, " ") + " # buildkit"})
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.History = "linux", "amd64", history
	cf.Created = v1.Time{Time: time.Now().UTC().Truncate(time.Second)}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	return reg.PushImage(t, repoTag, img)
}

// apiGet reads the server's API with the read token.
func apiGet(t *testing.T, base, path string, out any) {
	t.Helper()
	req, _ := http.NewRequest("GET", base+path, nil)
	req.Header.Set("Authorization", "Bearer "+readToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s = %d, %v", path, resp.StatusCode, err)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(60 * time.Second); !cond(); time.Sleep(200 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestBrowser runs a real vigil server over a real registry whose images
// the real scanner reads, and drives the dashboard in headless Chromium.
func TestBrowser(t *testing.T) {
	browser := cdp.Start(t)
	reg := regtest.Start(t, regtest.Options{})
	dir := t.TempDir()
	regtest.WriteDB(t, filepath.Join(dir, "cache", "db"),
		regtest.Record{ID: "CVE-2024-0001", Pkg: "openssl", Fixed: "3.1.4-r5", Severity: "HIGH"},
		regtest.Record{ID: "CVE-2024-0003", Pkg: "zlib", Fixed: "1.3.1-r0", Severity: "CRITICAL"})
	// A receiver that refuses every alert: they are parked.
	refuse := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no such hook", 404) }))
	t.Cleanup(refuse.Close)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + l.Addr().String()
	cfgPath := filepath.Join(dir, "vigil.yaml")
	os.WriteFile(cfgPath, []byte(fmt.Sprintf(`listen: %s
store: sqlite://%s/vigil.db
database: {cacheDir: %s/cache, skipUpdate: true}
registries:
  - url: %s
    insecure: true
    interval: 1s
alerts:
  - {type: webhook, name: hook, url: %s, minSeverity: UNKNOWN}
tokens:
  - {name: dashboard-reader, scope: read, hash: %q}
`, l.Addr(), dir, dir, reg.Host, refuse.URL, server.HashToken(readToken))), 0o600)
	cfg, err := server.LoadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.New(ctx, cfg, server.Options{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, l) }()
	t.Cleanup(func() {
		cancel()
		<-done
		srv.Close()
	})

	alpine := []string{"musl 1.2.4_git20230717-r4 musl", "busybox 1.36.1-r15 busybox"}
	web := push(t, reg, "web:latest", alpine, []string{"libssl3 3.1.4-r0 openssl", "zlib 1.3-r0 zlib"})
	tools := push(t, reg, "base/tools:3", alpine, []string{"libcrypto3 3.1.4-r0 openssl"})
	appOld := push(t, reg, "team/app:1", alpine, []string{"libcrypto3 3.1.4-r0 openssl"}, []string{"curl 8.5.0-r0 curl"})
	scanned := func(digests ...string) func() bool {
		return func() bool {
			for _, d := range digests {
				var img struct {
					Image struct {
						ScannedAt, MatchedAt time.Time
					} `json:"image"`
				}
				req, _ := http.NewRequest("GET", base+"/api/v1/images/"+d, nil)
				req.Header.Set("Authorization", "Bearer "+readToken)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					return false
				}
				json.NewDecoder(resp.Body).Decode(&img)
				resp.Body.Close()
				if resp.StatusCode != 200 || img.Image.MatchedAt.IsZero() {
					return false
				}
			}
			return true
		}
	}
	waitFor(t, "the first images scanned", scanned(web, tools, appOld))
	// The app is rebuilt with the fix: its tag moves, and the old
	// digest's finding is resolved.
	appNew := push(t, reg, "team/app:1", alpine, []string{"libcrypto3 3.1.4-r5 openssl"}, []string{"curl 8.5.0-r0 curl"})
	waitFor(t, "the rebuilt image scanned", scanned(appNew))
	waitFor(t, "the old app's finding resolved", func() bool {
		var aff struct {
			Images []struct{ Digest string } `json:"images"`
		}
		apiGet(t, base, "/api/v1/vulnerabilities/CVE-2024-0001/images", &aff)
		return len(aff.Images) == 2
	})
	waitFor(t, "alerts parked", func() bool {
		var log struct {
			Alerts []struct{} `json:"alerts"`
		}
		apiGet(t, base, "/api/v1/alerts?state=parked", &log)
		return len(log.Alerts) >= 3
	})

	p := browser.NewPage(t)
	shot := func(name string) {
		if dir := os.Getenv("VIGIL_SCREENSHOTS"); dir != "" {
			p.Screenshot(t, filepath.Join(dir, name+".png"))
		}
	}

	// Login: the overview sends the browser to the form.
	p.Navigate(t, base+"/")
	if u := p.String(t, "location.pathname + location.search"); u != "/login?next=%2F" {
		t.Fatalf("not logged in: at %s, want the login form", u)
	}
	// The browser applies autofocus at its next rendering update, which
	// may come after the load event.
	focused := ""
	for end := time.Now().Add(5 * time.Second); focused != "token" && time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		focused = p.String(t, "document.activeElement.id")
	}
	if focused != "token" {
		t.Fatalf("the token field does not have the focus: %q", focused)
	}
	p.Type(t, "vgl_wrong-token")
	p.PressAndLoad(t, "Enter")
	if msg := p.String(t, `document.querySelector('[role=alert]')?.textContent ?? ""`); !strings.Contains(msg, "not one this server accepts") || p.String(t, "location.pathname") != "/login" {
		t.Fatalf("a wrong token: at %s, message %q", p.String(t, "location.pathname"), msg)
	}
	var cookies string
	p.Eval(t, "document.cookie", &cookies)
	if cookies != "" {
		t.Errorf("cookies readable by scripts: %q", cookies)
	}
	p.Eval(t, "document.getElementById('token').focus()", nil)
	p.Type(t, readToken)
	p.PressAndLoad(t, "Enter")
	if u := p.String(t, "location.pathname"); u != "/" {
		t.Fatalf("after login at %s, want /", u)
	}
	if html := p.String(t, "document.documentElement.outerHTML"); strings.Contains(html, readToken) {
		t.Error("the page holds the token")
	}
	shot("overview")

	// The overview's counts: web (HIGH, CRITICAL), tools (HIGH), the
	// rebuilt app (clean); the old app is no longer tagged.
	for id, want := range map[string]string{"total-images": "3", "total-open": "3", "total-critical": "1", "total-high": "2", "total-fixable": "3", "total-kev": "0"} {
		if got := p.String(t, "document.getElementById('"+id+"').textContent"); got != want {
			t.Errorf("overview %s = %q, want %s", id, got, want)
		}
	}
	var row []string
	p.Eval(t, `Array.from(document.querySelectorAll('#registries tbody tr:first-child > *')).slice(0, 10).map(c => c.textContent.trim())`, &row)
	if want := []string{reg.Host, "3", "3", "1", "2", "0", "0", "0", "3", "0"}; !slices.Equal(row, want) {
		t.Errorf("registry row = %q, want %q", row, want)
	}

	// The chart: drawn, today's bar holds the 3 open findings, and the
	// script's keyboard readout works.
	var chart struct {
		Days, Bars int
		Total      string
		Height     float64
		Ready      string
	}
	p.Eval(t, `(() => { const s = document.querySelector('#trend svg'); const days = s.querySelectorAll('g.day');
		return {Days: days.length, Bars: s.querySelectorAll('rect.bar').length, Total: days[days.length-1].dataset.total,
			Height: s.getBoundingClientRect().height, Ready: document.getElementById('trend').dataset.ready ?? ''}; })()`, &chart)
	if chart.Days < 1 || chart.Bars < 2 || chart.Total != "3" || chart.Height < 100 || chart.Ready != "true" {
		t.Errorf("chart = %+v", chart)
	}
	p.Eval(t, "document.querySelector('#trend svg').focus()", nil)
	p.Press(t, "Home")
	if got := p.String(t, "document.getElementById('trend-readout').textContent"); !strings.Contains(got, "open findings (") {
		t.Errorf("chart readout after Home = %q", got)
	}

	// Keyboard only: from the registry page to the web image's page.
	p.Navigate(t, base+"/registries/"+reg.Host)
	p.Press(t, "Tab")
	if got := p.String(t, "document.activeElement.textContent"); got != "Skip to main content" {
		t.Errorf("first Tab reaches %q, want the skip link", got)
	}
	p.Press(t, "Enter") // skip to main: the next Tab is in the page's content
	tabTo := func(hrefSuffix string) {
		t.Helper()
		for i := 0; i < 40; i++ {
			p.Press(t, "Tab")
			if strings.HasSuffix(p.String(t, "document.activeElement.href ?? ''"), hrefSuffix) {
				var outline string
				p.Eval(t, "getComputedStyle(document.activeElement).outlineStyle", &outline)
				if outline == "none" {
					t.Errorf("the focused link %s shows no focus outline", hrefSuffix)
				}
				return
			}
		}
		t.Fatalf("40 Tabs never reached a link to %s (at %q)", hrefSuffix, p.String(t, "document.activeElement.outerHTML"))
	}
	tabTo("/repositories/" + reg.Host + "/web")
	p.PressAndLoad(t, "Enter")
	if h := p.String(t, "document.querySelector('h1').textContent"); h != "Repository "+reg.Host+"/web" {
		t.Fatalf("Enter led to %q", h)
	}
	tabTo("/images/" + web)
	p.PressAndLoad(t, "Enter")
	if h := p.String(t, "document.querySelector('h1').textContent"); h != "Image "+reg.Host+"/web:latest" {
		t.Fatalf("Enter led to %q", h)
	}
	shot("image")

	// The image page: each finding with the layer and instruction that
	// brought its package.
	var findings [][]string
	p.Eval(t, `Array.from(document.querySelectorAll('#findings tbody tr')).map(r => Array.from(r.children).map(c => c.innerText.trim()))`, &findings)
	if len(findings) != 2 || !strings.HasPrefix(findings[0][0], "CVE-2024-0003") || findings[0][2] != "zlib\nalpine 3.19.1" ||
		!strings.Contains(findings[0][6], "layer 3") || !strings.Contains(findings[0][6], "apk add --no-cache libssl3 zlib") ||
		!strings.HasPrefix(findings[1][0], "CVE-2024-0001") || findings[1][4] != "3.1.4-r5" {
		t.Errorf("findings table = %q", findings)
	}
	var layerRows [][]string
	p.Eval(t, `Array.from(document.querySelectorAll('#layers tbody tr')).map(r => Array.from(r.children).map(c => c.innerText.trim()))`, &layerRows)
	if len(layerRows) != 3 || !strings.Contains(layerRows[0][1], "ADD file:alpine-minirootfs") || layerRows[2][2] != "2" || layerRows[2][3] != "2" {
		t.Errorf("layers table = %q", layerRows)
	}

	// The rebuilt app's page shows the tag's history: both digests.
	p.Navigate(t, base+"/images/"+appNew)
	var hist []string
	p.Eval(t, `Array.from(document.querySelectorAll('table.history tbody th')).map(c => c.innerText.trim())`, &hist)
	if len(hist) != 2 || !strings.Contains(hist[0], "(this image)") || !strings.HasPrefix(appOld, strings.TrimSpace(hist[1])) {
		t.Errorf("tag history = %q (old %s)", hist, appOld)
	}

	// The CVE page lists exactly the images with an open finding.
	p.Navigate(t, base+"/vulnerabilities")
	p.Eval(t, "document.getElementById('vuln-id').focus()", nil)
	p.Type(t, "CVE-2024-0001")
	p.PressAndLoad(t, "Enter")
	var affected []string
	p.Eval(t, `Array.from(document.querySelectorAll('#affected tbody th a')).map(a => a.getAttribute('href'))`, &affected)
	slices.Sort(affected)
	want := []string{"/images/" + tools, "/images/" + web}
	slices.Sort(want)
	if !slices.Equal(affected, want) {
		t.Errorf("CVE-2024-0001 lists %q, want %q (the rebuilt app is fixed)", affected, want)
	}

	// The alert log shows the parked alerts with the receiver's answer.
	p.Navigate(t, base+"/alerts?state=parked")
	var parked []string
	p.Eval(t, `Array.from(document.querySelectorAll('#alert-log tbody tr.state-parked')).map(r => r.innerText)`, &parked)
	if len(parked) < 3 || !strings.Contains(parked[0], "404") {
		t.Errorf("parked alerts = %q", parked)
	}
	shot("alerts")

	// The one error expected: the wrong token's 401 answer.
	var errs []string
	refused := 0
	for _, e := range p.Errors() {
		if strings.Contains(e, "status of 401") && strings.HasSuffix(e, base+"/login") {
			refused++
			continue
		}
		errs = append(errs, e)
	}
	if len(errs) > 0 || refused != 1 {
		t.Errorf("console errors: %q (and %d refused logins, want 1)", errs, refused)
	}

	// Logout ends the session: the next page is the login form.
	p.Navigate(t, base+"/")
	p.Eval(t, "document.querySelector('form.logout button').focus()", nil)
	p.PressAndLoad(t, "Enter")
	p.Navigate(t, base+"/images")
	if u := p.String(t, "location.pathname"); u != "/login" {
		t.Errorf("after logout at %s, want /login", u)
	}
}
