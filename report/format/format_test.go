package format

import (
	"bytes"
	"strings"
	"testing"

	"github.com/vigil-scanner/vigil/report"
	"github.com/vigil-scanner/vigil/report/reporttest"
)

func TestWrite(t *testing.T) {
	starts := map[string]string{
		Table:        "Highest risk (5 of 6 findings)\n",
		JSON:         "{\n  \"schemaVersion\": 1,",
		CycloneDX:    "{\n  \"$schema\": \"http://cyclonedx.org/schema/bom-1.6.schema.json\"",
		SPDXJSON:     "{\n  \"spdxVersion\": \"SPDX-2.3\"",
		SARIF:        "{\n  \"version\": \"2.1.0\",",
		JUnit:        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"vigil\"",
		Template:     "alpine-310.tar.gz: 4",
		OpenVEX:      "{\n  \"@context\": \"https://openvex.dev/ns/v0.2.0\",",
		CycloneDXVEX: "{\n  \"$schema\": \"http://cyclonedx.org/schema/bom-1.6.schema.json\"",
	}
	for _, name := range Names() {
		var buf bytes.Buffer
		opts := report.Options{Template: `{{ .Artifact.Name }}: {{ len (index .Results 0).Packages }}`}
		if err := Write(&buf, name, reporttest.Alpine(), opts); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if want := starts[name]; !strings.HasPrefix(buf.String(), want) {
			t.Errorf("%s: output starts %.60q, want %q", name, buf.String(), want)
		}
	}
}

func TestWriteUnknown(t *testing.T) {
	var buf bytes.Buffer
	err := Write(&buf, "yaml", reporttest.Alpine(), report.Options{})
	if err == nil || !strings.Contains(err.Error(), `unknown format "yaml"`) {
		t.Errorf("err = %v", err)
	}
	if buf.Len() != 0 {
		t.Error("wrote output for an unknown format")
	}
}
