// Package format writes a report in the output format named on the command
// line. The formats are listed here, explicitly; adding one is a package
// under report/ exporting
//
//	func Write(w io.Writer, r *report.Report, opts report.Options) error
//
// and a case in Write.
package format

import (
	"fmt"
	"io"
	"strings"

	"github.com/vigil-scanner/vigil/report"
	"github.com/vigil-scanner/vigil/report/cyclonedx"
	"github.com/vigil-scanner/vigil/report/junit"
	"github.com/vigil-scanner/vigil/report/openvex"
	"github.com/vigil-scanner/vigil/report/sarif"
	"github.com/vigil-scanner/vigil/report/spdx"
	"github.com/vigil-scanner/vigil/report/table"
	"github.com/vigil-scanner/vigil/report/template"
)

// Format names, as given to --format.
const (
	Table     = "table"
	JSON      = "json"
	CycloneDX = "cyclonedx"
	SPDXJSON  = "spdx-json"
	SARIF     = "sarif"
	JUnit     = "junit"
	Template  = "template"
	// OpenVEX and CycloneDXVEX write the VEX statements vigil can
	// justify (report/openvex, cyclonedx.WriteVEX).
	OpenVEX      = "openvex"
	CycloneDXVEX = "cyclonedx-vex"
)

// Names lists the supported formats in the order help text shows them.
func Names() []string {
	return []string{Table, JSON, SARIF, CycloneDX, SPDXJSON, JUnit, Template, OpenVEX, CycloneDXVEX}
}

// Write writes r to w in the named format.
func Write(w io.Writer, name string, r *report.Report, opts report.Options) error {
	switch name {
	case Table:
		return table.Write(w, r, opts)
	case JSON:
		return report.WriteJSON(w, r, opts)
	case CycloneDX:
		return cyclonedx.Write(w, r, opts)
	case SPDXJSON:
		return spdx.Write(w, r, opts)
	case SARIF:
		return sarif.Write(w, r, opts)
	case JUnit:
		return junit.Write(w, r, opts)
	case Template:
		return template.Write(w, r, opts)
	case OpenVEX:
		return openvex.Write(w, r, opts)
	case CycloneDXVEX:
		return cyclonedx.WriteVEX(w, r, opts)
	}
	return fmt.Errorf("unknown format %q (want one of %s)", name, strings.Join(Names(), ", "))
}
