package engine

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-scanner/vigil/internal/testutil/pgtest"
	"github.com/vigil-scanner/vigil/inventory"
	"github.com/vigil-scanner/vigil/store"
	"github.com/vigil-scanner/vigil/vulndb"
)

// The benchmarks below measure the server's store-wide work on synthetic
// but realistically shaped data: 10,000 images, 40% Alpine (15 packages),
// 40% Debian (90 packages), 20% language-heavy (Debian base, 400 npm and
// 40 PyPI packages) — 1.5 million package rows — and a database of about
// 14,000 advisories over the same package universe. Run with
//
//	go test -run '^$' -bench 'Rematch|AffectedBy' -benchtime 1x ./engine
//
// VIGIL_BENCH_IMAGES changes the number of images; VIGIL_BENCH_PROFILE
// names a file for a CPU profile of the re-match alone.

const (
	universeAlpine = 80
	universeDebian = 600
	universeNpm    = 3000
	universePyPI   = 400
)

func benchImages(b *testing.B) int {
	if n, err := strconv.Atoi(os.Getenv("VIGIL_BENCH_IMAGES")); err == nil && n > 0 {
		return n
	}
	return 10000
}

func version(r *rand.Rand) string { return fmt.Sprintf("1.%d.%d", r.IntN(4), r.IntN(3)) }

// benchInventory returns image i's inventory.
func benchInventory(i int) *inventory.Inventory {
	r := rand.New(rand.NewPCG(uint64(i), 7))
	pick := func(n, universe int) []int {
		return r.Perm(universe)[:n]
	}
	inv := &inventory.Inventory{Artifact: inventory.Artifact{Name: fmt.Sprintf("img%d", i), Type: inventory.TypeContainerImage}}
	switch kind := i % 5; {
	case kind < 2: // Alpine
		inv.Artifact.OS = &inventory.OS{Family: "alpine", Name: "3.19.1"}
		res := inventory.Result{Target: "img (alpine 3.19.1)", Class: inventory.ClassOSPkgs, Type: "alpine"}
		for _, p := range pick(15, universeAlpine) {
			v := version(r) + "-r0"
			res.Packages = append(res.Packages, inventory.Package{Name: fmt.Sprintf("apk%d", p), Version: v, SourceName: fmt.Sprintf("apk%d", p)})
		}
		inv.Results = append(inv.Results, res)
	default: // Debian, and language-heavy on Debian
		inv.Artifact.OS = &inventory.OS{Family: "debian", Name: "12"}
		res := inventory.Result{Target: "img (debian 12)", Class: inventory.ClassOSPkgs, Type: "debian"}
		for _, p := range pick(90, universeDebian) {
			v := version(r) + "-1"
			res.Packages = append(res.Packages, inventory.Package{Name: fmt.Sprintf("deb%d", p), Version: v, SourceName: fmt.Sprintf("src%d", p), SourceVersion: v})
		}
		inv.Results = append(inv.Results, res)
		if kind == 4 {
			npm := inventory.Result{Target: "app/package-lock.json", Class: inventory.ClassLangPkgs, Type: "npm"}
			for _, p := range pick(400, universeNpm) {
				v := version(r)
				npm.Packages = append(npm.Packages, inventory.Package{Name: fmt.Sprintf("npm%d", p), Version: v, Purl: fmt.Sprintf("pkg:npm/npm%d@%s", p, v)})
			}
			py := inventory.Result{Target: "app/requirements.txt", Class: inventory.ClassLangPkgs, Type: "pip"}
			for _, p := range pick(40, universePyPI) {
				v := version(r)
				py.Packages = append(py.Packages, inventory.Package{Name: fmt.Sprintf("py%d", p), Version: v, Purl: fmt.Sprintf("pkg:pypi/py%d@%s", p, v)})
			}
			inv.Results = append(inv.Results, npm, py)
		}
	}
	return inv
}

// benchDB writes the advisory database in the directory path (replacing
// the one there): three advisories per package of
// the universe, and then an update: one more for every every-th package
// (every 0: none). every 10 adds about 400 advisories — a large day of
// upstream feeds; every 1 adds 4,080, a worst case.
func benchDB(b *testing.B, path string, every int) {
	w, err := vulndb.NewWriter(path)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	r := rand.New(rand.NewPCG(1, 2))
	id := 0
	put := func(eco, pkg, scheme, fixed string) {
		id++
		vid := fmt.Sprintf("CVE-2026-%05d", id)
		if err := w.PutAffected(ctx, vulndb.Affected{VulnID: vid, Source: "bench", Ecosystem: eco, Package: pkg, Status: vulndb.StatusFixed,
			Severity: []string{"LOW", "MEDIUM", "HIGH", "CRITICAL"}[id%4], Fixed: []string{fixed},
			Ranges: []vulndb.Range{{Scheme: scheme, Events: []vulndb.Event{{Introduced: "0"}, {Fixed: fixed}}}}}); err != nil {
			b.Fatal(err)
		}
		if err := w.PutVulnerability(ctx, vulndb.Vulnerability{ID: vid, Title: "advisory " + vid, Aliases: []string{"GHSA-" + strconv.Itoa(id)}}); err != nil {
			b.Fatal(err)
		}
	}
	rounds := 3
	if every > 0 {
		rounds = 4
	}
	for n := 0; n < rounds; n++ {
		// In the update round only every every-th package gets one; the
		// random stream advances alike, so the first rounds are the same
		// in both databases.
		take := func(p int) bool { return n < 3 || p%every == 0 }
		for p := range universeAlpine {
			if v := version(r) + "-r0"; take(p) {
				put("alpine:3.19", fmt.Sprintf("apk%d", p), vulndb.SchemeAPK, v)
			}
		}
		for p := range universeDebian {
			if v := version(r) + "-1"; take(p) {
				put("debian:12", fmt.Sprintf("src%d", p), vulndb.SchemeDeb, v)
			}
		}
		for p := range universeNpm {
			if v := version(r); take(p) {
				put("npm", fmt.Sprintf("npm%d", p), vulndb.SchemeNpm, v)
			}
		}
		for p := range universePyPI {
			if v := version(r); take(p) {
				put("PyPI", fmt.Sprintf("py%d", p), vulndb.SchemePEP440, v)
			}
		}
	}
	if err := w.Commit(ctx, vulndb.Metadata{BuiltAt: time.Now().UTC()}); err != nil {
		b.Fatal(err)
	}
}

// seed fills st with n images, tagged, matched against the database at
// dbPath.
func seed(b *testing.B, st *store.Store, dbPath string, n int) {
	ctx := context.Background()
	now := time.Now()
	start := time.Now()
	for i := range n {
		d := fmt.Sprintf("sha256:%064x", i)
		img := store.Image{Digest: d, Registry: "bench:5000", Repository: fmt.Sprintf("bench:5000/app%d", i/10), InventoryKey: inventoryKey()}
		if err := st.SaveInventory(ctx, now, img, benchInventory(i)); err != nil {
			b.Fatal(err)
		}
		if _, _, err := st.SetTag(ctx, now, store.Tag{Registry: "bench:5000", Repository: img.Repository, Tag: strconv.Itoa(i % 10), Digest: d}); err != nil {
			b.Fatal(err)
		}
	}
	progress("seeded %d inventories in %s (cpu %s)", n, time.Since(start).Round(time.Second), cpuTime().Round(time.Second))
	start = time.Now()
	e := benchEngine(b, st, dbPath)
	if err := e.checkDB(ctx); err != nil {
		b.Fatal(err)
	}
	drain(b, []*Engine{e})
	e.db.close()
	progress("first match of %d inventories in %s (process cpu %s)", n, time.Since(start).Round(time.Second), cpuTime().Round(time.Second))
}

func benchEngine(b *testing.B, st *store.Store, dbPath string) *Engine {
	// Errors only: a failed job is worth seeing in a benchmark's output.
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	e, err := New(Options{Store: st, DBPath: dbPath, Workers: 2, Logger: log})
	if err != nil {
		b.Fatal(err)
	}
	return e
}

// drain runs the engines' workers until no job is left.
func drain(b *testing.B, engines []*Engine) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for _, e := range engines {
		for range e.opts.Workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					n, _, err := e.runBatch(ctx)
					if err != nil {
						b.Error(err)
						return
					}
					if n == 0 {
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	// A job that failed (on PostgreSQL, two servers' transactions can
	// conflict) is retried after a backoff, so it is not claimable the
	// moment the workers find nothing: run again until none is left.
	for rounds := 0; ; rounds++ {
		pending, err := engines[0].st.Pending(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		if !pending {
			if rounds > 0 {
				progress("%d more rounds for jobs retried after a failure", rounds)
			}
			return
		}
		if rounds == 600 {
			b.Fatal("jobs left after draining for a minute")
		}
		time.Sleep(100 * time.Millisecond)
		for _, e := range engines {
			if _, _, err := e.runBatch(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// benchRematch times the re-match of every stored inventory after a
// database update (see benchDB for every), by servers engines on one
// store.
func benchRematch(b *testing.B, st *store.Store, servers, every int) {
	// The database directory the engines watch: written with the first
	// database, then replaced (as vigil db build does) by the update and
	// back, one per iteration.
	live := filepath.Join(b.TempDir(), "db")
	benchDB(b, live, 0)
	n := benchImages(b)
	seed(b, st, live, n)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		benchDB(b, live, (1-i%2)*every)
		var engines []*Engine
		for range servers {
			engines = append(engines, benchEngine(b, st, live))
		}
		b.StartTimer()
		stop := profileRematch(b)
		start, cpu0 := time.Now(), cpuTime()
		if err := engines[0].checkDB(context.Background()); err != nil {
			b.Fatal(err)
		}
		for _, e := range engines[1:] {
			if err := e.checkDB(context.Background()); err != nil {
				b.Fatal(err)
			}
		}
		drain(b, engines)
		stop()
		b.ReportMetric(time.Since(start).Seconds(), "s/rematch-all")
		b.ReportMetric(float64(n)/time.Since(start).Seconds(), "images/s")
		// The machine is shared: CPU time is the steadier measure.
		b.ReportMetric((cpuTime() - cpu0).Seconds(), "cpu-s/rematch-all")
		progress("re-match of %d inventories by %d server(s): %s wall, %s cpu", n, servers, time.Since(start).Round(time.Millisecond), (cpuTime() - cpu0).Round(time.Millisecond))
		for _, e := range engines {
			e.db.close()
		}
	}
}

func BenchmarkRematch(b *testing.B) {
	for _, u := range []struct {
		name  string
		every int
	}{{"sqlite", 10}, {"sqlite-worstcase", 1}} {
		b.Run(u.name, func(b *testing.B) {
			st, err := store.Open(context.Background(), "sqlite://"+filepath.Join(b.TempDir(), "s.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			benchRematch(b, st, 1, u.every)
		})
	}
	for _, servers := range []int{1, 2} {
		b.Run(fmt.Sprintf("postgres-%dservers", servers), func(b *testing.B) {
			st, err := store.Open(context.Background(), pgtest.Start(b))
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			benchRematch(b, st, servers, 10)
		})
	}
}

// BenchmarkAffectedBy times "which images are affected by CVE-X" over the
// stored images, for the advisory affecting the most images.
func BenchmarkAffectedBy(b *testing.B) {
	for _, backend := range []string{"sqlite", "postgres"} {
		b.Run(backend, func(b *testing.B) {
			dsn := "sqlite://" + filepath.Join(b.TempDir(), "s.db")
			if backend == "postgres" {
				dsn = pgtest.Start(b)
			}
			st, err := store.Open(context.Background(), dsn)
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			dbPath := filepath.Join(b.TempDir(), "vigil.db")
			benchDB(b, dbPath, 0)
			seed(b, st, dbPath, benchImages(b))
			ctx := context.Background()
			// The most widespread vulnerability.
			var top string
			var most int
			fs, _ := st.Findings(ctx, store.FindingFilter{Limit: 1000})
			for _, f := range fs {
				aff, _ := st.AffectedBy(ctx, f.VulnID)
				if len(aff) > most {
					top, most = f.VulnID, len(aff)
				}
			}
			b.Logf("%s affects %d images", top, most)
			cpu0 := cpuTime()
			b.ResetTimer()
			for b.Loop() {
				aff, err := st.AffectedBy(ctx, top)
				if err != nil || len(aff) != most {
					b.Fatalf("AffectedBy = %d, %v", len(aff), err)
				}
			}
			b.ReportMetric(float64(most), "images")
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
		})
	}
}

// profileRematch writes a CPU profile of the re-match alone (not of the
// seeding before it) to the file VIGIL_BENCH_PROFILE names, if any; it
// returns the function that stops it.
func profileRematch(b *testing.B) (stop func()) {
	path := os.Getenv("VIGIL_BENCH_PROFILE")
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		b.Fatal(err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// progress prints a benchmark's stages as they end (the benchmark's own
// output comes only at its end).
func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05 ")+format+"\n", args...)
}
