package dashboard

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-scanner/vigil/inventory"
	"github.com/vigil-scanner/vigil/store"
)

// benchImages is the size of the benchmark's store.
const benchImages = 10000

// benchStore returns a SQLite store holding benchImages images in 200
// repositories of two registries, a realistic mix: a third Alpine-like
// (few findings), a third Debian-like (many, mostly low and unfixed), a
// third language-heavy; about 40 open findings per image, 400,000 in all.
// Filling it takes minutes, so it is kept in the temporary directory and
// reused by later runs of the same schema.
func benchStore(b *testing.B) *store.Store {
	b.Helper()
	ctx := context.Background()
	path := filepath.Join(os.TempDir(), fmt.Sprintf("vigil-dashboard-bench-%d-%d.db", store.SchemaVersion, benchImages))
	if _, err := os.Stat(path); err == nil {
		st, err := store.Open(ctx, "sqlite://"+path)
		if err != nil {
			b.Fatal(err)
		}
		return st
	}
	tmp := path + ".filling"
	for _, f := range []string{tmp, tmp + "-wal", tmp + "-shm"} { // an interrupted fill
		os.Remove(f)
	}
	st, err := store.Open(ctx, "sqlite://"+tmp)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	rng := rand.New(rand.NewPCG(1, 2))
	sevs := []string{"CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"}
	now := time.Now().Add(-30 * 24 * time.Hour)
	for i := range benchImages {
		reg := "registry-a.example"
		if i%3 == 0 {
			reg = "registry-b.example:5000"
		}
		repo := fmt.Sprintf("%s/team%02d/app%03d", reg, i%20, i%200)
		digest := fmt.Sprintf("sha256:%064x", i+1)
		at := now.Add(time.Duration(i) * 4 * time.Minute) // spread over a month
		inv := &inventory.Inventory{Artifact: inventory.Artifact{Type: inventory.TypeContainerImage, OS: &inventory.OS{Family: "debian", Name: "12"},
			Layers: []inventory.Layer{{DiffID: "sha256:base", CreatedBy: "ADD rootfs.tar.gz /"}, {DiffID: fmt.Sprintf("sha256:app%d", i), CreatedBy: "RUN apt-get install -y app"}}}}
		res := inventory.Result{Target: "debian 12", Class: inventory.ClassOSPkgs, Type: "dpkg"}
		for p := range 20 {
			res.Packages = append(res.Packages, inventory.Package{Name: fmt.Sprintf("pkg%d", p), Version: "1.0-1", Layer: inventory.LayerRef{DiffID: "sha256:base"}})
		}
		inv.Results = []inventory.Result{res}
		if err := st.SaveInventory(ctx, at, store.Image{Digest: digest, Registry: reg, Repository: repo, InventoryKey: "k"}, inv); err != nil {
			b.Fatal(err)
		}
		if _, _, err := st.SetTag(ctx, at, store.Tag{Registry: reg, Repository: repo, Tag: fmt.Sprintf("v%d", i/200), Platform: "linux/amd64", Digest: digest}); err != nil {
			b.Fatal(err)
		}
		var n int
		switch i % 3 {
		case 0:
			n = rng.IntN(8)
		case 1:
			n = 40 + rng.IntN(120)
		default:
			n = 10 + rng.IntN(30)
		}
		var fs []store.Finding
		seen := map[int]bool{}
		if i%10 == 0 {
			fs = append(fs, store.Finding{VulnID: "CVE-2024-3094", PkgName: "xz-utils", PkgVersion: "5.6.0-1", Target: "debian 12", Severity: "CRITICAL", FixedVersion: "5.6.1-1", KEV: true})
		}
		for range n {
			v := rng.IntN(3000)
			if seen[v] {
				continue
			}
			seen[v] = true
			sev := sevs[min(rng.IntN(8), 4)]
			fixed := ""
			if rng.IntN(3) > 0 {
				fixed = "9.9-1"
			}
			fs = append(fs, store.Finding{VulnID: fmt.Sprintf("CVE-2023-%05d", v), PkgName: fmt.Sprintf("pkg%d", v%20), PkgVersion: "1.0-1",
				Target: "debian 12", Severity: sev, FixedVersion: fixed, KEV: v%97 == 0, Title: "a vulnerability"})
		}
		if _, err := st.ApplyFindings(ctx, at, digest, "sha256:db", fs, "withdrawn", nil); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("filled %d images in %s", benchImages, time.Since(start).Round(time.Second))
	st.Close()
	if err := os.Rename(tmp, path); err != nil {
		b.Fatal(err)
	}
	os.Remove(tmp + "-wal")
	os.Remove(tmp + "-shm")
	st, err = store.Open(ctx, "sqlite://"+path)
	if err != nil {
		b.Fatal(err)
	}
	return st
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var r syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &r)
	return time.Duration(r.Utime.Nano() + r.Stime.Nano())
}

// BenchmarkPages renders each page over a store of 10,000 images:
//
//	go test -run '^$' -bench Pages -benchtime 20x ./dashboard/
func BenchmarkPages(b *testing.B) {
	st := benchStore(b)
	defer st.Close()
	ctx := context.Background()
	start := time.Now()
	n, err := st.RefreshCounts(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("counted %d images in %s", n, time.Since(start).Round(time.Millisecond))
	d, err := New(Options{Store: st})
	if err != nil {
		b.Fatal(err)
	}
	h := d.Handler()
	for _, p := range []string{
		"/", "/registries/registry-a.example", "/repositories/registry-a.example/team01/app001",
		"/images", "/images?page=150", "/images/sha256:" + fmt.Sprintf("%064x", 2), "/vulnerabilities/CVE-2024-3094", "/alerts",
	} {
		b.Run(strings.ReplaceAll(strings.TrimPrefix(p, "/"), "/", "_"), func(b *testing.B) {
			// CPU time per page besides wall time: the machine is shared,
			// and waiting for it is not the page's cost.
			cpu0 := cpuTime()
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, p, nil))
				if rec.Code != 200 {
					b.Fatalf("GET %s = %d %.300s", p, rec.Code, rec.Body.String())
				}
			}
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
		})
	}
}
