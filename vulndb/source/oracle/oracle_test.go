package oracle

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vigil-scanner/vigil/internal/testutil"
	"github.com/vigil-scanner/vigil/vulndb"
	"github.com/vigil-scanner/vigil/vulndb/fetch"
	"github.com/vigil-scanner/vigil/vulndb/source/internal/oval"
	"github.com/vigil-scanner/vigil/vulndb/vulndbtest"
)

func fixedRange(evr string) vulndb.Range {
	return vulndb.Range{Scheme: vulndb.SchemeRPM, Events: []vulndb.Event{{Introduced: "0"}, {Fixed: evr}}}
}

func logger(buf *bytes.Buffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func parseFile(t *testing.T, path string) (*vulndbtest.KeyedSink, string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var logs bytes.Buffer
	sink := vulndbtest.NewKeyedSink()
	if err := New(Options{Logger: logger(&logs)}).parse(context.Background(), f, sink); err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	return sink, logs.String()
}

// TestRealExcerpt checks two ELSAs of Grype's excerpt of the real feed.
// The expected values were read from the file by hand: ELSA-2007-0057 is
// for "Oracle Linux 5 is installed" and lists eight bind packages, each
// "is earlier than 30:9.3.3-8.el5", severity MODERATE, issued 2007-06-26,
// two CVEs; ELSA-2018-4250 is for Oracle Linux 6 and lists six kernel-uek
// packages "earlier than 0:2.6.39-400.302.2.el6uek", severity IMPORTANT
// and four CVE references.
func TestRealExcerpt(t *testing.T) {
	path := testutil.Shared(t, "data/feeds/oracle-oval/elsa-oval-excerpt.xml")
	sink, logs := parseFile(t, path)
	if logs != "" {
		t.Errorf("unexpected warnings:\n%s", logs)
	}
	if len(sink.Vulns) != 2 || len(sink.Affected) != 14 {
		t.Errorf("got %d vulnerabilities and %d affected, want 2 and 14", len(sink.Vulns), len(sink.Affected))
	}
	bind := sink.Affected["oracle:5/bind-libbind-devel/ELSA-2007-0057"]
	want := vulndb.Affected{
		VulnID: "ELSA-2007-0057", Source: "oracle", Ecosystem: "oracle:5", Package: "bind-libbind-devel",
		Ranges: []vulndb.Range{fixedRange("30:9.3.3-8.el5")}, Fixed: []string{"30:9.3.3-8.el5"},
		Status: vulndb.StatusFixed, Severity: "MEDIUM",
	}
	if !reflect.DeepEqual(bind, want) {
		t.Errorf("bind-libbind-devel:\n got %+v\nwant %+v", bind, want)
	}
	for _, p := range []string{"bind-devel", "bind-sdb", "bind-libs", "bind-utils", "bind-chroot", "bind", "caching-nameserver"} {
		if _, ok := sink.Affected["oracle:5/"+p+"/ELSA-2007-0057"]; !ok {
			t.Errorf("ELSA-2007-0057: no record for %s", p)
		}
	}
	v := sink.Vulns["ELSA-2007-0057"]
	if !reflect.DeepEqual(v.Aliases, []string{"CVE-2007-0493", "CVE-2007-0494"}) ||
		!v.Published.Equal(time.Date(2007, 6, 26, 0, 0, 0, 0, time.UTC)) ||
		v.Title != "ELSA-2007-0057: Moderate: bind security update (MODERATE)" ||
		!strings.HasPrefix(v.Description, "[30:9.3.3-8]") {
		t.Errorf("ELSA-2007-0057 = %+v", v)
	}
	uek := sink.Affected["oracle:6/kernel-uek-firmware/ELSA-2018-4250"]
	if !reflect.DeepEqual(uek.Fixed, []string{"2.6.39-400.302.2.el6uek"}) || uek.Severity != "HIGH" {
		t.Errorf("kernel-uek-firmware = %+v", uek)
	}
	v = sink.Vulns["ELSA-2018-4250"]
	if !reflect.DeepEqual(v.Aliases, []string{"CVE-2018-7566", "CVE-2017-13695", "CVE-2018-16658", "CVE-2018-7492"}) ||
		!reflect.DeepEqual(v.Severities, []vulndb.Severity{{Source: "oracle", Severity: "HIGH"}}) {
		t.Errorf("ELSA-2018-4250 = %+v", v)
	}
}

func TestFixture(t *testing.T) {
	sink, logs := parseFile(t, filepath.Join("testdata", "elsa.xml"))

	bind := sink.Affected["oracle:8/bind/ELSA-2024-0001"]
	want := vulndb.Affected{
		VulnID: "ELSA-2024-0001", Source: "oracle", Ecosystem: "oracle:8", Package: "bind",
		Ranges: []vulndb.Range{fixedRange("32:9.11.36-11.0.1.el8_9")}, Fixed: []string{"32:9.11.36-11.0.1.el8_9"},
		Status: vulndb.StatusFixed, Severity: "HIGH",
		Arches: []string{"aarch64", "i386", "i686", "noarch", "x86_64"},
	}
	if !reflect.DeepEqual(bind, want) {
		t.Errorf("bind:\n got %+v\nwant %+v", bind, want)
	}
	tools := sink.Affected["oracle:8/kernel-uek-tools/ELSA-2024-0001"]
	if !reflect.DeepEqual(tools.Arches, []string{"aarch64", "noarch"}) || !reflect.DeepEqual(tools.Fixed, []string{"5.15.0-200.131.27.el8uek"}) {
		t.Errorf("kernel-uek-tools = %+v", tools)
	}
	for _, skipped := range []string{"glibc", "openssl", "bind-utils"} {
		if a, ok := sink.Affected["oracle:8/"+skipped+"/ELSA-2024-0001"]; ok {
			t.Errorf("%s should be skipped, got %+v", skipped, a)
		}
	}
	if got := sink.Vulns["ELSA-2024-0001"].Aliases; !reflect.DeepEqual(got, []string{"CVE-2024-1111", "CVE-2024-2222"}) {
		t.Errorf("aliases = %v", got)
	}

	// Release from the platform, id from the title, no arch restriction.
	curl := sink.Affected["oracle:9/libcurl/ELSA-2024-0004"]
	if curl.Arches != nil || curl.Severity != "LOW" || !reflect.DeepEqual(curl.Fixed, []string{"7.76.1-26.el9_3.3"}) {
		t.Errorf("libcurl = %+v", curl)
	}
	if len(sink.Vulns) != 2 || len(sink.Affected) != 4 {
		t.Errorf("got %d vulnerabilities, %d affected; want 2, 4", len(sink.Vulns), len(sink.Affected))
	}
	for _, w := range []string{
		`definition=oval:com.oracle.elsa:def:20240002`, // no id
		`definition=oval:com.oracle.elsa:def:20240003`, // no packages
		`bind-utils: invalid version \"not a version\"`,
	} {
		if !strings.Contains(logs, w) {
			t.Errorf("warnings lack %q:\n%s", w, logs)
		}
	}
}

func TestLoadMirror(t *testing.T) {
	f, err := fetch.New("file://"+filepath.Join(mustAbs(t, "testdata"), "mirror"), fetch.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sink := vulndbtest.NewKeyedSink()
	if err := New(Options{}).Load(context.Background(), f, sink); err != nil {
		t.Fatal(err)
	}
	a := sink.Affected["oracle:9/curl/ELSA-2024-0004"]
	if !reflect.DeepEqual(a.Ranges, []vulndb.Range{fixedRange("7.76.1-26.el9_3.3")}) {
		t.Errorf("curl = %+v", a)
	}
	if got := sink.Vulns["ELSA-2024-0004"].Aliases; !reflect.DeepEqual(got, []string{"CVE-2023-46218"}) {
		t.Errorf("aliases = %v", got)
	}
}

func TestTruncated(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "mirror", File))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, File), raw[:len(raw)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	f, _ := fetch.New(dir, fetch.Options{})
	err = New(Options{}).Load(context.Background(), f, vulndbtest.NewKeyedSink())
	if !errors.Is(err, oval.ErrTruncated) || !strings.Contains(err.Error(), File) {
		t.Errorf("truncated bzip2: err = %v, want ErrTruncated naming %s", err, File)
	}

	xmlDoc, err := os.ReadFile(filepath.Join("testdata", "elsa.xml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{len(xmlDoc) / 3, len(xmlDoc) - 30} {
		err := New(Options{}).parse(context.Background(), bytes.NewReader(xmlDoc[:n]), vulndbtest.NewKeyedSink())
		if !errors.Is(err, oval.ErrTruncated) {
			t.Errorf("XML cut at %d: err = %v, want ErrTruncated", n, err)
		}
	}
	if err := New(Options{}).parse(context.Background(), strings.NewReader("<rss/>"), vulndbtest.NewKeyedSink()); err == nil {
		t.Error("non-OVAL document accepted")
	}
	if err := New(Options{}).parse(context.Background(), strings.NewReader("<oval_definitions/>"), vulndbtest.NewKeyedSink()); err == nil {
		t.Error("document without definitions accepted")
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	abs, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}
