package apk

import (
	"testing"

	"github.com/vigil-scanner/vigil/version/internal/reftest"
)

// cases follow the ordering of apk-tools' src/version.c (apk 2.14/3.x,
// apk_version_compare): where two versions agree up to a token, the one
// going on with the lower token kind (initial digit < digit < letter <
// suffix < suffix number < ~commit hash < -r revision < end) is newer,
// except that a pre-release suffix makes it older; pre-release suffixes (_alpha _beta
// _pre _rc) before the release and post-release ones (_cvs _svn _git _hg
// _p) after it, digits with a leading zero compared as strings.
var cases = []struct {
	a, b string
	want int
}{
	{"1", "1", 0},
	{"1.0", "1.0", 0},
	{"1", "1.0", -1}, // the end sorts before a further digit
	{"1.0", "1.0.0", -1},
	{"1.2", "1.10", -1},
	{"2.34", "0.1.0_alpha", 1},
	{"10", "9", 1},
	{"1.0", "2", -1},
	// leading zeros: the first number is numeric, later ones compare as
	// strings when either has a leading zero
	{"01", "1", 0},
	{"1.01", "1.1", -1},
	{"1.01", "1.001", 1},
	{"1.0", "1.00", -1},
	{"1.09", "1.1", -1},
	{"1.010", "1.09", -1}, // "010" < "09" as strings
	// letter after the digits
	{"1.0a", "1.0", 1},
	{"1.0a", "1.0b", -1},
	{"1.0z", "1.0.1", -1}, // a letter kind sorts before a digit kind
	{"1.2a", "1.2.0", -1},
	{"1.0a", "1.0_p1", 1}, // a letter kind is lower than a suffix kind
	// suffixes
	{"1.0_alpha", "1.0", -1},
	{"1.0_alpha", "1.0_beta", -1},
	{"1.0_beta", "1.0_pre", -1},
	{"1.0_pre", "1.0_rc", -1},
	{"1.0_rc", "1.0", -1},
	{"1.0_rc1", "1.0_rc2", -1},
	{"1.0_rc9", "1.0_rc10", -1},
	{"1.0_rc", "1.0_rc1", -1},
	{"1.0_rc0", "1.0_rc", 1},
	{"1.0_alpha", "1.0_alpha1", -1},
	{"1.0", "1.0_cvs", -1},
	{"1.0_cvs", "1.0_svn", -1},
	{"1.0_svn", "1.0_git", -1},
	{"1.0_git", "1.0_hg", -1},
	{"1.0_hg", "1.0_p", -1},
	{"1.0_p1", "1.0_p2", -1},
	{"1.0_p1", "1.0.1", -1},
	{"1.0_rc1", "1.0.1", -1},
	{"1.0_alpha", "0.9", 1},
	{"1.1_alpha", "1.1", -1},
	{"1.1", "1.1_alpha", 1},
	{"1.0_p1", "1.0-r1", 1}, // revision sorts after any suffix kind
	// several suffixes
	{"1.0_alpha_p1", "1.0_alpha", 1},
	{"1.0_alpha_p1", "1.0_beta", -1},
	{"1.0_rc1_p2", "1.0_rc1_p10", -1},
	{"1.0_beta1_rc2", "1.0_beta1", -1},
	{"1.0_beta1_pre2", "1.0_beta1_rc1", -1},
	// commit hash and revision
	{"1.0~abc123", "1.0", 1},
	{"1.0~abc", "1.0~abd", -1},
	{"1.0~abc-r1", "1.0~abc", 1},
	{"1.0", "1.0-r0", -1},
	{"1.0-r0", "1.0-r1", -1},
	{"1.0-r1", "1.0", 1},
	{"1.0-r1", "1.0-r2", -1},
	{"1.0-r9", "1.0-r10", -1},
	{"1.0-r1", "1.0.1", -1},
	{"1.0-r100", "1.0a", -1},
	{"1.0-r1", "1.0_p1", -1},
	// real Alpine/Wolfi versions
	{"3.1.4-r5", "3.1.4-r6", -1},
	{"1.36.1-r15", "1.36.1-r2", 1},
	{"2.9.14-r0", "2.10.0-r0", -1},
	{"3.0.12-r0", "3.0.12-r1", -1},
	{"1.1.1w-r0", "1.1.1v-r1", 1},
	{"1.1.1t-r2", "1.1.1u-r0", -1},
	{"8.5.0-r0", "8.4.0_rc1-r0", 1},
	{"2.0.0_rc1-r0", "2.0.0-r0", -1},
	{"0.9.8z-r0", "0.9.8y-r5", 1},
	{"1.2.3_git20230101-r0", "1.2.3-r0", 1},
	{"1.2.3_git20230101-r0", "1.2.4-r0", -1},
	{"1.2.3_p20230101", "1.2.3_p20230102", -1},
	{"1.18446744073709551616", "1.18446744073709551615", 1},
}

func TestCompare(t *testing.T) {
	for _, c := range cases {
		reftest.Expect(t, Compare, c.a, c.b, c.want)
	}
}

// TestInvalid lists versions apk_version_validate rejects.
func TestInvalid(t *testing.T) {
	for _, s := range []string{
		"", "a", "v1.0", ".1", "1.", "1..0", "1.0-", "1.0-r", "1.0-1", "1.0-ra",
		"1.0_foo", "1.0_", "1.0_Alpha", "1.0A", "1.0ab", "1.0a1", "1.0a.1",
		"1.0-r1.2", "1.0-r1_p1", "1.0-r1-r2", "1.0_p1a", "1.0_p1.2", "1.0~",
		"1.0~xyz", "1.0~ab~cd", "0.9.8zh", "1.0 ", " 1.0", "1.0_alpha-r1a", "1.0+1",
	} {
		if _, err := Parse(s); err == nil {
			t.Errorf("Parse(%q) succeeded, want error", s)
		}
	}
	for _, s := range []string{"0", "1.0a", "1.0_alpha_beta2_p3~abc-r4", "1.0~ABC", "2024.01.02"} {
		if _, err := Parse(s); err != nil {
			t.Errorf("Parse(%q): %v", s, err)
		}
	}
}

func FuzzAPK(f *testing.F) {
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
	installed, _ := Parse("3.1.4-r5")
	var events []Version
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
