// Command profile runs vigil's inventory scan (scan.Image, as `vigil image
// --scanners none` does) on an image archive several times and writes CPU
// and heap profiles for `go tool pprof`.
//
//	profile -n 5 -cpuprofile cpu.out -memprofile mem.out IMAGE.tar
//
// With -layer-cache DIR the scans use that layer cache, as `vigil image`
// does with CACHE_DIR/layers: the first run fills it, the others are warm.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/vigil-scanner/vigil/image"
	"github.com/vigil-scanner/vigil/layerfs"
	"github.com/vigil-scanner/vigil/layerfs/diskcache"
	"github.com/vigil-scanner/vigil/scan"
)

func main() {
	n := flag.Int("n", 5, "scans to run")
	cpu := flag.String("cpuprofile", "", "write a CPU profile to this file")
	mem := flag.String("memprofile", "", "write an allocation profile to this file")
	peak := flag.String("peakprofile", "", "write the heap profile of the moment the heap was largest (sampled every 20 ms) to this file")
	cacheDir := flag.String("layer-cache", "", "layer cache directory (default: none)")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: profile [flags] IMAGE.tar")
		os.Exit(2)
	}
	if *peak != "" {
		stop := watchPeak(*peak)
		defer stop()
	}
	if err := run(context.Background(), flag.Arg(0), *n, *cpu, *mem, *cacheDir); err != nil {
		log.Fatal(err)
	}
}

// watchPeak samples the heap every 20 ms and keeps the in-use heap profile
// of the largest heap seen; the returned function writes it to file.
func watchPeak(file string) func() {
	done := make(chan struct{})
	stopped := make(chan struct{})
	var best bytes.Buffer
	var max uint64
	go func() {
		defer close(stopped)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > max {
				max = ms.HeapInuse
				best.Reset()
				pprof.Lookup("heap").WriteTo(&best, 0)
			}
		}
	}()
	return func() {
		close(done)
		<-stopped
		fmt.Printf("largest heap in use: %d MB\n", max>>20)
		if err := os.WriteFile(file, best.Bytes(), 0o644); err != nil {
			log.Print(err)
		}
	}
}

func run(ctx context.Context, input string, n int, cpu, mem, cacheDir string) error {
	var read layerfs.Options
	if cacheDir != "" {
		read.Cache = diskcache.New(cacheDir, 0)
	}
	if cpu != "" {
		f, err := os.Create(cpu)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	for i := range n {
		start := time.Now()
		pkgs, err := scanOnce(ctx, input, read)
		if err != nil {
			return err
		}
		fmt.Printf("run %d: %d packages in %v\n", i, pkgs, time.Since(start).Round(time.Millisecond))
	}
	if mem != "" {
		f, err := os.Create(mem)
		if err != nil {
			return err
		}
		defer f.Close()
		runtime.GC()
		if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
			return err
		}
	}
	return nil
}

// scanOnce opens the archive and inventories it, as the CLI does.
func scanOnce(ctx context.Context, input string, read layerfs.Options) (int, error) {
	img, err := image.Open(ctx, "", image.Options{Input: input})
	if err != nil {
		return 0, err
	}
	defer img.Close()
	inv, err := scan.Image(ctx, img, scan.ImageMeta{Name: img.Name}, scan.Options{Read: read})
	if err != nil {
		return 0, err
	}
	pkgs := 0
	for _, r := range inv.Results {
		pkgs += len(r.Packages)
	}
	return pkgs, nil
}
