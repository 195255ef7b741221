// Package junit writes a report as JUnit XML, which CI systems (GitLab,
// Jenkins, Buildkite, Azure) show as test results: one test suite per
// target, one failing test case per finding. Suppressed findings are
// skipped test cases, so they stay visible without failing. An incomplete
// scan adds a suite "scan completeness" with one errored test case per
// warning, so a CI system shows the scan as broken.
package junit

import (
	"cmp"
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/vigil-scanner/vigil/report"
)

type testSuites struct {
	XMLName  xml.Name    `xml:"testsuites"`
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Suites   []testSuite `xml:"testsuite"`
}

type testSuite struct {
	Name       string     `xml:"name,attr"`
	Tests      int        `xml:"tests,attr"`
	Failures   int        `xml:"failures,attr"`
	Errors     int        `xml:"errors,attr"`
	Skipped    int        `xml:"skipped,attr"`
	Timestamp  string     `xml:"timestamp,attr,omitempty"`
	Properties []property `xml:"properties>property,omitempty"`
	Cases      []testCase `xml:"testcase"`
}

type property struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type testCase struct {
	ClassName string   `xml:"classname,attr"`
	Name      string   `xml:"name,attr"`
	Failure   *failure `xml:"failure,omitempty"`
	Error     *failure `xml:"error,omitempty"`
	Skipped   *skipped `xml:"skipped,omitempty"`
}

type failure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type skipped struct {
	Message string `xml:"message,attr"`
}

// Write writes r as JUnit XML to w.
func Write(w io.Writer, r *report.Report, opts report.Options) error {
	doc := testSuites{Name: "vigil"}
	for _, res := range r.Results {
		s := testSuite{Name: cmp.Or(res.Target, r.Artifact.Name), Properties: []property{{"type", res.Type}, {"class", res.Class}}}
		if !r.CreatedAt.IsZero() {
			s.Timestamp = r.CreatedAt.UTC().Format("2006-01-02T15:04:05")
		}
		for _, f := range res.Vulnerabilities {
			tc := testCase{
				ClassName: f.PkgName + "-" + f.InstalledVersion,
				Name:      fmt.Sprintf("[%s] %s", f.Severity, f.ID),
			}
			if f.Suppressed != nil {
				tc.Skipped = &skipped{Message: strings.TrimSpace(f.Suppressed.Kind + " " + f.Suppressed.Source + " " + f.Suppressed.Statement)}
				s.Skipped++
			} else {
				text := fmt.Sprintf("Package: %s\nInstalled: %s\nFixed: %s\nStatus: %s\n%s\n%s",
					f.PkgName, f.InstalledVersion, cmp.Or(f.FixedVersion, "none"), f.Status, f.PrimaryURL, f.Description)
				if f.Layer.DiffID != "" {
					text += fmt.Sprintf("\nLayer: %s %s", f.Layer.DiffID, f.Layer.CreatedBy)
				}
				tc.Failure = &failure{Message: cmp.Or(f.Title, f.ID), Type: f.Severity, Text: text}
				s.Failures++
			}
			s.Tests++
			s.Cases = append(s.Cases, tc)
		}
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Skipped += s.Skipped
		doc.Suites = append(doc.Suites, s)
	}
	if len(r.Warnings) > 0 {
		s := testSuite{Name: "scan completeness", Properties: []property{{"artifact", r.Artifact.Name}}}
		if !r.CreatedAt.IsZero() {
			s.Timestamp = r.CreatedAt.UTC().Format("2006-01-02T15:04:05")
		}
		for _, w := range r.Warnings {
			s.Cases = append(s.Cases, testCase{
				ClassName: cmp.Or(w.Path, r.Artifact.Name),
				Name:      "scan incomplete",
				Error:     &failure{Message: w.Message, Type: "incomplete", Text: w.String()},
			})
		}
		s.Tests, s.Errors = len(r.Warnings), len(r.Warnings)
		doc.Tests += s.Tests
		doc.Errors += s.Errors
		doc.Suites = append(doc.Suites, s)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("writing junit: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("writing junit: %w", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("writing junit: %w", err)
	}
	return nil
}
