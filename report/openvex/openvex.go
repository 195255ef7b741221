// Package openvex writes the statements vigil can justify about a report's
// findings (package report/internal/vexstmt) as an OpenVEX 0.2.0 document
// (https://github.com/openvex/spec, OPENVEX-SPEC.md).
//
// The product of each statement is the scanned image (its pkg:oci package
// URL), with the affected packages as subcomponents; an artifact without an
// image package URL (a directory, an archive without a registry digest) has
// the packages themselves as products. The document's @id is a name-based
// UUID of its content and its timestamp the report's CreatedAt, so the same
// report gives the same bytes.
package openvex

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/vigil-scanner/vigil/report"
	"github.com/vigil-scanner/vigil/report/internal/sbom"
	"github.com/vigil-scanner/vigil/report/internal/vexstmt"
)

// Context is the OpenVEX JSON-LD context of the version written.
const Context = "https://openvex.dev/ns/v0.2.0"

// Document is an OpenVEX document.
type Document struct {
	Context    string      `json:"@context"`
	ID         string      `json:"@id"`
	Author     string      `json:"author"`
	Timestamp  string      `json:"timestamp"`
	Version    int         `json:"version"`
	Tooling    string      `json:"tooling,omitempty"`
	Statements []Statement `json:"statements"`
}

// Statement is an OpenVEX statement.
type Statement struct {
	Vulnerability   Vulnerability `json:"vulnerability"`
	Products        []Component   `json:"products"`
	Status          string        `json:"status"`
	StatusNotes     string        `json:"status_notes,omitempty"`
	Justification   string        `json:"justification,omitempty"`
	ImpactStatement string        `json:"impact_statement,omitempty"`
	ActionStatement string        `json:"action_statement,omitempty"`
}

// Vulnerability names a statement's vulnerability.
type Vulnerability struct {
	Name    string   `json:"name"`
	Aliases []string `json:"aliases,omitempty"`
}

// Component is a product or subcomponent, by package URL.
type Component struct {
	ID            string      `json:"@id"`
	Subcomponents []Component `json:"subcomponents,omitempty"`
}

// author is who makes the statements: vigil's analysis.
const author = "vigil (https://github.com/vigil-scanner/vigil)"

// idNamespace is the UUID namespace of document ids.
var idNamespace = [16]byte{0x6f, 0x2b, 0x9e, 0x41, 0x0c, 0x57, 0x4a, 0x8d, 0xb3, 0x12, 0x5e, 0x77, 0xc9, 0x04, 0xa1, 0x3f}

// ErrNoStatement is returned for a report about which vigil has nothing to
// state: an OpenVEX document holds at least one statement.
var ErrNoStatement = errors.New("openvex: no finding to make a statement about (an OpenVEX document needs one)")

// Write writes r's statements to w as an OpenVEX document, or returns
// ErrNoStatement and writes nothing.
func Write(w io.Writer, r *report.Report, opts report.Options) error {
	doc := Build(r, opts)
	if len(doc.Statements) == 0 {
		return ErrNoStatement
	}
	body, err := json.Marshal(doc.Statements)
	if err != nil {
		return fmt.Errorf("writing OpenVEX: %w", err)
	}
	doc.ID = "urn:uuid:" + sbom.UUIDv5(idNamespace, append([]byte(doc.Timestamp+"\x00"+sbom.ImageVersion(r.Artifact)+"\x00"), body...))
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("writing OpenVEX: %w", err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("writing OpenVEX: %w", err)
	}
	return nil
}

// Build returns r's OpenVEX document without its @id.
func Build(r *report.Report, opts report.Options) *Document {
	doc := &Document{
		Context:    Context,
		Author:     author,
		Timestamp:  r.CreatedAt.UTC().Format(time.RFC3339),
		Version:    1,
		Tooling:    "vigil " + opts.AppVersion,
		Statements: []Statement{},
	}
	if opts.AppVersion == "" {
		doc.Tooling = "vigil"
	}
	image := sbom.ImagePurl(r.Artifact)
	for _, st := range vexstmt.Statements(r) {
		s := Statement{
			Vulnerability:   Vulnerability{Name: st.Vulnerability, Aliases: st.Aliases},
			Status:          st.Status,
			StatusNotes:     st.Notes,
			Justification:   st.Justification,
			ImpactStatement: st.Impact,
			ActionStatement: st.Action,
		}
		if image != "" {
			p := Component{ID: image}
			for _, purl := range st.Purls {
				p.Subcomponents = append(p.Subcomponents, Component{ID: purl})
			}
			s.Products = []Component{p}
		} else {
			for _, purl := range st.Purls {
				s.Products = append(s.Products, Component{ID: purl})
			}
		}
		doc.Statements = append(doc.Statements, s)
	}
	return doc
}
