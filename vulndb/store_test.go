package vulndb

import (
	"context"
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fakeSource puts fixed records, or fails.
type fakeSource struct {
	name     string
	affected []Affected
	vulns    []Vulnerability
	err      error
}

func (s fakeSource) Name() string        { return s.name }
func (s fakeSource) DefaultBase() string { return "file:///nonexistent" }
func (s fakeSource) Load(ctx context.Context, _ Fetcher, sink Sink) error {
	for _, v := range s.vulns {
		if err := sink.PutVulnerability(ctx, v); err != nil {
			return err
		}
	}
	for _, a := range s.affected {
		if err := sink.PutAffected(ctx, a); err != nil {
			return err
		}
	}
	return s.err
}

func rng(intro, fixed string) Range {
	return Range{Scheme: SchemeNpm, Events: []Event{{Introduced: intro}, {Fixed: fixed}}}
}

func build(t *testing.T, path string, srcs ...Source) (BuildReport, error) {
	t.Helper()
	return Build(context.Background(), BuildOptions{Path: path, Sources: srcs, Mirrors: map[string]string{}})
}

func TestBuildMergeAndShow(t *testing.T) {
	ghsa := fakeSource{name: "ghsa",
		vulns: []Vulnerability{
			{ID: "GHSA-1", Aliases: []string{"CVE-1"}, Title: "t", Severities: []Severity{{Source: "ghsa", Severity: "HIGH"}}, Sources: []string{"ghsa"}},
			{ID: "GHSA-1", Aliases: []string{"CVE-1", "GO-1"}, Description: "d", CWEs: []string{"CWE-79"}, Severities: []Severity{{Source: "ghsa", Severity: "CRITICAL"}}},
		},
		affected: []Affected{
			{VulnID: "GHSA-1", Source: "ghsa", Ecosystem: "npm", Package: "lib", Ranges: []Range{rng("0", "1.0.0")}, Fixed: []string{"1.0.0"}, Status: StatusFixed},
			{VulnID: "GHSA-1", Source: "ghsa", Ecosystem: "npm", Package: "lib", Ranges: []Range{rng("2.0.0", "2.1.0"), rng("0", "1.0.0")}, Fixed: []string{"2.1.0"}, Status: StatusFixed},
		}}
	nvd := fakeSource{name: "nvd", vulns: []Vulnerability{
		{ID: "CVE-1", Title: "nvd title", CVSS: []CVSS{{Source: "nvd", Version: "3.1", Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", Score: 9.8}}, Sources: []string{"nvd"}},
		{ID: "CVE-1", EPSS: &EPSS{Score: 0.5, Percentile: 0.9}, KEV: &KEV{DateAdded: "2024-01-01"}},
	}}
	path := filepath.Join(t.TempDir(), "vigil.db")
	rep, err := build(t, path, ghsa, nvd)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Metadata.Sources) != 2 || rep.Metadata.Sources[0].Affected != 2 || rep.Metadata.Sources[1].Vulnerabilities != 2 {
		t.Errorf("report sources = %+v", rep.Metadata.Sources)
	}
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if m := db.Metadata(); m.SchemaVersion != SchemaVersion || m.BuiltAt.IsZero() || !m.NextUpdate.After(m.BuiltAt) {
		t.Errorf("metadata = %+v", m)
	}
	aff, err := db.Affected("npm", "lib")
	if err != nil || len(aff) != 1 {
		t.Fatalf("Affected = %+v, %v", aff, err)
	}
	if len(aff[0].Ranges) != 2 || !slices.Equal(aff[0].Fixed, []string{"1.0.0", "2.1.0"}) {
		t.Errorf("merged affected = %+v", aff[0])
	}
	if got, _ := db.Affected("npm", "other"); got != nil {
		t.Errorf("unknown package: %+v", got)
	}
	if got, _ := db.Affected("nope", "lib"); got != nil {
		t.Errorf("unknown ecosystem: %+v", got)
	}
	v, ok, err := db.Vulnerability("GHSA-1")
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if v.Title != "t" || v.Description != "d" || !slices.Equal(v.Aliases, []string{"CVE-1", "GO-1"}) ||
		len(v.Severities) != 1 || v.Severities[0].Severity != "CRITICAL" || !slices.Equal(v.CWEs, []string{"CWE-79"}) {
		t.Errorf("merged vulnerability = %+v", v)
	}
	cve, _, _ := db.Vulnerability("CVE-1")
	if cve.EPSS == nil || cve.KEV == nil || len(cve.CVSS) != 1 || cve.Title != "nvd title" {
		t.Errorf("CVE-1 = %+v", cve)
	}
	shown, ok, err := db.Show("CVE-1")
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if len(shown.Vulnerabilities) != 2 || shown.Vulnerabilities[0].ID != "CVE-1" || shown.Vulnerabilities[1].ID != "GHSA-1" || len(shown.Affected) != 1 {
		t.Errorf("Show(CVE-1) = %+v", shown)
	}
	shown, _, _ = db.Show("GO-1") // only named as an alias
	if len(shown.Vulnerabilities) != 2 {
		t.Errorf("Show(GO-1) = %+v", shown)
	}
	if _, ok, _ := db.Show("CVE-404"); ok {
		t.Error("Show of an unknown id found something")
	}
}

func TestFailedBuildKeepsOldDB(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	good := fakeSource{name: "good", vulns: []Vulnerability{{ID: "CVE-OLD"}}}
	if _, err := build(t, dir, good); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, dir)
	bad := fakeSource{name: "bad", vulns: []Vulnerability{{ID: "CVE-NEW"}}, err: errors.New("feed unreadable")}
	if _, err := build(t, dir, good, bad); err == nil {
		t.Fatal("build with a failing source succeeded")
	}
	if after := snapshot(t, dir); !maps.Equal(before, after) {
		t.Errorf("failed build changed the database directory:\nbefore %v\nafter  %v", before, after)
	}
	bin := fakeSource{name: "nul", affected: []Affected{{VulnID: "X", Ecosystem: "npm", Package: "a\x00b"}}}
	if _, err := build(t, dir, bin); err == nil {
		t.Error("NUL in package name accepted")
	}
	if after := snapshot(t, dir); !maps.Equal(before, after) {
		t.Errorf("rejected build changed the database directory: %v", after)
	}
}

// snapshot maps each file under dir (but the lock files) to its content.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), ".lock") {
			return err
		}
		b, _ := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[rel] = string(b)
		return nil
	})
	return out
}

// TestBuildWithoutVulnerabilities: package records alone make a database.
func TestBuildWithoutVulnerabilities(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	src := fakeSource{name: "only", affected: []Affected{{VulnID: "CVE-1", Source: "only", Ecosystem: "npm", Package: "a", Status: StatusAffected}}}
	if _, err := build(t, dir, src); err != nil {
		t.Fatal(err)
	}
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if got, err := db.Affected("npm", "a"); err != nil || len(got) != 1 {
		t.Errorf("Affected = %+v, %v", got, err)
	}
	if _, ok, err := db.Vulnerability("CVE-1"); ok || err != nil {
		t.Errorf("Vulnerability of an id without a record: %v, %v", ok, err)
	}
}
