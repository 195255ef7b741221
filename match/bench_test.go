package match

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/vigil-scanner/vigil/inventory"
	"github.com/vigil-scanner/vigil/vulndb"
)

// BenchmarkRematch measures what a registry watch does after a database
// update: match stored inventories (here one Debian-like inventory of 400
// packages, each with a few advisories) against the on-disk database with
// one Matcher. Report: inventories per second.
func BenchmarkRematch(b *testing.B) {
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "vigil.db")
	w, err := vulndb.NewWriter(path)
	if err != nil {
		b.Fatal(err)
	}
	const pkgs = 400
	inv := &inventory.Inventory{
		Artifact: inventory.Artifact{OS: &inventory.OS{Family: "debian", Name: "12"}},
		Results:  []inventory.Result{{Class: inventory.ClassOSPkgs}},
	}
	for i := range pkgs {
		src := fmt.Sprintf("src%d", i)
		for j := range 4 {
			id := fmt.Sprintf("CVE-2024-%d", i*10+j)
			fixed := fmt.Sprintf("1.%d-1", j*2)
			if err := w.PutAffected(ctx, vulndb.Affected{VulnID: id, Source: "debian", Ecosystem: "debian:12", Package: src,
				Status: vulndb.StatusFixed, Severity: "HIGH", Fixed: []string{fixed},
				Ranges: []vulndb.Range{{Scheme: vulndb.SchemeDeb, Events: []vulndb.Event{{Introduced: "0"}, {Fixed: fixed}}}}}); err != nil {
				b.Fatal(err)
			}
			if err := w.PutVulnerability(ctx, vulndb.Vulnerability{ID: id, Title: "t", Description: "d", Sources: []string{"debian"}}); err != nil {
				b.Fatal(err)
			}
		}
		inv.Results[0].Packages = append(inv.Results[0].Packages, inventory.Package{
			Name: fmt.Sprintf("bin%d", i), Version: "1.3-1", SourceName: src, SourceVersion: "1.3-1",
		})
	}
	if err := w.Commit(ctx, vulndb.Metadata{}); err != nil {
		b.Fatal(err)
	}
	db, err := vulndb.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	m := New(db, Options{})
	b.ResetTimer()
	findings := 0
	for b.Loop() {
		res, err := m.Match(ctx, inv)
		if err != nil {
			b.Fatal(err)
		}
		findings = len(res.Findings[0])
	}
	if findings != pkgs*2 { // fixes 1.4-1 and 1.6-1 are above 1.3-1
		b.Fatalf("%d findings, want %d", findings, pkgs*2)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "inventories/s")
}

// BenchmarkRiskOf measures the risk of one finding with every factor, as
// the matcher computes it for each finding.
func BenchmarkRiskOf(b *testing.B) {
	f := &Finding{
		Severity: SeverityHigh, SeveritySource: "nvd", CVSS: map[string]CVSS{"nvd": {V3Score: 7.5}},
		KEV: &vulndb.KEV{DateAdded: "2024-01-10", KnownRansomwareCampaignUse: "Known"}, EPSS: &vulndb.EPSS{Score: 0.104, Percentile: 0.945},
		FixedVersions: []string{"1.2.3"},
	}
	for b.Loop() {
		if RiskOf(f).Score == 0 {
			b.Fatal("no risk")
		}
	}
}
