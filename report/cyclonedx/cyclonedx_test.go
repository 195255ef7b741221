package cyclonedx

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/xeipuuv/gojsonschema"

	"github.com/vigil-scanner/vigil/match"
	"github.com/vigil-scanner/vigil/policy"
	"github.com/vigil-scanner/vigil/report"
	"github.com/vigil-scanner/vigil/report/reporttest"
)

var opts = report.Options{AppVersion: "0.0.0-test"}

func write(t *testing.T, r *report.Report) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, r, opts); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestWriteGolden(t *testing.T) {
	for name, r := range reporttest.Samples() {
		t.Run(name, func(t *testing.T) {
			reporttest.Golden(t, filepath.Join("testdata", name+".cdx.json"), write(t, r))
		})
	}
}

func TestDeterministic(t *testing.T) {
	a, b := write(t, reporttest.Alpine()), write(t, reporttest.Alpine())
	if !bytes.Equal(a, b) {
		t.Fatal("two writes of the same report differ")
	}
	changed := reporttest.Alpine()
	changed.Results[0].Packages[0].Version = "1.30.1-r4"
	if serial(t, a) == serial(t, write(t, changed)) {
		t.Error("serial number does not change with the content")
	}
}

func serial(t *testing.T, data []byte) string {
	t.Helper()
	var bom cdx.BOM
	if err := cdx.NewBOMDecoder(bytes.NewReader(data), cdx.BOMFileFormatJSON).Decode(&bom); err != nil {
		t.Fatal(err)
	}
	return bom.SerialNumber
}

func TestDecode(t *testing.T) {
	var bom cdx.BOM
	if err := cdx.NewBOMDecoder(bytes.NewReader(write(t, reporttest.Alpine())), cdx.BOMFileFormatJSON).Decode(&bom); err != nil {
		t.Fatal(err)
	}
	if bom.BOMFormat != "CycloneDX" || bom.SpecVersion != cdx.SpecVersion1_6 {
		t.Errorf("bomFormat %q, specVersion %v", bom.BOMFormat, bom.SpecVersion)
	}
	if !regexp.MustCompile(`^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(bom.SerialNumber) {
		t.Errorf("serialNumber %q is not a v5 UUID URN", bom.SerialNumber)
	}
	md := bom.Metadata
	if md == nil || md.Component == nil {
		t.Fatal("no metadata.component")
	}
	if md.Timestamp != "2024-05-01T12:00:00Z" {
		t.Errorf("timestamp %q", md.Timestamp)
	}
	root := md.Component
	// The incomplete scan's warnings are annotations by vigil on the image.
	if bom.Annotations == nil || len(*bom.Annotations) != 2 {
		t.Fatalf("annotations = %v, want 2", bom.Annotations)
	}
	a := (*bom.Annotations)[0]
	if a.Subjects == nil || len(*a.Subjects) != 1 || string((*a.Subjects)[0]) != root.BOMRef || a.Annotator.Component.Name != "vigil" ||
		a.Text != IncompletePrefix+reporttest.Alpine().Warnings[0].String() {
		t.Errorf("annotation = %+v", a)
	}
	if root.Type != cdx.ComponentTypeContainer || root.Name != "alpine-310.tar.gz" ||
		root.Version != "sha256:de78803598bc4c940fc4591d412bffe488205d5d953f94751c6308deeaaa7eb8" ||
		root.PackageURL != "pkg:oci/alpine@sha256:de78803598bc4c940fc4591d412bffe488205d5d953f94751c6308deeaaa7eb8?arch=amd64&repository_url=index.docker.io%2Flibrary%2Falpine" {
		t.Errorf("root component = %+v", root)
	}

	refs := map[string]cdx.Component{}
	for _, c := range *bom.Components {
		if c.BOMRef == "" {
			t.Errorf("component %q has no bom-ref", c.Name)
		}
		if _, dup := refs[c.BOMRef]; dup {
			t.Errorf("bom-ref %q repeated", c.BOMRef)
		}
		refs[c.BOMRef] = c
	}
	if len(refs) != 1+10+2 { // OS, 10 packages, 2 language targets
		t.Errorf("%d components, want 13", len(refs))
	}
	osc, ok := refs["vigil:os:alpine@3.10.4"]
	if !ok || osc.Type != cdx.ComponentTypeOS {
		t.Errorf("OS component = %+v", osc)
	}
	musl := refs["pkg:apk/alpine/musl@1.1.22-r3?arch=x86_64&distro=3.10.4"]
	if musl.Name != "musl" || musl.Licenses == nil || (*musl.Licenses)[0].License.ID != "MIT" {
		t.Errorf("musl component = %+v", musl)
	}
	if !hasProperty(musl, "vigil:package:layerDiffID", "sha256:1a8ac7e1ee2bd6c8b4c4db5d6a5b6b6e1e7d8a1c0e9f8b7a6d5c4b3a2f1e0d9c") ||
		!hasProperty(musl, "vigil:package:target", "alpine-310.tar.gz (alpine 3.10.4)") {
		t.Errorf("musl properties = %+v", *musl.Properties)
	}

	deps := map[string][]string{}
	for _, d := range *bom.Dependencies {
		if d.Dependencies != nil {
			deps[d.Ref] = *d.Dependencies
		} else {
			deps[d.Ref] = nil
		}
	}
	for ref := range refs {
		if _, ok := deps[ref]; !ok {
			t.Errorf("component %q has no dependencies entry", ref)
		}
	}
	if got := strings.Join(deps["pkg:npm/express@4.17.1"], " "); got != "pkg:npm/body-parser@1.19.0 pkg:npm/qs@6.7.0" {
		t.Errorf("express depends on %q", got)
	}
	if got := strings.Join(deps["vigil:result:npm:app/package-lock.json"], " "); got != "pkg:npm/%40babel/core@7.0.0 pkg:npm/express@4.17.1" {
		t.Errorf("npm lockfile depends on %q", got)
	}

	vulns := map[string]cdx.Vulnerability{}
	for _, v := range *bom.Vulnerabilities {
		vulns[v.ID] = v
	}
	v := vulns["CVE-2020-1967"]
	if v.Affects == nil || len(*v.Affects) != 2 {
		t.Fatalf("CVE-2020-1967 affects = %+v, want both openssl packages", v.Affects)
	}
	if v.Ratings == nil || len(*v.Ratings) != 3 {
		t.Errorf("CVE-2020-1967 ratings = %+v, want nvd severity, CVSSv31 and CVSSv2", v.Ratings)
	}
	if v.CWEs == nil || (*v.CWEs)[0] != 476 {
		t.Errorf("CVE-2020-1967 cwes = %v", v.CWEs)
	}
	for _, a := range *v.Affects {
		if _, ok := refs[a.Ref]; !ok {
			t.Errorf("affects ref %q is not a component", a.Ref)
		}
	}
	sup := vulns["CVE-2024-29041"]
	if sup.Analysis == nil || sup.Analysis.State != cdx.IASNotAffected || sup.Analysis.Justification != cdx.IAJCodeNotReachable {
		t.Errorf("suppressed finding analysis = %+v", sup.Analysis)
	}
}

func hasProperty(c cdx.Component, name, value string) bool {
	if c.Properties == nil {
		return false
	}
	for _, p := range *c.Properties {
		if p.Name == name && p.Value == value {
			return true
		}
	}
	return false
}

// TestSchema validates the output against the CycloneDX 1.6 JSON schema
// that cyclonedx-go ships in its module.
func TestSchema(t *testing.T) {
	schema := cdxSchema(t)
	for name, r := range reporttest.Samples() {
		for kind, out := range map[string][]byte{"bom": write(t, r), "vex": writeVEX(t, r)} {
			validate(t, schema, name+" "+kind, out)
		}
	}
}

func validate(t *testing.T, schema *gojsonschema.Schema, name string, out []byte) {
	t.Helper()
	res, err := schema.Validate(gojsonschema.NewBytesLoader(out))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range res.Errors() {
		t.Errorf("%s: %s", name, e)
	}
}

// cdxSchema compiles the CycloneDX 1.6 JSON schema that cyclonedx-go ships
// in its module, or skips.
func cdxSchema(t *testing.T) *gojsonschema.Schema {
	t.Helper()
	dir := moduleDir(t, "github.com/CycloneDX/cyclonedx-go")
	schemaFile := func(name string) gojsonschema.JSONLoader {
		data, err := os.ReadFile(filepath.Join(dir, "schema", name))
		if err != nil {
			t.Skipf("CycloneDX schema not available: %v", err)
		}
		return gojsonschema.NewBytesLoader(data)
	}
	sl := gojsonschema.NewSchemaLoader()
	if err := sl.AddSchemas(schemaFile("spdx.schema.json"), schemaFile("jsf-0.82.schemax.json")); err != nil {
		t.Fatal(err)
	}
	schema, err := sl.Compile(schemaFile("bom-1.6.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	return schema
}

// moduleDir returns the directory of a module in the module cache, or
// skips.
func moduleDir(t *testing.T, mod string) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", mod).Output()
	dir := strings.TrimSpace(string(out))
	if err != nil || dir == "" {
		t.Skipf("cannot locate module %s: %v", mod, err)
	}
	return dir
}

func writeVEX(t *testing.T, r *report.Report) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteVEX(&buf, r, opts); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestWriteVEXGolden(t *testing.T) {
	out := writeVEX(t, reporttest.Alpine())
	reporttest.Golden(t, filepath.Join("testdata", "alpine.vex.cdx.json"), out)
	if !bytes.Equal(out, writeVEX(t, reporttest.Alpine())) {
		t.Error("two writes of one report differ")
	}
}

// TestVEXRoundTrip reads the VEX document back as --vex does: the Go
// finding vigil found unreachable is suppressed, and nothing else.
func TestVEXRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.vex.cdx.json")
	if err := os.WriteFile(path, writeVEX(t, reporttest.Alpine()), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := policy.Load(policy.Options{VEX: []string{path}})
	if err != nil {
		t.Fatal(err)
	}
	r := reporttest.Alpine()
	p.Apply(r)
	var got []string
	for _, res := range r.Results {
		for _, f := range res.Vulnerabilities {
			if f.Suppressed != nil && f.Suppressed.Source == path {
				got = append(got, f.PkgName+"/"+f.ID+"/"+f.Suppressed.Justification)
			}
		}
	}
	if want := "golang.org/x/text/CVE-2021-38561/code_not_reachable"; strings.Join(got, " ") != want {
		t.Errorf("suppressed: %q, want %q", got, want)
	}
}

// TestAnalysis: the BOM says of each finding what the VEX document does
// (package report/internal/vexstmt): a Go finding vigil found unreachable,
// and one an ignore-file rule suppressed with a reason, are not_affected;
// the same vulnerability reachable in another binary is another
// vulnerability entry, without an analysis; an ignore-file rule without a
// reason, or no suppression, gives none.
func TestAnalysis(t *testing.T) {
	r := reporttest.Alpine()
	gobin := &r.Results[len(r.Results)-1]
	reachable := gobin.Vulnerabilities[0]
	reachable.Reachability = ""
	reachable.PkgName, reachable.PkgID, reachable.PkgPurl = "golang.org/x/text", "golang.org/x/text@v0.3.5", "pkg:golang/golang.org/x/text@v0.3.5"
	other := report.Result{Target: "usr/local/bin/other", Class: gobin.Class, Type: gobin.Type,
		Packages: gobin.Packages[:1], Vulnerabilities: []match.Finding{reachable}}
	r.Results = append(r.Results, other)
	var musl, libssl *match.Finding
	for i := range r.Results[0].Vulnerabilities {
		switch f := &r.Results[0].Vulnerabilities[i]; f.PkgName {
		case "musl":
			musl = f
		case "libssl1.1":
			libssl = f
		}
	}
	musl.Suppressed = &match.Suppression{Kind: match.SuppressedByIgnoreFile, Source: ".vigilignore", Statement: musl.ID, Reason: "no untrusted input reaches musl's iconv"}
	libssl.Suppressed = &match.Suppression{Kind: match.SuppressedByIgnoreFile, Source: ".vigilignore", Statement: libssl.ID}

	validate(t, cdxSchema(t), "bom", write(t, r))
	bom := BOM(r, opts)
	type row struct{ state, justification, detail, affects string }
	got := map[string][]row{}
	for _, v := range *bom.Vulnerabilities {
		var x row
		if a := v.Analysis; a != nil {
			x = row{string(a.State), string(a.Justification), a.Detail, ""}
		}
		for _, a := range *v.Affects {
			x.affects += a.Ref + " "
		}
		got[v.ID] = append(got[v.ID], x)
	}
	const unreachable = "none of the functions the Go vulnerability database names as vulnerable is in the binary's symbol table (vigil symbol analysis)"
	for id, want := range map[string][]row{
		"CVE-2021-38561": {
			{"not_affected", "code_not_reachable", unreachable, "pkg:golang/golang.org/x/text@v0.3.5#usr/local/bin/app "},
			{"", "", "", "pkg:golang/golang.org/x/text@v0.3.5#usr/local/bin/other "},
		},
		musl.ID: {{"not_affected", "", "no untrusted input reaches musl's iconv", "pkg:apk/alpine/musl@1.1.22-r3?arch=x86_64&distro=3.10.4 "}},
		libssl.ID: {
			{"", "", "", "pkg:apk/alpine/libssl1.1@1.1.1d-r2?arch=x86_64&distro=3.10.4 "},
			{"", "", "", "pkg:apk/alpine/libcrypto1.1@1.1.1d-r2?arch=x86_64&distro=3.10.4 "},
		},
	} {
		if fmt.Sprint(got[id]) != fmt.Sprint(want) {
			t.Errorf("%s:\n got %+v\nwant %+v", id, got[id], want)
		}
	}
}
