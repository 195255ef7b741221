package ruby

import (
	"slices"
	"testing"

	"github.com/vigil-scanner/vigil/catalog"
	"github.com/vigil-scanner/vigil/catalog/internal/langtest"
)

func TestCatalog(t *testing.T) {
	res, logs := langtest.Run(t, New(), langtest.Dir(""), catalog.Env{})
	langtest.Golden(t, "ruby", res)
	for _, bad := range []string{"bad/Gemfile.lock", "broken-1.0.gemspec"} {
		if !logs.Contains(bad) {
			t.Errorf("no warning for %s: %v", bad, logs.Lines())
		}
	}
	var targets []string
	for _, r := range res {
		targets = append(targets, r.Type+" "+r.Target)
	}
	want := []string{
		"bundler app/Gemfile.lock",
		"gemspec usr/lib/ruby/gems/3.2.0/specifications/default/json-2.6.3.gemspec",
		"gemspec usr/local/bundle/specifications/nokogiri-1.15.4-x86_64-linux.gemspec",
		"gemspec usr/local/bundle/specifications/rake-13.0.6.gemspec",
	}
	if !slices.Equal(targets, want) {
		t.Fatalf("results = %q, want %q", targets, want)
	}
	if p := langtest.Find(res[1:], "json"); p.Purl != "pkg:gem/json@2.6.3" || !slices.Equal(p.Licenses, []string{"Ruby", "BSD-2-Clause"}) {
		t.Errorf("json = %+v", p)
	}
	if p := langtest.Find(res[1:], "nokogiri"); p.Version != "1.15.4" || !slices.Equal(p.Licenses, []string{"MIT"}) {
		t.Errorf("nokogiri gemspec = %+v", p)
	}

	var lock []string
	for _, p := range res[0].Packages {
		s := p.Purl
		if p.Indirect {
			s += " indirect"
		}
		lock = append(lock, s)
	}
	wantLock := []string{
		"pkg:gem/actionpack@7.0.8 indirect", "pkg:gem/mini_portile2@2.8.4 indirect", "pkg:gem/myapp@1.0.0",
		"pkg:gem/nokogiri@1.15.4", "pkg:gem/racc@1.7.1 indirect", "pkg:gem/rack@2.2.8 indirect",
		"pkg:gem/rack-test@2.1.0 indirect", "pkg:gem/rails@7.0.8", "pkg:gem/sqlite3@1.6.0-beta", "pkg:gem/widget@0.3.0",
	}
	if !slices.Equal(lock, wantLock) {
		t.Errorf("lockfile packages = %q, want %q", lock, wantLock)
	}
	if p := langtest.Find(res[:1], "actionpack"); !slices.Equal(p.DependsOn, []string{"rack-test@2.1.0", "rack@2.2.8"}) {
		t.Errorf("actionpack depends on %v", p.DependsOn)
	}
}

func TestParseGemspecMalformed(t *testing.T) {
	for name, src := range map[string]string{
		"empty":           "",
		"no version":      "Gem::Specification.new do |s|\n  s.name = \"x\"\nend\n",
		"computed":        "Gem::Specification.new do |s|\n  s.name = NAME\n  s.version = \"1\"\nend\n",
		"other receiver":  "Gem::Specification.new do |s|\n  t.name = \"x\"\n  t.version = \"1\"\nend\n",
		"unterminated":    "Gem::Specification.new do |s|\n  s.name = \"x\n  s.version = \"1\nend\n",
		"comparison only": "Gem::Specification.new do |s|\n  s.name == \"x\"\n  s.version == \"1\"\nend\n",
		"space in name":   "Gem::Specification.new do |s|\n  s.name = \"a b\"\n  s.version = \"1\"\nend\n",
	} {
		if p, err := ParseGemspec([]byte(src)); err == nil {
			t.Errorf("%s: no error, got %+v", name, p)
		}
	}
}

func TestStripPlatform(t *testing.T) {
	for in, want := range map[string]string{
		"1.15.4":                   "1.15.4",
		"1.15.4-x86_64-linux":      "1.15.4",
		"1.15.4-x86_64-linux-musl": "1.15.4",
		"1.6.0-java":               "1.6.0",
		"2.0.0-x64-mingw-ucrt":     "2.0.0",
		"1.15.4-arm64-darwin":      "1.15.4",
		"1.0.0-beta":               "1.0.0-beta",
		"1.0.0-rc1":                "1.0.0-rc1",
	} {
		if got := stripPlatform(in); got != want {
			t.Errorf("stripPlatform(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseLockfileEmpty(t *testing.T) {
	pkgs, err := ParseLockfile([]byte("GEM\n  remote: https://rubygems.org/\n  specs:\n\nPLATFORMS\n  ruby\n"))
	if err != nil || len(pkgs) != 0 {
		t.Errorf("ParseLockfile(no specs) = %v, %v", pkgs, err)
	}
}
