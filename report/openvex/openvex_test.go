package openvex

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xeipuuv/gojsonschema"

	"github.com/vigil-scanner/vigil/match"
	"github.com/vigil-scanner/vigil/policy"
	"github.com/vigil-scanner/vigil/report"
	"github.com/vigil-scanner/vigil/report/reporttest"
)

// sample is the Alpine sample with one more suppression: an ignore-file
// rule with a reason on busybox's finding.
func sample() *report.Report {
	r := reporttest.Alpine()
	for i := range r.Results[0].Vulnerabilities {
		f := &r.Results[0].Vulnerabilities[i]
		if f.PkgName == "busybox" {
			f.Suppressed = &match.Suppression{Kind: match.SuppressedByIgnoreFile, Source: ".vigilignore", Statement: ".vigilignore:2", Reason: "busybox's wget is not used at run time"}
		}
	}
	return r
}

func write(t *testing.T, r *report.Report) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, r, report.Options{AppVersion: "1.2.3"}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestWriteGolden(t *testing.T) {
	out := write(t, sample())
	reporttest.Golden(t, filepath.Join("testdata", "alpine.openvex.json"), out)
	if again := write(t, sample()); !bytes.Equal(out, again) {
		t.Error("two writes of one report differ")
	}
}

func schema(t *testing.T) *gojsonschema.Schema {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "openvex-0.2.0.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := gojsonschema.NewSchema(gojsonschema.NewBytesLoader(data))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestValidatesAgainstSchema(t *testing.T) {
	s := schema(t)
	samples := reporttest.Samples()
	samples["alpine+ignore"] = sample()
	for name, r := range samples {
		var buf bytes.Buffer
		err := Write(&buf, r, report.Options{})
		if errors.Is(err, ErrNoStatement) {
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		res, err := s.Validate(gojsonschema.NewBytesLoader(buf.Bytes()))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, e := range res.Errors() {
			t.Errorf("%s: %s", name, e)
		}
	}
}

// TestSchemaCatches checks that the schema rejects what the spec forbids,
// so that the validation above can fail.
func TestSchemaCatches(t *testing.T) {
	s := schema(t)
	var doc map[string]any
	if err := json.Unmarshal(write(t, sample()), &doc); err != nil {
		t.Fatal(err)
	}
	for name, spoil := range map[string]func(st map[string]any){
		"not_affected without why": func(st map[string]any) {
			st["status"] = "not_affected"
			delete(st, "justification")
			delete(st, "impact_statement")
		},
		"affected without action": func(st map[string]any) { st["status"] = "affected"; delete(st, "action_statement") },
		"unknown justification":   func(st map[string]any) { st["justification"] = "trust_me" },
		"unknown field":           func(st map[string]any) { st["severity"] = "HIGH" },
	} {
		raw, _ := json.Marshal(doc)
		var d map[string]any
		json.Unmarshal(raw, &d)
		spoil(d["statements"].([]any)[0].(map[string]any))
		res, err := s.Validate(gojsonschema.NewGoLoader(d))
		if err != nil {
			t.Fatal(err)
		}
		if res.Valid() {
			t.Errorf("%s: the schema accepts it", name)
		}
	}
}

func TestStatements(t *testing.T) {
	var doc Document
	if err := json.Unmarshal(write(t, sample()), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Context != Context || !strings.HasPrefix(doc.ID, "urn:uuid:") || doc.Timestamp != "2024-05-01T12:00:00Z" || doc.Tooling != "vigil 1.2.3" {
		t.Errorf("document = %+v", doc)
	}
	got := map[string]string{}
	for _, st := range doc.Statements {
		var subs []string
		for _, p := range st.Products {
			if !strings.HasPrefix(p.ID, "pkg:oci/alpine@sha256:") {
				t.Errorf("%s: product %s, want the image", st.Vulnerability.Name, p.ID)
			}
			for _, s := range p.Subcomponents {
				subs = append(subs, s.ID)
			}
		}
		got[st.Vulnerability.Name] = st.Status + " " + st.Justification + " " + strings.Join(subs, ",")
	}
	want := map[string]string{
		// Go: vulnerable symbols absent.
		"CVE-2021-38561": "not_affected vulnerable_code_not_in_execute_path pkg:golang/golang.org/x/text@v0.3.5",
		// Ignore file with a reason.
		"CVE-2022-28391": "not_affected  pkg:apk/alpine/busybox@1.30.1-r3?arch=x86_64&distro=3.10.4",
		// Matched, shown: affected.
		"CVE-2019-14697": "affected  pkg:apk/alpine/musl@1.1.22-r3?arch=x86_64&distro=3.10.4",
		"CVE-2020-1967":  "affected  pkg:apk/alpine/libcrypto1.1@1.1.1d-r2?arch=x86_64&distro=3.10.4,pkg:apk/alpine/libssl1.1@1.1.1d-r2?arch=x86_64&distro=3.10.4",
		"CVE-2022-24999": "affected  pkg:npm/qs@6.7.0",
		// CVE-2024-29041, suppressed by a VEX document: not vigil's to state.
	}
	if len(got) != len(want) {
		t.Errorf("statements %v, want %v", got, want)
	}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("%s: %q, want %q", id, got[id], w)
		}
	}
}

// TestRoundTrip reads the document back as --vex does: its not_affected
// statements suppress exactly the findings they were made from.
func TestRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.openvex.json")
	if err := os.WriteFile(path, write(t, sample()), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := policy.Load(policy.Options{VEX: []string{path}})
	if err != nil {
		t.Fatal(err)
	}
	r := reporttest.Alpine() // no ignore file this time
	p.Apply(r)
	var suppressed []string
	for _, res := range r.Results {
		for _, f := range res.Vulnerabilities {
			if f.Suppressed != nil && f.Suppressed.Source == path {
				suppressed = append(suppressed, f.PkgName+"/"+f.ID)
			}
		}
	}
	want := "busybox/CVE-2022-28391 golang.org/x/text/CVE-2021-38561"
	if got := strings.Join(suppressed, " "); got != want {
		t.Errorf("suppressed by the document: %q, want %q", got, want)
	}
}

func TestNoStatement(t *testing.T) {
	r := reporttest.Alpine()
	for i := range r.Results {
		r.Results[i].Vulnerabilities = nil
	}
	var buf bytes.Buffer
	if err := Write(&buf, r, report.Options{}); !errors.Is(err, ErrNoStatement) || buf.Len() != 0 {
		t.Errorf("err %v, %d bytes written", err, buf.Len())
	}
}
