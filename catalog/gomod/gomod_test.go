package gomod

import (
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

func TestWants(t *testing.T) {
	c := New()
	for p, want := range map[string]bool{
		"src/app/go.mod":                    true,
		"go.mod":                            true,
		"root/go/pkg/mod/x.com/y@v1/go.mod": false,
		"src/app/vendor/x.com/y/go.mod":     false,
		"src/app/go.sum":                    true,
		"src/app/vendor/x.com/y/go.sum":     false,
	} {
		if got := c.Wants(p, 0o644, 100); got != want {
			t.Errorf("Wants(%q) = %v, want %v", p, got, want)
		}
	}
}

func TestCatalog(t *testing.T) {
	res, logs := langtest.Run(t, New(), langtest.Dir("app"), catalog.Env{})
	badRes, badLogs := langtest.Run(t, New(), langtest.Dir("bad"), catalog.Env{})
	langtest.Golden(t, "gomod", res)
	if len(res) != 1 || res[0].Target != "go.mod" || len(badRes) != 0 {
		t.Fatalf("results = %+v", res)
	}
	var got []string
	for _, p := range res[0].Packages {
		s := p.ID
		if p.Indirect {
			s += " indirect"
		}
		if p.Root {
			s += " root " + strings.Join(p.DependsOn, ",")
		}
		got = append(got, s)
	}
	want := []string{"example.com/app root github.com/BurntSushi/toml@v1.3.2,golang.org/x/net@v0.23.0", "github.com/BurntSushi/toml@v1.3.2", "golang.org/x/net@v0.23.0", "golang.org/x/text@v0.14.0 indirect"}
	if !slices.Equal(got, want) {
		t.Errorf("packages = %v, want %v", got, want)
	}
	if l := logs.Lines(); len(l) > 0 {
		t.Errorf("warnings: %v", l)
	}
	if !badLogs.Contains("go.mod", "malformed") {
		t.Errorf("no warning for the malformed go.mod: %v", badLogs.Lines())
	}
}

// TestGoSum pins when go.sum is compared: a go.mod for go < 1.17, or one
// without "// indirect" requirements, may not list every module built;
// a tidy one does, whatever else go.sum holds. go.sum's modules are never
// reported.
func TestGoSum(t *testing.T) {
	var warned []inventory.Warning
	env := catalog.Env{Warned: func(w inventory.Warning) { warned = append(warned, w) }}
	res, _ := langtest.Run(t, New(), langtest.Dir("warn"), env)
	got := map[string]string{}
	for _, w := range warned {
		got[w.Path] = w.Message
	}
	for _, p := range []string{"old/go.mod", "untidy/go.mod"} {
		if !strings.Contains(got[p], "go.sum holds the content of 1 modules it does not require") {
			t.Errorf("%s: warning %q", p, got[p])
		}
	}
	if w, ok := got["tidy/go.mod"]; ok {
		t.Errorf("warned about a tidy go.mod: %s", w)
	}
	for _, r := range res {
		for _, p := range r.Packages {
			if p.Name == "github.com/felixge/httpsnoop" && r.Target != "tidy/go.mod" {
				t.Errorf("%s: go.sum-only module reported", r.Target)
			}
		}
	}
}

// TestRealGhCli reads cli/cli's go.mod (go 1.22, tidy): its 158
// requirements are the build list, and go.sum's 94 further modules with
// content hashes (tests of dependencies, versions MVS passed over) are
// neither reported nor warned about.
func TestRealGhCli(t *testing.T) {
	dir := testutil.Shared(t, "data/lockfiles/gh-cli")
	res, logs := langtest.Run(t, New(), os.DirFS(dir), catalog.Env{})
	if l := logs.Lines(); len(l) > 0 {
		t.Errorf("warnings: %v", l)
	}
	if len(res) != 1 {
		t.Fatalf("%d results", len(res))
	}
	n, indirect := 0, 0
	var root *inventory.Package
	for i, p := range res[0].Packages {
		switch {
		case p.Root:
			root = &res[0].Packages[i]
		case p.Indirect:
			indirect++
			n++
		default:
			n++
		}
	}
	if n != 158 || indirect != 111 {
		t.Errorf("%d modules, %d indirect; want 158, 111", n, indirect)
	}
	if root == nil || root.ID != "github.com/cli/cli/v2" || len(root.DependsOn) != 47 {
		t.Errorf("root = %+v", root)
	}
}

func FuzzGoMod(f *testing.F) {
	sum := fstest.MapFS{"go.sum": {Data: langtest.Read(f, "testdata/warn/old/go.sum")}}
	langtest.FuzzFile(f, New(), "go.mod", sum, "testdata/*/go.mod", "testdata/warn/*/go.mod")
}

func FuzzGoSum(f *testing.F) {
	mod := fstest.MapFS{"go.mod": {Data: langtest.Read(f, "testdata/warn/untidy/go.mod")}}
	langtest.FuzzFile(f, New(), "go.sum", mod, "testdata/warn/*/go.sum")
}
