package node

import (
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-scanner/vigil/catalog"
	"github.com/vigil-scanner/vigil/catalog/internal/langtest"
	"github.com/vigil-scanner/vigil/internal/testutil"
	"github.com/vigil-scanner/vigil/inventory"
)

// realResult catalogs one directory of the shared real lockfiles and
// returns the result of the lockfile at target.
func realResult(t *testing.T, dir, target string) *inventory.Result {
	t.Helper()
	root := testutil.Shared(t, filepath.Join("data/lockfiles", dir))
	res, logs := langtest.Run(t, New(), os.DirFS(root), catalog.Env{})
	if l := logs.Lines(); len(l) > 0 {
		t.Errorf("warnings: %v", l)
	}
	for i := range res {
		if res[i].Target == target {
			return &res[i]
		}
	}
	t.Fatalf("no result for %s", target)
	return nil
}

// flags renders a package's scope as the tests write it.
func flags(p inventory.Package) string {
	var f []string
	if p.Root {
		f = append(f, "root")
	}
	if p.Dev {
		f = append(f, "dev")
	}
	if p.Indirect {
		f = append(f, "indirect")
	}
	if p.Origin != "" {
		f = append(f, "origin="+p.Origin)
	}
	return strings.Join(f, " ")
}

// TestRealNpmAgainstNpm checks npm/cli's package-lock.json (v3, 16
// workspaces) against npm itself: `npm query '*' --package-lock-only`
// lists what npm installs from the lockfile with its dev flags, which a
// walk of the whole workspace graph must give (devOptional is not dev:
// iconv-lite 0.6.3 and safer-buffer 2.1.2 ship in npm).
func TestRealNpmAgainstNpm(t *testing.T) {
	r := realResult(t, "npm-cli", "package-lock.json")
	npm := testutil.RequireTool(t, "npm")
	work := t.TempDir()
	src := testutil.Shared(t, "data/lockfiles/npm-cli")
	if err := os.CopyFS(work, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	type node struct {
		Name, Version, Location string
		Dev                     bool
		Resolved                string
	}
	query := func(selector string) []node {
		cmd := exec.Command(npm, "query", selector, "--package-lock-only", "--offline")
		cmd.Dir = work
		cmd.Env = append(os.Environ(), "npm_config_cache="+t.TempDir(), "npm_config_update_notifier=false")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("npm query %s: %v", selector, err)
		}
		var nodes []node
		if err := json.Unmarshal(out, &nodes); err != nil {
			t.Fatal(err)
		}
		return nodes
	}
	nodes := query("*")
	// name@version → dev at every location.
	want := map[string]bool{}
	workspaces := map[string]bool{}
	for _, n := range nodes {
		if n.Location == "" {
			continue
		}
		if !strings.Contains(n.Location, "node_modules/") {
			workspaces[n.Name+"@"+n.Version] = true
			continue
		}
		// Bundled packages (inside another package's tarball) have
		// no resolved URL.
		if n.Resolved != "" && !strings.HasPrefix(n.Resolved, "https://registry.npmjs.org/") {
			continue
		}
		id := n.Name + "@" + n.Version
		if dev, seen := want[id]; seen {
			want[id] = dev && n.Dev
		} else {
			want[id] = n.Dev
		}
	}
	// Direct: what the root or a workspace depends on.
	wantDirect := map[string]bool{}
	for _, n := range query(":root > *, .workspace > *") {
		if strings.Contains(n.Location, "node_modules/") && (n.Resolved == "" || strings.HasPrefix(n.Resolved, "https://")) {
			wantDirect[n.Name+"@"+n.Version] = true
		}
	}
	got := map[string]bool{}
	gotDirect := map[string]bool{}
	roots := map[string]bool{}
	for _, p := range r.Packages {
		switch {
		case p.Root:
			roots[p.ID] = true
		case p.Origin != "":
			t.Errorf("%s: origin %q in a lockfile of registry packages", p.ID, p.Origin)
		default:
			got[p.ID] = p.Dev
			if !p.Indirect {
				gotDirect[p.ID] = true
			}
		}
	}
	if len(wantDirect) < 90 || !maps.Equal(gotDirect, wantDirect) {
		t.Errorf("direct dependencies differ from npm's (%d):\n got %v\nwant %v", len(wantDirect), slices.Sorted(maps.Keys(gotDirect)), slices.Sorted(maps.Keys(wantDirect)))
	}
	if len(want) < 900 {
		t.Fatalf("npm listed %d packages only", len(want))
	}
	for id, dev := range want {
		g, ok := got[id]
		switch {
		case !ok:
			t.Errorf("%s: npm installs it, vigil does not report it", id)
		case g != dev:
			t.Errorf("%s: dev=%v, npm says %v", id, g, dev)
		}
	}
	for id := range got {
		if _, ok := want[id]; !ok {
			t.Errorf("%s: reported, npm does not install it", id)
		}
	}
	// The project and its workspaces are the roots.
	delete(roots, "npm@10.9.0")
	for id := range workspaces {
		if !roots[id] {
			t.Errorf("workspace %s is no root", id)
		}
		delete(roots, id)
	}
	if len(roots) > 0 {
		t.Errorf("roots that are no workspace: %v", roots)
	}
	for _, id := range []string{"iconv-lite@0.6.3", "safer-buffer@2.1.2"} {
		if got[id] {
			t.Errorf("%s is devOptional, not dev", id)
		}
	}
}

// TestRealYarnClassicSources checks the arborist fixture yarn-stuff: an
// alias, a registry tarball URL, git, GitHub and file: entries.
func TestRealYarnClassicSources(t *testing.T) {
	r := realResult(t, "npm-cli", "workspaces/arborist/test/fixtures/yarn-stuff/yarn.lock")
	var got []string
	for _, p := range r.Packages {
		got = append(got, p.ID+" "+flags(p))
	}
	want := []string{
		"a@1.2.3 root",
		// abbrev@^1.1.1, pinned@npm:abbrev@1.1.1, reg@npm:abbrev@^1.1.1,
		// and remote@https://registry.npmjs.org/abbrev/-/abbrev-1.1.1.tgz.
		"abbrev@1.0.9 ",
		"abbrev@1.1.1 ",
		"full-git-url@1.1.1 origin=git+https://github.com/isaacs/abbrev-js.git#b8f3a2fc0c3bb8ffd8b0d0072cc6b5a3667e963c",
		"ghshort@1.1.1 origin=https://codeload.github.com/isaacs/abbrev-js/tar.gz/b8f3a2fc0c3bb8ffd8b0d0072cc6b5a3667e963c",
		"symlink@1.1.1 origin=file:./abbrev-link-target",
		"tarball@1.1.1 origin=file:abbrev-1.1.1.tgz",
	}
	if !slices.Equal(got, want) {
		t.Errorf("packages:\n got %q\nwant %q", got, want)
	}
}
