package maven

import "testing"

// From Maven's ComparableVersionTest (maven-artifact): each list is in
// ascending order and every pair is checked.
var (
	versionsQualifier = []string{
		"1-alpha2snapshot", "1-alpha2", "1-alpha-123", "1-beta-2", "1-beta123", "1-m2", "1-m11",
		"1-rc", "1-cr2", "1-rc123", "1-SNAPSHOT", "1", "1-sp", "1-sp2", "1-sp123", "1-abc",
		"1-def", "1-pom-1", "1-1-snapshot", "1-1", "1-2", "1-123",
	}
	versionsNumber = []string{
		"2.0", "2.0.a", "2-1", "2.0.2", "2.0.123", "2.1.0", "2.1-a", "2.1b", "2.1-c", "2.1-1",
		"2.1.0.1", "2.2", "2.123", "11.a2", "11.a11", "11.b2", "11.b11", "11.m2", "11.m11",
		"11", "11.a", "11b", "11c", "11m",
	}
	// testMng5568
	mng5568 = []string{"6.1.0rc3", "6.1.0", "6.1H.5-beta"}
	// testMng6572: numbers beyond int and long
	mng6572 = []string{"20190126.230843", "1234567890.12345", "123456789012345.1H.5-beta", "12345678901234567890.1H.5-beta"}
	// testVersionsWithBigNumbers-style checks on the int/long/BigInteger
	// boundaries
	bigNumbers = []string{"1", "2147483647", "2147483648", "9223372036854775807", "9223372036854775808", "99999999999999999999999"}
	// testMng6964
	mng6964 = [][]string{{"1-0.alpha", "1"}, {"1-0.beta", "1"}, {"1-0.alpha", "1-0.beta"}}
)

// equal pairs from ComparableVersionTest.testVersionsEqual and the
// MNG-7644 test.
var equal = [][2]string{
	{"1", "1"}, {"1", "1.0"}, {"1", "1.0.0"}, {"1.0", "1.0.0"}, {"1", "1-0"},
	{"1", "1.0-0"}, {"1.0", "1.0-0"},
	// no separator between number and character
	{"1a", "1-a"}, {"1a", "1.0-a"}, {"1a", "1.0.0-a"}, {"1.0a", "1-a"},
	{"1.0.0a", "1-a"}, {"1x", "1-x"}, {"1x", "1.0-x"}, {"1x", "1.0.0-x"},
	{"1.0x", "1-x"}, {"1.0.0x", "1-x"}, {"1cr", "1rc"},
	// special aliases a, b and m for alpha, beta and milestone
	{"1a1", "1-alpha-1"}, {"1b2", "1-beta-2"}, {"1m3", "1-milestone-3"},
	// case insensitive
	{"1X", "1x"}, {"1A", "1a"}, {"1B", "1b"}, {"1M", "1m"}, {"1Cr", "1Rc"},
	{"1cR", "1rC"}, {"1m3", "1Milestone3"}, {"1m3", "1MileStone3"}, {"1m3", "1MILESTONE3"},
	// release aliases
	{"1", "1-ga"}, {"1", "1-final"}, {"1", "1-release"}, {"1", "1.ga"}, {"1-GA", "1-FINAL"},
	// "X-1" is read as "X1"
	{"1-rc-1", "1-rc1"}, {"1.0-alpha-1", "1.0-alpha1"},
	// leading zeros
	{"1.01", "1.1"}, {"0001.0002", "1.2"},
}

func TestOrderLists(t *testing.T) {
	for _, list := range [][]string{versionsQualifier, versionsNumber, mng5568, mng6572, bigNumbers} {
		for i, a := range list {
			for j, b := range list {
				want := 0
				switch {
				case i < j:
					want = -1
				case i > j:
					want = 1
				}
				check(t, a, b, want)
			}
		}
	}
	for _, p := range mng6964 {
		check(t, p[0], p[1], -1)
		check(t, p[1], p[0], 1)
	}
}

func TestEqual(t *testing.T) {
	for _, p := range equal {
		check(t, p[0], p[1], 0)
		check(t, p[1], p[0], 0)
	}
}

// TestMng7644: 1.0.0.X1 < 1.0.0-X2, and 2-X == 2.0.X == 2.0.0.X, for any
// qualifier X.
func TestMng7644(t *testing.T) {
	for _, x := range []string{"abc", "alpha", "a", "beta", "b", "def", "milestone", "m", "RC"} {
		check(t, "1.0.0."+x+"1", "1.0.0-"+x+"2", -1)
		check(t, "2-"+x, "2.0."+x, 0)
		check(t, "2-"+x, "2.0.0."+x, 0)
		check(t, "2.0."+x, "2.0.0."+x, 0)
	}
}

// TestReal orders versions seen in Maven Central and GHSA ranges.
func TestReal(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"2.14.1", "2.15.0", -1},
		{"2.15.0-rc1", "2.15.0", -1},
		{"2.15.0-rc2", "2.15.0-rc1", 1},
		{"2.17.0", "2.3.1", 1},
		{"5.3.17", "5.3.18", -1},
		{"5.3.18.RELEASE", "5.3.18", 0},
		{"4.1.68.Final", "4.1.100.Final", -1},
		{"4.1.100.Final", "4.1.100", 0},
		{"1.0-SNAPSHOT", "1.0", -1},
		{"1.0-SNAPSHOT", "1.0-rc1", 1},
		{"1.0-beta-1", "1.0-alpha-2", 1},
		{"31.1-jre", "31.1-android", 1},
		{"32.0.0-jre", "31.1-jre", 1},
		{"1.2.3-sp1", "1.2.3", 1},
		{"9.4.43.v20210629", "9.4.44.v20210927", -1},
		{"2.13.4.2", "2.13.4", 1},
		{"2.13.4.1", "2.13.4.2", -1},
		{"1.0.0.Beta1", "1.0.0.Alpha2", 1},
		{"3.0.0-M1", "3.0.0", -1},
		{"3.0.0-M9", "3.0.0-M10", -1},
		{"1.0.0-RC1", "1.0.0.RC1", 0}, // MNG-7644: ".X1" reads as "-X1"
	} {
		check(t, c.a, c.b, c.want)
		check(t, c.b, c.a, -c.want)
	}
}

func check(t *testing.T, a, b string, want int) {
	t.Helper()
	got, err := Compare(a, b)
	if err != nil {
		t.Fatalf("Compare(%q, %q): %v", a, b, err)
	}
	if got != want {
		t.Errorf("Compare(%q, %q) = %d, want %d", a, b, got, want)
	}
}

func TestInvalid(t *testing.T) {
	for _, s := range []string{"", " "} {
		if _, err := Parse(s); err == nil {
			t.Errorf("Parse(%q) succeeded", s)
		}
	}
	// Anything else is a version, however odd.
	for _, s := range []string{"-", ".", "--1", "1--1", "..", "a", "1-.-", "é"} {
		if _, err := Parse(s); err != nil {
			t.Errorf("Parse(%q): %v", s, err)
		}
	}
}

func FuzzMaven(f *testing.F) {
	for _, s := range versionsNumber {
		f.Add(s, "1-1")
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
	installed, _ := Parse("2.13.4.2")
	var events []Version
	for _, s := range versionsNumber {
		v, _ := Parse(s)
		events = append(events, v)
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, e := range events {
			installed.Compare(e)
		}
	}
}
