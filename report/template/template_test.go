package template

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-scanner/vigil/internal/testutil"
	"github.com/vigil-scanner/vigil/report"
	"github.com/vigil-scanner/vigil/report/reporttest"
)

func run(t *testing.T, tpl string, r *report.Report) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, r, report.Options{Template: tpl}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestContribTemplates(t *testing.T) {
	dir := filepath.Join(testutil.RepoRoot(t), "contrib", "templates")
	for _, name := range []string{"markdown.tpl", "html.tpl", "gitlab.tpl"} {
		tpl, err := Load("@" + filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		for sample, r := range reporttest.Samples() {
			t.Run(name+"/"+sample, func(t *testing.T) {
				out := run(t, tpl, r)
				reporttest.Golden(t, filepath.Join("testdata", sample+"."+strings.TrimSuffix(name, ".tpl")), out)
				switch name {
				case "gitlab.tpl":
					var doc struct {
						Version         string `json:"version"`
						Vulnerabilities []struct {
							ID       string `json:"id"`
							Severity string `json:"severity"`
						} `json:"vulnerabilities"`
					}
					if err := json.Unmarshal(out, &doc); err != nil {
						t.Fatalf("gitlab report is not JSON: %v\n%s", err, out)
					}
					want := 0
					for _, res := range r.Results {
						for _, f := range res.Vulnerabilities {
							if f.Suppressed == nil {
								want++
							}
						}
					}
					if len(doc.Vulnerabilities) != want {
						t.Errorf("gitlab vulnerabilities = %d, want %d", len(doc.Vulnerabilities), want)
					}
				case "html.tpl":
					d := xml.NewDecoder(bytes.NewReader(out))
					d.Strict = false
					d.AutoClose = xml.HTMLAutoClose
					d.Entity = xml.HTMLEntity
					for {
						if _, err := d.Token(); err == io.EOF {
							break
						} else if err != nil {
							t.Fatalf("html does not parse: %v", err)
						}
					}
				}
			})
		}
	}
}

func TestErrors(t *testing.T) {
	r := reporttest.Alpine()
	var buf bytes.Buffer
	if err := Write(&buf, r, report.Options{}); err == nil {
		t.Error("no template: want an error")
	}
	if err := Write(&buf, r, report.Options{Template: "{{ .Nope }}"}); err == nil || buf.Len() != 0 {
		t.Errorf("bad field: err %v, wrote %q", err, buf.String())
	}
	if _, err := Load("@/nonexistent/x.tpl"); err == nil {
		t.Error("missing file: want an error")
	}
	if got := string(run(t, `{{ trunc 4 "abcdef" }}|{{ escapeXML "<a&b>" }}|{{ toJSON "q\"" }}`, r)); got != `abc…|&lt;a&amp;b&gt;|"q\""` {
		t.Errorf("funcs = %q", got)
	}
}
