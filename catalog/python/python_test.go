package python

import (
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/vigil-scanner/vigil/catalog"
	"github.com/vigil-scanner/vigil/catalog/internal/langtest"
)

func TestWants(t *testing.T) {
	tests := []struct {
		path string
		want bool
	}{
		{"usr/lib/python3/site-packages/x-1.0.dist-info/METADATA", true},
		{"usr/lib/python3/site-packages/x-1.0.dist-info/RECORD", false},
		{"usr/lib/python3/site-packages/x.egg-info/PKG-INFO", true},
		{"usr/lib/python3/site-packages/x-1.0.egg-info", true},
		{"x.egg/EGG-INFO/PKG-INFO", true},
		{"site-packages/six-1.16.0-py3.11.egg", true},
		{"site-packages/.egg", false},
		{"src/PKG-INFO", false},
		{"app/requirements.txt", true},
		{"app/requirements-dev.txt", true},
		{"app/requirements/base.txt", false},
		{"app/Pipfile.lock", true},
		{"app/poetry.lock", true},
		{"app/uv.lock", true},
		{"app/METADATA", false},
	}
	c := New()
	for _, tt := range tests {
		if got := c.Wants(tt.path, 0o644, 100); got != tt.want {
			t.Errorf("Wants(%q) = %v, want %v", tt.path, got, tt.want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { c.Wants("a/b/x-1.0.dist-info/METADATA", 0o644, 100) }); n != 0 {
		t.Errorf("Wants allocates %v times", n)
	}
}

func TestInstalled(t *testing.T) {
	env := catalog.Env{Owned: func(p string) bool { return strings.HasPrefix(p, "usr/lib/python3/dist-packages/") }}
	res, logs := langtest.Run(t, New(), langtest.Dir("installed"), env)
	langtest.Golden(t, "installed", res)
	if len(res) != 1 || res[0].Target != InstalledTarget || res[0].Type != TypeInstalled {
		t.Fatalf("results = %+v", res)
	}
	var ids []string
	for _, p := range res[0].Packages {
		ids = append(ids, p.ID)
	}
	want := []string{"Django@4.2", "Flask_Cors@4.0.0", "requests@2.31.0", "six@1.16.0", "urllib3@2.0.7", "zope.interface@6.0"}
	if !slices.Equal(ids, want) {
		t.Errorf("packages = %v, want %v", ids, want)
	}
	checks := map[string]struct {
		purl     string
		licenses []string
		deps     []string
	}{
		"requests":   {"pkg:pypi/requests@2.31.0", []string{"Apache 2.0"}, []string{"urllib3@2.0.7"}},
		"urllib3":    {"pkg:pypi/urllib3@2.0.7", []string{"MIT"}, nil},
		"Django":     {"pkg:pypi/django@4.2", []string{"BSD License"}, nil},
		"Flask_Cors": {"pkg:pypi/flask-cors@4.0.0", []string{"MIT License"}, nil},
	}
	for name, c := range checks {
		p := langtest.Find(res, name)
		if p == nil || p.Purl != c.purl || !slices.Equal(p.Licenses, c.licenses) || !slices.Equal(p.DependsOn, c.deps) {
			t.Errorf("%s = %+v, want purl %s licenses %v deps %v", name, p, c.purl, c.licenses, c.deps)
		}
	}
	if !logs.Contains("broken-1.dist-info/METADATA") {
		t.Errorf("no warning for metadata without a name: %v", logs.Lines())
	}
}

func TestLockfiles(t *testing.T) {
	res, logs := langtest.Run(t, New(), langtest.Dir("lockfiles"), catalog.Env{})
	if l := logs.Lines(); len(l) > 0 {
		t.Errorf("warnings: %v", l)
	}
	langtest.Golden(t, "lockfiles", res)
	got := map[string][]string{}
	for _, r := range res {
		for _, p := range r.Packages {
			got[r.Type] = append(got[r.Type], langtest.Line(p))
		}
	}
	want := map[string][]string{
		TypeRequirements: {"Flask_Cors@4.0.0", "numpy@1.26.4", "pkg@1.0+local", "requests@2.31.0", "urllib3@2.0.7"},
		TypePipenv:       {"mylib@ origin=file:.", "pytest@7.4.0 dev", "requests@2.31.0"},
		TypePoetry:       {"certifi@2023.7.22", "pluggy@1.2.0 dev", "pytest@7.4.0 dev", "requests@2.31.0", "urllib3@2.0.7"},
		TypeUV:           {"app@0.1.0 root", "certifi@2024.2.2 indirect", "iniconfig@2.0.0 dev indirect", "pytest@8.1.1 dev", "requests@2.31.0"},
	}
	for typ, w := range want {
		if !slices.Equal(got[typ], w) {
			t.Errorf("%s: got %v, want %v", typ, got[typ], w)
		}
	}
	if p := langtest.Find(res, "pytest"); p == nil {
		t.Fatal("pytest missing")
	}
}

func TestMalformed(t *testing.T) {
	res, logs := langtest.Run(t, New(), langtest.Dir("malformed"), catalog.Env{})
	if len(res) != 0 {
		t.Errorf("results from malformed files: %+v", res)
	}
	for _, f := range []string{"a/Pipfile.lock", "b/poetry.lock", "c/uv.lock", "d.dist-info/METADATA"} {
		if !logs.Contains(f) {
			t.Errorf("no warning naming %s: %v", f, logs.Lines())
		}
	}
}

func TestHostile(t *testing.T) {
	fsys := fstest.MapFS{
		"long/requirements.txt":  {Data: []byte(strings.Repeat("a", 4<<20) + "==1\nok==2\n")},
		"cont/requirements.txt":  {Data: []byte(strings.Repeat("x \\\n", 100000))},
		"x-1.dist-info/METADATA": {Data: []byte("Name: x\nVersion: 1\n" + strings.Repeat(" cont\n", 200000))},
		"deep/Pipfile.lock":      {Data: []byte(strings.Repeat("[", 100000))},
		"y-1.dist-info/METADATA": {Data: []byte("Name: y\nVersion: 1\nLicense: " + strings.Repeat("z", 2<<20) + "\n")},
	}
	res, _ := langtest.Run(t, New(), fsys, catalog.Env{})
	_ = res // only: no panic, bounded time
}

// TestProjects pins the scope rules on hand-made projects: a pylock.toml
// with dependency groups, extras and markers; Poetry groups and extras;
// a uv workspace with dependency groups.
func TestProjects(t *testing.T) {
	tests := []struct {
		dir  string
		want []string
	}{
		{"pylock", []string{
			"app@1.0.0 root",
			"colorama@0.4.6 dev", // dev group, on Windows only
			"mylib@0.2.0 origin=git+https://github.com/o/mylib.git#0123456789abcdef0123456789abcdef01234567",
			"pluggy@1.5.0 dev indirect", // dev group, and python_version (unknown)
			"pysocks@1.7.1",             // an extra of the project: runtime
			"pytest@8.3.4 dev",
			"pywin32@308", // a platform marker only: installed by default where it applies
			"requests@2.32.3",
			"urllib3@2.2.3 indirect",
		}},
		{"poetry", []string{
			"anyio@4.6.2 indirect",
			"brotli@1.1.0 indirect", // httpx's extra brotli is asked for by no one
			"h2@4.1.0",              // httpx[http2] at runtime, and the docs group
			"hpack@4.0.0 indirect",
			"httpx@0.27.2",
			"iniconfig@2.0.0 dev indirect",
			"pytest@8.3.3 dev",
			"svc@0.4.0 root",
		}},
		{"uvws", []string{
			"attrs@24.2.0",
			"core@0.2.0 root",
			"flask@3.0.3",
			"hypothesis@6.112.0 dev",
			"iniconfig@2.0.0 dev indirect",
			"orjson@3.10.7", // an extra of the member core
			"pytest@8.3.3 dev",
			"sortedcontainers@2.4.0 dev indirect",
			"tool@1.0.0 indirect origin=git+https://github.com/o/tool?rev=v1#fedcba9876543210fedcba9876543210fedcba98",
			"web@0.1.0 root",
			"werkzeug@3.0.4", // flask needs it; the dev group names it too
		}},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			res, logs := langtest.Run(t, New(), langtest.Dir("projects/"+tt.dir), catalog.Env{})
			if l := logs.Lines(); len(l) > 0 {
				t.Errorf("warnings: %v", l)
			}
			langtest.CheckGraph(t, res)
			if len(res) != 1 {
				t.Fatalf("%d results", len(res))
			}
			var got []string
			for _, p := range res[0].Packages {
				got = append(got, langtest.Line(p))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("packages:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}
