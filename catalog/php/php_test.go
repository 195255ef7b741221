package php

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"testing"
	"testing/fstest"

	"github.com/vigil-scanner/vigil/catalog"
	"github.com/vigil-scanner/vigil/catalog/internal/langpkg"
	"github.com/vigil-scanner/vigil/catalog/internal/langtest"
	"github.com/vigil-scanner/vigil/internal/testutil"
	"github.com/vigil-scanner/vigil/inventory"
)

func TestWants(t *testing.T) {
	c := New()
	for p, want := range map[string]bool{
		"app/composer.lock":                         true,
		"app/vendor/x/y/composer.lock":              false,
		"app/composer.json":                         true,
		"app/vendor/composer/installed.json":        true,
		"vendor/composer/installed.json":            true,
		"app/vendor/composer/installed.php":         false,
		"app/notvendor/composer/installed.json.bak": false,
	} {
		if got := c.Wants(p, 0o644, 10); got != want {
			t.Errorf("Wants(%q) = %v, want %v", p, got, want)
		}
	}
}

func TestCatalog(t *testing.T) {
	res, logs := langtest.Run(t, New(), langtest.Dir(""), catalog.Env{})
	langtest.Golden(t, "composer", res)
	if !logs.Contains("bad/composer.lock") {
		t.Errorf("no warning for the malformed lockfile: %v", logs.Lines())
	}
	got := map[string][]string{}
	for _, r := range res {
		for _, p := range r.Packages {
			s := p.Purl
			if p.Dev {
				s += " dev"
			}
			got[r.Target+" "+r.Type] = append(got[r.Target+" "+r.Type], s)
		}
	}
	want := map[string][]string{
		"app/composer.lock composer": {"pkg:composer/acme/app", "pkg:composer/acme/shared@dev-main?download_url=file:..%2Fshared", "pkg:composer/guzzlehttp/guzzle@7.8.0",
			"pkg:composer/guzzlehttp/psr7@2.6.1", "pkg:composer/monolog/monolog@3.5.0", "pkg:composer/phpunit/phpunit@10.3.2 dev"},
		"app/vendor/composer/installed.json composer-vendor": {"pkg:composer/guzzlehttp/guzzle@7.8.0", "pkg:composer/guzzlehttp/psr7@2.6.1", "pkg:composer/phpunit/phpunit@10.3.2 dev"},
		"v1/vendor/composer/installed.json composer-vendor":  {"pkg:composer/monolog/monolog@1.27.1"},
	}
	for k, w := range want {
		if !slices.Equal(got[k], w) {
			t.Errorf("%s: got %v, want %v", k, got[k], w)
		}
	}
	if p := langtest.Find(res, "guzzlehttp/guzzle"); !slices.Equal(p.DependsOn, []string{"guzzlehttp/psr7@2.6.1"}) {
		t.Errorf("guzzle depends on %v", p.DependsOn)
	}
}

// TestProject: with composer.json the project is the root, its require
// and require-dev direct; a virtual package (psr/log-implementation)
// resolves to the package that provides it.
func TestProject(t *testing.T) {
	res, _ := langtest.Run(t, New(), langtest.Dir("app"), catalog.Env{})
	langtest.CheckGraph(t, res)
	var lock *inventory.Result
	for i := range res {
		if res[i].Target == "composer.lock" {
			lock = &res[i]
		}
	}
	if lock == nil {
		t.Fatal("no composer.lock result")
	}
	var got []string
	for _, p := range lock.Packages {
		got = append(got, fmt.Sprintf("%s root=%v dev=%v indirect=%v origin=%s deps=%v", p.ID, p.Root, p.Dev, p.Indirect, p.Origin, p.DependsOn))
	}
	want := []string{
		"acme/app root=true dev=false indirect=false origin= deps=[acme/shared@dev-main guzzlehttp/guzzle@7.8.0 phpunit/phpunit@10.3.2]",
		"acme/shared@dev-main root=false dev=false indirect=false origin=file:../shared deps=[monolog/monolog@3.5.0]",
		"guzzlehttp/guzzle@7.8.0 root=false dev=false indirect=false origin= deps=[guzzlehttp/psr7@2.6.1]",
		"guzzlehttp/psr7@2.6.1 root=false dev=false indirect=true origin= deps=[]",
		"monolog/monolog@3.5.0 root=false dev=false indirect=true origin= deps=[]",
		"phpunit/phpunit@10.3.2 root=false dev=true indirect=false origin= deps=[]",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

// TestRealBookStack reads BookStack's composer.lock (110 packages, 37
// packages-dev) with its composer.json, and checks Composer's own split
// against a walk of the graph from the project's require (runtime) and
// require-dev: the same packages are dev either way.
func TestRealBookStack(t *testing.T) {
	dir := testutil.Shared(t, "data/lockfiles/BookStack")
	res, logs := langtest.Run(t, New(), os.DirFS(dir), catalog.Env{})
	if l := logs.Lines(); len(l) > 0 {
		t.Errorf("warnings: %v", l)
	}
	langtest.CheckGraph(t, res)
	if len(res) != 1 {
		t.Fatalf("%d results", len(res))
	}
	pkgs := res[0].Packages
	var run, dev []string
	n, nDev := 0, 0
	for _, p := range pkgs {
		if p.Root {
			if p.ID != "bookstackapp/bookstack" {
				t.Errorf("root %s", p.ID)
			}
			continue
		}
		n++
		if p.Dev {
			nDev++
		}
	}
	if n != 147 || nDev != 37 {
		t.Errorf("%d packages, %d dev; want 147, 37", n, nDev)
	}
	var manifest struct {
		Require    map[string]string `json:"require"`
		RequireDev map[string]string `json:"require-dev"`
	}
	if err := json.Unmarshal(langtest.Read(t, dir+"/composer.json"), &manifest); err != nil {
		t.Fatal(err)
	}
	walked := slices.Clone(pkgs)
	for _, p := range walked {
		if _, ok := manifest.Require[p.Name]; ok {
			run = append(run, p.ID)
		}
		if _, ok := manifest.RequireDev[p.Name]; ok {
			dev = append(dev, p.ID)
		}
	}
	if len(run) < 20 || len(dev) != 8 {
		t.Fatalf("require: %d, require-dev: %d", len(run), len(dev))
	}
	for i := range walked {
		walked[i].Dev = false
	}
	langpkg.Scope(walked, run, dev)
	for i := range pkgs {
		if pkgs[i].Dev != walked[i].Dev {
			t.Errorf("%s: Composer says dev=%v, the graph %v", pkgs[i].ID, pkgs[i].Dev, walked[i].Dev)
		}
	}
}

func FuzzComposerLock(f *testing.F) {
	manifest := fstest.MapFS{"composer.json": {Data: langtest.Read(f, "testdata/app/composer.json")}}
	langtest.FuzzFile(f, New(), "composer.lock", manifest, "testdata/*/composer.lock")
}

func FuzzComposerJSON(f *testing.F) {
	lock := fstest.MapFS{"composer.lock": {Data: langtest.Read(f, "testdata/app/composer.lock")}}
	langtest.FuzzFile(f, New(), "composer.json", lock, "testdata/app/composer.json")
}

func FuzzInstalledJSON(f *testing.F) {
	langtest.FuzzFile(f, New(), "vendor/composer/installed.json", nil, "testdata/*/vendor/composer/installed.json")
}
