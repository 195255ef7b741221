package redhat

import (
	"archive/tar"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/vigil-scanner/vigil/internal/testutil"
	"github.com/vigil-scanner/vigil/vulndb"
	"github.com/vigil-scanner/vigil/vulndb/vulndbtest"
)

func load(t *testing.T, opts Options, f vulndb.Fetcher) (*vulndbtest.Sink, *vulndbtest.Log, error) {
	t.Helper()
	var log vulndbtest.Log
	opts.Logger = log.Logger()
	sink := &vulndbtest.Sink{}
	err := New(opts).Load(context.Background(), f, sink)
	return sink, &log, err
}

func rng(fixed ...string) []vulndb.Range {
	if len(fixed) == 0 {
		return []vulndb.Range{{Scheme: vulndb.SchemeRPM, Events: []vulndb.Event{{Introduced: "0"}}}}
	}
	var out []vulndb.Range
	for _, f := range fixed {
		out = append(out, vulndb.Range{Scheme: vulndb.SchemeRPM, Events: []vulndb.Event{{Introduced: "0"}, {Fixed: f}}})
	}
	return out
}

// checkFixture asserts the records of testdata/mirror/2024/cve-2024-0001.json.
func checkFixture(t *testing.T, sink *vulndbtest.Sink) {
	t.Helper()
	a := func(eco, pkg string, st vulndb.Status, sev, module string, fixed ...string) vulndb.Affected {
		x := vulndb.Affected{VulnID: "CVE-2024-0001", Source: "redhat", Ecosystem: eco, Package: pkg, Status: st, Severity: sev, Modularitylabel: module, Ranges: rng(fixed...)}
		if len(fixed) > 0 {
			x.Fixed = fixed
		}
		return x
	}
	want := []vulndb.Affected{
		a("redhat:7", "curl", vulndb.StatusEndOfLife, "", ""),
		a("redhat:8", "curl", vulndb.StatusWillNotFix, "LOW", ""),
		a("redhat:8", "nodejs", vulndb.StatusAffected, "", "nodejs:16"),
		a("redhat:8", "nodejs", vulndb.StatusFixed, "", "nodejs:18", "1:18.18.2-2.module+el8.9.0+20473+c4e3d824"),
		a("redhat:8", "openssl", vulndb.StatusFixed, "HIGH", "", "1:1.1.1k-12.el8_9"),
		a("redhat:8", "postgresql", vulndb.StatusFixed, "", "postgresql:15", "15.5-1.module+el8.9.0+20798+f1d1fa40"),
	}
	var got []vulndb.Affected
	for _, x := range sink.Affected {
		if x.VulnID == "CVE-2024-0001" {
			got = append(got, x)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d:\n%+v", len(got), len(want), got)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Ecosystem != w.Ecosystem || g.Package != w.Package || g.Status != w.Status || g.Severity != w.Severity ||
			g.Modularitylabel != w.Modularitylabel || !slices.Equal(g.Fixed, w.Fixed) || g.Source != w.Source ||
			len(g.Ranges) != len(w.Ranges) || !slices.Equal(g.Ranges[0].Events, w.Ranges[0].Events) {
			t.Errorf("record %d:\ngot  %+v\nwant %+v", i, g, w)
		}
	}
	vs := sink.FindVulnerability("CVE-2024-0001")
	if len(vs) != 1 {
		t.Fatalf("vulnerabilities: %+v", vs)
	}
	v := vs[0]
	if v.Title != "example: a flaw" || v.Description != "A flaw was found." ||
		!slices.Equal(v.Severities, []vulndb.Severity{{Source: "redhat", Severity: "HIGH"}}) ||
		!slices.Equal(v.CVSS, []vulndb.CVSS{{Source: "redhat", Version: "3.1", Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", Score: 9.8}}) ||
		!slices.Equal(v.CWEs, []string{"CWE-787"}) ||
		!slices.Equal(v.References, []string{"https://access.redhat.com/security/cve/CVE-2024-0001", "https://access.redhat.com/errata/RHSA-2024:0001"}) ||
		!v.Published.Equal(time.Date(2024, 1, 15, 0, 0, 0, 0, time.UTC)) || !v.Modified.Equal(time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("vulnerability: %+v", v)
	}
}

func TestIndexLayout(t *testing.T) {
	sink, log, err := load(t, Options{}, vulndbtest.Dir("testdata/mirror"))
	if err != nil {
		t.Fatal(err)
	}
	checkFixture(t, sink)
	// 0002 is a deleted stub, 0004 is in deletions.csv: nothing from them.
	for _, id := range []string{"CVE-2024-0002", "CVE-2024-0003", "CVE-2024-0004"} {
		if len(sink.FindVulnerability(id)) != 0 {
			t.Errorf("%s was recorded", id)
		}
	}
	w := strings.Join(log.Warnings(), "\n")
	for _, s := range []string{"product=red_hat_enterprise_linux_9:bad", "file=2024/cve-2024-0003.json", "file=2024/cve-2024-0005.json"} {
		if !strings.Contains(w, s) {
			t.Errorf("warnings lack %q:\n%s", s, w)
		}
	}
	if n := len(log.Warnings()); n != 3 {
		t.Errorf("%d warnings:\n%s", n, w)
	}
}

// tarZst packs the mirror's documents into an archive.
func tarZst(t *testing.T, files map[string]string) string {
	t.Helper()
	var buf bytes.Buffer
	zw, err := zstd.NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(zw)
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range files {
			if !yield(k) {
				return
			}
		}
	}) {
		body := files[name]
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(body))
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func read(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestArchiveLayout(t *testing.T) {
	doc1 := read(t, "testdata/mirror/2024/cve-2024-0001.json")
	stale := strings.ReplaceAll(doc1, "Will not fix", "Affected")
	files := vulndbtest.Files{
		"archive_latest.txt": "csaf_vex_2024-05-01.tar.zst\n",
		// The archive holds a stale copy of 0001, which changes.csv
		// says changed after the archive; 0004 was deleted since.
		"csaf_vex_2024-05-01.tar.zst": tarZst(t, map[string]string{
			"./2024/cve-2024-0001.json": stale,
			"2024/cve-2024-0004.json":   read(t, "testdata/mirror/2024/cve-2024-0004.json"),
		}),
		"changes.csv":             `"2024/cve-2024-0001.json","2024-05-02T10:00:00+00:00"` + "\n" + `"2024/cve-2023-9999.json","2024-04-01T00:00:00+00:00"` + "\n",
		"deletions.csv":           read(t, "testdata/mirror/deletions.csv"),
		"2024/cve-2024-0001.json": doc1,
	}
	sink, log, err := load(t, Options{Archive: true}, files)
	if err != nil {
		t.Fatal(err)
	}
	checkFixture(t, sink)
	if len(sink.FindVulnerability("CVE-2024-0004")) != 0 {
		t.Error("deleted CVE-2024-0004 was recorded")
	}
	if n := len(log.Warnings()); n != 1 {
		t.Errorf("warnings: %v", log.Warnings())
	}

	arc := files["csaf_vex_2024-05-01.tar.zst"]
	files["csaf_vex_2024-05-01.tar.zst"] = arc[:len(arc)/2]
	if _, _, err := load(t, Options{Archive: true}, files); err == nil || !strings.Contains(err.Error(), "csaf_vex_2024-05-01.tar.zst") {
		t.Errorf("truncated archive: err = %v", err)
	}
	files["archive_latest.txt"] = "../../etc/passwd"
	if _, _, err := load(t, Options{Archive: true}, files); err == nil {
		t.Error("hostile archive name: no error")
	}
}

func TestChangesListing(t *testing.T) {
	files := vulndbtest.Files{
		"changes.csv":             `"2024/cve-2024-0001.json","2024-05-02T10:00:00+00:00"` + "\n",
		"2024/cve-2024-0001.json": read(t, "testdata/mirror/2024/cve-2024-0001.json"),
	}
	sink, _, err := load(t, Options{}, files)
	if err != nil {
		t.Fatal(err)
	}
	checkFixture(t, sink)
	if _, _, err := load(t, Options{}, vulndbtest.Files{}); err == nil {
		t.Error("no listing: no error")
	}
	if _, _, err := load(t, Options{}, vulndbtest.Files{"changes.csv": "\"unterminated\n"}); err == nil {
		t.Error("corrupt changes.csv: no error")
	}
}

// TestSharedSamples reads the claircore/trivy VEX documents. Verified by
// walking the files with a short script: cve-2024-10041-trimmed.json fixes
// pam in BaseOS-9.5.0.Z.MAIN (cpe:/o:redhat:enterprise_linux:9::baseos)
// at pam-0:1.5.1-21.el9_5 (purl without epoch) with impact Moderate and
// CWE-922; cve-2021-0084.json lists 8 known_not_affected kernel components
// over RHEL 5-9 (kernel, kernel-alt, kernel-rt); cve-2023-0044.json and
// cve-2024-22047.json concern only non-RHEL products (Quarkus, Satellite).
func TestSharedSamples(t *testing.T) {
	dir := testutil.Shared(t, "data/feeds/redhat/csaf-vex")
	names, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	files := vulndbtest.Files{}
	var index []string
	for _, n := range names {
		rel := "x/" + filepath.Base(n)
		files[rel] = read(t, n)
		index = append(index, rel)
	}
	files["index.txt"] = strings.Join(index, "\n")
	sink, log, err := load(t, Options{}, files)
	if err != nil {
		t.Fatal(err)
	}
	if w := log.Warnings(); len(w) != 0 {
		t.Errorf("warnings: %v", w)
	}
	pam := sink.FindAffected("redhat:9", "pam", "CVE-2024-10041")
	if len(pam) != 1 || pam[0].Status != vulndb.StatusFixed || !slices.Equal(pam[0].Fixed, []string{"1.5.1-21.el9_5"}) || pam[0].Severity != "MEDIUM" {
		t.Errorf("pam: %+v", pam)
	}
	if v := sink.FindVulnerability("CVE-2024-10041"); len(v) != 1 || !slices.Equal(v[0].CWEs, []string{"CWE-922"}) {
		t.Errorf("CVE-2024-10041: %+v", v)
	}
	var kernel []string
	for _, a := range sink.Affected {
		if a.VulnID == "CVE-2021-0084" {
			if a.Status != vulndb.StatusNotAffected {
				t.Errorf("kernel: %+v", a)
			}
			kernel = append(kernel, a.Ecosystem+" "+a.Package)
		}
	}
	want := []string{"redhat:5 kernel", "redhat:6 kernel", "redhat:7 kernel", "redhat:7 kernel-alt", "redhat:7 kernel-rt", "redhat:8 kernel", "redhat:8 kernel-rt", "redhat:9 kernel"}
	if !slices.Equal(kernel, want) {
		t.Errorf("CVE-2021-0084: %v", kernel)
	}
	for _, id := range []string{"CVE-2023-0044", "CVE-2024-22047"} {
		for _, a := range sink.Affected {
			if a.VulnID == id {
				t.Errorf("%s: unexpected RHEL record %+v", id, a)
			}
		}
		if len(sink.FindVulnerability(id)) != 1 {
			t.Errorf("%s: no vulnerability record", id)
		}
	}
}

func TestEcosystem(t *testing.T) {
	for cpe, want := range map[string]string{
		"cpe:/o:redhat:enterprise_linux:9::baseos":    "redhat:9",
		"cpe:/a:redhat:enterprise_linux:8::appstream": "redhat:8",
		"cpe:/o:redhat:enterprise_linux:10.0":         "redhat:10",
		"cpe:/a:redhat:rhel_eus:9.2::appstream":       "",
		"cpe:/a:redhat:quarkus:2":                     "",
		"":                                            "",
	} {
		if got, _ := ecosystem(cpe); got != want {
			t.Errorf("ecosystem(%q) = %q, want %q", cpe, got, want)
		}
	}
}
