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
	"github.com/vigil-scanner/vigil/report/spdx"
	"github.com/vigil-scanner/vigil/report/table"
)

// Format names, as given to --format.
const (
	Table     = "table"
	JSON      = "json"
	CycloneDX = "cyclonedx"
	SPDXJSON  = "spdx-json"
)

// Names lists the supported formats in the order help text shows them.
func Names() []string {
	return []string{Table, JSON, CycloneDX, SPDXJSON}
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
	}
	return fmt.Errorf("unknown format %q (want one of %s)", name, strings.Join(Names(), ", "))
}
