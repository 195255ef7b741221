// Package reporttest builds fixed reports for the tests of vigil's report
// writers. The advisory data in them is illustrative, not authoritative.
package reporttest

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-scanner/vigil/fixplan"
	"github.com/vigil-scanner/vigil/inventory"
	"github.com/vigil-scanner/vigil/match"
	"github.com/vigil-scanner/vigil/report"
	"github.com/vigil-scanner/vigil/vulndb"
)

// CreatedAt is the creation time of every sample report.
var CreatedAt = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// Samples returns every sample report by a short name ("alpine", "debian",
// "rpm"), freshly built: callers may change them.
func Samples() map[string]*report.Report {
	return map[string]*report.Report{
		"alpine": Alpine(),
		"debian": Debian(),
		"rpm":    RPM(),
		"repo":   Repo(),
	}
}

const (
	alpineBase = "sha256:1a8ac7e1ee2bd6c8b4c4db5d6a5b6b6e1e7d8a1c0e9f8b7a6d5c4b3a2f1e0d9c"
	alpineApp  = "sha256:2b9bd8f2ff3ce7d9c5d5ec6e7b6c7c7f2f8e9b2d1f0a9c8b7e6d5c4b3a2f1e0d"
)

// Alpine is an end-of-life Alpine 3.10 image (its OS layer the base
// image's) with OS packages, an npm lockfile and a Go binary, findings of
// every status, one suppressed by VEX and one unreachable, and a base image
// update; the scan was incomplete (two warnings).
func alpine() *report.Report {
	baseLayer := inventory.LayerRef{
		Digest:    "sha256:9d48c3bd43c520dc2784e868a780e976b207cbf493eaff8c6596eb871cbd9609",
		DiffID:    alpineBase,
		CreatedBy: "/bin/sh -c #(nop) ADD file:fe1f09249227e2da2089afb4d07e16cbf832eeb804120074acd2b8192876cd28 in / ",
		Base:      true,
	}
	appLayer := inventory.LayerRef{
		Digest:    "sha256:5f3a8f0c4b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e",
		DiffID:    alpineApp,
		CreatedBy: "COPY app /app # buildkit",
	}
	osTarget := "alpine-310.tar.gz (alpine 3.10.4)"
	return &report.Report{
		SchemaVersion: report.SchemaVersion,
		CreatedAt:     CreatedAt,
		Artifact: inventory.Artifact{
			Name:        "alpine-310.tar.gz",
			Type:        inventory.TypeContainerImage,
			ImageID:     "sha256:af341ccd2df8b0e2d67cf8dd32e087bfda4e5756ebd1c76bbf3efa0dc246590e",
			RepoDigests: []string{"index.docker.io/library/alpine@sha256:de78803598bc4c940fc4591d412bffe488205d5d953f94751c6308deeaaa7eb8"},
			RepoTags:    []string{"alpine:3.10"},
			Platform:    "linux/amd64",
			OS:          &inventory.OS{Family: "alpine", Name: "3.10.4", EOSL: true, EOSLDate: "2021-05-01"},
			Layers: []inventory.Layer{
				{Digest: baseLayer.Digest, DiffID: baseLayer.DiffID, CreatedBy: baseLayer.CreatedBy, Size: 2797541},
				{Digest: appLayer.Digest, DiffID: appLayer.DiffID, CreatedBy: appLayer.CreatedBy, Size: 1048576},
			},
			Base: &inventory.Base{Name: "alpine:3.10", Layers: 1, IdentifiedBy: []string{inventory.BaseByHistory}},
		},
		BaseUpdates: []report.BaseUpdate{
			{From: "alpine:3.10", To: "alpine:3.10.9", Digest: "sha256:451eee8bedcb2f029756dc3e9d73bab0e7943c1ac55cff3a4861c52a0fdd3e65",
				Findings: 1, Removed: 3, Severities: map[string]int{"CRITICAL": -1, "HIGH": -2}, RiskRemoved: 139.5},
		},
		Results: []report.Result{
			{
				Target: osTarget, Class: inventory.ClassOSPkgs, Type: "alpine",
				Packages: []inventory.Package{
					{ID: "busybox@1.30.1-r3", Name: "busybox", Version: "1.30.1-r3", SourceName: "busybox", SourceVersion: "1.30.1-r3", Arch: "x86_64", Licenses: []string{"GPL-2.0-only"}, Purl: "pkg:apk/alpine/busybox@1.30.1-r3?arch=x86_64&distro=3.10.4", Layer: baseLayer},
					{ID: "libcrypto1.1@1.1.1d-r2", Name: "libcrypto1.1", Version: "1.1.1d-r2", SourceName: "openssl", SourceVersion: "1.1.1d-r2", Arch: "x86_64", Licenses: []string{"OpenSSL"}, Purl: "pkg:apk/alpine/libcrypto1.1@1.1.1d-r2?arch=x86_64&distro=3.10.4", Layer: baseLayer, DependsOn: []string{"musl@1.1.22-r3"}},
					{ID: "libssl1.1@1.1.1d-r2", Name: "libssl1.1", Version: "1.1.1d-r2", SourceName: "openssl", SourceVersion: "1.1.1d-r2", Arch: "x86_64", Licenses: []string{"OpenSSL"}, Purl: "pkg:apk/alpine/libssl1.1@1.1.1d-r2?arch=x86_64&distro=3.10.4", Layer: baseLayer, DependsOn: []string{"libcrypto1.1@1.1.1d-r2", "musl@1.1.22-r3"}},
					{ID: "musl@1.1.22-r3", Name: "musl", Version: "1.1.22-r3", SourceName: "musl", SourceVersion: "1.1.22-r3", Arch: "x86_64", Licenses: []string{"MIT"}, Purl: "pkg:apk/alpine/musl@1.1.22-r3?arch=x86_64&distro=3.10.4", Layer: baseLayer},
				},
				Vulnerabilities: []match.Finding{
					{
						ID: "CVE-2020-1967", PkgName: "libssl1.1", PkgID: "libssl1.1@1.1.1d-r2", PkgPurl: "pkg:apk/alpine/libssl1.1@1.1.1d-r2?arch=x86_64&distro=3.10.4",
						InstalledVersion: "1.1.1d-r2", FixedVersions: []string{"1.1.1g-r0"}, FixedVersion: "1.1.1g-r0", Status: vulndb.StatusFixed,
						Severity: match.SeverityHigh, SeveritySource: "nvd",
						CVSS: map[string]match.CVSS{
							"nvd": {V2Vector: "AV:N/AC:M/Au:N/C:N/I:N/A:P", V2Score: 4.3, V3Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", V3Score: 7.5},
						},
						EPSS:        &vulndb.EPSS{Score: 0.10423, Percentile: 0.94512, Date: "2024-04-30"},
						Title:       "openssl: Segmentation fault in SSL_check_chain causes denial of service",
						Description: "Server or client applications that call the SSL_check_chain() function during or after a TLS 1.3 handshake may crash due to a NULL pointer dereference.",
						References:  []string{"https://www.openssl.org/news/secadv/20200421.txt", "https://nvd.nist.gov/vuln/detail/CVE-2020-1967"},
						PrimaryURL:  "https://avd.example/CVE-2020-1967",
						DataSource:  &match.DataSource{ID: "alpine", Name: "Alpine Secdb", URL: "https://secdb.alpinelinux.org/"},
						Layer:       baseLayer, CWEs: []string{"CWE-476"},
						PublishedDate:    time.Date(2020, 4, 21, 14, 15, 0, 0, time.UTC),
						LastModifiedDate: time.Date(2023, 11, 7, 3, 15, 0, 0, time.UTC),
					},
					{
						ID: "CVE-2020-1967", PkgName: "libcrypto1.1", PkgID: "libcrypto1.1@1.1.1d-r2", PkgPurl: "pkg:apk/alpine/libcrypto1.1@1.1.1d-r2?arch=x86_64&distro=3.10.4",
						InstalledVersion: "1.1.1d-r2", FixedVersions: []string{"1.1.1g-r0"}, FixedVersion: "1.1.1g-r0", Status: vulndb.StatusFixed,
						Severity: match.SeverityHigh, SeveritySource: "nvd",
						CVSS: map[string]match.CVSS{
							"nvd": {V2Vector: "AV:N/AC:M/Au:N/C:N/I:N/A:P", V2Score: 4.3, V3Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", V3Score: 7.5},
						},
						Title:      "openssl: Segmentation fault in SSL_check_chain causes denial of service",
						DataSource: &match.DataSource{ID: "alpine", Name: "Alpine Secdb", URL: "https://secdb.alpinelinux.org/"},
						Layer:      baseLayer,
					},
					{
						ID: "CVE-2019-14697", PkgName: "musl", PkgID: "musl@1.1.22-r3", PkgPurl: "pkg:apk/alpine/musl@1.1.22-r3?arch=x86_64&distro=3.10.4",
						InstalledVersion: "1.1.22-r3", FixedVersions: []string{"1.1.22-r4", "1.1.24-r0"}, FixedVersion: "1.1.22-r4, 1.1.24-r0", Status: vulndb.StatusFixed,
						Severity: match.SeverityCritical, SeveritySource: "nvd",
						CVSS:       map[string]match.CVSS{"nvd": {V3Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", V3Score: 9.8}},
						KEV:        &vulndb.KEV{DateAdded: "2024-01-10", DueDate: "2024-01-31", RequiredAction: "Apply updates per vendor instructions.", KnownRansomwareCampaignUse: "Unknown"},
						Title:      "musl: x87 floating-point stack adjustment imbalance",
						References: []string{"https://www.openwall.com/lists/musl/2019/08/06/1"},
						DataSource: &match.DataSource{ID: "alpine", Name: "Alpine Secdb", URL: "https://secdb.alpinelinux.org/"},
						Layer:      baseLayer, CWEs: []string{"CWE-787"},
					},
					{
						ID: "CVE-2022-28391", PkgName: "busybox", PkgID: "busybox@1.30.1-r3", PkgPurl: "pkg:apk/alpine/busybox@1.30.1-r3?arch=x86_64&distro=3.10.4",
						InstalledVersion: "1.30.1-r3", Status: vulndb.StatusEndOfLife,
						Severity: match.SeverityMedium, SeveritySource: "nvd",
						CVSS:       map[string]match.CVSS{"nvd": {V3Vector: "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:H/I:H/A:H", V3Score: 6.8}},
						Title:      "busybox: remote attackers may execute arbitrary code via netstat",
						DataSource: &match.DataSource{ID: "alpine", Name: "Alpine Secdb", URL: "https://secdb.alpinelinux.org/"},
						Layer:      baseLayer,
					},
				},
			},
			{
				Target: "app/package-lock.json", Class: inventory.ClassLangPkgs, Type: "npm",
				Packages: []inventory.Package{
					{ID: "@babel/core@7.0.0", Name: "@babel/core", Version: "7.0.0", Purl: "pkg:npm/%40babel/core@7.0.0", Licenses: []string{"MIT"}, Dev: true, FilePath: "app/package-lock.json", Layer: appLayer},
					{ID: "body-parser@1.19.0", Name: "body-parser", Version: "1.19.0", Purl: "pkg:npm/body-parser@1.19.0", Licenses: []string{"MIT"}, Indirect: true, DependsOn: []string{"qs@6.7.0"}, FilePath: "app/package-lock.json", Layer: appLayer},
					{ID: "express@4.17.1", Name: "express", Version: "4.17.1", Purl: "pkg:npm/express@4.17.1", Licenses: []string{"MIT"}, DependsOn: []string{"body-parser@1.19.0", "qs@6.7.0"}, FilePath: "app/package-lock.json", Layer: appLayer},
					{ID: "qs@6.7.0", Name: "qs", Version: "6.7.0", Purl: "pkg:npm/qs@6.7.0", Licenses: []string{"BSD-3-Clause"}, Indirect: true, FilePath: "app/package-lock.json", Layer: appLayer},
				},
				Vulnerabilities: []match.Finding{
					{
						ID: "CVE-2022-24999", Aliases: []string{"GHSA-hrpp-h998-j3pp"}, PkgName: "qs", PkgID: "qs@6.7.0", PkgPurl: "pkg:npm/qs@6.7.0",
						InstalledVersion: "6.7.0", FixedVersions: []string{"6.7.3"}, FixedVersion: "6.7.3", Status: vulndb.StatusFixed,
						Severity: match.SeverityHigh, SeveritySource: "ghsa",
						CVSS: map[string]match.CVSS{
							"ghsa": {V3Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", V3Score: 7.5},
						},
						Title:      "qs vulnerable to Prototype Pollution",
						References: []string{"https://github.com/advisories/GHSA-hrpp-h998-j3pp"},
						PrimaryURL: "https://github.com/advisories/GHSA-hrpp-h998-j3pp",
						DataSource: &match.DataSource{ID: "osv:npm", Name: "GitHub Security Advisory npm", URL: "https://github.com/advisories?query=type%3Areviewed+ecosystem%3Anpm"},
						Layer:      appLayer, CWEs: []string{"CWE-1321"},
					},
					{
						ID: "CVE-2024-29041", Aliases: []string{"GHSA-rv95-896h-c2vc"}, PkgName: "express", PkgID: "express@4.17.1", PkgPurl: "pkg:npm/express@4.17.1",
						InstalledVersion: "4.17.1", FixedVersions: []string{"4.19.2", "5.0.0-beta.3"}, FixedVersion: "4.19.2, 5.0.0-beta.3", Status: vulndb.StatusFixed,
						Severity: match.SeverityMedium, SeveritySource: "ghsa",
						CVSS:       map[string]match.CVSS{"ghsa": {V3Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:L/I:L/A:N", V3Score: 6.1}},
						Title:      "Express.js Open Redirect in malformed URLs",
						DataSource: &match.DataSource{ID: "osv:npm", Name: "GitHub Security Advisory npm"},
						Layer:      appLayer, CWEs: []string{"CWE-601", "CWE-1286"},
						Suppressed: &match.Suppression{
							Kind: match.SuppressedByVEX, Source: "app.openvex.json", Statement: "https://example.com/vex/1#stmt-0",
							Status: "not_affected", Justification: "vulnerable_code_not_in_execute_path", Reason: "redirects are never built from user input",
						},
					},
				},
			},
			{
				Target: "usr/local/bin/app", Class: inventory.ClassLangPkgs, Type: "gobinary",
				Packages: []inventory.Package{
					{ID: "golang.org/x/text@v0.3.5", Name: "golang.org/x/text", Version: "v0.3.5", Purl: "pkg:golang/golang.org/x/text@v0.3.5", FilePath: "usr/local/bin/app", Layer: appLayer},
					{ID: "stdlib@v1.22.2", Name: "stdlib", Version: "v1.22.2", Purl: "pkg:golang/stdlib@v1.22.2", Licenses: []string{"BSD-3-Clause"}, FilePath: "usr/local/bin/app", Layer: appLayer},
				},
				Vulnerabilities: []match.Finding{
					{
						ID: "CVE-2021-38561", Aliases: []string{"GO-2021-0113"}, PkgName: "golang.org/x/text", PkgID: "golang.org/x/text@v0.3.5", PkgPurl: "pkg:golang/golang.org/x/text@v0.3.5",
						InstalledVersion: "v0.3.5", FixedVersions: []string{"v0.3.7"}, FixedVersion: "v0.3.7", Status: vulndb.StatusFixed,
						Severity: match.SeverityHigh, SeveritySource: "nvd",
						CVSS:         map[string]match.CVSS{"nvd": {V3Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", V3Score: 7.5}},
						Title:        "golang.org/x/text: out-of-bounds read in language.ParseAcceptLanguage",
						DataSource:   &match.DataSource{ID: "osv:Go", Name: "Go Vulnerability Database", URL: "https://pkg.go.dev/vuln/"},
						Layer:        appLayer,
						Reachability: match.Unreachable,
					},
				},
			},
		},
		// The scan is incomplete: a malformed lockfile, and an installed
		// version the matcher could not compare.
		Warnings: []inventory.Warning{
			{Layer: alpineApp, Path: "app/yarn.lock", Message: "node: malformed lockfile: yarn.lock line 3: missing version"},
			{Message: "match: busybox 1.30.1-r3+x in alpine-310.tar.gz (alpine 3.10.4): the installed version cannot be compared (apk version \"1.30.1-r3+x\": invalid suffix): its 2 advisory records were not checked"},
		},
	}
}

// Debian is a Debian 12 image with OS packages only, licenses that are not
// all valid SPDX, and one finding without a fix.
func debian() *report.Report {
	layer := inventory.LayerRef{
		Digest: "sha256:c6cf28de8a067787ee0d08f8b01d7f1566a508b56f6e549687b41dfd375f12c7",
		DiffID: "sha256:8d853c8add5d1e7b0aafc4b68a3d9fb8e7a0da27970c2acf831fe63be4a0cd2c",
	}
	return &report.Report{
		SchemaVersion: report.SchemaVersion,
		CreatedAt:     CreatedAt,
		Artifact: inventory.Artifact{
			Name:     "debian:12",
			Type:     inventory.TypeContainerImage,
			ImageID:  "sha256:5027089adc4c9b1d4d4c2d1e3a3b2e0d7e3b6c1f0a9e8d7c6b5a4f3e2d1c0b9a",
			RepoTags: []string{"debian:12"},
			OS:       &inventory.OS{Family: "debian", Name: "12.5", PrettyName: "Debian GNU/Linux 12 (bookworm)"},
			Layers:   []inventory.Layer{{Digest: layer.Digest, DiffID: layer.DiffID, Size: 49557601}},
		},
		Results: []report.Result{{
			Target: "debian:12 (debian 12.5)", Class: inventory.ClassOSPkgs, Type: "debian",
			Packages: []inventory.Package{
				{ID: "libc6@2.36-9+deb12u4", Name: "libc6", Version: "2.36-9+deb12u4", SourceName: "glibc", SourceVersion: "2.36-9+deb12u4", Arch: "amd64", Licenses: []string{"LGPL-2.1-or-later", "GPL-2.0+", "public-domain"}, Maintainer: "GNU Libc Maintainers <debian-glibc@lists.debian.org>", Purl: "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12.5", Layer: layer},
				{ID: "libssl3@3.0.11-1~deb12u2", Name: "libssl3", Version: "3.0.11-1~deb12u2", SourceName: "openssl", SourceVersion: "3.0.11-1~deb12u2", Arch: "amd64", Licenses: []string{"Apache-2.0"}, Purl: "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12.5", Layer: layer, DependsOn: []string{"libc6@2.36-9+deb12u4"}},
			},
			Vulnerabilities: []match.Finding{{
				ID: "CVE-2010-4756", PkgName: "libc6", PkgID: "libc6@2.36-9+deb12u4", PkgPurl: "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12.5",
				InstalledVersion: "2.36-9+deb12u4", Status: vulndb.StatusAffected,
				Severity: match.SeverityLow, SeveritySource: "debian",
				CVSS:        map[string]match.CVSS{"nvd": {V2Vector: "AV:N/AC:L/Au:S/C:N/I:N/A:P", V2Score: 4}},
				Title:       "glibc: glob implementation can cause excessive CPU and memory consumption due to crafted glob expressions",
				Description: "The glob implementation in the GNU C Library allows remote authenticated users to cause a denial of service via crafted glob expressions that do not match any pathnames.",
				DataSource:  &match.DataSource{ID: "debian", Name: "Debian Security Tracker", URL: "https://salsa.debian.org/security-tracker-team/security-tracker"},
				Layer:       layer, CWEs: []string{"CWE-399"},
			}},
		}},
	}
}

// RPM is a Red Hat UBI 9 image with rpm packages (one with an epoch and a
// non-SPDX license) and no findings.
func rpm() *report.Report {
	layer := inventory.LayerRef{
		Digest: "sha256:0b9e6b4b7e0d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b",
		DiffID: "sha256:3c1e4b5a6d7f8e9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a",
	}
	return &report.Report{
		SchemaVersion: report.SchemaVersion,
		CreatedAt:     CreatedAt,
		Artifact: inventory.Artifact{
			Name:        "registry.access.redhat.com/ubi9/ubi-minimal:9.3",
			Type:        inventory.TypeContainerImage,
			ImageID:     "sha256:4b1e3e1d2c3b4a5f6e7d8c9b0a1f2e3d4c5b6a7f8e9d0c1b2a3f4e5d6c7b8a9f",
			RepoDigests: []string{"registry.access.redhat.com/ubi9/ubi-minimal@sha256:8a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9"},
			OS:          &inventory.OS{Family: "redhat", Name: "9.3"},
			Layers:      []inventory.Layer{{Digest: layer.Digest, DiffID: layer.DiffID, CreatedBy: "", Size: 39321600}},
		},
		Results: []report.Result{{
			Target: "registry.access.redhat.com/ubi9/ubi-minimal:9.3 (redhat 9.3)", Class: inventory.ClassOSPkgs, Type: "redhat",
			Packages: []inventory.Package{
				{ID: "openssl-libs@1:3.0.7-27.el9.x86_64", Name: "openssl-libs", Version: "1:3.0.7-27.el9", Epoch: 1, SourceName: "openssl", SourceVersion: "1:3.0.7-27.el9", Arch: "x86_64", Licenses: []string{"ASL 2.0"}, Vendor: "Red Hat, Inc.", Purl: "pkg:rpm/redhat/openssl-libs@3.0.7-27.el9?arch=x86_64&distro=redhat-9.3&epoch=1", Layer: layer},
				{ID: "zlib@1.2.11-40.el9.x86_64", Name: "zlib", Version: "1.2.11-40.el9", SourceName: "zlib", SourceVersion: "1.2.11-40.el9", Arch: "x86_64", Licenses: []string{"zlib and Boost"}, Vendor: "Red Hat, Inc.", Purl: "pkg:rpm/redhat/zlib@1.2.11-40.el9?arch=x86_64&distro=redhat-9.3", Layer: layer},
			},
		}},
	}
}

// repo is a git repository at a commit, with a Cargo.lock (the project's
// root crate, a dev dependency, a git dependency) and one finding.
func repo() *report.Report {
	return &report.Report{
		SchemaVersion: report.SchemaVersion,
		CreatedAt:     CreatedAt,
		Artifact: inventory.Artifact{
			Name:   "https://github.com/example/rustapp",
			Type:   inventory.TypeRepository,
			Commit: "5f1c2a9e8b7d6c5f4e3a2b1c0d9e8f7a6b5c4d3e",
		},
		Results: []report.Result{{
			Target: "Cargo.lock", Class: inventory.ClassLangPkgs, Type: "cargo",
			Packages: []inventory.Package{
				{ID: "criterion@0.5.1", Name: "criterion", Version: "0.5.1", Purl: "pkg:cargo/criterion@0.5.1", Dev: true, DependsOn: []string{"itoa@1.0.9"}, FilePath: "Cargo.lock"},
				{ID: "itoa@1.0.9", Name: "itoa", Version: "1.0.9", Purl: "pkg:cargo/itoa@1.0.9", Indirect: true, FilePath: "Cargo.lock"},
				{ID: "rustapp@0.3.0", Name: "rustapp", Version: "0.3.0", Purl: "pkg:cargo/rustapp@0.3.0", Root: true, DependsOn: []string{"criterion@0.5.1", "smallvec@1.6.0", "tinyjson@2.5.1"}, FilePath: "Cargo.lock"},
				{ID: "smallvec@1.6.0", Name: "smallvec", Version: "1.6.0", Purl: "pkg:cargo/smallvec@1.6.0", DependsOn: []string{"itoa@1.0.9"}, FilePath: "Cargo.lock"},
				{ID: "tinyjson@2.5.1", Name: "tinyjson", Version: "2.5.1", Purl: "pkg:cargo/tinyjson@2.5.1?vcs_url=git%2Bhttps:%2F%2Fgithub.com%2Fexample%2Ftinyjson%40a1b2c3d", Origin: "git+https://github.com/example/tinyjson?rev=a1b2c3d#a1b2c3d", FilePath: "Cargo.lock"},
			},
			Vulnerabilities: []match.Finding{{
				ID: "CVE-2021-25900", Aliases: []string{"RUSTSEC-2021-0003"}, PkgName: "smallvec", PkgID: "smallvec@1.6.0", PkgPurl: "pkg:cargo/smallvec@1.6.0",
				InstalledVersion: "1.6.0", FixedVersions: []string{"1.6.1"}, FixedVersion: "1.6.1", Status: vulndb.StatusFixed,
				Severity: match.SeverityCritical, SeveritySource: "nvd",
				Title:      "Buffer overflow in SmallVec::insert_many",
				PrimaryURL: "https://rustsec.org/advisories/RUSTSEC-2021-0003",
				DataSource: &match.DataSource{ID: "osv", Name: "OSV", URL: "https://osv.dev"},
			}},
		}},
	}
}

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// Golden compares got with the file at path (relative to the test's
// package directory), or rewrites the file when the test runs with -update.
func Golden(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run with -update to accept):\n%s", path, lineDiff(string(want), string(got)))
	}
}

// lineDiff shows the first lines where want and got differ.
func lineDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < max(len(wl), len(gl)) && shown < 10; i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			fmt.Fprintf(&b, "line %d:\n  want %q\n  got  %q\n", i+1, w, g)
			shown++
		}
	}
	return b.String()
}

// Alpine is alpine's report, with each finding's risk computed as the matcher
// does and its fix plan.
func Alpine() *report.Report { return withRisk(alpine()) }

// Debian is debian's report, with each finding's risk computed as the matcher
// does and its fix plan.
func Debian() *report.Report { return withRisk(debian()) }

// RPM is rpm's report, with each finding's risk computed as the matcher
// does and its fix plan.
func RPM() *report.Report { return withRisk(rpm()) }

// Repo is repo's report, with each finding's risk computed as the matcher
// does and its fix plan.
func Repo() *report.Report { return withRisk(repo()) }

func withRisk(r *report.Report) *report.Report {
	for i := range r.Results {
		for j := range r.Results[i].Vulnerabilities {
			f := &r.Results[i].Vulnerabilities[j]
			f.Risk = match.RiskOf(f)
		}
	}
	r.FixPlan = fixplan.Plan(r)
	return r
}
