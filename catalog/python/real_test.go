package python

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"

	"github.com/vigil-scanner/vigil/catalog"
	"github.com/vigil-scanner/vigil/catalog/internal/langtest"
	"github.com/vigil-scanner/vigil/internal/testutil"
	"github.com/vigil-scanner/vigil/inventory"
)

// realResults catalogs one directory of the shared real lockfiles.
func realResults(t *testing.T, dir string) map[string]*inventory.Result {
	t.Helper()
	root := testutil.Shared(t, filepath.Join("data/lockfiles", dir))
	res, logs := langtest.Run(t, New(), os.DirFS(root), catalog.Env{})
	if l := logs.Lines(); len(l) > 0 {
		t.Errorf("warnings: %v", l)
	}
	langtest.CheckGraph(t, res)
	out := map[string]*inventory.Result{}
	for i := range res {
		out[res[i].Target] = &res[i]
	}
	return out
}

func summarize(r *inventory.Result) (counts map[string]int, flagsOf map[string]string) {
	counts, flagsOf = map[string]int{}, map[string]string{}
	for _, p := range r.Packages {
		f := langtest.Flags(p)
		if p.Origin != "" {
			f = strings.TrimSpace(strings.TrimSpace(strings.Split(f, "origin=")[0]) + " origin")
		}
		counts[f]++
		flagsOf[p.ID] = f
	}
	return counts, flagsOf
}

// TestRealLockfiles checks pylock.toml (written by pipenv, pip and uv),
// Pipfile.lock, uv.lock and poetry.lock files of real repositories. The
// package counts are the lockfiles' own entries (pylock [[packages]],
// poetry [[package]], Pipfile.lock default ∪ develop); the scopes were
// traced by hand.
func TestRealLockfiles(t *testing.T) {
	tests := []struct {
		dir, target string
		counts      map[string]int // flags → packages
		want        map[string]string
	}{
		{"pipenv", "pylock.toml", map[string]int{"root": 1, "": 1, "dev": 26, "dev indirect": 76},
			map[string]string{
				".":                  "root",
				"pytz@2026.1.post1":  "", // [packages]
				"alabaster@1.0.0":    "dev indirect",
				"atomicwrites@1.4.1": "dev", // [dev-packages], Windows only
			}},
		{"pipenv", "examples/pylock.toml", map[string]int{"root": 1, "": 3, "dev": 1, "indirect": 1},
			map[string]string{
				"pytest@7.2.0":    "dev",
				"urllib3@1.26.12": "", // named in examples/Pipfile
				// marker "'crypto' in extras": an extra, so runtime.
				"cryptography@40.0.0": "indirect",
			}},
		{"pipenv", "Pipfile.lock", map[string]int{"root": 1, "": 2, "dev": 25, "dev indirect": 70, "indirect": 8},
			map[string]string{
				"pytz@2026.1.post1": "",
				// develop pins exceptiongroup==1.1.0; default has 1.3.1.
				"exceptiongroup@1.1.0": "dev",
				"exceptiongroup@1.3.1": "indirect",
				// In default and develop: runtime.
				"typing-extensions@4.16.0": "",
			}},
		{"pydantic", ".github/pyodide/pylock.314.toml", map[string]int{"root": 1, "": 18, "indirect": 17}, nil},
		{"pydantic", ".github/actions/people/pylock.toml", map[string]int{"root": 1, "": 4, "indirect": 15},
			map[string]string{"pydantic@2.12.5": "", "pygithub@2.9.0": "", "pyyaml@6.0.3": "", "pydantic-settings@2.13.1": ""}},
		{"pydantic", "uv.lock", map[string]int{"root": 2, "": 5, "indirect": 2, "dev": 55, "dev indirect": 111, "dev origin": 1},
			map[string]string{
				"pydantic":              "root",
				"pydantic-core":         "root",
				"annotated-types@0.7.0": "",
				"email-validator@2.2.0": "", // the email extra of pydantic
				"dnspython@2.7.0":       "indirect",
				"pytest@9.1.1":          "dev",
				"pydantic-docs@0.0.1":   "dev origin",
			}},
		{"poetry", "poetry.lock", map[string]int{"root": 1, "": 22, "indirect": 30, "dev": 12, "dev indirect": 13, "origin": 1},
			map[string]string{
				"poetry@2.5.0.dev0":   "root",
				"poetry-core@2.4.1":   "origin", // git+https://github.com/python-poetry/poetry-core.git
				"cachecontrol@0.14.4": "",
				"pre-commit@4.6.0":    "dev",
			}},
	}
	for _, tt := range tests {
		t.Run(tt.dir+"/"+tt.target, func(t *testing.T) {
			r := realResults(t, tt.dir)[tt.target]
			if r == nil {
				t.Fatal("no result")
			}
			counts, got := summarize(r)
			for f, n := range tt.counts {
				if counts[f] != n {
					t.Errorf("%d packages %q, want %d (all: %v)", counts[f], f, n, counts)
				}
			}
			for f := range counts {
				if _, ok := tt.counts[f]; !ok {
					t.Errorf("%d packages %q, want none", counts[f], f)
				}
			}
			for id, want := range tt.want {
				if f, ok := got[id]; !ok || f != want {
					t.Errorf("%s: %q (present %v), want %q", id, f, ok, want)
				}
			}
		})
	}
}

// TestRealPoetryGroups checks the graph walk against Poetry's own
// verdict: poetry.lock 2.1 records the groups each package is installed
// for, and a package is Dev exactly when "main" is not among them.
func TestRealPoetryGroups(t *testing.T) {
	r := realResults(t, "poetry")["poetry.lock"]
	var lf struct {
		Package []struct {
			Name, Version string
			Groups        []string
		}
	}
	if _, err := toml.DecodeFile(testutil.Shared(t, "data/lockfiles/poetry/poetry.lock"), &lf); err != nil {
		t.Fatal(err)
	}
	dev := map[string]bool{}
	for _, p := range r.Packages {
		dev[p.ID] = p.Dev
	}
	for _, p := range lf.Package {
		main := false
		for _, g := range p.Groups {
			main = main || g == "main"
		}
		id := p.Name + "@" + p.Version
		if got, ok := dev[id]; !ok || got == main {
			t.Errorf("%s: dev=%v (present %v), Poetry's groups %v", id, got, ok, p.Groups)
		}
	}
}
