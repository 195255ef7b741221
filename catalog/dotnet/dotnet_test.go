package dotnet

import (
	"cmp"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-scanner/vigil/catalog"
	"github.com/vigil-scanner/vigil/catalog/internal/langtest"
	"github.com/vigil-scanner/vigil/inventory"
)

// summary lists "type target: purl [root] [dev] [indirect]" lines.
func summary(res []inventory.Result) []string {
	var out []string
	for _, r := range res {
		for _, p := range r.Packages {
			s := r.Type + " " + r.Target + ": " + cmp.Or(p.Purl, p.ID)
			out = append(out, strings.TrimSpace(s+" "+langtest.Flags(p)))
		}
	}
	return out
}

func TestCatalog(t *testing.T) {
	res, logs := langtest.Run(t, New(), langtest.Dir(""), catalog.Env{})
	langtest.Golden(t, "dotnet", res)
	for _, bad := range []string{"bad/broken.deps.json", "bad/packages.config", "bad/packages.lock.json"} {
		if !logs.Contains(bad) {
			t.Errorf("no warning for %s: %v", bad, logs.Lines())
		}
	}
	want := []string{
		"dotnet-core app/bin/web.deps.json: pkg:nuget/Newtonsoft.Json@13.0.1",
		// In libraries, but in no target: an unused package.
		"dotnet-core app/bin/web.deps.json: pkg:nuget/System.Text.Encodings.Web@4.7.1 indirect",
		"dotnet-core app/bin/web.deps.json: web@1.0.0 root",
		"nuget app/packages.lock.json: pkg:nuget/Newtonsoft.Json@13.0.1",
		"nuget app/packages.lock.json: pkg:nuget/Serilog@2.10.0 indirect",
		"nuget app/packages.lock.json: pkg:nuget/Serilog.Sinks.File@5.0.0",
		"nuget app/packages.lock.json: pkg:nuget/System.Memory@4.5.5 indirect",
		"nuget app/packages.lock.json: app root",
		"nuget app/packages.lock.json: shared root",
		"packages-props central/Directory.Packages.props: pkg:nuget/Newtonsoft.Json@12.0.3",
		"packages-props central/Directory.Packages.props: pkg:nuget/Polly@7.2.4",
		"packages-props central/Directory.Packages.props: pkg:nuget/xunit@2.4.2",
		"nuget legacy/packages.config: pkg:nuget/Microsoft.CodeDom.Providers.DotNetCompilerPlatform@2.0.1 dev",
		"nuget legacy/packages.config: pkg:nuget/jQuery@3.4.1",
	}
	if got := summary(res); !slices.Equal(got, want) {
		t.Errorf("packages:\n%q\nwant\n%q", got, want)
	}
	if p := langtest.Find(res, "Serilog.Sinks.File"); !slices.Equal(p.DependsOn, []string{"Serilog@2.10.0"}) {
		t.Errorf("Serilog.Sinks.File depends on %v", p.DependsOn)
	}
	langtest.CheckGraph(t, res)
	if p := langtest.Find(res, "app"); p == nil || !slices.Equal(p.DependsOn, []string{"Newtonsoft.Json@13.0.1", "Serilog.Sinks.File@5.0.0", "shared"}) {
		t.Errorf("project = %+v", p)
	}
	if p := langtest.Find(res, "shared"); p == nil || !slices.Equal(p.DependsOn, []string{"Serilog@2.10.0"}) {
		t.Errorf("referenced project = %+v", p)
	}
	if p := langtest.Find(res, "web"); p == nil || !slices.Equal(p.DependsOn, []string{"Newtonsoft.Json@13.0.1"}) {
		t.Errorf("application = %+v", p)
	}
}

func TestWants(t *testing.T) {
	c := New()
	for p, want := range map[string]bool{
		"app/bin/web.deps.json":        true,
		"src/packages.lock.json":       true,
		"src/packages.config":          true,
		"src/Directory.Packages.props": true,
		"src/web.csproj":               false,
		"src/package-lock.json":        false,
		"src/deps.json.bak":            false,
	} {
		if got := c.Wants(p, 0o644, 100); got != want {
			t.Errorf("Wants(%q) = %v, want %v", p, got, want)
		}
	}
	if c.Wants("a.deps.json", 0o644, maxFile+1) {
		t.Error("oversized file wanted")
	}
}

func FuzzDepsJSON(f *testing.F) {
	langtest.FuzzFile(f, New(), "app/web.deps.json", nil, "testdata/*/bin/*.deps.json", "testdata/bad/*.deps.json")
}

func FuzzPackagesLock(f *testing.F) {
	langtest.FuzzFile(f, New(), "packages.lock.json", nil, "testdata/*/packages.lock.json")
}

func FuzzPackagesConfig(f *testing.F) {
	langtest.FuzzFile(f, New(), "packages.config", nil, "testdata/*/packages.config")
}

func FuzzPackagesProps(f *testing.F) {
	langtest.FuzzFile(f, New(), "Directory.Packages.props", nil, "testdata/*/Directory.Packages.props")
}
