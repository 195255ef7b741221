// Package sbom reads a saved inventory back: vigil's own JSON report, a
// CycloneDX JSON BOM (spec 1.2–1.6) or an SPDX 2.2/2.3 JSON document, so
// that it can be matched again against the current database.
//
// Package URLs are the key. pkg:apk, pkg:deb and pkg:rpm become OS
// packages; every other purl type a language package. The properties vigil
// writes (vigil:image:*, vigil:result:*, vigil:package:*) are read back, so
// an SBOM vigil wrote gives the same targets, types, versions, source
// packages and layers it was written from. Documents from other tools are
// read from their purls and, when present, the properties Syft
// (syft:package:*, syft:metadata:*, syft:location:*) and Trivy
// (aquasecurity:trivy:*) record.
package sbom

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/vigil-scanner/vigil/inventory"
	"github.com/vigil-scanner/vigil/report"
)

// MaxSize bounds the size of a document Read accepts.
const MaxSize = report.MaxJSONSize

// Read reads the document in r and returns its inventory. name is the
// file name, used in errors and as the artifact name when the document has
// none. Read fails on a document it cannot tell, on malformed JSON, and on
// a vigil report written without its packages.
func Read(r io.Reader, name string) (*inventory.Inventory, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(data) > MaxSize {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, MaxSize)
	}
	inv, err := read(data, name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return inv, nil
}

func read(data []byte, name string) (*inventory.Inventory, error) {
	trimmed := bytes.TrimSpace(data)
	switch {
	case len(trimmed) == 0:
		return nil, errors.New("empty file")
	case trimmed[0] == '<':
		return nil, errors.New("XML documents are not supported: write the SBOM as JSON")
	case bytes.HasPrefix(trimmed, []byte("SPDXVersion:")):
		return nil, errors.New("SPDX tag-value documents are not supported: write the SBOM as JSON")
	}
	var probe struct {
		BOMFormat     string          `json:"bomFormat"`
		SPDXVersion   string          `json:"spdxVersion"`
		SchemaVersion json.RawMessage `json:"schemaVersion"`
		Results       json.RawMessage `json:"results"`
	}
	if err := json.Unmarshal(trimmed, &probe); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	switch {
	case probe.BOMFormat == "CycloneDX":
		return readCycloneDX(data, name)
	case probe.SPDXVersion != "":
		return readSPDX(data, name)
	case probe.SchemaVersion != nil && probe.Results != nil:
		return readVigil(data)
	case probe.BOMFormat != "":
		return nil, fmt.Errorf("bomFormat %q: not a CycloneDX BOM", probe.BOMFormat)
	}
	return nil, errors.New("not a vigil JSON report, a CycloneDX BOM or an SPDX document")
}

func readVigil(data []byte) (*inventory.Inventory, error) {
	rep, err := report.ReadJSON(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	if !rep.HasPackages() {
		return nil, errors.New("the report lists no packages; write it with --list-all-pkgs (or --scanners none) to match it again")
	}
	return rep.Inventory(), nil
}
