package sbom

import (
	"bytes"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-scanner/vigil/inventory"
	"github.com/vigil-scanner/vigil/report"
	"github.com/vigil-scanner/vigil/report/cyclonedx"
	"github.com/vigil-scanner/vigil/report/reporttest"
	"github.com/vigil-scanner/vigil/report/spdx"
)

// TestRoundTrip writes every sample report as CycloneDX, SPDX and vigil
// JSON and reads it back: the inventory must be the one written.
func TestRoundTrip(t *testing.T) {
	writers := map[string]func(io.Writer, *report.Report, report.Options) error{
		"cyclonedx": cyclonedx.Write,
		"spdx":      spdx.Write,
		"json":      report.WriteJSON,
	}
	for name, rep := range reporttest.Samples() {
		for format, write := range writers {
			t.Run(name+"/"+format, func(t *testing.T) {
				var buf bytes.Buffer
				if err := write(&buf, rep, report.Options{ListAllPkgs: true, AppVersion: "test"}); err != nil {
					t.Fatal(err)
				}
				got, err := Read(&buf, name+"."+format)
				if err != nil {
					t.Fatal(err)
				}
				want := comparable(rep.Inventory(), format)
				got = comparable(got, format)
				if !equalJSON(t, got, want) {
					t.Errorf("inventory differs after the round trip\n got: %s\nwant: %s", mustJSON(t, got), mustJSON(t, want))
				}
			})
		}
	}
}

// comparable drops what a format does not carry: layer sizes, and in SPDX
// the OS pretty name and package maintainers. Dependencies are compared as sets.
func comparable(inv *inventory.Inventory, format string) *inventory.Inventory {
	if format == "json" {
		return inv
	}
	for i := range inv.Artifact.Layers {
		inv.Artifact.Layers[i].Size = 0
	}
	if os := inv.Artifact.OS; os != nil && format == "spdx" {
		c := *os
		c.PrettyName = ""
		inv.Artifact.OS = &c
	}
	for i := range inv.Results {
		for j := range inv.Results[i].Packages {
			p := &inv.Results[i].Packages[j]
			p.DependsOn = slices.Sorted(slices.Values(p.DependsOn))
			p.InstalledFiles = nil
			if format == "spdx" {
				p.Maintainer = ""
			}
		}
	}
	return inv
}

func equalJSON(t *testing.T, a, b any) bool {
	return bytes.Equal(mustJSON(t, a), mustJSON(t, b))
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestParseWarning reads back what inventory.Warning.String writes (whose
// messages are led by a reader's name, never by a quote).
func TestParseWarning(t *testing.T) {
	for _, w := range []inventory.Warning{
		{Message: "match: a 1 in t: cannot compare"},
		{Path: "app/package-lock.json", Message: "node: malformed lockfile: x"},
		{Path: `odd "name": with colon`, Message: "m"},
		{Layer: "sha256:" + strings.Repeat("ab", 32), Path: "a", Message: "m: n"},
	} {
		if got := parseWarning(w.String()); got != w {
			t.Errorf("parseWarning(%q) = %+v, want %+v", w.String(), got, w)
		}
	}
}
