package ruby

import (
	"fmt"
	"slices"
	"testing"
	"testing/fstest"

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

	langtest.CheckGraph(t, res)
	var lock []string
	for _, p := range res[0].Packages {
		lock = append(lock, langtest.Line(p))
	}
	// The Gemfile: `gemspec` (myapp, whose development dependency rspec
	// is dev), rails, nokogiri and widget at runtime, sqlite3 in the
	// development and test groups.
	wantLock := []string{
		"actionpack@7.0.8 indirect", "mini_portile2@2.8.4 indirect", "myapp@1.0.0 root",
		"nokogiri@1.15.4", "racc@1.7.1 indirect", "rack@2.2.8 indirect",
		"rack-test@2.1.0 indirect", "rails@7.0.8", "rspec@3.12.0 dev", "rspec-core@3.12.2 dev indirect",
		"sqlite3@1.6.0-beta dev", "widget@0.3.0 origin=git+https://github.com/example/widget.git#0123456789abcdef0123456789abcdef01234567",
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

// TestApplication: an application's Gemfile.lock (no gemspec) has a root
// named by its folder; gems in :test or :development only are dev, a gem
// also in the default group is not.
func TestApplication(t *testing.T) {
	lock := "GEM\n  remote: https://rubygems.org/\n  specs:\n    capybara (3.40.0)\n      rack (>= 1.6)\n    puma (6.4.0)\n    rack (3.0.8)\n    rubocop (1.60.0)\n\n" +
		"PLATFORMS\n  ruby\n\nDEPENDENCIES\n  capybara\n  puma\n  rack\n  rubocop\n"
	gemfile := "source \"https://rubygems.org\"\ngem \"puma\"\ngem \"rack\"\ngem 'rack', group: :test\n" +
		"group :test do\n  gem \"capybara\"\nend\ngem \"rubocop\", groups: [:development, :test], require: false\n"
	pkgs, err := parseLockfile([]byte(lock), parseGemfile([]byte(gemfile)), "web")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range pkgs {
		got = append(got, fmt.Sprintf("%s root=%v dev=%v indirect=%v", p.ID, p.Root, p.Dev, p.Indirect))
	}
	want := []string{
		"capybara@3.40.0 root=false dev=true indirect=false",
		"puma@6.4.0 root=false dev=false indirect=false",
		"rack@3.0.8 root=false dev=false indirect=false",
		"rubocop@1.60.0 root=false dev=true indirect=false",
		"web root=true dev=false indirect=false",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

func FuzzGemfileLock(f *testing.F) {
	gemfile := fstest.MapFS{"Gemfile": {Data: langtest.Read(f, "testdata/app/Gemfile")}}
	langtest.FuzzFile(f, New(), "Gemfile.lock", gemfile, "testdata/*/Gemfile.lock")
}

func FuzzGemfile(f *testing.F) {
	lock := fstest.MapFS{"Gemfile.lock": {Data: langtest.Read(f, "testdata/app/Gemfile.lock")}}
	langtest.FuzzFile(f, New(), "Gemfile", lock, "testdata/app/Gemfile")
}

func FuzzGemspec(f *testing.F) {
	langtest.FuzzFile(f, New(), "usr/local/bundle/specifications/x-1.0.gemspec", nil,
		"testdata/usr/local/bundle/specifications/*.gemspec", "testdata/usr/lib/ruby/gems/*/specifications/default/*.gemspec")
}
