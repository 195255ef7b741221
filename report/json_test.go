package report_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/xeipuuv/gojsonschema"

	"github.com/vigil-scanner/vigil/internal/testutil"
	"github.com/vigil-scanner/vigil/report"
	"github.com/vigil-scanner/vigil/report/reporttest"
)

func writeJSON(t *testing.T, r *report.Report, opts report.Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := report.WriteJSON(&buf, r, opts); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestWriteJSONGolden(t *testing.T) {
	for name, r := range reporttest.Samples() {
		t.Run(name, func(t *testing.T) {
			reporttest.Golden(t, filepath.Join("testdata", name+".json"), writeJSON(t, r, report.Options{}))
			reporttest.Golden(t, filepath.Join("testdata", name+"-all.json"), writeJSON(t, r, report.Options{ListAllPkgs: true}))
		})
	}
}

func TestWriteJSONPackages(t *testing.T) {
	r := reporttest.Alpine()
	if bytes.Contains(writeJSON(t, r, report.Options{}), []byte(`"packages"`)) {
		t.Error("packages written without ListAllPkgs")
	}
	if !bytes.Contains(writeJSON(t, r, report.Options{ListAllPkgs: true}), []byte(`"packages"`)) {
		t.Error("packages not written with ListAllPkgs")
	}
	if len(r.Results[0].Packages) == 0 {
		t.Error("WriteJSON changed the report")
	}
	if got := string(writeJSON(t, &report.Report{SchemaVersion: 1}, report.Options{})); !strings.Contains(got, `"results": []`) {
		t.Errorf("empty report: results not an empty list:\n%s", got)
	}
}

func TestReadJSONRoundTrip(t *testing.T) {
	for name, r := range reporttest.Samples() {
		data := writeJSON(t, r, report.Options{ListAllPkgs: true})
		got, err := report.ReadJSON(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if again := writeJSON(t, got, report.Options{ListAllPkgs: true}); !bytes.Equal(again, data) {
			t.Errorf("%s: report changes when read back and written again", name)
		}
		if !got.HasPackages() {
			t.Errorf("%s: no packages read back", name)
		}
		if !reflect.DeepEqual(got.Inventory(), r.Inventory()) {
			t.Errorf("%s: inventory differs after a round trip", name)
		}
	}
	noPkgs, err := report.ReadJSON(bytes.NewReader(writeJSON(t, reporttest.Alpine(), report.Options{})))
	if err != nil {
		t.Fatal(err)
	}
	if noPkgs.HasPackages() {
		t.Error("HasPackages is true for a report written without packages")
	}
}

func TestReadJSONErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "not JSON"},
		{"garbage", "\x00\x01PK", "not JSON"},
		{"truncated", `{"schemaVersion": 1, "results": [`, "not JSON"},
		{"array", `[1, 2]`, "not JSON"},
		{"no version", `{"results": []}`, "no schemaVersion"},
		{"future version", `{"schemaVersion": 2, "results": []}`, "schemaVersion 2 is not supported"},
		{"other document", `{"schemaVersion": 1, "bomFormat": "CycloneDX"}`, "no results"},
		{"trailing data", `{"schemaVersion": 1, "results": []} {}`, "not JSON"},
		{"wrong type", `{"schemaVersion": 1, "results": [{"target": 5}]}`, "cannot unmarshal"},
	}
	for _, tc := range tests {
		_, err := report.ReadJSON(strings.NewReader(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to mention %q", tc.name, err, tc.want)
		}
	}
}

func TestFromInventory(t *testing.T) {
	r := reporttest.Debian()
	inv := r.Inventory()
	back := report.FromInventory(inv)
	if back.SchemaVersion != report.SchemaVersion || !reflect.DeepEqual(back.Inventory(), inv) {
		t.Error("FromInventory(r.Inventory()) loses data")
	}
	if len(back.Results[0].Vulnerabilities) != 0 {
		t.Error("FromInventory invents findings")
	}
	back.Results[0].Packages[0].Name = "changed"
	if inv.Results[0].Packages[0].Name == "changed" {
		t.Error("FromInventory shares packages with the inventory")
	}
}

// TestSchema validates the golden reports against docs/vigil-report.schema.json.
func TestSchema(t *testing.T) {
	schemaPath := filepath.Join(testutil.RepoRoot(t), "docs", "vigil-report.schema.json")
	schemaData, err := os.ReadFile(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	schema, err := gojsonschema.NewSchema(gojsonschema.NewBytesLoader(schemaData))
	if err != nil {
		t.Fatalf("%s: %v", schemaPath, err)
	}
	for name, r := range reporttest.Samples() {
		for _, opts := range []report.Options{{}, {ListAllPkgs: true}} {
			res, err := schema.Validate(gojsonschema.NewBytesLoader(writeJSON(t, r, opts)))
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range res.Errors() {
				t.Errorf("%s (ListAllPkgs %v): %s", name, opts.ListAllPkgs, e)
			}
		}
	}
	// The schema must reject what it should.
	var doc map[string]any
	if err := json.Unmarshal(writeJSON(t, reporttest.Alpine(), report.Options{}), &doc); err != nil {
		t.Fatal(err)
	}
	doc["schemaVersion"] = 2
	res, err := schema.Validate(gojsonschema.NewGoLoader(doc))
	if err != nil {
		t.Fatal(err)
	}
	if res.Valid() {
		t.Error("schema accepts schemaVersion 2")
	}
	doc["schemaVersion"] = 1
	doc["warnings"] = []any{map[string]any{"path": "/abs"}}
	if res, err = schema.Validate(gojsonschema.NewGoLoader(doc)); err != nil {
		t.Fatal(err)
	}
	if res.Valid() {
		t.Error("schema accepts a warning without a message, with an absolute path")
	}
}
