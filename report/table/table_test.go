package table

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-scanner/vigil/inventory"
	"github.com/vigil-scanner/vigil/report"
	"github.com/vigil-scanner/vigil/report/reporttest"
)

func TestWriteGolden(t *testing.T) {
	for name, r := range reporttest.Samples() {
		for _, tc := range []struct {
			suffix string
			opts   report.Options
		}{
			{"", report.Options{}},
			{"-all", report.Options{ListAllPkgs: true}},
			{"-color", report.Options{Color: true}},
		} {
			t.Run(name+tc.suffix, func(t *testing.T) {
				var buf bytes.Buffer
				if err := Write(&buf, r, tc.opts); err != nil {
					t.Fatal(err)
				}
				reporttest.Golden(t, filepath.Join("testdata", name+tc.suffix+".txt"), buf.Bytes())
			})
		}
	}
}

func TestWriteContent(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, reporttest.Alpine(), report.Options{ListAllPkgs: true}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"alpine-310.tar.gz (alpine 3.10.4)\n",
		"alpine 3.10.4 is past its end of support (2021-05-01): no more security fixes\n",
		"Total: 4 packages\n",
		"Total: 4 (CRITICAL: 1, HIGH: 2, MEDIUM: 1, LOW: 0, UNKNOWN: 0)\n",
		"Total: 1 (CRITICAL: 0, HIGH: 1, MEDIUM: 0, LOW: 0, UNKNOWN: 0), 1 suppressed\n",
		"1.1.22-r4, 1.1.24-r0",
		"fixed (unreachable)",
		"9d48c3bd43c5", // short layer digest
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.Contains(out, "CVE-2024-29041") {
		t.Error("suppressed finding CVE-2024-29041 is listed")
	}
	if strings.Contains(out, "\x1b[") {
		t.Error("colour codes without Options.Color")
	}
	for i, line := range strings.Split(out, "\n") {
		if strings.HasSuffix(line, " ") {
			t.Errorf("line %d has trailing spaces: %q", i+1, line)
		}
	}
}

// TestWriteNoVulnScan checks the inventory-only table (--scanners none):
// package counts and lists, and no vulnerability count that would read
// as "scanned, nothing found".
func TestWriteNoVulnScan(t *testing.T) {
	r := reporttest.Alpine()
	for i := range r.Results {
		r.Results[i].Vulnerabilities = nil
	}
	var buf bytes.Buffer
	if err := Write(&buf, r, report.Options{ListAllPkgs: true, NoVulnScan: true}); err != nil {
		t.Fatal(err)
	}
	reporttest.Golden(t, filepath.Join("testdata", "alpine-novuln.txt"), buf.Bytes())
	out := buf.String()
	if !strings.Contains(out, "Total: 4 packages\n") {
		t.Errorf("no package count:\n%s", out)
	}
	if strings.Contains(out, "CRITICAL") || strings.Contains(out, "Total: 0") {
		t.Errorf("vulnerability counts without a vulnerability scan:\n%s", out)
	}
}

func TestWriteColor(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, reporttest.Alpine(), report.Options{Color: true}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), ansiBRed+"CRITICAL"+ansiReset) {
		t.Error("CRITICAL is not coloured")
	}
}

// TestWriteEmpty: a scan that found no packages says so, naming what was
// scanned, instead of printing nothing.
func TestWriteEmpty(t *testing.T) {
	var buf bytes.Buffer
	r := &report.Report{Artifact: inventory.Artifact{Name: "emptydir", Type: "filesystem"}}
	if err := Write(&buf, r, report.Options{ListAllPkgs: true}); err != nil {
		t.Fatal(err)
	}
	if want := "emptydir: no packages found, so nothing was matched\n"; buf.String() != want {
		t.Errorf("empty report wrote %q, want %q", buf.String(), want)
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly ten", 11, "exactly ten"},
		{"a  b\n c", 10, "a b c"},
		{"héllo wörld again", 8, "héllo w…"},
	}
	for _, tc := range tests {
		if got := truncate(tc.in, tc.n); got != tc.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errTest }

var errTest = bytesErr("disk full")

type bytesErr string

func (e bytesErr) Error() string { return string(e) }

func TestWriteError(t *testing.T) {
	err := Write(failWriter{}, reporttest.Alpine(), report.Options{})
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("err = %v, want the writer's error", err)
	}
}

// TestFooterBounded checks that the footer of a scan with many warnings
// lists the first ones and counts the rest.
func TestFooterBounded(t *testing.T) {
	r := reporttest.Debian()
	for i := range 25 {
		r.Warnings = append(r.Warnings, inventory.Warning{Path: fmt.Sprintf("app/%d/package.json", i), Message: "node: malformed package.json"})
	}
	var buf bytes.Buffer
	if err := Write(&buf, r, report.Options{}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.Contains(out, "\nScan incomplete: 25 warnings;") || strings.Count(out, "\n  - ") != maxWarnings ||
		!strings.HasSuffix(out, "  - \"app/19/package.json\": node: malformed package.json\n  … and 5 more (see --format json)\n") {
		t.Errorf("footer:\n%s", out)
	}
}
