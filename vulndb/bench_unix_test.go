//go:build unix

package vulndb

import (
	"context"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
)

// BenchmarkOpenLookup measures Open plus 1,000 lookups on a database of
// 20,000 packages: ns/op is the time of one open and 1,000 lookups, and
// cpu-ns/op the process's CPU time for it (steadier than wall time on a
// shared machine). bench/dbparts measures the same on a full-size
// database.
func BenchmarkOpenLookup(b *testing.B) {
	path := filepath.Join(b.TempDir(), "vigil.db")
	var affected []Affected
	for i := range 20000 {
		affected = append(affected, Affected{VulnID: fmt.Sprintf("CVE-2024-%d", i), Source: "bench", Ecosystem: "npm",
			Package: fmt.Sprintf("pkg-%d", i), Ranges: []Range{rng("0", "1.2.3")}, Fixed: []string{"1.2.3"}, Status: StatusFixed})
	}
	if _, err := Build(context.Background(), BuildOptions{Path: path, Sources: []Source{fakeSource{name: "bench", affected: affected}}}); err != nil {
		b.Fatal(err)
	}
	var ru0 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	for b.Loop() {
		db, err := Open(path)
		if err != nil {
			b.Fatal(err)
		}
		for i := range 1000 {
			if _, err := db.Affected("npm", fmt.Sprintf("pkg-%d", i*13)); err != nil {
				b.Fatal(err)
			}
		}
		db.Close()
	}
	var ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano()
	b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
}
