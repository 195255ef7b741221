// Command inflate decompresses gzip files with vigil's inflater
// (internal/inflate) or with klauspost/compress, discarding the output,
// and prints the time, CPU time and throughput of each run: the
// single-stream numbers of bench/RESULTS.md.
//
//	inflate -workers 2 -runs 5 layer.tar.gz
//	inflate -workers 2 -chunk 8388608 layer.tar.gz
//	inflate -impl klauspost layer.tar.gz
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"slices"
	"syscall"
	"time"

	kgzip "github.com/klauspost/compress/gzip"

	"github.com/vigil-scanner/vigil/internal/inflate"
)

func main() {
	workers := flag.Int("workers", 1, "goroutines inflating one stream (vigil)")
	chunk := flag.Int("chunk", 0, "compressed bytes per speculative chunk with -workers 2 or more (vigil; 0: the default, 1 MiB)")
	impl := flag.String("impl", "vigil", "vigil or klauspost")
	runs := flag.Int("runs", 5, "runs per file; the median is printed")
	flag.Parse()
	for _, name := range flag.Args() {
		var walls, cpus []float64
		var n int64
		for range *runs {
			w, c, size, err := once(name, *impl, *workers, *chunk)
			if err != nil {
				log.Fatalf("%s: %v", name, err)
			}
			walls, cpus, n = append(walls, w), append(cpus, c), size
		}
		w, c := median(walls), median(cpus)
		fmt.Printf("%s\t%s\tworkers=%d\t%d MB\twall %.3f s\tcpu %.3f s\t%.0f MB/s\n", name, *impl, *workers, n>>20, w, c, float64(n)/w/1e6)
	}
}

func once(name, impl string, workers, chunk int) (wall, cpu float64, n int64, err error) {
	f, err := os.Open(name)
	if err != nil {
		return 0, 0, 0, err
	}
	defer f.Close()
	u0 := cpuTime()
	t0 := time.Now()
	br := bufio.NewReaderSize(f, 256<<10)
	var r io.ReadCloser
	if impl == "klauspost" {
		r, err = kgzip.NewReader(br)
	} else {
		r, err = inflate.NewReader(br, inflate.Options{Workers: workers, ChunkSize: chunk})
	}
	if err != nil {
		return 0, 0, 0, err
	}
	n, err = io.Copy(io.Discard, r)
	r.Close()
	return time.Since(t0).Seconds(), cpuTime() - u0, n, err
}

func cpuTime() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

func median(v []float64) float64 {
	slices.Sort(v)
	return v[len(v)/2]
}
