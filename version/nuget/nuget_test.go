package nuget

import (
	"testing"

	"github.com/vigil-scanner/vigil/version/internal/reftest"
)

// order follows NuGet's documented version precedence ("Package
// versioning", docs.microsoft.com/nuget/concepts/package-versioning) and
// NuGet.Versioning's comparer tests: up to four numeric parts with missing
// ones 0, SemVer 2.0.0 pre-release ordering with case-insensitive labels,
// metadata ignored. Entries in one group are equal.
var order = [][]string{
	{"0.9"},
	{"1.0.0-alpha", "1.0.0-ALPHA", "1.0-Alpha", "1.0.0.0-alpha+meta"},
	{"1.0.0-alpha.1"},
	{"1.0.0-alpha.beta"},
	{"1.0.0-beta"},
	{"1.0.0-beta.2"},
	{"1.0.0-beta.11"},
	{"1.0.0-beta.x"},
	{"1.0.0-beta10"}, // legacy labels compare as strings: "beta10" < "beta2"
	{"1.0.0-beta2"},
	{"1.0.0-rc.1"},
	{"1.0.0", "1.0", "1", "1.0.0.0", "01.0.0", "1.0.0+metadata", "1.0.0.0+a.b", " 1.0.0 "},
	{"1.0.0.1-beta"},
	{"1.0.0.1"},
	{"1.0.1"},
	{"1.1"},
	{"2.0.0-preview.1.23456.7"},
	{"2.0.0-preview.2.23456.7"},
	{"2.0.0"},
	{"2147483647.0.0"},
}

func TestOrder(t *testing.T) {
	reftest.Order(t, Compare, order)
}

func TestLabels(t *testing.T) {
	// Numeric labels are what .NET's int.TryParse accepts.
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"1.0.0-2147483647", "1.0.0-a", -1},
		{"1.0.0-2147483648", "1.0.0-3", 1}, // too big for int: a string
		{"1.0.0-a.-1", "1.0.0-a.0", -1},
		{"1.0.0-a.-2", "1.0.0-a.-1", -1},
		{"1.0.0-a.-0", "1.0.0-a.0", 0},
		{"1.0.0-a.01", "1.0.0-a.1", 0},
		{"1.0.0-Beta", "1.0.0-bEtA", 0},
	} {
		got, err := Compare(c.a, c.b)
		if err != nil || got != c.want {
			t.Errorf("Compare(%q, %q) = %d, %v; want %d", c.a, c.b, got, err, c.want)
		}
	}
}

func TestInvalid(t *testing.T) {
	for _, s := range []string{
		"", "a", "1.0.0.0.0", "1.0.0-", "1.0.0-beta..1", "1.0.0+", "-1.0.0",
		"1.0.0-beta_1", "1.2.3-β", "2147483648.0.0", "1..0", "1.0.", ".1", "v1.0.0",
		"1.0.0+a+b", "1.0 .0",
	} {
		if v, err := Parse(s); err == nil {
			t.Errorf("Parse(%q) = %v, want error", s, v)
		}
	}
}

func TestString(t *testing.T) {
	for in, want := range map[string]string{
		"1": "1.0.0", "1.0.0.0": "1.0.0", "1.2.3.4-Beta+m": "1.2.3.4-Beta+m", "01.002": "1.2.0",
	} {
		if v, err := Parse(in); err != nil || v.String() != want {
			t.Errorf("Parse(%q).String() = %q, %v; want %q", in, v.String(), err, want)
		}
	}
}

func FuzzNuGet(f *testing.F) {
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
	installed, _ := Parse("1.0.0-beta.2")
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
