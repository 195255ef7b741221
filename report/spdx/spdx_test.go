package spdx

import (
	"bytes"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx/v2/common"
	v23 "github.com/spdx/tools-golang/spdx/v2/v2_3"
	"github.com/spdx/tools-golang/spdxlib"

	"github.com/vigil-scanner/vigil/internal/spdxlicense"
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

func read(t *testing.T, data []byte) *v23.Document {
	t.Helper()
	doc, err := spdxjson.Read(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestWriteGolden(t *testing.T) {
	for name, r := range reporttest.Samples() {
		t.Run(name, func(t *testing.T) {
			reporttest.Golden(t, filepath.Join("testdata", name+".spdx.json"), write(t, r))
		})
	}
}

func TestDeterministic(t *testing.T) {
	a, b := write(t, reporttest.Alpine()), write(t, reporttest.Alpine())
	if !bytes.Equal(a, b) {
		t.Fatal("two writes of the same report differ")
	}
	changed := reporttest.Alpine()
	changed.Results[1].Packages[0].Version = "7.0.1"
	if read(t, a).DocumentNamespace == read(t, write(t, changed)).DocumentNamespace {
		t.Error("document namespace does not change with the content")
	}
}

// TestValid reads every sample back and checks what SPDX 2.3 requires.
func TestValid(t *testing.T) {
	refRE := regexp.MustCompile(`LicenseRef-[A-Za-z0-9.-]+`)
	idRE := regexp.MustCompile(`^[A-Za-z0-9.-]+$`)
	for name, r := range reporttest.Samples() {
		doc := read(t, write(t, r))
		if err := spdxlib.ValidateDocument(doc); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if doc.SPDXVersion != "SPDX-2.3" || doc.DataLicense != "CC0-1.0" || doc.SPDXIdentifier != "DOCUMENT" {
			t.Errorf("%s: header %q %q %q", name, doc.SPDXVersion, doc.DataLicense, doc.SPDXIdentifier)
		}
		if !strings.HasPrefix(doc.DocumentNamespace, NamespaceBase+r.Artifact.Type+"/") {
			t.Errorf("%s: namespace %q", name, doc.DocumentNamespace)
		}
		if doc.CreationInfo.Created != "2024-05-01T12:00:00Z" {
			t.Errorf("%s: created %q", name, doc.CreationInfo.Created)
		}
		described, err := spdxlib.GetDescribedPackageIDs(doc)
		if err != nil || len(described) != 1 || described[0] != "Artifact" {
			t.Errorf("%s: described packages %v, %v", name, described, err)
		}
		declared := map[string]bool{}
		for _, l := range doc.OtherLicenses {
			declared[l.LicenseIdentifier] = true
			if l.ExtractedText == "" {
				t.Errorf("%s: %s has no extractedText", name, l.LicenseIdentifier)
			}
		}
		ids := map[common.ElementID]bool{}
		for _, p := range doc.Packages {
			if ids[p.PackageSPDXIdentifier] {
				t.Errorf("%s: SPDXID %s repeated", name, p.PackageSPDXIdentifier)
			}
			ids[p.PackageSPDXIdentifier] = true
			if !idRE.MatchString(string(p.PackageSPDXIdentifier)) {
				t.Errorf("%s: bad SPDXID %q", name, p.PackageSPDXIdentifier)
			}
			if p.PackageDownloadLocation != "NOASSERTION" || p.PackageLicenseConcluded != "NOASSERTION" {
				t.Errorf("%s: %s: downloadLocation %q, licenseConcluded %q", name, p.PackageName, p.PackageDownloadLocation, p.PackageLicenseConcluded)
			}
			if l := p.PackageLicenseDeclared; l != "NOASSERTION" {
				if _, ok := spdxlicense.Expression(l); !ok {
					t.Errorf("%s: %s: licenseDeclared %q is not a valid expression", name, p.PackageName, l)
				}
				for _, ref := range refRE.FindAllString(l, -1) {
					if !declared[ref] {
						t.Errorf("%s: %s: %s is not in hasExtractedLicensingInfos", name, p.PackageName, ref)
					}
				}
			}
		}
	}
}

func TestContent(t *testing.T) {
	doc := read(t, write(t, reporttest.Debian()))
	byName := map[string]*v23.Package{}
	for _, p := range doc.Packages {
		byName[p.PackageName] = p
	}
	libc := byName["libc6"]
	if libc == nil {
		t.Fatal("no libc6 package")
	}
	if want := "LGPL-2.1-or-later AND GPL-2.0+ AND LicenseRef-public-domain"; libc.PackageLicenseDeclared != want {
		t.Errorf("libc6 licenseDeclared = %q, want %q", libc.PackageLicenseDeclared, want)
	}
	if len(libc.PackageExternalReferences) != 1 || libc.PackageExternalReferences[0].Locator != "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12.5" ||
		libc.PackageExternalReferences[0].Category != "PACKAGE-MANAGER" || libc.PackageExternalReferences[0].RefType != "purl" {
		t.Errorf("libc6 externalRefs = %+v", libc.PackageExternalReferences)
	}
	if libc.PackageSourceInfo != "built package from: glibc 2.36-9+deb12u4" {
		t.Errorf("libc6 sourceInfo = %q", libc.PackageSourceInfo)
	}
	rels := map[string]bool{}
	for _, r := range doc.Relationships {
		rels[string(r.RefA.ElementRefID)+" "+r.Relationship+" "+string(r.RefB.ElementRefID)] = true
	}
	for _, want := range []string{
		"DOCUMENT DESCRIBES Artifact",
		"Artifact CONTAINS OperatingSystem",
		"OperatingSystem CONTAINS " + string(libc.PackageSPDXIdentifier),
		string(byName["libssl3"].PackageSPDXIdentifier) + " DEPENDS_ON " + string(libc.PackageSPDXIdentifier),
	} {
		if !rels[want] {
			t.Errorf("no relationship %q", want)
		}
	}

	rpm := read(t, write(t, reporttest.RPM()))
	for _, p := range rpm.Packages {
		if p.PackageName == "zlib" && p.PackageLicenseDeclared != "LicenseRef-zlib-and-Boost" {
			t.Errorf("zlib licenseDeclared = %q", p.PackageLicenseDeclared)
		}
		if p.PackageName == "openssl-libs" && (p.PackageSupplier == nil || p.PackageSupplier.Supplier != "Red Hat, Inc.") {
			t.Errorf("openssl-libs supplier = %+v", p.PackageSupplier)
		}
	}
}

func TestLicenseExpression(t *testing.T) {
	tests := []struct {
		in   []string
		want string
	}{
		{nil, "NOASSERTION"},
		{[]string{""}, "NOASSERTION"},
		{[]string{"MIT"}, "MIT"},
		{[]string{"MIT OR Apache-2.0"}, "MIT OR Apache-2.0"},
		{[]string{"MIT OR Apache-2.0", "BSD-3-Clause"}, "(MIT OR Apache-2.0) AND BSD-3-Clause"},
		{[]string{"ASL 2.0", "ASL-2.0", "MIT", "mit"}, "LicenseRef-ASL-2.0 AND LicenseRef-ASL-2.0-2 AND MIT"},
		{[]string{"???"}, "LicenseRef-unnamed"},
	}
	for _, tc := range tests {
		b := &builder{doc: &v23.Document{}, licenseRefs: map[string]string{}}
		if got := b.licenseExpression(tc.in); got != tc.want {
			t.Errorf("licenseExpression(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestIncomplete checks that the warnings of an incomplete scan are
// annotations of the described package, counted in the creator comment.
func TestIncomplete(t *testing.T) {
	r := reporttest.Alpine()
	doc := read(t, write(t, r))
	if want := "Scan incomplete: 2 warnings; each is a vigil:image:warning annotation of the described package."; doc.CreationInfo.CreatorComment != want {
		t.Errorf("creator comment = %q, want %q", doc.CreationInfo.CreatorComment, want)
	}
	var got []string
	for _, p := range doc.Packages {
		if p.PackageSPDXIdentifier != "Artifact" {
			continue
		}
		for _, a := range p.Annotations {
			if c, ok := strings.CutPrefix(a.AnnotationComment, WarningAnnotation+": "); ok {
				got = append(got, c)
			}
		}
	}
	if len(got) != 2 || got[0] != r.Warnings[0].String() || got[1] != r.Warnings[1].String() {
		t.Errorf("warning annotations = %q", got)
	}
	if doc := read(t, write(t, reporttest.Debian())); doc.CreationInfo.CreatorComment != "" {
		t.Errorf("complete scan: creator comment %q", doc.CreationInfo.CreatorComment)
	}
}
