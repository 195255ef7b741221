package rpm

import (
	"github.com/vigil-scanner/vigil/version/internal/reftest"
	"os/exec"
	"strings"
	"testing"

	"github.com/vigil-scanner/vigil/internal/testutil"
)

// vercmpCases are rpm's own tests of rpmvercmp (tests/rpmvercmp.at,
// RPMVERCMP(a, b, result)), including the block that documents current
// "oddities" (RhBug:811992).
var vercmpCases = []struct {
	a, b string
	want int
}{
	{"1.0", "1.0", 0}, {"1.0", "2.0", -1}, {"2.0", "1.0", 1},
	{"2.0.1", "2.0.1", 0}, {"2.0", "2.0.1", -1}, {"2.0.1", "2.0", 1},
	{"2.0.1a", "2.0.1a", 0}, {"2.0.1a", "2.0.1", 1}, {"2.0.1", "2.0.1a", -1},
	{"5.5p1", "5.5p1", 0}, {"5.5p1", "5.5p2", -1}, {"5.5p2", "5.5p1", 1},
	{"5.5p10", "5.5p10", 0}, {"5.5p1", "5.5p10", -1}, {"5.5p10", "5.5p1", 1},
	{"10xyz", "10.1xyz", -1}, {"10.1xyz", "10xyz", 1},
	{"xyz10", "xyz10", 0}, {"xyz10", "xyz10.1", -1}, {"xyz10.1", "xyz10", 1},
	{"xyz.4", "xyz.4", 0}, {"xyz.4", "8", -1}, {"8", "xyz.4", 1},
	{"xyz.4", "2", -1}, {"2", "xyz.4", 1},
	{"5.5p2", "5.6p1", -1}, {"5.6p1", "5.5p2", 1},
	{"5.6p1", "6.5p1", -1}, {"6.5p1", "5.6p1", 1},
	{"6.0.rc1", "6.0", 1}, {"6.0", "6.0.rc1", -1},
	{"10b2", "10a1", 1}, {"10a2", "10b2", -1},
	{"1.0aa", "1.0aa", 0}, {"1.0a", "1.0aa", -1}, {"1.0aa", "1.0a", 1},
	{"10.0001", "10.0001", 0}, {"10.0001", "10.1", 0}, {"10.1", "10.0001", 0},
	{"10.0001", "10.0039", -1}, {"10.0039", "10.0001", 1},
	{"4.999.9", "5.0", -1}, {"5.0", "4.999.9", 1},
	{"20101121", "20101121", 0}, {"20101121", "20101122", -1}, {"20101122", "20101121", 1},
	{"2_0", "2_0", 0}, {"2.0", "2_0", 0}, {"2_0", "2.0", 0},
	// RhBug:178798
	{"a", "a", 0}, {"a+", "a+", 0}, {"a+", "a_", 0}, {"a_", "a+", 0},
	{"+a", "+a", 0}, {"+a", "_a", 0}, {"_a", "+a", 0},
	{"+_", "+_", 0}, {"_+", "+_", 0}, {"_+", "_", 0}, {"+", "_", 0}, {"_", "+", 0},
	// tilde
	{"1.0~rc1", "1.0~rc1", 0}, {"1.0~rc1", "1.0", -1}, {"1.0", "1.0~rc1", 1},
	{"1.0~rc1", "1.0~rc2", -1}, {"1.0~rc2", "1.0~rc1", 1},
	{"1.0~rc1~git123", "1.0~rc1~git123", 0}, {"1.0~rc1~git123", "1.0~rc1", -1},
	{"1.0~rc1", "1.0~rc1~git123", 1},
	// caret
	{"1.0^", "1.0^", 0}, {"1.0^", "1.0", 1}, {"1.0", "1.0^", -1},
	{"1.0^git1", "1.0^git1", 0}, {"1.0^git1", "1.0", 1}, {"1.0", "1.0^git1", -1},
	{"1.0^git1", "1.0^git2", -1}, {"1.0^git2", "1.0^git1", 1},
	{"1.0^git1", "1.01", -1}, {"1.01", "1.0^git1", 1},
	{"1.0^20160101", "1.0^20160101", 0}, {"1.0^20160101", "1.0.1", -1},
	{"1.0.1", "1.0^20160101", 1},
	{"1.0^20160101^git1", "1.0^20160101^git1", 0},
	{"1.0^20160102", "1.0^20160101^git1", 1}, {"1.0^20160101^git1", "1.0^20160102", -1},
	// tilde and caret
	{"1.0~rc1^git1", "1.0~rc1^git1", 0}, {"1.0~rc1^git1", "1.0~rc1", 1},
	{"1.0~rc1", "1.0~rc1^git1", -1},
	{"1.0^git1~pre", "1.0^git1~pre", 0}, {"1.0^git1", "1.0^git1~pre", 1},
	{"1.0^git1~pre", "1.0^git1", -1},
	// oddities documented in rpmvercmp.at (RhBug:811992)
	{"1b.fc17", "1b.fc17", 0}, {"1b.fc17", "1.fc17", -1}, {"1.fc17", "1b.fc17", 1},
	{"1g.fc17", "1g.fc17", 0}, {"1g.fc17", "1.fc17", 1}, {"1.fc17", "1g.fc17", -1},
	// non-ASCII characters are separators, so these are all equal
	{"1.1.α", "1.1.α", 0}, {"1.1.α", "1.1.β", 0}, {"1.1.β", "1.1.α", 0},
	{"1.1.αα", "1.1.α", 0}, {"1.1.α", "1.1.ββ", 0}, {"1.1.ββ", "1.1.αα", 0},
	// numbers beyond 64 bits: rpmvercmp compares digit strings by length
	{"1.18446744073709551616", "1.18446744073709551615", 1},
	{"1.000000000000000000000000001", "1.1", 0},
}

func TestVercmp(t *testing.T) {
	for _, c := range vercmpCases {
		if got := Vercmp(c.a, c.b); got != c.want {
			t.Errorf("Vercmp(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
		if got := Vercmp(c.b, c.a); got != -c.want {
			t.Errorf("Vercmp(%q, %q) = %d, want %d", c.b, c.a, got, -c.want)
		}
	}
}

// evrCases check epoch and release handling as rpm 4.18's rpm.vercmp
// (rpmverCmp, lib/rpmver.c) does: a missing epoch is 0, a missing release
// sorts before any release. TestRpmAgrees runs them through rpm.
var evrCases = []struct {
	a, b string
	want int
}{
	{"1.0-1", "1.0-1", 0},
	{"0:1.0-1", "1.0-1", 0},
	{"000:1.0-1", "0:1.0-1", 0},
	{"1:1.0-1", "1.0-1", 1},
	{"1:0.1-1", "9.9-9", 1},
	{"2:1.0-1", "10:1.0-1", -1},
	{"1.0-1", "1.0-2", -1},
	{"1.0-10", "1.0-9", 1},
	{"1.0-1", "1.0", 1},
	{"1:1.0", "1:1.0-5", -1},
	{"1:1.0", "1:1.0-~1", -1},
	{"1.0", "1.0-_", -1},
	{":1.0", "0:1.0", 0},
	{"1.1", "1.0-5", 1},
	{"1.0-1.el9", "1.0-2.el9", -1},
	{"1.0-1.el9_1", "1.0-1.el9", 1},
	{"1.0-1.el9_1", "1.0-1.el9_10", -1},
	{"3.0.7-24.el9", "3.0.7-25.el9_3", -1},
	{"1:3.0.7-27.el9", "3.0.7-28.el9", 1},
	{"2.34-60.el9", "2.34-100.el9", -1},
	{"4.18.0-513.5.1.el8_9", "4.18.0-513.11.1.el8_9", -1},
	{"1.2.3-1.amzn2023.0.1", "1.2.3-1.amzn2023", 1},
	{"7.76.1-26.el9_3.2", "7.76.1-26.el9_3.3", -1},
	{"1.0~rc1-1", "1.0-1", -1},
	{"1.0^20230101-1", "1.0-1", 1},
	{"1.0-1~pre", "1.0-1", -1},
}

func TestCompare(t *testing.T) {
	for _, c := range evrCases {
		reftest.Expect(t, Compare, c.a, c.b, c.want)
	}
}

func TestParse(t *testing.T) {
	for _, c := range []struct{ in, e, v, r string }{
		{"1.0", "", "1.0", ""},
		{"1:1.0-1.el9", "1", "1.0", "1.el9"},
		{"1.0-2-3", "", "1.0-2", "3"},
		{"0:1.0^git1-1", "0", "1.0^git1", "1"},
	} {
		v, err := Parse(c.in)
		if err != nil || v.Epoch != c.e || v.Version != c.v || v.Release != c.r {
			t.Errorf("Parse(%q) = %+v, %v; want %q %q %q", c.in, v, err, c.e, c.v, c.r)
		}
		if v.String() != c.in {
			t.Errorf("Parse(%q).String() = %q", c.in, v.String())
		}
	}
	for _, s := range []string{"", "1.0-", "1:", "1:-1", "-1", "1.0 1", "a:1.0", "1\t0"} {
		if _, err := Parse(s); err == nil {
			t.Errorf("Parse(%q) succeeded, want error", s)
		}
	}
}

// TestRpmAgrees checks rpmvercmp.at and the EVR cases against the
// installed rpm (rpm.vercmp compares EVR strings since rpm 4.16).
func TestRpmAgrees(t *testing.T) {
	rpmBin := testutil.RequireTool(t, "rpm")
	var script strings.Builder
	all := append(vercmpCases[:len(vercmpCases):len(vercmpCases)], evrCases...)
	for _, c := range all {
		script.WriteString("print(rpm.vercmp(\"" + c.a + "\", \"" + c.b + "\") .. \" \")\n")
	}
	out, err := exec.Command(rpmBin, "--eval", "%{lua:"+script.String()+"}").Output()
	if err != nil {
		t.Fatalf("rpm --eval: %v", err)
	}
	got := strings.Fields(string(out))
	i := 0
	for _, c := range all {
		if i >= len(got) {
			t.Fatalf("rpm printed %d results", len(got))
		}
		want := map[int]string{-1: "-1", 0: "0", 1: "1"}[c.want]
		if got[i] != want {
			t.Errorf("rpm.vercmp(%q, %q) = %s, want %s", c.a, c.b, got[i], want)
		}
		i++
	}
}

func FuzzRPM(f *testing.F) {
	for _, c := range vercmpCases {
		f.Add(c.a, c.b)
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		if x, y := Vercmp(a, b), Vercmp(b, a); x != -y {
			t.Fatalf("Vercmp(%q, %q) = %d but reversed = %d", a, b, x, y)
		}
		x, errA := Compare(a, b)
		y, _ := Compare(b, a)
		if errA == nil && x != -y {
			t.Fatalf("Compare(%q, %q) = %d but reversed = %d", a, b, x, y)
		}
	})
}

func BenchmarkCompare(b *testing.B) {
	installed, _ := Parse("1:3.0.7-27.el9")
	var events []Version
	for _, c := range evrCases {
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
