package match_test

import (
	"archive/zip"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/vigil-scanner/vigil/internal/testutil"
	"github.com/vigil-scanner/vigil/inventory"
	"github.com/vigil-scanner/vigil/match"
	"github.com/vigil-scanner/vigil/scan"
	"github.com/vigil-scanner/vigil/vulndb"
	"github.com/vigil-scanner/vigil/vulndb/source/osv"
)

// goRecord is a Go vulnerability database record for golang.org/x/text
// below v0.3.7 listing two vulnerable symbols of its language package.
const goRecord = `{
  "schema_version": "1.6.0",
  "id": "GO-2099-0113",
  "modified": "2024-01-01T00:00:00Z",
  "published": "2024-01-01T00:00:00Z",
  "aliases": ["CVE-2099-38561"],
  "summary": "Out-of-bounds read in golang.org/x/text/language",
  "affected": [{
    "package": {"name": "golang.org/x/text", "ecosystem": "Go"},
    "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "0.3.7"}]}],
    "ecosystem_specific": {"imports": [{
      "path": "golang.org/x/text/language",
      "symbols": ["MatchStrings", "Parse"]
    }]}
  }]
}`

const goMod = "module example.com/%s\n\ngo 1.22\n\nrequire golang.org/x/text v0.3.5\n"

// callsParse calls the vulnerable language.Parse (which the compiler
// inlines: only the inline tree names it); printsTag links the language
// package but neither vulnerable symbol.
const (
	callsParse = "package main\n\nimport (\n\t\"fmt\"\n\t\"os\"\n\n\t\"golang.org/x/text/language\"\n)\n\nfunc main() { fmt.Println(language.Parse(os.Args[0])) }\n"
	printsTag  = "package main\n\nimport (\n\t\"fmt\"\n\n\t\"golang.org/x/text/language\"\n)\n\nfunc main() { fmt.Println(language.English.String()) }\n"
)

// TestReachabilityEndToEnd builds two Go binaries against an old
// golang.org/x/text, scans a root filesystem holding them (binaries
// condensed while read), builds a database from an OSV record with
// symbols, and checks the finding is reachable in one and unreachable in
// the other.
func TestReachabilityEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds binaries")
	}
	gobin := testutil.RequireTool(t, "go")
	ctx := context.Background()
	root := t.TempDir()
	for name, src := range map[string]string{"reach": callsParse, "noreach": printsTag} {
		buildModule(t, gobin, name, src, filepath.Join(root, "usr/local/bin", name))
	}

	inv, err := scan.Dir(ctx, root, inventory.TypeRootfs, scan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mirror := t.TempDir()
	writeZip(t, filepath.Join(mirror, "Go", "all.zip"), "GO-2099-0113.json", goRecord)
	dbPath := filepath.Join(t.TempDir(), "vigil.db")
	if _, err := vulndb.Build(ctx, vulndb.BuildOptions{Path: dbPath, Sources: []vulndb.Source{osv.New("Go", nil)},
		Mirrors: map[string]string{"osv:Go": mirror}}); err != nil {
		t.Fatal(err)
	}
	db, err := vulndb.Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	res, err := match.New(db, match.Options{}).Match(ctx, inv)
	if err != nil {
		t.Fatal(err)
	}

	want := map[string]string{"usr/local/bin/reach": "", "usr/local/bin/noreach": match.Unreachable}
	seen := 0
	for i, r := range inv.Results {
		w, ok := want[r.Target]
		if !ok {
			continue
		}
		seen++
		var found bool
		for _, f := range res.Findings[i] {
			if f.ID != "CVE-2099-38561" {
				continue
			}
			found = true
			if f.Reachability != w {
				t.Errorf("%s: reachability = %q, want %q", r.Target, f.Reachability, w)
			}
		}
		if !found {
			t.Errorf("%s: no finding for CVE-2099-38561 in %+v", r.Target, res.Findings[i])
		}
	}
	if seen != len(want) {
		t.Fatalf("found %d of the binaries in %+v", seen, inv.Results)
	}
}

// buildModule builds a main package requiring golang.org/x/text v0.3.5
// into out, skipping the test when the module cannot be downloaded.
func buildModule(t *testing.T, gobin, name, src, out string) {
	t.Helper()
	dir := t.TempDir()
	for file, data := range map[string]string{"go.mod": fmt.Sprintf(goMod, name), "main.go": src} {
		if err := os.WriteFile(filepath.Join(dir, file), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod", "CGO_ENABLED=0", "GOTOOLCHAIN=local")
	dl := exec.Command(gobin, "mod", "download", "golang.org/x/text")
	dl.Dir, dl.Env = dir, env
	if b, err := dl.CombinedOutput(); err != nil {
		t.Skipf("golang.org/x/text v0.3.5 unavailable: %v\n%s", err, b)
	}
	build := exec.Command(gobin, "build", "-trimpath", "-o", out, ".")
	build.Dir, build.Env = dir, env
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
}

func writeZip(t *testing.T, path, name, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	w, err := zw.Create(name)
	if err == nil {
		_, err = w.Write([]byte(data))
	}
	if err == nil {
		err = zw.Close()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
}
