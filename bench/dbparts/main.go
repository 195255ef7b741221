// Command dbparts measures what the parts-based database costs to
// download: a database is built from the real feed samples in
// ../shared/data/feeds (when present) plus generated advisories to full
// size (gen.go), published to a real registry (Debian's docker-registry),
// and pulled by clients:
//
//   - a full download, the reference ("the full database");
//   - an Alpine image with a Node application on a fresh cache: the
//     alpine:3.19 and npm parts, EPSS and KEV;
//   - the next day's update, where a share of the advisories (-change,
//     default 1 %) changed, chosen uniformly, with and without every EPSS
//     score changing too, for the full client and the Alpine+npm one;
//   - opening the full database and 1,000 package lookups.
//
// It prints a Markdown report on standard output.
//
//	go run ./bench/dbparts -scale 1 > /tmp/dbparts.md
package main

import (
	"archive/zip"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"compress/gzip"

	"github.com/klauspost/compress/zstd"
	"go.yaml.in/yaml/v3"

	vimage "github.com/vigil-scanner/vigil/image/remote"
	"github.com/vigil-scanner/vigil/vulndb"
	"github.com/vigil-scanner/vigil/vulndb/oci"
	"github.com/vigil-scanner/vigil/vulndb/source/alpine"
	"github.com/vigil-scanner/vigil/vulndb/source/debian"
	"github.com/vigil-scanner/vigil/vulndb/source/epss"
	"github.com/vigil-scanner/vigil/vulndb/source/kev"
	"github.com/vigil-scanner/vigil/vulndb/source/nvd"
	"github.com/vigil-scanner/vigil/vulndb/source/osv"
)

func main() {
	var (
		work   = flag.String("work", "bench/.work/dbparts", "scratch directory (emptied first)")
		shared = flag.String("shared", "../shared/data/feeds", "the real feed samples")
		scale  = flag.Float64("scale", 1, "size of the generated part, 1 = full size")
		seed   = flag.Uint64("seed", 1, "generator seed")
		change = flag.Float64("change", 0.01, "share of advisories the next day changes")
		runs   = flag.Int("runs", 21, "timed runs of open + 1,000 lookups")
		prof   = flag.String("cpuprofile", "", "write a CPU profile of the first build here")
		only   = flag.String("lookups", "", "only time open + 1,000 lookups on this database directory")
	)
	flag.Parse()
	if *only != "" {
		l := openLookups(*only, *seed, *runs)
		fmt.Printf("open + 1,000 lookups (%d hits), median of %d: %s wall, %s CPU (min %s, max %s wall); with vulnerabilities: %s wall, %s CPU\n",
			hitShare, *runs, l.affected, l.cpu, l.min, l.max, l.withVulns, l.cpuVulns)
		return
	}
	ctx := context.Background()
	os.RemoveAll(*work)
	must(os.MkdirAll(*work, 0o755))
	real := realSources(*shared, filepath.Join(*work, "mirrors"))

	build := func(name string, s *synthetic) (string, vulndb.BuildReport) {
		dir := filepath.Join(*work, name, "db")
		srcs := append(slices.Clone(real.sources), s)
		start := time.Now()
		rep, err := vulndb.Build(ctx, vulndb.BuildOptions{Path: dir, Sources: srcs, Mirrors: real.mirrors, Parallel: 2})
		must(err)
		log.Printf("built %s in %s: %d parts, %s", name, time.Since(start).Round(time.Second), rep.Parts, mib(rep.Size))
		return dir, rep
	}
	if *prof != "" {
		f, err := os.Create(*prof)
		must(err)
		must(pprof.StartCPUProfile(f))
	}
	v1, rep1 := build("v1", &synthetic{seed: *seed, version: 1, scale: *scale})
	if *prof != "" {
		pprof.StopCPUProfile()
	}
	v2, _ := build("v2", &synthetic{seed: *seed, version: 2, scale: *scale, changeRate: *change})
	v2e, _ := build("v2-epss", &synthetic{seed: *seed, version: 2, scale: *scale, changeRate: *change, epss2: true})

	host := startRegistry(*work)
	reg := oci.Registry{Access: vimage.Access{Insecure: true}}
	push := func(dir, tag string) oci.PushResult {
		res, err := oci.Push(ctx, dir, host+"/vigil/db:"+tag, oci.PushOptions{Registry: reg})
		must(err)
		return res
	}
	update := func(dir, tag string, need oci.Selection) oci.UpdateResult {
		res, err := oci.Update(ctx, oci.UpdateOptions{Dir: dir, Repositories: []string{host + "/vigil/db:" + tag}, Need: need, Check: true, Registry: reg})
		must(err)
		return res
	}
	push(v1, "a")
	push(v1, "b")
	clients := filepath.Join(*work, "clients")
	full := update(filepath.Join(clients, "full"), "a", oci.Selection{All: true})
	alpineNpm := oci.Selection{Ecosystems: []string{"alpine:3.19", "npm"}}
	fresh := update(filepath.Join(clients, "alpine-npm"), "a", alpineNpm)
	for _, c := range []string{"full", "alpine-npm"} {
		must(copyDir(filepath.Join(clients, c), filepath.Join(clients, c+"-epss")))
	}
	p2 := push(v2, "a")
	p2e := push(v2e, "b")
	dayFull := update(filepath.Join(clients, "full"), "a", oci.Selection{All: true})
	daySub := update(filepath.Join(clients, "alpine-npm"), "a", alpineNpm)
	dayFullE := update(filepath.Join(clients, "full-epss"), "b", oci.Selection{All: true})
	daySubE := update(filepath.Join(clients, "alpine-npm-epss"), "b", alpineNpm)
	wholeFull, wholeSub := changedWhole(v1, v2, nil), changedWhole(v1, v2, alpineNpm.Ecosystems)
	wholeFullE, wholeSubE := changedWhole(v1, v2e, nil), changedWhole(v1, v2e, alpineNpm.Ecosystems)

	lookups := openLookups(filepath.Join(clients, "full"), *seed, *runs)

	// Report.
	idx, err := vulndb.ReadIndex(v1)
	must(err)
	var files int64
	kinds := map[string]int{}
	for _, p := range idx.Parts {
		files += p.Size
		kinds[p.Kind]++
	}
	w := os.Stdout
	fmt.Fprintf(w, "Measured %s on %s/%s, %d CPUs, %s; `go run ./bench/dbparts -scale %g -seed %d -change %g`.\n\n",
		time.Now().UTC().Format("2006-01-02"), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version(), *scale, *seed, *change)
	fmt.Fprintf(w, "Database: %d parts (%d ecosystem, %d EPSS, %d KEV, %d extra), %s of part files, %s to download whole (compressed blobs).\n\n",
		len(idx.Parts), kinds[vulndb.KindEcosystem], kinds[vulndb.KindEPSS], kinds[vulndb.KindKEV], kinds[vulndb.KindExtra], mib(files), mib(full.Bytes))
	groups := map[string]int64{}
	fidx, err := vulndb.ReadIndex(filepath.Join(clients, "full-epss"))
	must(err)
	for _, p := range fidx.Parts {
		name := p.Kind
		if p.Ecosystem != "" {
			name = p.Ecosystem
		}
		groups[name] += p.Blob.Size
	}
	names := slices.SortedFunc(maps.Keys(groups), func(a, b string) int { return cmp.Compare(groups[b], groups[a]) })
	fmt.Fprintf(w, "Largest parts (compressed): ")
	for i, n := range names {
		if i < 8 || n == "epss" || n == "kev" || n == "extra" || n == "alpine:3.19" || n == "npm" {
			fmt.Fprintf(w, "%s %s; ", n, mib(groups[n]))
		}
	}
	fmt.Fprintf(w, "\n\n| source | affected records | vulnerability records |\n|---|---:|---:|\n")
	for _, s := range rep1.Metadata.Sources {
		fmt.Fprintf(w, "| %s | %d | %d |\n", s.Name, s.Affected, s.Vulnerabilities)
	}
	fmt.Fprintf(w, "\n| download | bytes | share of the full database | target |\n|---|---:|---:|---|\n")
	row := func(what string, n int64, target string) {
		fmt.Fprintf(w, "| %s | %s | %.1f %% | %s |\n", what, mib(n), 100*float64(n)/float64(full.Bytes), target)
	}
	row("full database, fresh cache", full.Bytes, "")
	row(fmt.Sprintf("Alpine+npm scan, fresh cache (%d parts)", fresh.Parts), fresh.Bytes, "≤ 25 %")
	row(fmt.Sprintf("next day, %.0f %% changed: full client (%d deltas, %d parts)", *change*100, dayFull.Deltas, dayFull.Parts), dayFull.Bytes, "≤ 10 %")
	row("— the same without deltas (changed parts whole)", wholeFull, "")
	row(fmt.Sprintf("next day, %.0f %% changed: Alpine+npm client (%d deltas, %d parts)", *change*100, daySub.Deltas, daySub.Parts), daySub.Bytes, "≤ 10 %")
	row("— the same without deltas", wholeSub, "")
	row(fmt.Sprintf("next day, %.0f %% changed and every EPSS score: full client (%d deltas, %d parts)", *change*100, dayFullE.Deltas, dayFullE.Parts), dayFullE.Bytes, "")
	row("— the same without deltas", wholeFullE, "")
	row(fmt.Sprintf("next day, %.0f %% changed and every EPSS score: Alpine+npm client (%d deltas, %d parts)", *change*100, daySubE.Deltas, daySubE.Parts), daySubE.Bytes, "")
	row("— the same without deltas", wholeSubE, "")
	fmt.Fprintf(w, "\nPublishing the next day uploaded %d changed parts (%s) and %d deltas (version with EPSS: %d parts, %d deltas, %s).\n",
		p2.Uploaded, mib(p2.UploadedBytes), p2.Deltas, p2e.Uploaded, p2e.Deltas, mib(p2e.UploadedBytes))
	fmt.Fprintf(w, "\nOpen the full database and look up 1,000 packages (alpine:3.19, npm, debian:12; %d of them have records), median of %d runs: %s wall, %s CPU (min %s, max %s wall); with each record's vulnerability looked up too: %s wall, %s CPU. Target < 50 ms.\n",
		hitShare, *runs, lookups.affected, lookups.cpu, lookups.min, lookups.max, lookups.withVulns, lookups.cpuVulns)
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

// changedWhole is what updating from a to b would download without
// deltas: the blobs of the parts whose content changed, for the ecosystems
// given (and EPSS and KEV), or all.
func changedWhole(a, b string, ecosystems []string) int64 {
	ia, err := vulndb.ReadIndex(a)
	must(err)
	ib, err := vulndb.ReadIndex(b)
	must(err)
	old := map[vulndb.PartKey]string{}
	for _, p := range ia.Parts {
		old[p.PartKey] = p.Content
	}
	var n int64
	for _, p := range ib.Parts {
		if ecosystems != nil && p.Kind != vulndb.KindEPSS && p.Kind != vulndb.KindKEV && !slices.Contains(ecosystems, p.Ecosystem) {
			continue
		}
		if old[p.PartKey] != p.Content {
			n += compressedSize(vulndb.PartPath(b, p.Content))
		}
	}
	return n
}

// compressedSize is the size of a part file compressed as push does.
func compressedSize(path string) int64 {
	f, err := os.Open(path)
	must(err)
	defer f.Close()
	cw := &counter{}
	zw, err := zstd.NewWriter(cw, zstd.WithEncoderLevel(zstd.SpeedBetterCompression), zstd.WithEncoderConcurrency(1))
	must(err)
	_, err = io.Copy(zw, f)
	must(err)
	must(zw.Close())
	return cw.n
}

type counter struct{ n int64 }

func (c *counter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

type timings struct{ affected, min, max, withVulns, cpu, cpuVulns time.Duration }

// cpuTime is the process's user plus system time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// hitShare is how many of the 1,000 lookups found records.
var hitShare int

// openLookups times opening dir and looking up 1,000 packages.
func openLookups(dir string, seed uint64, runs int) timings {
	r := rand.New(rand.NewPCG(seed, 99))
	type q struct{ eco, pkg string }
	var qs []q
	for len(qs) < 1000 {
		switch len(qs) % 4 {
		case 0: // shipped by alpine, or not
			p := r.IntN(projectCount)
			qs = append(qs, q{"alpine:3.19", fmt.Sprintf("%s-project-%d", words[p%len(words)], p)})
		case 1:
			qs = append(qs, q{"npm", fmt.Sprintf("npm-lib-%d", r.IntN(6000))})
		case 2:
			p := r.IntN(projectCount)
			qs = append(qs, q{"debian:12", fmt.Sprintf("%s-project-%d", words[p%len(words)], p)})
		default:
			qs = append(qs, q{"npm", fmt.Sprintf("left-pad-%d", r.IntN(1e6))})
		}
	}
	var affected, vulns, cpuA, cpuV []time.Duration
	hits := 0
	for run := range runs {
		for _, withVulns := range []bool{false, true} {
			start, c0 := time.Now(), cpuTime()
			db, err := vulndb.Open(dir)
			must(err)
			for _, x := range qs {
				recs, err := db.Affected(x.eco, x.pkg)
				must(err)
				if run == 0 && !withVulns && len(recs) > 0 {
					hits++
				}
				if withVulns {
					for _, a := range recs {
						if _, _, err := db.Vulnerability(a.VulnID); err != nil {
							must(err)
						}
					}
				}
			}
			db.Close()
			if withVulns {
				vulns, cpuV = append(vulns, time.Since(start)), append(cpuV, cpuTime()-c0)
			} else {
				affected, cpuA = append(affected, time.Since(start)), append(cpuA, cpuTime()-c0)
			}
		}
	}
	sort.Slice(affected, func(i, j int) bool { return affected[i] < affected[j] })
	sort.Slice(vulns, func(i, j int) bool { return vulns[i] < vulns[j] })
	slices.Sort(cpuA)
	slices.Sort(cpuV)
	log.Printf("lookups: %d of 1000 packages have records", hits)
	hitShare = hits
	rd := func(d time.Duration) time.Duration { return d.Round(100 * time.Microsecond) }
	return timings{rd(affected[len(affected)/2]), rd(affected[0]), rd(affected[len(affected)-1]), rd(vulns[len(vulns)/2]), rd(cpuA[len(cpuA)/2]), rd(cpuV[len(cpuV)/2])}
}

func copyDir(src, dst string) error {
	return filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		t := filepath.Join(dst, rel)
		if fi.IsDir() {
			return os.MkdirAll(t, 0o755)
		}
		if !fi.Mode().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(t, b, fi.Mode().Perm()|0o200)
	})
}

// startRegistry runs Debian's docker-registry on a free port.
func startRegistry(work string) string {
	bin, err := exec.LookPath("docker-registry")
	if err != nil {
		log.Fatal("docker-registry is needed (apt-get install docker-registry)")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	must(err)
	addr := l.Addr().String()
	l.Close()
	cfg := filepath.Join(work, "registry.yml")
	must(os.WriteFile(cfg, fmt.Appendf(nil, "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n",
		filepath.Join(work, "registry"), addr), 0o644))
	cmd := exec.Command(bin, "serve", cfg)
	must(cmd.Start())
	go cmd.Wait()
	for range 300 {
		if resp, err := http.Get("http://" + addr + "/v2/"); err == nil {
			resp.Body.Close()
			return addr
		}
		time.Sleep(50 * time.Millisecond)
	}
	log.Fatal("registry did not start")
	return ""
}

// realFeeds are the real samples, laid out as the sources read them.
type realFeeds struct {
	sources []vulndb.Source
	mirrors map[string]string
}

// realSources prepares mirrors of the real samples: the Alpine secdb
// (v3.10, v3.11), the Debian tracker sample, the PyPA advisory database
// (OSV YAML, converted to JSON), the Go vulnerability database and the
// GitHub advisories sample (OSV), an NVD API page, the KEV catalog and the
// EPSS sample.
func realSources(shared, dir string) realFeeds {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	out := realFeeds{mirrors: map[string]string{}}
	shared, _ = filepath.Abs(shared)
	if _, err := os.Stat(shared); err != nil {
		log.Printf("no real samples at %s: generated data only", shared)
		return out
	}
	must(os.MkdirAll(dir, 0o755))
	out.mirrors["alpine"] = filepath.Join(shared, "alpine-secdb")
	out.sources = append(out.sources, alpine.New(alpine.Options{Releases: []string{"v3.10", "v3.11"}, Logger: logger}))

	deb := filepath.Join(dir, "debian")
	must(os.MkdirAll(deb, 0o755))
	must(os.Symlink(filepath.Join(shared, "debian/security-tracker-json/vunnel-fixture-debian.json"), filepath.Join(deb, "json")))
	out.mirrors["debian"] = deb
	out.sources = append(out.sources, debian.New(debian.Options{Logger: logger}))

	osvDir := filepath.Join(dir, "osv")
	byEco := map[string]map[string][]byte{}
	add := func(raw []byte, name string) {
		var rec struct {
			Affected []struct {
				Package struct{ Ecosystem string } `json:"package"`
			} `json:"affected"`
		}
		if json.Unmarshal(raw, &rec) != nil || len(rec.Affected) == 0 {
			return
		}
		eco := rec.Affected[0].Package.Ecosystem
		if byEco[eco] == nil {
			byEco[eco] = map[string][]byte{}
		}
		byEco[eco][name] = raw
	}
	filepath.Walk(filepath.Join(shared, "pypa-full/vulns"), func(p string, fi os.FileInfo, err error) error {
		if err == nil && strings.HasSuffix(p, ".yaml") {
			b, _ := os.ReadFile(p)
			var v any
			if yaml.Unmarshal(b, &v) == nil {
				if j, err := json.Marshal(v); err == nil {
					add(j, filepath.Base(p)+".json")
				}
			}
		}
		return nil
	})
	for _, glob := range []string{"go-vulndb/ID/*.json", "ghsa/advisories/github-reviewed/*/*/*/*.json"} {
		files, _ := filepath.Glob(filepath.Join(shared, glob))
		for _, f := range files {
			b, _ := os.ReadFile(f)
			add(b, filepath.Base(f))
		}
	}
	for eco, files := range byEco {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		for name, b := range files {
			w, _ := zw.Create(name)
			w.Write(b)
		}
		must(zw.Close())
		must(os.MkdirAll(filepath.Join(osvDir, eco), 0o755))
		must(os.WriteFile(filepath.Join(osvDir, eco, "all.zip"), buf.Bytes(), 0o644))
		out.sources = append(out.sources, osv.New(eco, logger))
	}
	out.mirrors["osv"] = osvDir

	nvdDir := filepath.Join(dir, "nvd")
	must(os.MkdirAll(nvdDir, 0o755))
	b, err := os.ReadFile(filepath.Join(shared, "nvd-api-2.0/pages/vunnel-full-page.json"))
	must(err)
	must(os.WriteFile(filepath.Join(nvdDir, "page-0.json"), b, 0o644))
	out.mirrors["nvd"] = nvdDir
	out.sources = append(out.sources, nvd.New(nvd.Options{Logger: logger}))

	out.mirrors["kev"] = filepath.Join(shared, "cisa-kev")
	out.sources = append(out.sources, kev.New(kev.Options{Logger: logger}))

	epssDir := filepath.Join(dir, "epss")
	must(os.MkdirAll(epssDir, 0o755))
	csv, err := os.ReadFile(filepath.Join(shared, "epss/epss_scores-sample.csv"))
	must(err)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(csv)
	must(zw.Close())
	must(os.WriteFile(filepath.Join(epssDir, epss.DefaultFile), gz.Bytes(), 0o644))
	out.mirrors["epss"] = epssDir
	out.sources = append(out.sources, epss.New(epss.Options{Logger: logger}))
	return out
}
