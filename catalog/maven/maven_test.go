package maven

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/vigil-scanner/vigil/catalog"
	"github.com/vigil-scanner/vigil/catalog/internal/langtest"
	"github.com/vigil-scanner/vigil/internal/testutil"
	"github.com/vigil-scanner/vigil/inventory"
)

func summary(r inventory.Result) []string {
	var out []string
	for _, p := range r.Packages {
		out = append(out, langtest.Line(p))
	}
	return out
}

func results(t *testing.T, opts Options) (map[string][]string, *langtest.Logs) {
	t.Helper()
	res, logs := langtest.Run(t, New(opts), langtest.Dir("project"), catalog.Env{})
	langtest.CheckGraph(t, res)
	out := map[string][]string{}
	for _, r := range res {
		if r.Type != Type {
			t.Errorf("%s: type %s", r.Target, r.Type)
		}
		out[r.Target] = summary(r)
	}
	return out, logs
}

// wantApp is app/pom.xml resolved with the corporate parent and the
// platform BOM at hand: jackson-databind takes the app's own
// jackson.version (the parent manages it with a property the child
// overrides, and the parent's own management wins over its imported
// BOM's); guava comes from the grandparent's management, netty-handler
// and mockito from the imported BOM (with the BOM's properties); junit is
// inherited from the grandparent's dependencies; lib is a module of the
// tree; mystery has no version anywhere and ranged a range.
var wantApp = []string{
	"com.acme:app@1.2.0 root",
	"com.acme:lib@1.2.0 origin=file:lib",
	"com.fasterxml.jackson.core:jackson-databind@2.17.1",
	"com.google.guava:guava@32.1.2-jre",
	"io.netty:netty-handler@4.1.100.Final",
	"junit:junit@4.13.2 dev",
	"org.apache.commons:commons-text@1.10.0",
	"org.mockito:mockito-core@5.11.0 dev",
	"org.range:ranged@",
	"org.unknown:mystery@",
}

func TestLocalRepository(t *testing.T) {
	got, logs := results(t, Options{LocalRepository: os.DirFS("testdata/m2")})
	if !slices.Equal(got["app/pom.xml"], wantApp) {
		t.Errorf("app/pom.xml:\n got %q\nwant %q", got["app/pom.xml"], wantApp)
	}
	wantLib := []string{"com.acme:lib@1.2.0 root", "junit:junit@4.13.2 dev", "org.slf4j:slf4j-api@", "org.yaml:snakeyaml@2.2"}
	if !slices.Equal(got["lib/pom.xml"], wantLib) {
		t.Errorf("lib/pom.xml:\n got %q\nwant %q", got["lib/pom.xml"], wantLib)
	}
	if !slices.Equal(got["pom.xml"], []string{"com.acme:parent@1.2.0 root", "junit:junit@4.13.2 dev"}) {
		t.Errorf("pom.xml: %q", got["pom.xml"])
	}
	if !logs.Contains("app/pom.xml", "org.unknown:mystery (no version, and none managed by the POMs found)", "org.range:ranged (range [1.0,2.0))") {
		t.Errorf("no warning naming the unresolved artifacts: %v", logs.Lines())
	}
	if !logs.Contains("lib/pom.xml", "org.slf4j:slf4j-api (${slf4j.version})") {
		t.Errorf("no warning naming slf4j-api: %v", logs.Lines())
	}
}

// TestOffline: without the local repository nor network, what depends
// on the corporate parent and the BOM is unresolved, and the warning
// says which POMs were missing.
func TestOffline(t *testing.T) {
	got, logs := results(t, Options{})
	want := []string{
		"com.acme:app@1.2.0 root",
		"com.acme:lib@1.2.0 origin=file:lib",
		"com.fasterxml.jackson.core:jackson-databind@2.17.1",
		"com.google.guava:guava@",
		"io.netty:netty-handler@",
		"org.apache.commons:commons-text@1.10.0",
		"org.mockito:mockito-core@ dev",
		"org.range:ranged@",
		"org.unknown:mystery@",
	}
	if !slices.Equal(got["app/pom.xml"], want) {
		t.Errorf("app/pom.xml:\n got %q\nwant %q", got["app/pom.xml"], want)
	}
	for _, s := range []string{"parent com.acme.corp:corp-parent:7", "imported BOM org.acme.bom:platform-bom:3.0.0", "network resolution off"} {
		if !logs.Contains("app/pom.xml", s) {
			t.Errorf("no warning with %q: %v", s, logs.Lines())
		}
	}
}

// TestRemote resolves from a repository served over HTTP, as Maven
// Central is when network resolution is allowed.
func TestRemote(t *testing.T) {
	var requests []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests = append(requests, r.URL.Path)
		http.StripPrefix("/maven2", http.FileServer(http.Dir("testdata/m2"))).ServeHTTP(w, r)
	}))
	defer srv.Close()
	got, _ := results(t, Options{Remote: HTTPRepository{URL: srv.URL + "/maven2/", Client: srv.Client()}})
	if !slices.Equal(got["app/pom.xml"], wantApp) {
		t.Errorf("app/pom.xml:\n got %q\nwant %q", got["app/pom.xml"], wantApp)
	}
	// Each POM is fetched once per scan, whatever number of modules use it.
	slices.Sort(requests)
	want := []string{"/maven2/com/acme/corp/corp-parent/7/corp-parent-7.pom", "/maven2/org/acme/bom/platform-bom/3.0.0/platform-bom-3.0.0.pom"}
	if !slices.Equal(requests, want) {
		t.Errorf("requests = %q, want %q", requests, want)
	}
}

// TestRealPetclinic reads spring-petclinic's pom.xml, whose versions are
// managed by spring-boot-starter-parent 4.0.3, which is not in the
// repository: offline, the 24 declared dependencies are reported, the
// three with a literal or property version resolved, the others without
// a version, named in a warning.
func TestRealPetclinic(t *testing.T) {
	dir := testutil.Shared(t, "data/lockfiles/spring-petclinic")
	res, logs := langtest.Run(t, New(Options{}), os.DirFS(dir), catalog.Env{})
	if len(res) != 1 {
		t.Fatalf("%d results", len(res))
	}
	var resolved, unresolved, dev int
	for _, p := range res[0].Packages {
		switch {
		case p.Root:
			if p.ID != "org.springframework.samples:spring-petclinic@4.0.0-SNAPSHOT" || len(p.DependsOn) != 24 {
				t.Errorf("root %s depends on %d", p.ID, len(p.DependsOn))
			}
			continue
		case p.Version == "":
			unresolved++
		default:
			resolved++
		}
		if p.Dev {
			dev++
		}
	}
	if resolved+unresolved != 24 {
		t.Errorf("%d dependencies, want 24", resolved+unresolved)
	}
	for _, id := range []string{"org.webjars:webjars-locator-lite@1.1.3", "org.webjars.npm:bootstrap@5.3.8", "org.webjars.npm:font-awesome@4.7.0"} {
		if langtest.Find(res, strings.Split(id, "@")[0]) == nil || langtest.Find(res, strings.Split(id, "@")[0]).ID != id {
			t.Errorf("%s not resolved from the POM's properties", id)
		}
	}
	if !logs.Contains("pom.xml", "parent org.springframework.boot:spring-boot-starter-parent:4.0.3", "org.springframework.boot:spring-boot-starter-actuator") {
		t.Errorf("no warning naming the parent and the unresolved artifacts: %v", logs.Lines())
	}
	t.Logf("%d resolved, %d unresolved, %d test-scoped", resolved, unresolved, dev)
}

func FuzzPOM(f *testing.F) {
	tree := fstest.MapFS{
		"app/pom.xml": {Data: langtest.Read(f, "testdata/project/app/pom.xml")},
		"lib/pom.xml": {Data: langtest.Read(f, "testdata/project/lib/pom.xml")},
	}
	c := New(Options{LocalRepository: os.DirFS("testdata/m2")})
	langtest.FuzzFile(f, c, "pom.xml", tree, "testdata/project/*/pom.xml", "testdata/project/pom.xml", "testdata/m2/*/*/*/*/*/*.pom")
}

// TestHostile: a parent cycle, a BOM importing itself, properties that
// double at each reference, and an entity declaration end in bounded
// time with warnings, never a panic.
func TestHostile(t *testing.T) {
	pomWith := func(gavXML, body string) *fstest.MapFile {
		return &fstest.MapFile{Data: []byte(`<project>` + gavXML + body + `</project>`)}
	}
	var props strings.Builder
	props.WriteString("<properties><p0>x</p0>")
	for i := 1; i < 40; i++ {
		fmt.Fprintf(&props, "<p%d>${p%d}${p%d}</p%d>", i, i-1, i-1, i)
	}
	props.WriteString("</properties>")
	fsys := fstest.MapFS{
		"a/pom.xml": pomWith(`<parent><groupId>g</groupId><artifactId>b</artifactId><version>1</version><relativePath>../b/pom.xml</relativePath></parent><artifactId>a</artifactId>`,
			`<dependencies><dependency><groupId>x</groupId><artifactId>y</artifactId><version>${p39}</version></dependency></dependencies>`+props.String()),
		"b/pom.xml": pomWith(`<parent><groupId>g</groupId><artifactId>a</artifactId><version>1</version><relativePath>../a/pom.xml</relativePath></parent><artifactId>b</artifactId>`, ""),
		"bom/pom.xml": pomWith(`<groupId>g</groupId><artifactId>bom</artifactId><version>1</version>`,
			`<dependencyManagement><dependencies><dependency><groupId>g</groupId><artifactId>bom</artifactId><version>1</version><type>pom</type><scope>import</scope></dependency></dependencies></dependencyManagement>`+
				`<dependencies><dependency><groupId>z</groupId><artifactId>z</artifactId></dependency></dependencies>`),
		"ent/pom.xml": {Data: []byte(`<?xml version="1.0"?><!DOCTYPE p [<!ENTITY e SYSTEM "file:///etc/passwd">]><project><artifactId>&e;</artifactId></project>`)},
	}
	res, logs := langtest.Run(t, New(Options{}), fsys, catalog.Env{})
	langtest.CheckGraph(t, res)
	if !logs.Contains("ent/pom.xml", "malformed") {
		t.Errorf("entity not refused: %v", logs.Lines())
	}
	if p := langtest.Find(res, "x:y"); p == nil || p.Version != "" {
		t.Errorf("x:y = %+v, want an unresolved version", p)
	}
}
