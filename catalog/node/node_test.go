package node

import (
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/vigil-scanner/vigil/catalog"
	"github.com/vigil-scanner/vigil/catalog/internal/langtest"
	"github.com/vigil-scanner/vigil/inventory"
)

func TestWants(t *testing.T) {
	tests := []struct {
		path string
		want bool
	}{
		{"app/package-lock.json", true},
		{"yarn.lock", true},
		{"srv/pnpm-lock.yaml", true},
		{"app/node_modules/x/package-lock.json", false},
		{"app/package.json", true},
		{"app/node_modules/a/package.json", true},
		{"node_modules/a/package.json", true},
		{"app/node_modules/@s/e/package.json", true},
		{"app/node_modules/a/node_modules/b/package.json", true},
		{"app/node_modules/a/lib/package.json", false},
		{"app/node_modules/@s/package.json", false}, // a scope folder, not a package
		{"app/node_modules/@s/e/lib/package.json", false},
		{"app/node_modules/.bin/package.json", false},
		{"app/node_modules/.pnpm/a@1.0.0/node_modules/a/package.json", true},
		{"app/my_node_modules/a/package.json", false},
		{"app/node_modules/package.json", false},
		{"app/node_modules/a/package.json.bak", false},
	}
	c := New()
	for _, tt := range tests {
		if got := c.Wants(tt.path, 0o644, 100); got != tt.want {
			t.Errorf("Wants(%q) = %v, want %v", tt.path, got, tt.want)
		}
	}
	if c.Wants("app/package-lock.json", fs.ModeSymlink, 10) {
		t.Error("Wants took a symlink")
	}
	if c.Wants("app/node_modules/a/package.json", 0o644, maxPackageJSON+1) {
		t.Error("Wants took an oversized package.json")
	}
	if n := testing.AllocsPerRun(100, func() { c.Wants("app/node_modules/@s/e/package.json", 0o644, 100) }); n != 0 {
		t.Errorf("Wants allocates %v times", n)
	}
}

func TestLockfiles(t *testing.T) {
	for _, dir := range []string{"npmv1", "npmv3", "yarnv1", "berry", "pnpm5", "pnpm6", "pnpm9", "yarnws", "berryws"} {
		t.Run(dir, func(t *testing.T) {
			res, logs := langtest.Run(t, New(), langtest.Dir(dir), catalog.Env{})
			if l := logs.Lines(); len(l) > 0 {
				t.Errorf("warnings: %v", l)
			}
			langtest.Golden(t, dir, res)
		})
	}
}

// summary renders a package's flags compactly for assertions.
func summary(p *inventory.Package) string {
	if p == nil {
		return "<missing>"
	}
	return fmt.Sprintf("%s dev=%v indirect=%v deps=%v", p.ID, p.Dev, p.Indirect, p.DependsOn)
}

func TestLockfileSemantics(t *testing.T) {
	tests := []struct {
		dir     string
		want    map[string]string // package name → summary
		roots   map[string]bool
		origins map[string]string // ID → origin
	}{
		{"npmv1", map[string]string{
			"a":    "a@1.0.0 dev=false indirect=false deps=[b@2.0.0]",
			"real": "real@1.2.0 dev=false indirect=false deps=[]",
			"d":    "d@1.0.0 dev=true indirect=false deps=[b@1.0.0]",
			"b":    "b@1.0.0 dev=true indirect=true deps=[]",
			"app":  "app@1.0.0 dev=false indirect=false deps=[a@1.0.0 d@1.0.0 real@1.2.0]",
		}, map[string]bool{"app@1.0.0": true}, map[string]string{"gitdep@": "git+https://example.com/x.git#abc"}},
		{"npmv3", map[string]string{
			"a":    "a@1.0.0 dev=false indirect=false deps=[b@2.0.0]",
			"@s/e": "@s/e@1.0.0 dev=false indirect=false deps=[b@1.0.0]",
			"real": "real@1.2.0 dev=false indirect=false deps=[]",
			"f":    "f@3.0.0 dev=false indirect=false deps=[]",
			"d":    "d@1.0.0 dev=true indirect=false deps=[b@1.0.0]",
			// The fixture's "dev" on b is wrong: the optional runtime
			// dependency @s/e needs it too (npm would write devOptional).
			"b":  "b@1.0.0 dev=false indirect=true deps=[]",
			"ws": "ws@0.1.0 dev=false indirect=false deps=[f@3.0.0]",
		}, map[string]bool{"app@1.0.0": true, "ws@0.1.0": true}, map[string]string{"tar@": "file:../tar.tgz"}},
		{"yarnv1", map[string]string{
			"@babel/code-frame": "@babel/code-frame@7.12.13 dev=false indirect=false deps=[@babel/highlight@7.13.10]",
			"js-tokens":         "js-tokens@4.0.0 dev=false indirect=true deps=[]",
			"left-pad":          "left-pad@1.3.0 dev=true indirect=true deps=[]",
			"real":              "real@1.2.0 dev=false indirect=false deps=[]",
		}, map[string]bool{"app@1.0.0": true}, nil},
		{"berry", map[string]string{
			"@babel/code-frame": "@babel/code-frame@7.12.13 dev=false indirect=false deps=[@babel/highlight@7.13.10]",
			"d":                 "d@1.0.0 dev=true indirect=false deps=[fsevents@2.3.2]",
			"js-tokens":         "js-tokens@4.0.0 dev=false indirect=true deps=[]",
			// A patched registry package is that registry package.
			"fsevents": "fsevents@2.3.2 dev=true indirect=true deps=[]",
		}, map[string]bool{"app@1.0.0": true}, nil},
		{"pnpm5", map[string]string{
			"@s/e": "@s/e@1.0.0 dev=false indirect=false deps=[a@1.0.0 real@1.2.0]",
			"b":    "b@2.0.0 dev=false indirect=true deps=[]",
			"d":    "d@1.0.0 dev=true indirect=false deps=[b@2.0.0]",
		}, map[string]bool{".": true}, nil},
		{"pnpm6", map[string]string{
			"@s/e": "@s/e@1.0.0 dev=false indirect=false deps=[a@1.0.0 real@1.2.0]",
			"d":    "d@1.0.0 dev=true indirect=false deps=[b@2.0.0]",
		}, map[string]bool{".": true}, nil},
		{"pnpm9", map[string]string{
			"@s/e": "@s/e@1.0.0 dev=false indirect=false deps=[a@1.0.0]",
			"b":    "b@2.0.0 dev=false indirect=true deps=[]",
			"d":    "d@1.0.0 dev=true indirect=false deps=[a@1.0.0 b@2.0.0]",
			"real": "real@1.2.0 dev=false indirect=false deps=[]",
			".":    ". dev=false indirect=false deps=[@s/e@1.0.0 a@1.0.0 d@1.0.0 packages/web]",
		}, map[string]bool{".": true, "packages/web": true}, nil},
		// A workspace member (app) needs at runtime what the root needs
		// in development only (helper, through lint); the member
		// packages/ignored is left out by a negated glob.
		{"yarnws", map[string]string{
			"mono":   "mono dev=false indirect=false deps=[app@2.0.0 lint@1.2.0 shared@1.0.0]",
			"app":    "app@2.0.0 dev=false indirect=false deps=[gitpkg@0.3.0 helper@1.4.0 shared@1.0.0]",
			"shared": "shared@1.0.0 dev=false indirect=false deps=[lint@1.2.0 tiny@3.1.0]",
			"helper": "helper@1.4.0 dev=false indirect=false deps=[tiny@3.1.0]",
			"lint":   "lint@1.2.0 dev=true indirect=false deps=[helper@1.4.0 tool@5.0.1]",
			"tool":   "tool@5.0.1 dev=true indirect=true deps=[]",
			"tiny":   "tiny@3.1.0 dev=false indirect=false deps=[]",
			"gitpkg": "gitpkg@0.3.0 dev=false indirect=false deps=[tiny@3.1.0]",
		}, map[string]bool{"mono": true, "app@2.0.0": true, "shared@1.0.0": true},
			map[string]string{"gitpkg@0.3.0": "git+https://github.com/o/gitpkg.git#0123456789abcdef0123456789abcdef01234567"}},
		{"berryws", map[string]string{
			"mono":   "mono dev=false indirect=false deps=[app@2.0.0 lint@1.2.0 shared@1.0.0]",
			"app":    "app@2.0.0 dev=false indirect=false deps=[gitpkg@0.3.0 helper@1.4.0 shared@1.0.0]",
			"shared": "shared@1.0.0 dev=false indirect=false deps=[lint@1.2.0 tiny@3.1.0]",
			"helper": "helper@1.4.0 dev=false indirect=false deps=[tiny@3.1.0]",
			"lint":   "lint@1.2.0 dev=true indirect=false deps=[helper@1.4.0 tool@5.0.1]",
			"tool":   "tool@5.0.1 dev=true indirect=true deps=[]",
			"tiny":   "tiny@3.1.0 dev=false indirect=false deps=[]",
			"gitpkg": "gitpkg@0.3.0 dev=false indirect=false deps=[tiny@3.1.0]",
		}, map[string]bool{"mono": true, "app@2.0.0": true, "shared@1.0.0": true},
			map[string]string{"gitpkg@0.3.0": "https://github.com/o/gitpkg.git#commit=0123456789abcdef0123456789abcdef01234567"}},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			res, _ := langtest.Run(t, New(), langtest.Dir(tt.dir), catalog.Env{})
			for name, want := range tt.want {
				p := langtest.Find(res, name)
				if got := summary(p); got != want {
					t.Errorf("%s:\n got %s\nwant %s", name, got, want)
				}
			}
			for _, r := range res {
				for _, p := range r.Packages {
					switch {
					case p.Root:
						if !tt.roots[p.ID] {
							t.Errorf("unexpected root %s", p.ID)
						}
						delete(tt.roots, p.ID)
					case p.Origin != "":
						if tt.origins[p.ID] != p.Origin {
							t.Errorf("%s: origin %q, want %q", p.ID, p.Origin, tt.origins[p.ID])
						}
						delete(tt.origins, p.ID)
					case strings.ContainsAny(p.Version, ":/#") || !strings.HasPrefix(p.Purl, "pkg:npm/"):
						t.Errorf("%s: not a registry package (purl %q)", p.ID, p.Purl)
					}
				}
			}
			if len(tt.roots)+len(tt.origins) > 0 {
				t.Errorf("missing roots %v, origins %v", tt.roots, tt.origins)
			}
		})
	}
}

func TestPurl(t *testing.T) {
	p := newPackage("@babel/code-frame", "7.12.13")
	if p.Purl != "pkg:npm/%40babel/code-frame@7.12.13" {
		t.Errorf("purl = %q", p.Purl)
	}
}

func TestInstalled(t *testing.T) {
	env := catalog.Env{Owned: func(p string) bool { return strings.HasPrefix(p, "usr/share/nodejs/") }}
	res, logs := langtest.Run(t, New(), langtest.Dir("installed"), env)
	langtest.Golden(t, "installed", res)
	if len(res) != 1 || res[0].Target != InstalledTarget || res[0].Type != TypeInstalled {
		t.Fatalf("results = %+v", res)
	}
	var names []string
	for _, p := range res[0].Packages {
		names = append(names, p.ID)
	}
	want := []string{"@s/e@1.0.0", "a@1.0.0", "b@1.0.0", "b@2.0.0", "npm@10.2.0", "semver@7.5.4"}
	if !slices.Equal(names, want) {
		t.Errorf("packages = %v, want %v", names, want)
	}
	if a := langtest.Find(res, "a"); a == nil || !slices.Equal(a.DependsOn, []string{"@s/e@1.0.0", "b@2.0.0"}) {
		t.Errorf("a = %+v", a)
	}
	// noversion/package.json is no package: skipped (and not warned about,
	// as such manifests are common in node_modules).
	if logs.Contains("noversion/package.json") {
		t.Errorf("warned about a package.json without version: %v", logs.Lines())
	}
}

func TestMalformed(t *testing.T) {
	res, logs := langtest.Run(t, New(), langtest.Dir("malformed"), catalog.Env{})
	if len(res) != 0 {
		t.Errorf("results from malformed files: %+v", res)
	}
	for _, f := range []string{"a/package-lock.json", "b/yarn.lock", "c/pnpm-lock.yaml", "d/node_modules/x/package.json"} {
		if !logs.Contains(f) {
			t.Errorf("no warning naming %s: %v", f, logs.Lines())
		}
	}
}

func TestHostile(t *testing.T) {
	deep := strings.Repeat(`{"dependencies":{"x":`, 20000) + strings.Repeat("}}", 20000)
	fsys := fstest.MapFS{
		"deep/package-lock.json":  {Data: []byte(`{"lockfileVersion":1,"dependencies":{"a":` + deep + `}}`)},
		"long/yarn.lock":          {Data: []byte(strings.Repeat("a", 1<<20) + ":\n")},
		"empty/pnpm-lock.yaml":    {Data: nil},
		"null/package-lock.json":  {Data: []byte("null")},
		"types/package-lock.json": {Data: []byte(`{"lockfileVersion":3,"packages":{"node_modules/a":{"version":"1","dependencies":[1,2]}}}`)},
	}
	res, logs := langtest.Run(t, New(), fsys, catalog.Env{})
	if !logs.Contains("deep/package-lock.json") {
		t.Errorf("no warning for the deeply nested lockfile: %v", logs.Lines())
	}
	if p := langtest.Find(res, "a"); p == nil || p.Version != "1" {
		t.Errorf("wrongly typed dependencies lost the package: %+v", res)
	}
}

func BenchmarkNodeModules(b *testing.B) {
	fsys := fstest.MapFS{}
	const n = 5000
	for i := range n {
		name := fmt.Sprintf("pkg%d", i)
		dir := "app/node_modules/" + name
		if i%5 == 0 && (i-1)%7 != 0 {
			dir = fmt.Sprintf("app/node_modules/pkg%d/node_modules/%s", i-1, name)
		}
		if i%7 == 0 {
			name = fmt.Sprintf("@scope%d/%s", i%13, name)
			dir = "app/node_modules/" + name
		}
		fsys[dir+"/package.json"] = &fstest.MapFile{Data: fmt.Appendf(nil,
			`{"name":%q,"version":"1.%d.0","license":"MIT","dependencies":{"pkg%d":"^1.0.0","pkg%d":"^1.0.0"}}`,
			name, i, (i+1)%n, (i*7)%n), Mode: 0o644}
	}
	env := catalog.Env{Logger: langtestDiscard()}
	c := New()
	b.ResetTimer()
	for b.Loop() {
		res, err := c.Catalog(b.Context(), fsys, env)
		if err != nil || len(res) != 1 || len(res[0].Packages) != n {
			b.Fatalf("got %d results, err %v", len(res), err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "files/s")
}

func TestWorkspaceMatch(t *testing.T) {
	globs := []string{"packages/*", "./apps/**", "!packages/private", "tools/*/"}
	tests := map[string]bool{
		"packages/a":       true,
		"packages/private": false,
		"packages/a/b":     false,
		"apps":             true,
		"apps/web/site":    true,
		"tools/lint":       true,
		"other":            false,
	}
	for rel, want := range tests {
		if got := workspaceMatch(globs, rel); got != want {
			t.Errorf("workspaceMatch(%q) = %v, want %v", rel, got, want)
		}
	}
	// Many "**" are merged or refused, never matched in exponential time.
	deep := strings.Repeat("a/", 40) + "b"
	hostile := []string{strings.Repeat("**/", 50) + "c", strings.Repeat("**/a/", 20) + "c"}
	if workspaceMatch(hostile, deep) {
		t.Error("hostile globs matched")
	}
}
