package deb

import (
	"github.com/vigil-scanner/vigil/version/internal/reftest"
	"os/exec"
	"testing"

	"github.com/vigil-scanner/vigil/internal/testutil"
)

// cases are pairs with their expected order. Sources: Debian Policy
// §5.6.12 ("Version") and the behaviour of dpkg's lib/dpkg/version.c
// (dpkg_version_compare, verrevcmp, parseversion); TestDpkgAgrees checks
// every pair against the installed dpkg.
var cases = []struct {
	a, b string
	want int
}{
	// Policy: epoch first, missing epoch is 0.
	{"1.0", "1.0", 0},
	{"0:1.0", "1.0", 0},
	{"00:1.0", "0:1.0", 0},
	{"1:1.0", "1.0", 1},
	{"1:0.1", "9.9", 1},
	{"2:0.1", "1:9.9", 1},
	{"10:1", "9:1", 1},
	// Policy: absent revision equals revision "0".
	{"1.0-0", "1.0", 0},
	{"1.0-1", "1.0", 1},
	{"1.0-1", "1.0-2", -1},
	{"1.0-10", "1.0-9", 1},
	// Upstream dominates the revision.
	{"1.1-1", "1.0-9", 1},
	// Policy: "~" sorts before everything, even the end of a part.
	{"1.0~rc1", "1.0", -1},
	{"1.0~~", "1.0~", -1},
	{"1.0~~a", "1.0~", -1},
	{"1.0~~", "1.0~~a", -1},
	{"1.0~", "1.0", -1},
	{"1.0~rc1", "1.0~rc2", -1},
	{"1.0~beta", "1.0~rc", -1},
	{"1.0-1~bpo1", "1.0-1", -1},
	// Policy: letters sort before non-letters; the end before letters.
	{"1.0", "1.0a", -1},
	{"1.0a", "1.0+", -1},
	{"1.0a", "1.0.", -1},
	{"1.0+", "1.0.", -1},
	{"1.0a", "1.0b", -1},
	{"1.0A", "1.0a", -1},
	{"1.0Z", "1.0a", -1},
	{"1.0+dfsg", "1.0", 1},
	{"1.0+dfsg-1", "1.0-1", 1},
	{"1.0.1", "1.0+1", 1},
	// Policy: digit runs compare numerically.
	{"1.10", "1.9", 1},
	{"1.010", "1.10", 0},
	{"1.00", "1.0", 0},
	{"1.0.0", "1.0", 1},
	{"2", "10", -1},
	{"1.2.3", "1.2.3.0", -1},
	// Numbers beyond int64/uint64 compare exactly (dpkg parses them with
	// strtol-like loops; these stay numeric here).
	{"1.18446744073709551616", "1.18446744073709551615", 1},
	{"99999999999999999999999", "9999999999999999999999", 1},
	{"1.000000000000000000001", "1.1", 0},
	// Revision is after the last hyphen; upstream may hold hyphens.
	{"1.0-2-3", "1.0-2-2", 1},
	{"1.0-2-1", "1.0-10", 1}, // upstream "1.0-2" > "1.0"
	{"1:1.0:2-1", "1:1.0:1-1", 1},
	// Real distribution revisions.
	{"1.2.3-1ubuntu1", "1.2.3-1", 1},
	{"1.2.3-1ubuntu0.1", "1.2.3-1ubuntu1", -1},
	{"1.2.3-1+deb12u1", "1.2.3-1", 1},
	{"1.2.3-1+deb12u1", "1.2.3-2", -1},
	{"2.36-9+deb12u4", "2.36-9+deb12u10", -1},
	{"7.88.1-10+deb12u5", "7.88.1-10+deb12u12", -1},
	{"1:2.38.1-5+deb12u1", "2.38.1-5+deb12u2", 1},
	{"3.0.11-1~deb12u2", "3.0.11-1", -1},
	{"5.15.0-91.101", "5.15.0-100.110", -1},
	{"1.1.1f-1ubuntu2.20", "1.1.1f-1ubuntu2.3", 1},
	{"0.9.8zh-1", "0.9.8zg-1", 1},
}

func TestCompare(t *testing.T) {
	for _, c := range cases {
		reftest.Expect(t, Compare, c.a, c.b, c.want)
	}
}

// TestDpkgAgrees runs every case through dpkg --compare-versions.
func TestDpkgAgrees(t *testing.T) {
	dpkg := testutil.RequireTool(t, "dpkg")
	op := map[int]string{-1: "lt", 0: "eq", 1: "gt"}
	for _, c := range cases {
		if err := exec.Command(dpkg, "--compare-versions", c.a, op[c.want], c.b).Run(); err != nil {
			t.Errorf("dpkg --compare-versions %s %s %s: %v", c.a, op[c.want], c.b, err)
		}
	}
}

func TestParse(t *testing.T) {
	for _, c := range []struct {
		in                   string
		epoch, upstream, rev string
	}{
		{"1.0", "", "1.0", ""},
		{"1:1.0-1", "1", "1.0", "1"},
		{"007:1.0-1", "7", "1.0", "1"},
		{"0:1.0", "", "1.0", ""},
		{"1.0-2-3", "", "1.0-2", "3"},
		{"1:2:3", "1", "2:3", ""},
		{" 1.0-1 ", "", "1.0", "1"}, // dpkg trims surrounding blanks
	} {
		v, err := Parse(c.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.in, err)
			continue
		}
		if v.Epoch != c.epoch || v.Upstream != c.upstream || v.Revision != c.rev {
			t.Errorf("Parse(%q) = %+v, want %q %q %q", c.in, v, c.epoch, c.upstream, c.rev)
		}
	}
}

// TestInvalid lists what dpkg's parseversion rejects (errors) or warns
// about (upstream not starting with a digit, invalid characters); both are
// errors here.
func TestInvalid(t *testing.T) {
	for _, s := range []string{
		"", " ", "1.0-", ":1.0", "a:1.0", "-1:1.0", "1:", "1:-1",
		"a1.0", "~1", "1.0 1", "1.0_1", "1.0-a_b", "1.0-1:2", "1.0/1", "1.0é",
	} {
		if _, err := Parse(s); err == nil {
			t.Errorf("Parse(%q) succeeded, want error", s)
		}
		if _, err := Compare("1.0", s); err == nil {
			t.Errorf("Compare(1.0, %q) succeeded, want error", s)
		}
	}
}

func TestString(t *testing.T) {
	for in, want := range map[string]string{"0:1.0-1": "1.0-1", "02:1.0": "2:1.0", "1.0": "1.0"} {
		v, err := Parse(in)
		if err != nil || v.String() != want {
			t.Errorf("Parse(%q).String() = %q, %v; want %q", in, v.String(), err, want)
		}
	}
}

func FuzzDeb(f *testing.F) {
	for _, c := range cases {
		f.Add(c.a, c.b)
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
	installed, _ := Parse("1:2.38.1-5+deb12u1")
	events := make([]Version, 0, len(cases))
	for _, c := range cases {
		v, _ := Parse(c.a)
		events = append(events, v)
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, e := range events {
			installed.Compare(e)
		}
	}
}
