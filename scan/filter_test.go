package scan

import (
	"slices"
	"testing"

	"github.com/vigil-scanner/vigil/inventory"
)

func sampleInventory() *inventory.Inventory {
	return &inventory.Inventory{Results: []inventory.Result{
		{Target: "img (debian 12)", Class: inventory.ClassOSPkgs, Packages: []inventory.Package{{Name: "libc6"}}},
		{Target: "Node.js", Class: inventory.ClassLangPkgs, Packages: []inventory.Package{
			{Name: "a", FilePath: "app/node_modules/a/package.json"},
			{Name: "b", FilePath: "usr/lib/node_modules/npm/node_modules/b/package.json"},
		}},
		{Target: "srv/test/fixtures/package-lock.json", Class: inventory.ClassLangPkgs, Packages: []inventory.Package{{Name: "c"}}},
		{Target: "web/package-lock.json", Class: inventory.ClassLangPkgs, Packages: []inventory.Package{
			{ID: "web@1", Name: "web", Version: "1", Root: true, DependsOn: []string{"e@1", "f@1"}},
			{ID: "e@1", Name: "e", Version: "1", Dev: true},
			{ID: "f@1", Name: "f", Version: "1"},
		}},
		{Target: "usr/local/bin/tool", Class: inventory.ClassLangPkgs, Packages: []inventory.Package{{Name: "d", FilePath: "usr/local/bin/tool"}}},
	}, Warnings: []inventory.Warning{
		{Path: "srv/test/fixtures/broken/package-lock.json", Message: "npm: malformed lockfile"},
		{Path: "app/yarn.lock", Message: "yarn: malformed lockfile"},
		{Message: "detecting the operating system: no os-release"},
	}}
}

func warnings(inv *inventory.Inventory) []string {
	var out []string
	for _, w := range inv.Warnings {
		out = append(out, w.Message)
	}
	return out
}

func names(inv *inventory.Inventory) []string {
	var out []string
	for _, r := range inv.Results {
		for _, p := range r.Packages {
			out = append(out, p.Name)
		}
	}
	return out
}

func TestFilter(t *testing.T) {
	all := []string{"npm: malformed lockfile", "yarn: malformed lockfile", "detecting the operating system: no os-release"}
	for _, tt := range []struct {
		name     string
		f        Filter
		want     []string
		warnings []string
	}{
		{"nothing", Filter{}, []string{"libc6", "a", "b", "c", "web", "f", "d"}, all},
		{"os only", Filter{PkgTypes: []string{"os"}}, []string{"libc6"}, all},
		{"library only", Filter{PkgTypes: []string{"library"}}, []string{"a", "b", "c", "web", "f", "d"}, all},
		{"both", Filter{PkgTypes: []string{"os", "library"}}, []string{"libc6", "a", "b", "c", "web", "f", "d"}, all},
		{"skip dir", Filter{SkipDirs: []string{"usr/lib/node_modules"}}, []string{"libc6", "a", "c", "web", "f", "d"}, all},
		{"skip dir glob", Filter{SkipDirs: []string{"**/fixtures"}}, []string{"libc6", "a", "b", "web", "f", "d"}, all[1:]},
		{"skip dir with leading slash", Filter{SkipDirs: []string{"/usr/local/"}}, []string{"libc6", "a", "b", "c", "web", "f"}, all},
		{"skip file", Filter{SkipFiles: []string{"usr/local/bin/tool"}}, []string{"libc6", "a", "b", "c", "web", "f"}, all},
		{"skip file glob", Filter{SkipFiles: []string{"**/package-lock.json"}}, []string{"libc6", "a", "b", "d"}, all[1:]},
		{"skip the yarn lockfile", Filter{SkipFiles: []string{"app/yarn.lock"}}, []string{"libc6", "a", "b", "c", "web", "f", "d"}, []string{all[0], all[2]}},
		{"dev deps", Filter{IncludeDevDeps: true}, []string{"libc6", "a", "b", "c", "web", "e", "f", "d"}, all},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.f.Validate(); err != nil {
				t.Fatal(err)
			}
			inv := sampleInventory()
			tt.f.Apply(inv)
			if got := names(inv); !slices.Equal(got, tt.want) {
				t.Errorf("packages = %q, want %q", got, tt.want)
			}
			if got := warnings(inv); !slices.Equal(got, tt.warnings) {
				t.Errorf("warnings = %q, want %q", got, tt.warnings)
			}
		})
	}
}

func TestFilterDevPrunesGraph(t *testing.T) {
	inv := sampleInventory()
	Filter{}.Apply(inv)
	for _, r := range inv.Results {
		for _, p := range r.Packages {
			if p.Name == "web" && !slices.Equal(p.DependsOn, []string{"f@1"}) {
				t.Errorf("root depends on %v after dev packages were left out, want [f@1]", p.DependsOn)
			}
		}
	}
	inv = sampleInventory()
	Filter{IncludeDevDeps: true}.Apply(inv)
	for _, r := range inv.Results {
		for _, p := range r.Packages {
			if p.Name == "web" && len(p.DependsOn) != 2 {
				t.Errorf("root depends on %v with --include-dev-deps", p.DependsOn)
			}
		}
	}
}

func TestFilterValidate(t *testing.T) {
	for _, f := range []Filter{{PkgTypes: []string{"lib"}}, {SkipDirs: []string{"a["}}, {SkipFiles: []string{"[x"}}} {
		if f.Validate() == nil {
			t.Errorf("%+v: want an error", f)
		}
	}
}

func TestFilterClasses(t *testing.T) {
	for _, tc := range []struct {
		types []string
		want  []string
	}{
		{nil, nil},
		{[]string{PkgTypeOS, PkgTypeLibrary}, nil},
		{[]string{PkgTypeOS}, []string{inventory.ClassOSPkgs}},
		{[]string{PkgTypeLibrary}, []string{inventory.ClassLangPkgs}},
	} {
		if got := (Filter{PkgTypes: tc.types}).Classes(); !slices.Equal(got, tc.want) {
			t.Errorf("Classes() of %q = %q, want %q", tc.types, got, tc.want)
		}
	}
}
