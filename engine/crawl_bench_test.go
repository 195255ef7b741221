package engine

import (
	"context"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-scanner/vigil/image/remote"
	"github.com/vigil-scanner/vigil/internal/testutil/regtest"
	"github.com/vigil-scanner/vigil/layerfs/diskcache"
	"github.com/vigil-scanner/vigil/store"
)

// BenchmarkCrawl is the first crawl of a local registry (Debian's
// docker-registry) holding n images that share their base layer, then a
// cycle over the unchanged registry. Reported: images per minute (wall
// and per CPU-minute), peak RSS, and the requests of the unchanged cycle.
//
//	go test -run '^$' -bench Crawl -benchtime 1x ./engine
func BenchmarkCrawl(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("images=%d", n), func(b *testing.B) {
			reg := regtest.Start(b, regtest.Options{Proxy: true})
			pkgs := []string{"musl 1.2.4-r2 musl", "libcrypto3 3.1.4-r0 openssl", "zlib 1.3-r0 zlib", "busybox 1.36.1-r15 busybox"}
			for i := range n {
				reg.Push(b, fmt.Sprintf("team%d/app%d:1", i%10, i), pkgs, fmt.Sprintf("srv/app/id=%d", i))
			}
			dir := b.TempDir()
			dbPath := filepath.Join(dir, "db", "vigil.db")
			regtest.WriteDB(b, dbPath, db1...)
			ctx := context.Background()
			for i := 0; i < b.N; i++ {
				st, err := store.Open(ctx, "sqlite://"+filepath.Join(b.TempDir(), "s.db"))
				if err != nil {
					b.Fatal(err)
				}
				e, err := New(Options{Store: st, DBPath: dbPath, Workers: 4,
					Registries: []Registry{{Host: reg.ProxyHost, Access: remote.Access{Insecure: true}}},
					Cache:      diskcache.New(b.TempDir(), 0)})
				if err != nil {
					b.Fatal(err)
				}
				reg.ResetCounts()
				start, cpu0 := time.Now(), cpuTime()
				sum, err := e.Once(ctx)
				if err != nil || sum.Failed > 0 {
					b.Fatalf("crawl: %+v, %v", sum, err)
				}
				wall, cpu := time.Since(start), cpuTime()-cpu0
				imgs, _ := st.Images(ctx, store.ImageFilter{Limit: 1000})
				if len(imgs) != min(n, 1000) {
					b.Fatalf("%d images stored, want %d", len(imgs), n)
				}
				b.ReportMetric(float64(n)/wall.Minutes(), "images/min")
				b.ReportMetric(float64(n)/cpu.Minutes(), "images/cpu-min")
				b.ReportMetric(float64(maxRSS())/(1<<20), "peak-RSS-MiB")
				blobs, _ := reg.Count(regtest.Blob)
				b.ReportMetric(float64(blobs), "blob-GETs")

				// The unchanged registry: only the listing.
				reg.ResetCounts()
				e2, _ := New(Options{Store: st, DBPath: dbPath, Workers: 4,
					Registries: []Registry{{Host: reg.ProxyHost, Access: remote.Access{Insecure: true}}}})
				start = time.Now()
				if _, err := e2.Once(ctx); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(time.Since(start).Seconds(), "unchanged-cycle-s")
				mget, mhead := reg.Count(regtest.Manifest)
				bget, _ := reg.Count(regtest.Blob)
				tags, _ := reg.Count(regtest.Tags)
				if mget+bget != 0 || mhead != int64(n) {
					b.Errorf("unchanged cycle: %d manifest GETs, %d blob GETs, %d HEADs (want 0, 0, %d)", mget, bget, mhead, n)
				}
				b.ReportMetric(float64(mhead+tags), "unchanged-requests")
				st.Close()
			}
		})
	}
}

// maxRSS is the process's peak resident set size in bytes.
func maxRSS() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Maxrss * 1024
}
