package dashboard

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-scanner/vigil/inventory"
	"github.com/vigil-scanner/vigil/store"
)

// testTokens accepts one token.
type testTokens struct{ raw, id string }

func (t testTokens) Check(raw string) (Token, bool) {
	if raw != t.raw {
		return Token{}, false
	}
	return Token{ID: t.id, Name: "reader"}, true
}

func (t testTokens) Valid(id string) bool { return id == t.id }

func openStore(t testing.TB) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "vigil.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// addImage stores an image of repo:tag whose packages "name version
// layer" come from the given layers (createdBy), with findings "ID
// SEVERITY PACKAGE FIXED" (FIXED "-" for none).
func addImage(t testing.TB, st *store.Store, now time.Time, digest, repo, tag string, layers []string, pkgs []string, findings []string) {
	t.Helper()
	ctx := context.Background()
	reg, _, _ := strings.Cut(repo, "/")
	inv := &inventory.Inventory{Artifact: inventory.Artifact{Name: repo + ":" + tag, Type: inventory.TypeContainerImage,
		OS: &inventory.OS{Family: "alpine", Name: "3.19.1"}}}
	for i, l := range layers {
		inv.Artifact.Layers = append(inv.Artifact.Layers, inventory.Layer{DiffID: fmt.Sprintf("sha256:%064d", i+1), CreatedBy: l})
	}
	res := inventory.Result{Target: "alpine 3.19.1", Class: inventory.ClassOSPkgs, Type: "apk"}
	for _, p := range pkgs {
		var name, version string
		var layer int
		fmt.Sscan(p, &name, &version, &layer)
		res.Packages = append(res.Packages, inventory.Package{Name: name, Version: version,
			Layer: inventory.LayerRef{DiffID: fmt.Sprintf("sha256:%064d", layer), CreatedBy: layers[layer-1]}})
	}
	inv.Results = []inventory.Result{res}
	if err := st.SaveInventory(ctx, now, store.Image{Digest: digest, Registry: reg, Repository: repo, Platform: "linux/amd64"}, inv); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.SetTag(ctx, now, store.Tag{Registry: reg, Repository: repo, Tag: tag, Platform: "linux/amd64", Digest: digest}); err != nil {
		t.Fatal(err)
	}
	var fs []store.Finding
	for _, f := range findings {
		var id, sev, pkg, fixed string
		fmt.Sscan(f, &id, &sev, &pkg, &fixed)
		if fixed == "-" {
			fixed = ""
		}
		version := ""
		for _, p := range res.Packages {
			if p.Name == pkg {
				version = p.Version
			}
		}
		fs = append(fs, store.Finding{VulnID: id, PkgName: pkg, PkgVersion: version, Target: res.Target, Severity: sev, FixedVersion: fixed,
			Title: "title of " + id, KEV: id == "CVE-2024-0001"})
	}
	if _, err := st.ApplyFindings(ctx, now, digest, "sha256:db", fs, "withdrawn", nil); err != nil {
		t.Fatal(err)
	}
}

var layers = []string{"/bin/sh -c #(nop) ADD file:abc in / ", "RUN /bin/sh -c apk add --no-cache openssl # buildkit"}

func fixture(t testing.TB) *store.Store {
	st := openStore(t)
	now := time.Now().Add(-time.Hour)
	addImage(t, st, now, "sha256:"+strings.Repeat("a", 64), "r.example:5000/team/app", "1", layers,
		[]string{"musl 1.2.4-r2 1", "libcrypto3 3.1.4-r0 2"},
		[]string{"CVE-2024-0001 CRITICAL libcrypto3 3.1.4-r5", "CVE-2024-0002 LOW musl -"})
	addImage(t, st, now, "sha256:"+strings.Repeat("b", 64), "r.example:5000/web", "latest", layers,
		[]string{"musl 1.2.4-r2 1", "libcrypto3 3.1.4-r0 2"},
		[]string{"CVE-2024-0001 CRITICAL libcrypto3 3.1.4-r5"})
	addImage(t, st, now, "sha256:"+strings.Repeat("c", 64), "r.example:5000/web", "<script>alert(1)</script>", layers,
		[]string{"musl 1.2.4-r2 1"}, nil)
	return st
}

func serve(t *testing.T, opts Options) (*httptest.Server, *http.Client) {
	t.Helper()
	d, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(d.Handler())
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	return srv, &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func get(t *testing.T, c *http.Client, u string) (int, string, http.Header) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func TestPages(t *testing.T) {
	st := fixture(t)
	srv, c := serve(t, Options{Store: st, Version: "test"})
	a := "sha256:" + strings.Repeat("a", 64)
	for _, tc := range []struct {
		path string
		code int
		want []string
	}{
		{"/", 200, []string{`<dd id="total-images">3</dd>`, `<dd id="total-critical">2</dd>`, `<dd id="total-kev">2</dd>`, `href="/registries/r.example:5000"`, `class="day"`}},
		{"/registries/r.example:5000", 200, []string{`href="/repositories/r.example:5000/team/app"`, "r.example:5000/web</a></th><td class=\"num\">2</td><td class=\"num\">2</td>"}},
		{"/repositories/r.example:5000/team/app", 200, []string{`href="/images/` + a + `"`, "Tag history"}},
		{"/repositories/r.example:5000/web", 200, []string{`&lt;script&gt;alert(1)&lt;/script&gt;`}},
		{"/images", 200, []string{"most severe first", `href="/images/` + a + `"`}},
		{"/images/" + a, 200, []string{"CVE-2024-0001", "apk add --no-cache openssl", `href="#layer-2"`, "KEV", "r.example:5000/team/app:1"}},
		{"/vulnerabilities/CVE-2024-0001", 200, []string{"2 affected images in r.example:5000.", `href="/images/` + a + `"`}},
		{"/vulnerabilities/CVE-2099-0001", 200, []string{"0 affected images"}},
		{"/vulnerabilities?id=CVE-2024-0002", 303, nil},
		{"/alerts", 200, []string{"No alert yet."}},
		{"/alerts?state=bogus", 400, []string{"Unknown alert state"}},
		{"/images/sha256:0000", 404, []string{"No image sha256:0000"}},
		{"/registries/nowhere:1", 404, nil},
		{"/static/dashboard.css", 200, []string{":focus-visible"}},
		{"/login", 303, nil}, // no login without auth
	} {
		code, body, hdr := get(t, c, srv.URL+tc.path)
		if code != tc.code {
			t.Errorf("GET %s = %d, want %d\n%.400s", tc.path, code, tc.code, body)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(body, w) {
				t.Errorf("GET %s lacks %q", tc.path, w)
			}
		}
		if !strings.Contains(hdr.Get("Content-Security-Policy"), "script-src 'self'") {
			t.Errorf("GET %s: no CSP", tc.path)
		}
		if strings.Contains(body, "<script>alert(1)") {
			t.Errorf("GET %s: a tag name is not escaped", tc.path)
		}
	}
}

// TestSummaryFollowsChanges: the overview's summary is kept between
// pages while nothing it reads changes, and follows every change: a new
// image, a tag moved away, findings resolved without a new match, a
// listing.
func TestSummaryFollowsChanges(t *testing.T) {
	st := fixture(t)
	srv, c := serve(t, Options{Store: st, Version: "test"})
	ctx := context.Background()
	overview := func(want ...string) {
		t.Helper()
		_, body, _ := get(t, c, srv.URL+"/")
		for _, w := range want {
			if !strings.Contains(body, w) {
				t.Errorf("overview lacks %q", w)
			}
		}
	}
	overview(`<dd id="total-images">3</dd>`, `<dd id="total-critical">2</dd>`)
	overview(`<dd id="total-images">3</dd>`) // kept

	now := time.Now()
	addImage(t, st, now, "sha256:"+strings.Repeat("d", 64), "r.example:5000/db", "1", layers,
		[]string{"libcrypto3 3.1.4-r0 2"}, []string{"CVE-2024-0001 CRITICAL libcrypto3 3.1.4-r5"})
	overview(`<dd id="total-images">4</dd>`, `<dd id="total-critical">3</dd>`)

	// The new image's critical finding resolved without a match (as a
	// rebuilt tag's old digest's are).
	f := store.Finding{VulnID: "CVE-2024-0001", PkgName: "libcrypto3", PkgVersion: "3.1.4-r0", Target: "alpine 3.19.1"}
	if err := st.ResolveFindings(ctx, now.Add(time.Second), "sha256:"+strings.Repeat("d", 64), []string{f.Key()}, "fixed"); err != nil {
		t.Fatal(err)
	}
	overview(`<dd id="total-images">4</dd>`, `<dd id="total-critical">2</dd>`)

	// The tag moves away: one image fewer is current.
	if err := st.RemoveTag(ctx, now.Add(2*time.Second), store.TagKey{Repository: "r.example:5000/db", Tag: "1", Platform: "linux/amd64"}); err != nil {
		t.Fatal(err)
	}
	overview(`<dd id="total-images">3</dd>`)

	stamp, _ := st.SummaryStamp(ctx)
	if err := st.RecordListing(ctx, now.Add(3*time.Second), store.Registry{URL: "r.example:5000", Repositories: 3, Tags: 4}); err != nil {
		t.Fatal(err)
	}
	if again, _ := st.SummaryStamp(ctx); again == stamp {
		t.Error("a listing does not change the summary stamp")
	}
}

func TestLogin(t *testing.T) {
	st := fixture(t)
	const raw = "vgl_secret-token"
	var logs strings.Builder
	srv, c := serve(t, Options{Store: st, Tokens: testTokens{raw: raw, id: "id1"}, Logger: newLogger(&logs)})

	// Not logged in: to the login form, coming back afterwards.
	code, _, hdr := get(t, c, srv.URL+"/images?page=2")
	if code != 303 || hdr.Get("Location") != "/login?next="+url.QueryEscape("/images?page=2") {
		t.Fatalf("anonymous GET = %d %s", code, hdr.Get("Location"))
	}
	// From another site's link: a page that reloads itself.
	req, _ := http.NewRequest("GET", srv.URL+"/images/sha256:x", nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, _ := c.Do(req)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `http-equiv="refresh"`) {
		t.Errorf("cross-site GET = %d %s", resp.StatusCode, b)
	}

	post := func(form url.Values, hdr map[string]string) *http.Response {
		req, _ := http.NewRequest("POST", srv.URL+"/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	if resp := post(url.Values{"token": {"wrong"}, "next": {"/alerts"}}, nil); resp.StatusCode != 401 || len(resp.Cookies()) != 0 {
		t.Errorf("wrong token = %d, cookies %v", resp.StatusCode, resp.Cookies())
	}
	// A cross-site form post is refused whatever its token.
	if resp := post(url.Values{"token": {raw}}, map[string]string{"Sec-Fetch-Site": "cross-site"}); resp.StatusCode != 403 || len(resp.Cookies()) != 0 {
		t.Errorf("cross-site login = %d", resp.StatusCode)
	}
	resp = post(url.Values{"token": {raw}, "next": {"//evil.example/x"}}, map[string]string{"Sec-Fetch-Site": "same-origin"})
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/" {
		t.Errorf("login with an off-site next = %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	ck := resp.Cookies()
	if len(ck) != 1 || !ck[0].HttpOnly || ck[0].SameSite != http.SameSiteStrictMode || ck[0].Secure || ck[0].Value == raw || strings.Contains(ck[0].Value, raw) {
		t.Fatalf("session cookie = %+v", ck)
	}
	code, body, _ := get(t, c, srv.URL+"/")
	if code != 200 || !strings.Contains(body, "Logged in as reader") {
		t.Fatalf("logged-in overview = %d", code)
	}
	if strings.Contains(logs.String(), raw) {
		t.Errorf("the log holds the token:\n%s", logs.String())
	}

	// Logout ends the session on the server, not only in the browser.
	stolen := ck[0].Value
	req, _ = http.NewRequest("POST", srv.URL+"/logout", nil)
	if resp, err := c.Do(req); err != nil || resp.StatusCode != 303 {
		t.Fatalf("logout = %v %v", resp, err)
	}
	req, _ = http.NewRequest("GET", srv.URL+"/", nil)
	req.AddCookie(&http.Cookie{Name: CookieName, Value: stolen})
	if resp, _ := (&http.Client{CheckRedirect: c.CheckRedirect}).Do(req); resp.StatusCode != 303 {
		t.Errorf("a logged-out session still reads: %d", resp.StatusCode)
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/images?page=2": "/images?page=2", "": "/", "//evil.example": "/", "/\\evil.example": "/",
		"https://evil.example/": "/", "images": "/", "/a\r\nSet-Cookie: x": "/", "/\t/evil.example": "/",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestChartScale(t *testing.T) {
	for n, want := range map[int]int{0: 4, 3: 4, 5: 5, 6: 10, 11: 20, 21: 50, 51: 100, 101: 200, 4999: 5000} {
		if got := niceCeil(n); got != want {
			t.Errorf("niceCeil(%d) = %d, want %d", n, got, want)
		}
	}
	day := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	c := newChart([]store.Day{{Day: day, Counts: store.Counts{Critical: 2, High: 2}}, {Day: day.AddDate(0, 0, 1), Counts: store.Counts{Low: 1}, Recorded: true}})
	if len(c.Days) != 2 || len(c.Days[0].Bars) != 2 || c.Reconstructed != 1 || c.Latest.Total != 1 {
		t.Fatalf("chart = %+v", c)
	}
	// 4 findings fill the plot: the bars stack up to its top.
	if top := c.Days[0].Bars[1].Y; top != c.Top {
		t.Errorf("top bar at %v, want %v", top, c.Top)
	}
}

func newLogger(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }

// FuzzSafeNext: whatever a login form's next holds, the redirect stays on
// this site.
func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/images?page=2", "//evil.example", "/\\evil", "https://x/", "/%2F%2Fevil", "/a\tb", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := safeNext(next)
		if got == "/" {
			return
		}
		u, err := url.Parse(got)
		if err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") || strings.ContainsAny(got, "\\\t\r\n") {
			t.Fatalf("safeNext(%q) = %q leaves the site", next, got)
		}
		// What a browser does with it: resolved against the site, it stays there.
		base, _ := url.Parse("https://vigil.example/login")
		if r := base.ResolveReference(u); r.Host != "vigil.example" {
			t.Fatalf("safeNext(%q) = %q resolves to %s", next, got, r)
		}
	})
}
