package osv

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-scanner/vigil/internal/testutil"
	"github.com/vigil-scanner/vigil/vulndb"
	"github.com/vigil-scanner/vigil/vulndb/fetch"
)

func TestMapEcosystem(t *testing.T) {
	tests := []struct {
		in, eco, scheme, variant string
		ok                       bool
	}{
		{"Go", "Go", vulndb.SchemeGo, "", true},
		{"PyPI", "PyPI", vulndb.SchemePEP440, "", true},
		{"crates.io", "crates.io", vulndb.SchemeCargo, "", true},
		{"Alpine:v3.19", "alpine:3.19", vulndb.SchemeAPK, "", true},
		{"Debian:12", "debian:12", vulndb.SchemeDeb, "", true},
		{"Ubuntu:22.04:LTS", "ubuntu:22.04", vulndb.SchemeDeb, "", true},
		{"Ubuntu:25.10", "ubuntu:25.10", vulndb.SchemeDeb, "", true},
		{"Ubuntu:Pro:22.04:LTS", "ubuntu:22.04", vulndb.SchemeDeb, ":Pro", true},
		{"Ubuntu:Pro:FIPS-updates:20.04:LTS", "ubuntu:20.04", vulndb.SchemeDeb, ":Pro:FIPS-updates", true},
		{"AlmaLinux:9", "alma:9", vulndb.SchemeRPM, "", true},
		{"Rocky Linux:8", "rocky:8", vulndb.SchemeRPM, "", true},
		{"Red Hat:enterprise_linux:9::appstream", "redhat:9", vulndb.SchemeRPM, "", true},
		{"Red Hat:rhel_eus:8.6::baseos", "redhat:8", vulndb.SchemeRPM, "", true},
		{"SUSE:SUSE Linux Enterprise Server 15 SP5", "sles:15.5", vulndb.SchemeRPM, "", true},
		{"SUSE:SUSE Linux Enterprise Module for Basesystem 15 SP3", "sles:15.3", vulndb.SchemeRPM, "", true},
		{"SUSE:SUSE Linux Enterprise Micro 5.5", "sle-micro:5.5", vulndb.SchemeRPM, "", true},
		{"openSUSE:Leap 15.5", "opensuse-leap:15.5", vulndb.SchemeRPM, "", true},
		{"openSUSE:Tumbleweed", "opensuse-tumbleweed", vulndb.SchemeRPM, "", true},
		{"Wolfi", "wolfi", vulndb.SchemeAPK, "", true},
		{"Chainguard", "chainguard", vulndb.SchemeAPK, "", true},
		{"Linux", "", "", "", false},
		{"Alpine", "", "", "", false},
		{"Red Hat", "", "", "", false},
	}
	for _, tt := range tests {
		got, ok := mapEcosystem(tt.in)
		if ok != tt.ok || got.ecosystem != tt.eco || got.scheme != tt.scheme || got.variant != tt.variant {
			t.Errorf("mapEcosystem(%q) = %+v, %v; want %q %q %q %v", tt.in, got, ok, tt.eco, tt.scheme, tt.variant, tt.ok)
		}
	}
}

func TestCanonicalName(t *testing.T) {
	for _, tt := range []struct{ eco, in, want string }{
		{"PyPI", "Zope.Interface__x", "zope-interface-x"},
		{"Maven", "org.apache:log4j:https://repo", "org.apache:log4j"},
		{"Packagist", "Symfony/HTTP-kernel", "symfony/http-kernel"},
		{"npm", "@Scope/Pkg", "@Scope/Pkg"},
	} {
		if got := canonicalName(tt.eco, tt.in); got != tt.want {
			t.Errorf("canonicalName(%q, %q) = %q, want %q", tt.eco, tt.in, got, tt.want)
		}
	}
}

// writeZip zips files (name → content) into dir/<eco>/all.zip.
func writeZip(t *testing.T, dir, eco string, files map[string][]byte) {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(files[n])
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, eco), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, eco, "all.zip"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// memSink collects records.
type memSink struct {
	affected []vulndb.Affected
	vulns    []vulndb.Vulnerability
}

func (m *memSink) PutAffected(_ context.Context, a vulndb.Affected) error {
	m.affected = append(m.affected, a)
	return nil
}
func (m *memSink) PutVulnerability(_ context.Context, v vulndb.Vulnerability) error {
	m.vulns = append(m.vulns, v)
	return nil
}

func TestFixtures(t *testing.T) {
	mirror := t.TempDir()
	files := map[string][]byte{}
	for _, n := range []string{"withdrawn.json", "malformed.json", "badrange.json", "mixed.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", n))
		if err != nil {
			t.Fatal(err)
		}
		files[n] = b
	}
	writeZip(t, mirror, "PyPI", files)
	var logBuf bytes.Buffer
	src := New("PyPI", slog.New(slog.NewTextHandler(&logBuf, nil)))
	f, _ := fetch.New(mirror, fetch.Options{})
	var sink memSink
	if err := src.Load(context.Background(), f, &sink); err != nil {
		t.Fatal(err)
	}
	for _, entry := range []string{"malformed.json", "badrange.json"} {
		if !strings.Contains(logBuf.String(), "entry="+entry) {
			t.Errorf("no warning naming %s in log:\n%s", entry, logBuf.String())
		}
	}
	if len(sink.vulns) != 2 {
		t.Fatalf("got %d vulnerabilities, want 2 (withdrawn + mixed)", len(sink.vulns))
	}
	for _, a := range sink.affected {
		if a.VulnID == "GHSA-test-with-drwn" {
			t.Errorf("withdrawn record produced an affected entry: %+v", a)
		}
	}
	if sink.vulns[1].Withdrawn.IsZero() == sink.vulns[0].Withdrawn.IsZero() {
		t.Error("exactly one record should be withdrawn")
	}
	want := []vulndb.Affected{{
		VulnID: "PYSEC-2099-1", Source: "osv:PyPI", Ecosystem: "PyPI", Package: "zope-interface-x",
		Ranges:   []vulndb.Range{{Scheme: "pep440", Events: []vulndb.Event{{Introduced: "1.0"}, {LastAffected: "1.5"}}}},
		Versions: []string{"1.0", "1.5"}, Status: vulndb.StatusAffected,
	}, {
		VulnID: "PYSEC-2099-1", Source: "osv:PyPI", Ecosystem: "PyPI", Package: "open-ended",
		Ranges: []vulndb.Range{{Scheme: "pep440", Events: []vulndb.Event{{Introduced: "2.0"}}}},
		Status: vulndb.StatusAffected,
	}}
	gotJSON, _ := json.Marshal(sink.affected)
	wantJSON, _ := json.Marshal(want)
	if !bytes.Equal(gotJSON, wantJSON) {
		t.Errorf("affected:\n got %s\nwant %s", gotJSON, wantJSON)
	}
	var mixed vulndb.Vulnerability
	for _, v := range sink.vulns {
		if v.ID == "PYSEC-2099-1" {
			mixed = v
		}
	}
	if !slices.Equal(mixed.Aliases, []string{"CVE-2099-0001"}) {
		t.Errorf("aliases = %v; related ids of language records must not become aliases", mixed.Aliases)
	}
	if len(mixed.CVSS) != 2 || mixed.CVSS[0].Score != 9.8 || mixed.CVSS[1].Version != "4.0" || mixed.CVSS[1].Score != 0 {
		t.Errorf("CVSS = %+v", mixed.CVSS)
	}
}

// sampleFiles reads the JSON OSV records under a shared sample directory.
func sampleFiles(t *testing.T, rel string) map[string][]byte {
	t.Helper()
	root := testutil.Shared(t, rel)
	files := map[string][]byte{}
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".json") || filepath.Base(p) == "all.json" {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files[filepath.Base(p)] = b
		return nil
	})
	if len(files) == 0 {
		t.Skipf("no JSON records under %s", root)
	}
	return files
}

// TestRoundTrip builds a database from each real sample feed and checks
// that every affected entry of every record is found by lookup with the
// same ranges, and that every record's id is shown.
func TestRoundTrip(t *testing.T) {
	samples := []struct{ dir, rel string }{
		{"Go", "data/feeds/go-vulndb/ID"},
		{"GHSA", "data/feeds/ghsa/advisories"},
		{"Ubuntu", "data/feeds/ubuntu/osv"},
		{"AlmaLinux", "data/feeds/almalinux-osv/advisories"},
		{"Rocky Linux", "data/feeds/rocky-osv"},
		{"Chainguard", "data/feeds/chainguard-osv"},
		{"Debian", "data/feeds/debian/osv"},
	}
	for _, s := range samples {
		t.Run(s.dir, func(t *testing.T) {
			files := sampleFiles(t, s.rel)
			mirror := t.TempDir()
			writeZip(t, mirror, s.dir, files)
			// Reference: what the source puts, collected in memory.
			f, _ := fetch.New("file://"+mirror, fetch.Options{})
			var ref memSink
			if err := New(s.dir, nil).Load(context.Background(), f, &ref); err != nil {
				t.Fatal(err)
			}
			if len(ref.vulns) != len(files) {
				t.Errorf("%d records parsed of %d files", len(ref.vulns), len(files))
			}
			dbPath := filepath.Join(t.TempDir(), "vigil.db")
			_, err := vulndb.Build(context.Background(), vulndb.BuildOptions{
				Path: dbPath, Sources: []vulndb.Source{New(s.dir, nil)},
				Mirrors: map[string]string{"osv:" + s.dir: "file://" + mirror},
			})
			if err != nil {
				t.Fatal(err)
			}
			db, err := vulndb.Open(dbPath)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			checkRoundTrip(t, db, &ref)
		})
	}
}

func checkRoundTrip(t *testing.T, db *vulndb.DB, ref *memSink) {
	t.Helper()
	if len(ref.affected) == 0 && len(ref.vulns) > 0 && ref.vulns[0].Withdrawn.IsZero() {
		t.Error("no affected entries parsed")
	}
	for _, want := range ref.affected {
		got, err := db.Affected(want.Ecosystem, want.Package)
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(got, func(a vulndb.Affected) bool { return a.VulnID == want.VulnID && a.Source == want.Source })
		if i < 0 {
			t.Errorf("%s: not found under %s/%s", want.VulnID, want.Ecosystem, want.Package)
			continue
		}
		for _, r := range want.Ranges {
			if !slices.ContainsFunc(got[i].Ranges, func(x vulndb.Range) bool {
				return x.Scheme == r.Scheme && slices.Equal(x.Events, r.Events)
			}) {
				t.Errorf("%s %s/%s: range %+v missing from %+v", want.VulnID, want.Ecosystem, want.Package, r, got[i].Ranges)
			}
		}
	}
	for _, v := range ref.vulns {
		got, ok, err := db.Vulnerability(v.ID)
		if err != nil || !ok {
			t.Errorf("Vulnerability(%s) = %v, %v", v.ID, ok, err)
			continue
		}
		if got.Title != v.Title || !slices.Equal(got.Aliases, v.Aliases) {
			t.Errorf("Vulnerability(%s) = %+v, want %+v", v.ID, got, v)
		}
		for _, alias := range v.Aliases {
			shown, ok, err := db.Show(alias)
			if err != nil || !ok {
				t.Errorf("Show(%s) = %v, %v", alias, ok, err)
				continue
			}
			if !slices.ContainsFunc(shown.Vulnerabilities, func(x vulndb.Vulnerability) bool { return x.ID == v.ID }) {
				t.Errorf("Show(%s) does not reach %s", alias, v.ID)
			}
		}
	}
}

func TestGoSymbols(t *testing.T) {
	type imp = struct {
		Path    string   `json:"path"`
		Symbols []string `json:"symbols"`
	}
	tests := []struct {
		name    string
		imports []imp
		want    []string
	}{
		{"none", nil, nil},
		{"listed", []imp{{"golang.org/x/text/language", []string{"Parse", "Tag.String"}}, {"golang.org/x/text/internal", []string{"parse"}}},
			[]string{"golang.org/x/text/language.Parse", "golang.org/x/text/language.Tag.String", "golang.org/x/text/internal.parse"}},
		{"whole package", []imp{{"golang.org/x/text/language", []string{"Parse"}}, {"golang.org/x/text/cases", nil}}, nil},
	}
	for _, tt := range tests {
		var gs goSpecific
		gs.Imports = tt.imports
		if got := goSymbols(gs); !slices.Equal(got, tt.want) {
			t.Errorf("%s: goSymbols = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestLastKnownAffected: GitHub's last_known_affected_version_range closes
// ranges it leaves open-ended (GHSA-32qq-m9fh-f74w, as in the sample:
// mybatis-plus "introduced 0" with "< 3.5.3.1"), and leaves ranges with a
// fix alone (mybatis-plus-copy, fixed 3.5.0).
func TestLastKnownAffected(t *testing.T) {
	raw := []byte(`{"id":"GHSA-32qq-m9fh-f74w","modified":"2023-04-05T00:00:00Z","affected":[
	 {"package":{"ecosystem":"Maven","name":"com.baomidou:mybatis-plus"},
	  "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"}]}],
	  "database_specific":{"last_known_affected_version_range":"< 3.5.3.1"}},
	 {"package":{"ecosystem":"Maven","name":"com.baomidou:mybatis-plus-copy"},
	  "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"3.5.0"}]}],
	  "database_specific":{"last_known_affected_version_range":"< 3.5.3.1"}},
	 {"package":{"ecosystem":"npm","name":"x"},
	  "ranges":[{"type":"SEMVER","events":[{"introduced":"1.0.0"}]}],
	  "database_specific":{"last_known_affected_version_range":"<= 1.4.2"}}]}`)
	var r record
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatal(err)
	}
	c, err := convert(&r, "osv:Maven")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]vulndb.Event{}
	for _, a := range c.affected {
		got[a.Package] = a.Ranges[0].Events
		if a.Package != "com.baomidou:mybatis-plus-copy" && a.Status != vulndb.StatusAffected {
			t.Errorf("%s: status %s, want affected (no fix is known)", a.Package, a.Status)
		}
	}
	want := map[string][]vulndb.Event{
		"com.baomidou:mybatis-plus":      {{Introduced: "0"}, {Limit: "3.5.3.1"}},
		"com.baomidou:mybatis-plus-copy": {{Introduced: "0"}, {Fixed: "3.5.0"}},
		"x":                              {{Introduced: "1.0.0"}, {LastAffected: "1.4.2"}},
	}
	for pkg, w := range want {
		if !slices.Equal(got[pkg], w) {
			t.Errorf("%s: events %+v, want %+v", pkg, got[pkg], w)
		}
	}
	for _, bad := range []string{"", "3.5", ">= 1.0", "< ", "< 1.0, >= 0.5"} {
		if _, ok := lastKnownAffected(bad); ok {
			t.Errorf("lastKnownAffected(%q) accepted", bad)
		}
	}
}
