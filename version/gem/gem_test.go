package gem

import (
	"testing"

	"github.com/vigil-scanner/vigil/internal/testutil"
	"github.com/vigil-scanner/vigil/version/internal/reftest"
)

// order follows RubyGems' test_gem_version.rb (test_spaceship,
// test_eql_eh, test_prerelease, test_semver); entries in one group are
// equal.
var order = [][]string{
	{"", "0", "0.0", " ", "0.0.0"},
	{"0.0.1"},
	{"1.0.0.a", "1.0.a", "1.a", "1.0.a.0"},
	{"1.0.a.1"},
	{"1.0.a.2"},
	{"1.0.a10", "1.0.a.10"},
	{"1.0.b1"},
	{"1.0.pre.1", "1.0-1"},
	{"1.0.rc1", "1.0.rc.1"},
	{"1.0", "1", "1.0.0", "1.00", " 1.0 ", "1.0.0.0"},
	{"1.0.0.1"},
	{"1.1.a"},
	{"1.1"},
	{"1.8.2.a"},
	{"1.8.2.a10"},
	{"1.8.2"},
	{"1.9.3", "1.9.3.0"},
	{"1.10"},
	{"5.a"},
	{"5.x"},
	{"5.0"},
	{"5.0.0.1"},
	{"5.0.1"},
	{"18446744073709551616"},
}

func TestOrder(t *testing.T) {
	reftest.Order(t, Compare, order)
}

// invalid are test_gem_version.rb's malformed versions.
var invalid = []string{
	"junk", "1.0\n2.0", "1..2", "1.2\\ 3.4", "2.3422222.222.222222222.22222.ads0as.dasd0.ddd2222.2.qd3e.",
	"1.0-", "1.0-.a", "-1", "1.2.3 4", "v1.0", "1.0+build", "1.0_1", ".1",
}

func TestInvalid(t *testing.T) {
	for _, s := range invalid {
		if _, err := Parse(s); err == nil {
			t.Errorf("Parse(%q) succeeded, want error", s)
		}
	}
}

// TestRubyAgrees checks every pair of the order table and the invalid
// strings against the installed Ruby's Gem::Version.
func TestRubyAgrees(t *testing.T) {
	ruby := testutil.RequireTool(t, "ruby")
	var all []string
	for _, g := range order {
		all = append(all, g...)
	}
	pairs := reftest.Pairs(all)
	for _, s := range invalid {
		if s != "1.0\n2.0" {
			pairs = append(pairs, [2]string{s, "1"})
		}
	}
	const script = `STDIN.read.split("\n", -1).each do |l|
  next if l.empty?
  a, b = l.split("\t", -1)
  if Gem::Version.correct?(a) && Gem::Version.correct?(b)
    puts(Gem::Version.new(a) <=> Gem::Version.new(b))
  else
    puts "invalid"
  end
end`
	got := reftest.Run(t, pairs, ruby, "-e", script)
	reftest.Check(t, pairs, got, Compare)
}

func FuzzGem(f *testing.F) {
	for _, g := range order {
		f.Add(g[0], g[len(g)-1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		x, errA := Compare(a, b)
		y, errB := Compare(b, a)
		if (errA == nil) != (errB == nil) {
			t.Fatalf("errors differ: %v, %v", errA, errB)
		}
		if x != -y {
			t.Fatalf("Compare(%q, %q) = %d but reversed = %d", a, b, x, y)
		}
	})
}

func BenchmarkCompare(b *testing.B) {
	installed, _ := Parse("1.8.2")
	var events []Version
	for _, g := range order {
		v, _ := Parse(g[0])
		events = append(events, v)
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, e := range events {
			installed.Compare(e)
		}
	}
}
