package cyclonedx

import (
	"io"
	"slices"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/vigil-scanner/vigil/report"
	"github.com/vigil-scanner/vigil/report/internal/vexstmt"
)

// WriteVEX writes the statements vigil can justify about r's findings
// (package report/internal/vexstmt) as a CycloneDX 1.6 VEX document: the
// image as metadata.component, one component per package concerned (its
// bom-ref is its package URL), and one vulnerability per statement whose
// analysis says not_affected (with code_not_reachable for Go symbols vigil
// found absent) or exploitable, and whose affects name the packages. The
// warnings of an incomplete scan are annotations, as in the BOM: the
// statements hold, but the scan may have missed vulnerabilities.
func WriteVEX(w io.Writer, r *report.Report, opts report.Options) error {
	return writeSerialized(w, VEX(r, opts), vexNamespace, "CycloneDX VEX")
}

var vexNamespace = [16]byte{0x2e, 0x91, 0x5a, 0x0d, 0x77, 0x1c, 0x4f, 0x26, 0x8b, 0x3a, 0x61, 0xd4, 0x0e, 0x55, 0xc8, 0x93}

// VEX converts r's statements to a CycloneDX VEX BOM without a serial
// number.
func VEX(r *report.Report, opts report.Options) *cdx.BOM {
	bom, root, tool := newBOM(r, opts)
	names := map[string][2]string{} // purl → name, version
	for _, res := range r.Results {
		for _, f := range res.Vulnerabilities {
			if f.PkgPurl != "" {
				names[f.PkgPurl] = [2]string{f.PkgName, f.InstalledVersion}
			}
		}
	}
	var comps []cdx.Component
	var vulns []cdx.Vulnerability
	seen := map[string]bool{}
	for _, st := range vexstmt.Statements(r) {
		v := cdx.Vulnerability{ID: st.Vulnerability, Analysis: &cdx.VulnerabilityAnalysis{Detail: st.Impact}}
		var refs []cdx.VulnerabilityReference
		for _, a := range st.Aliases {
			refs = append(refs, cdx.VulnerabilityReference{ID: a, Source: aliasSource(a)})
		}
		if len(refs) > 0 {
			v.References = &refs
		}
		switch st.Status {
		case vexstmt.StatusNotAffected:
			v.Analysis.State = cdx.IASNotAffected
			v.Analysis.Justification = justification(st.Justification)
		default:
			v.Analysis.State = cdx.IASExploitable
			v.Recommendation = st.Action
		}
		if st.Notes != "" {
			v.Properties = &[]cdx.Property{{Name: propVuln + "statusNotes", Value: st.Notes}}
		}
		affects := make([]cdx.Affects, 0, len(st.Purls))
		for _, purl := range st.Purls {
			affects = append(affects, cdx.Affects{Ref: purl})
			if !seen[purl] {
				seen[purl] = true
				n := names[purl]
				comps = append(comps, cdx.Component{BOMRef: purl, Type: cdx.ComponentTypeLibrary, Name: n[0], Version: n[1], PackageURL: purl})
			}
		}
		v.Affects = &affects
		vulns = append(vulns, v)
	}
	slices.SortFunc(comps, func(a, b cdx.Component) int { return strings.Compare(a.BOMRef, b.BOMRef) })
	if len(comps) > 0 {
		bom.Components = &comps
	}
	if len(vulns) > 0 {
		bom.Vulnerabilities = &vulns
	}
	if anns := annotations(r, root.BOMRef, tool); len(anns) > 0 {
		bom.Annotations = &anns
	}
	return bom
}
