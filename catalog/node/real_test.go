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
		got = append(got, p.ID+" "+langtest.Flags(p))
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

// packageSummary maps each package ID of r to its flags.
func packageSummary(r *inventory.Result) map[string]string {
	out := map[string]string{}
	for _, p := range r.Packages {
		out[p.ID] = langtest.Flags(p)
	}
	return out
}

// TestRealWorkspaces checks yarn classic, Berry and pnpm workspaces from
// real repositories. The package counts are those of the lockfiles'
// registry entries (yarn classic: distinct resolved registry tarballs;
// Berry: distinct npm: and patch: resolutions; pnpm: the packages map),
// counted apart with a script. The scopes were traced by hand through
// the lockfiles and the workspaces' package.json files.
func TestRealWorkspaces(t *testing.T) {
	tests := []struct {
		dir, target string
		packages    int // registry packages
		roots       []string
		want        map[string]string
	}{
		{"excalidraw", "yarn.lock", 1441,
			[]string{"@excalidraw/common@0.18.0", "@excalidraw/element@0.18.0", "@excalidraw/excalidraw@0.18.0", "@excalidraw/fractional-indexing@3.3.0",
				"@excalidraw/laser-pointer@1.3.1", "@excalidraw/math@0.18.0", "@excalidraw/utils@0.1.2", "excalidraw-app@1.0.0", "excalidraw-monorepo",
				"with-nextjs@0.1.0", "with-script-in-browser@1.0.0"},
			map[string]string{
				// excalidraw-app → i18next-browser-languagedetector → @babel/runtime;
				// also reached from root devDependencies (@testing-library/*).
				"@babel/runtime@7.26.9":                  "indirect",
				"i18next-browser-languagedetector@6.1.4": "",
				// excalidraw-app → socket.io-client 4.7.2 → …
				"@socket.io/component-emitter@3.1.2": "indirect",
				"socket.io-client@4.7.2":             "",
				// …while 4.8.1 comes only through the root's dev
				// dependency @types/socket.io-client.
				"socket.io-client@4.8.1":       "dev indirect",
				"vitest@3.0.6":                 "dev",
				"regenerator-transform@0.15.2": "dev indirect",
			}},
		{"netbox", "netbox/project-static/yarn.lock", 497,
			[]string{"netbox@4.6.2", "netbox-graphiql@4.6.2"},
			map[string]string{
				// netbox-graphiql → graphiql → … → tslib, @types/estree.
				"tslib@2.8.1":         "indirect",
				"@types/estree@1.0.9": "indirect",
				"graphiql@4.1.2":      "",
				"eslint@10.8.1":       "dev",
				"eslint-scope@9.1.2":  "dev indirect",
			}},
		{"prettier", "yarn.lock", 1049, []string{"prettier@3.10.0-dev"},
			map[string]string{
				// The alias string-width-cjs is string-width 4.2.3.
				"string-width@4.2.3":  "dev indirect",
				"@babel/parser@8.0.4": "",
				// A patched package is its registry package (a
				// runtime dependency of prettier).
				"typescript@6.0.3": "",
			}},
		{"prettier", "website/yarn.lock", 1386, []string{"website"},
			map[string]string{
				// The alias react-helmet-async is @slorber/react-helmet-async.
				"@slorber/react-helmet-async@1.3.0": "indirect",
				"@docusaurus/core@3.10.2":           "",
			}},
		{"vue-core", "pnpm-lock.yaml", 620,
			[]string{".@3.5.41", "@vue/compat@3.5.41", "@vue/compiler-core@3.5.41", "@vue/compiler-dom@3.5.41", "@vue/compiler-sfc@3.5.41",
				"@vue/compiler-ssr@3.5.41", "@vue/reactivity@3.5.41", "@vue/runtime-core@3.5.41", "@vue/runtime-dom@3.5.41", "@vue/runtime-test@0.0.0",
				"@vue/server-renderer@3.5.41", "@vue/sfc-playground@0.0.0", "@vue/shared@3.5.41", "@vue/template-explorer@0.0.0",
				"dts-built-test@0.0.0", "dts-test@0.0.0", "vite-debug", "vue@3.5.41"},
			map[string]string{
				// packages/compiler-core depends on @babel/parser,
				// entities, estree-walker, source-map-js.
				"@babel/parser@7.29.8": "",
				"entities@7.0.1":       "",
				"estree-walker@2.0.2":  "",
				"vite@8.2.0":           "dev",
			}},
	}
	for _, tt := range tests {
		t.Run(tt.dir+"/"+tt.target, func(t *testing.T) {
			r := realResult(t, tt.dir, tt.target)
			got := packageSummary(r)
			var roots []string
			n := 0
			for _, p := range r.Packages {
				switch {
				case p.Root:
					roots = append(roots, p.ID)
				case p.Origin != "":
					t.Errorf("%s: origin %q", p.ID, p.Origin)
				default:
					n++
				}
			}
			if n != tt.packages {
				t.Errorf("%d registry packages, want %d", n, tt.packages)
			}
			if !slices.Equal(roots, tt.roots) {
				t.Errorf("roots:\n got %q\nwant %q", roots, tt.roots)
			}
			for id, want := range tt.want {
				if f, ok := got[id]; !ok || f != want {
					t.Errorf("%s: %q (present %v), want %q", id, f, ok, want)
				}
			}
		})
	}
}
