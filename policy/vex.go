package policy

import (
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/vigil-scanner/vigil/match"
)

// VEX statuses that suppress a finding.
const (
	vexNotAffected = "not_affected"
	vexFixed       = "fixed"
)

// VEXStatement is one statement of a VEX document, reduced to what
// suppression needs.
type VEXStatement struct {
	// Vulnerability is the id the statement is about; Aliases are other ids
	// it gives for the same vulnerability.
	Vulnerability string
	Aliases       []string
	// Products are the package URLs the statement applies to (a product and
	// its subcomponents). Empty means every package with that
	// vulnerability.
	Products      []string
	Status        string // not_affected, fixed, affected, under_investigation
	Justification string
	Reason        string
	// Source is the document's file name; Ref names the statement in it.
	Source string
	Ref    string
}

// Suppresses reports whether the statement suppresses finding f.
func (s VEXStatement) Suppresses(f *match.Finding) bool {
	if s.Status != vexNotAffected && s.Status != vexFixed {
		return false
	}
	ids := append([]string{s.Vulnerability}, s.Aliases...)
	if !slices.Contains(ids, f.ID) && !slices.ContainsFunc(f.Aliases, func(a string) bool { return slices.Contains(ids, a) }) {
		return false
	}
	if len(s.Products) == 0 {
		return true
	}
	return slices.ContainsFunc(s.Products, func(p string) bool { return purlCovers(p, f.PkgPurl) })
}

// LoadVEX reads an OpenVEX or CycloneDX VEX JSON document.
func LoadVEX(name string) ([]VEXStatement, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("vex: %w", err)
	}
	return parseVEX(name, data)
}

// parseVEX reads the VEX document name holding data, of either kind.
func parseVEX(name string, data []byte) ([]VEXStatement, error) {
	var probe struct {
		Context   string `json:"@context"`
		BOMFormat string `json:"bomFormat"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("vex %s: %w", name, err)
	}
	switch {
	case strings.Contains(probe.Context, "openvex"):
		return parseOpenVEX(name, data)
	case probe.BOMFormat == "CycloneDX":
		return parseCycloneDXVEX(name, data)
	}
	return nil, fmt.Errorf("vex %s: neither OpenVEX (@context openvex) nor CycloneDX (bomFormat) JSON", name)
}

// openVEXDoc is the OpenVEX 0.2 document (https://github.com/openvex/spec);
// vulnerability may also be a plain string, as in OpenVEX 0.0.x.
type openVEXDoc struct {
	ID         string `json:"@id"`
	Statements []struct {
		ID            string          `json:"@id"`
		Vulnerability json.RawMessage `json:"vulnerability"`
		Products      []struct {
			ID            string `json:"@id"`
			Subcomponents []struct {
				ID string `json:"@id"`
			} `json:"subcomponents"`
		} `json:"products"`
		Status          string `json:"status"`
		Justification   string `json:"justification"`
		ImpactStatement string `json:"impact_statement"`
		StatusNotes     string `json:"status_notes"`
	} `json:"statements"`
}

func parseOpenVEX(name string, data []byte) ([]VEXStatement, error) {
	var doc openVEXDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("openvex %s: %w", name, err)
	}
	out := make([]VEXStatement, 0, len(doc.Statements))
	for i, st := range doc.Statements {
		s := VEXStatement{
			Status:        st.Status,
			Justification: st.Justification,
			Reason:        cmp.Or(st.ImpactStatement, st.StatusNotes),
			Source:        name,
			Ref:           cmp.Or(st.ID, fmt.Sprintf("statements[%d]", i)),
		}
		var vs string
		var vo struct {
			Name    string   `json:"name"`
			ID      string   `json:"@id"`
			Aliases []string `json:"aliases"`
		}
		switch {
		case json.Unmarshal(st.Vulnerability, &vs) == nil:
			s.Vulnerability = vs
		case json.Unmarshal(st.Vulnerability, &vo) == nil:
			s.Vulnerability, s.Aliases = cmp.Or(vo.Name, vo.ID), vo.Aliases
		}
		if s.Vulnerability == "" {
			return nil, fmt.Errorf("openvex %s: %s: no vulnerability", name, s.Ref)
		}
		for _, p := range st.Products {
			if strings.HasPrefix(p.ID, "pkg:") {
				s.Products = append(s.Products, p.ID)
			}
			for _, sc := range p.Subcomponents {
				if strings.HasPrefix(sc.ID, "pkg:") {
					s.Products = append(s.Products, sc.ID)
				}
			}
		}
		// A statement about an image (pkg:oci/…) with no package
		// subcomponents covers the whole image.
		if len(s.Products) == 1 && strings.HasPrefix(s.Products[0], "pkg:oci/") {
			s.Products = nil
		} else {
			s.Products = slices.DeleteFunc(s.Products, func(p string) bool { return strings.HasPrefix(p, "pkg:oci/") })
		}
		out = append(out, s)
	}
	return out, nil
}

// cdxVEXDoc is the part of a CycloneDX (1.4+) document VEX uses.
type cdxVEXDoc struct {
	Components []cdxComponent `json:"components"`
	Vulns      []struct {
		BOMRef   string `json:"bom-ref"`
		ID       string `json:"id"`
		Analysis struct {
			State         string `json:"state"`
			Justification string `json:"justification"`
			Detail        string `json:"detail"`
		} `json:"analysis"`
		Affects []struct {
			Ref string `json:"ref"`
		} `json:"affects"`
	} `json:"vulnerabilities"`
}

type cdxComponent struct {
	BOMRef     string         `json:"bom-ref"`
	Purl       string         `json:"purl"`
	Components []cdxComponent `json:"components"`
}

func parseCycloneDXVEX(name string, data []byte) ([]VEXStatement, error) {
	var doc cdxVEXDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("cyclonedx vex %s: %w", name, err)
	}
	purls := map[string]string{}
	var walk func([]cdxComponent)
	walk = func(cs []cdxComponent) {
		for _, c := range cs {
			if c.BOMRef != "" && c.Purl != "" {
				purls[c.BOMRef] = c.Purl
			}
			walk(c.Components)
		}
	}
	walk(doc.Components)
	out := make([]VEXStatement, 0, len(doc.Vulns))
	for i, v := range doc.Vulns {
		s := VEXStatement{
			Vulnerability: v.ID,
			Justification: v.Analysis.Justification,
			Reason:        v.Analysis.Detail,
			Source:        name,
			Ref:           cmp.Or(v.BOMRef, fmt.Sprintf("vulnerabilities[%d]", i)),
		}
		switch v.Analysis.State {
		case "not_affected", "false_positive":
			s.Status = vexNotAffected
		case "resolved", "resolved_with_pedigree":
			s.Status = vexFixed
		case "exploitable":
			s.Status = "affected"
		default:
			s.Status = "under_investigation"
		}
		for _, a := range v.Affects {
			ref := a.Ref
			// A BOM-Link "urn:cdx:serial/version#bom-ref" points into another BOM.
			if i := strings.LastIndexByte(ref, '#'); i >= 0 && strings.HasPrefix(ref, "urn:cdx:") {
				ref = ref[i+1:]
			}
			switch {
			case purls[ref] != "":
				s.Products = append(s.Products, purls[ref])
			case strings.HasPrefix(ref, "pkg:"):
				s.Products = append(s.Products, ref)
			}
		}
		if len(v.Affects) > 0 && len(s.Products) == 0 {
			return nil, fmt.Errorf("cyclonedx vex %s: %s: affects refs name no package URL", name, s.Ref)
		}
		out = append(out, s)
	}
	return out, nil
}
