package junit

import (
	"bytes"
	"encoding/xml"
	"path/filepath"
	"testing"

	"github.com/vigil-scanner/vigil/report"
	"github.com/vigil-scanner/vigil/report/reporttest"
)

func TestWriteGolden(t *testing.T) {
	for name, r := range reporttest.Samples() {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, r, report.Options{}); err != nil {
				t.Fatal(err)
			}
			reporttest.Golden(t, filepath.Join("testdata", name+".xml"), buf.Bytes())
			var back testSuites
			if err := xml.Unmarshal(buf.Bytes(), &back); err != nil {
				t.Fatalf("output is not well-formed XML: %v", err)
			}
			// One test per finding, and one per warning.
			want := len(r.Warnings)
			for _, res := range r.Results {
				want += len(res.Vulnerabilities)
			}
			if back.Tests != want {
				t.Errorf("tests = %d, want %d", back.Tests, want)
			}
			if back.Errors != len(r.Warnings) {
				t.Errorf("errors = %d, want one per warning (%d)", back.Errors, len(r.Warnings))
			}
			sum := 0
			for _, s := range back.Suites {
				sum += s.Failures + s.Errors + s.Skipped
			}
			if sum != back.Tests || back.Failures+back.Errors+back.Skipped != back.Tests {
				t.Errorf("failures %d + errors %d + skipped %d != tests %d", back.Failures, back.Errors, back.Skipped, back.Tests)
			}
		})
	}
}
