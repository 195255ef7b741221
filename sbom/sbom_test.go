package sbom

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-scanner/vigil/inventory"
)

func readFile(t *testing.T, name string) (*inventory.Inventory, error) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return Read(f, name)
}

// TestOtherTools reads SBOMs in the shapes Syft and Trivy write.
func TestOtherTools(t *testing.T) {
	tests := []struct {
		file string
		want *inventory.Inventory
	}{
		{"syft-alpine.cdx.json", &inventory.Inventory{
			Artifact: inventory.Artifact{
				Name: "shop-api", Type: inventory.TypeContainerImage,
				OS:     &inventory.OS{Family: "alpine", Name: "3.19.1", EOSLDate: "2025-11-01"},
				Layers: []inventory.Layer{{DiffID: "sha256:aa11"}, {DiffID: "sha256:bb22"}},
			},
			Results: []inventory.Result{
				{Target: "shop-api (alpine 3.19.1)", Class: inventory.ClassOSPkgs, Type: "alpine", Packages: []inventory.Package{
					{ID: "busybox@1.36.1-r15", Name: "busybox", Version: "1.36.1-r15", SourceName: "busybox", SourceVersion: "1.36.1-r15", Arch: "x86_64",
						Purl: "pkg:apk/alpine/busybox@1.36.1-r15?arch=x86_64&distro=alpine-3.19.1", Licenses: []string{"GPL-2.0-only"}, Layer: inventory.LayerRef{DiffID: "sha256:aa11"}},
					{ID: "libssl3@3.1.4-r5", Name: "libssl3", Version: "3.1.4-r5", SourceName: "openssl", SourceVersion: "3.1.4-r5", Arch: "x86_64",
						Purl: "pkg:apk/alpine/libssl3@3.1.4-r5?arch=x86_64&upstream=openssl&distro=alpine-3.19.1", Layer: inventory.LayerRef{DiffID: "sha256:aa11"},
						DependsOn: []string{"busybox@1.36.1-r15"}},
				}},
				{Target: "srv/app/package-lock.json", Class: inventory.ClassLangPkgs, Type: "node-pkg", Packages: []inventory.Package{
					{ID: "@hapi/hoek@9.3.0", Name: "@hapi/hoek", Version: "9.3.0", Purl: "pkg:npm/%40hapi/hoek@9.3.0", FilePath: "srv/app/package-lock.json",
						Layer: inventory.LayerRef{DiffID: "sha256:bb22"}, DependsOn: []string{"minimist@1.2.5"}},
					{ID: "minimist@1.2.5", Name: "minimist", Version: "1.2.5", Purl: "pkg:npm/minimist@1.2.5", FilePath: "srv/app/package-lock.json",
						Layer: inventory.LayerRef{DiffID: "sha256:bb22"}},
				}},
			},
		}},
		{"trivy-ubi.cdx.json", &inventory.Inventory{
			Artifact: inventory.Artifact{
				Name: "registry.example/ubi9/ubi-minimal:9.3", Type: inventory.TypeContainerImage, ImageID: "sha256:2222",
				RepoDigests: []string{"registry.example/ubi9/ubi-minimal@sha256:1111"},
				RepoTags:    []string{"registry.example/ubi9/ubi-minimal:9.3"},
				OS:          &inventory.OS{Family: "redhat", Name: "9.3", EOSLDate: "2032-05-31"},
				Layers:      []inventory.Layer{{DiffID: "sha256:cc33", Digest: "sha256:c0c0"}, {DiffID: "sha256:dd44"}},
			},
			Results: []inventory.Result{
				{Target: "registry.example/ubi9/ubi-minimal:9.3 (redhat 9.3)", Class: inventory.ClassOSPkgs, Type: "redhat", Packages: []inventory.Package{
					{ID: "openssl-libs@1:3.0.7-27.el9.x86_64", Name: "openssl-libs", Version: "1:3.0.7-27.el9", Epoch: 1, SourceName: "openssl", SourceVersion: "1:3.0.7-27.el9",
						Arch: "x86_64", Vendor: "Red Hat, Inc.", Licenses: []string{"ASL 2.0"},
						Purl:  "pkg:rpm/redhat/openssl-libs@3.0.7-27.el9?arch=x86_64&distro=redhat-9.3&epoch=1",
						Layer: inventory.LayerRef{DiffID: "sha256:cc33", Digest: "sha256:c0c0"}},
				}},
				{Target: "opt/app/lib/log4j-core-2.14.1.jar", Class: inventory.ClassLangPkgs, Type: "jar", Packages: []inventory.Package{
					{ID: "org.apache.logging.log4j:log4j-core@2.14.1", Name: "org.apache.logging.log4j:log4j-core", Version: "2.14.1",
						Purl: "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1", FilePath: "opt/app/lib/log4j-core-2.14.1.jar", Layer: inventory.LayerRef{DiffID: "sha256:dd44"}},
				}},
				{Target: "opt/app/package-lock.json", Class: inventory.ClassLangPkgs, Type: "npm", Packages: []inventory.Package{
					{ID: "lodash@4.17.20", Name: "lodash", Version: "4.17.20", Purl: "pkg:npm/lodash@4.17.20", FilePath: "opt/app/package-lock.json", Layer: inventory.LayerRef{DiffID: "sha256:dd44"}},
				}},
			},
		}},
		{"syft-debian.spdx.json", &inventory.Inventory{
			Artifact: inventory.Artifact{
				Name: "debian-slim", Type: inventory.TypeContainerImage,
				OS: &inventory.OS{Family: "debian", Name: "12", EOSLDate: "2028-06-30"},
			},
			Results: []inventory.Result{
				{Target: "debian-slim (debian 12)", Class: inventory.ClassOSPkgs, Type: "debian", Packages: []inventory.Package{
					{ID: "libc6@2.36-9+deb12u4", Name: "libc6", Version: "2.36-9+deb12u4", SourceName: "glibc", SourceVersion: "2.36-9+deb12u4", Arch: "amd64",
						Licenses: []string{"GPL-2.0-only", "LGPL-2.1-only"}, Purl: "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&upstream=glibc&distro=debian-12"},
					{ID: "tzdata@2024a-0+deb12u1", Name: "tzdata", Version: "2024a-0+deb12u1", Arch: "all",
						Purl: "pkg:deb/debian/tzdata@2024a-0%2Bdeb12u1?arch=all&distro=debian-12"},
					{ID: "perl-base@1:5.36.0-7+deb12u1", Name: "perl-base", Version: "1:5.36.0-7+deb12u1", SourceName: "perl", SourceVersion: "5.36.0-7", Arch: "amd64",
						Purl: "pkg:deb/debian/perl-base@5.36.0-7%2Bdeb12u1?arch=amd64&upstream=perl%405.36.0-7&epoch=1&distro=debian-12", DependsOn: []string{"libc6@2.36-9+deb12u4"}},
				}},
			},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := readFile(t, tt.file)
			if err != nil {
				t.Fatal(err)
			}
			if got.Artifact.OS != nil {
				got.Artifact.OS.EOSL = false // depends on today's date
			}
			if g, w := mustJSON(t, got), mustJSON(t, tt.want); string(g) != string(w) {
				t.Errorf("got:\n%s\nwant:\n%s", g, w)
			}
		})
	}
}

func TestReadErrors(t *testing.T) {
	tests := []struct {
		name, data, want string
	}{
		{"empty.json", "  \n", "empty.json: empty file"},
		{"garbage.json", "hello", "garbage.json: not a JSON object"},
		{"array.json", "[1,2]", "array.json: not a JSON object"},
		{"other.json", `{"name": "x"}`, "other.json: not a vigil JSON report, a CycloneDX BOM or an SPDX document"},
		{"bom.xml", `<?xml version="1.0"?><bom/>`, "bom.xml: XML documents are not supported"},
		{"doc.spdx", "SPDXVersion: SPDX-2.3\n", "doc.spdx: SPDX tag-value documents are not supported"},
		{"bad.cdx.json", `{"bomFormat": "CycloneDX", "components": {"oops": 1}}`, "bad.cdx.json: decoding CycloneDX"},
		{"bad.spdx.json", `{"spdxVersion": "SPDX-9.9"}`, "bad.spdx.json: decoding SPDX"},
		{"nopkgs.json", `{"schemaVersion": 1, "artifact": {"name": "x", "type": "filesystem"}, "results": [{"target": "t", "class": "lang-pkgs", "type": "npm"}]}`,
			"nopkgs.json: the report lists no packages"},
		{"future.json", `{"schemaVersion": 99, "results": []}`, "future.json: reading JSON report: schemaVersion 99"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read(strings.NewReader(tt.data), tt.name)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("Read error = %v, want prefix %q", err, tt.want)
			}
		})
	}
	if _, err := readFile(t, "truncated.cdx.json"); err == nil || !strings.HasPrefix(err.Error(), "truncated.cdx.json: not a JSON object") {
		t.Errorf("truncated: %v", err)
	}
}
