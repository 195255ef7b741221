package hostile_test

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/vigil-scanner/vigil/internal/testutil/regtest"
	lt "github.com/vigil-scanner/vigil/layerfs/layertest"
)

// killImage is an image whose scan takes long enough to be killed in the
// middle: eight layers, each with files to stream and a database to keep.
func killImage(t *testing.T) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	noise := make([]byte, 2<<20) // incompressible, so that inflating takes time
	for i := range noise {
		noise[i] = byte(rng.Uint32())
	}
	layers := [][]lt.Entry{alpineBase()}
	for i := range 7 {
		var es []lt.Entry
		for j := range 4 {
			es = append(es, lt.Entry{Name: fmt.Sprintf("opt/l%d/blob%d", i, j), Body: string(noise[j<<19 : (j+1)<<19])})
		}
		es = append(es, lt.Entry{Name: fmt.Sprintf("app%d/node_modules/p%d/package.json", i, i),
			Body: fmt.Sprintf(`{"name": "p%d", "version": "1.0.%d"}`, i, i)})
		layers = append(layers, es)
	}
	return writeImage(t, layers...)
}

// started is a vigil process running in the background.
type started struct {
	cmd      *exec.Cmd
	out, err bytes.Buffer
}

func start(t *testing.T, dir string, args ...string) *started {
	t.Helper()
	s := &started{cmd: exec.Command(vigilBinary(t), args...)}
	s.cmd.Dir, s.cmd.Env = dir, sandboxEnv(dir)
	s.cmd.Stdout, s.cmd.Stderr = &s.out, &s.err
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return s
}

// killAfter kills the process with SIGKILL after d, unless it ended; it
// reports whether the kill came first.
func (s *started) killAfter(d time.Duration) bool {
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case <-done:
		return false
	case <-time.After(d):
		s.cmd.Process.Signal(syscall.SIGKILL)
		<-done
		return true
	}
}

// checkCache checks that every blob of the layer cache is whole: each is
// a zstd stream (layer records and inventories both are) that decodes to
// its end with a matching checksum. Files being written are named .tmp-*
// and are swept by later writers; they are counted, not checked.
func checkCache(t *testing.T, cache string) (blobs, temps int) {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(cache, "layers"))
	if os.IsNotExist(err) {
		return 0, 0
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".tmp-") {
			temps++
			continue
		}
		blobs++
		f, err := os.Open(filepath.Join(cache, "layers", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		zr, err := zstd.NewReader(f)
		if err == nil {
			_, err = io.Copy(io.Discard, zr)
			zr.Close()
		}
		f.Close()
		if err != nil {
			t.Errorf("cache blob %s is damaged: %v", e.Name(), err)
		}
	}
	return blobs, temps
}

// outcome is what a scan reported, to compare runs.
func outcome(t *testing.T, r run) string {
	t.Helper()
	if r.code != 1 {
		t.Fatalf("scan: exit %d, want 1\n%s", r.code, r.stderr)
	}
	rep := parseReport(t, r.stdout)
	return fmt.Sprintf("packages %q\nfindings %q\nwarnings %q", rep.packages(), rep.findings(), rep.warnings())
}

func scanArgs(cache, img string) []string {
	return []string{"image", "--input", img, "--cache-dir", cache, "--skip-db-update", "--quiet",
		"--format", "json", "--list-all-pkgs", "--exit-code", "1"}
}

// TestKillScan kills scans at random points while they fill the layer
// cache: after each kill every cache blob is whole, and the next scans
// (one reading what the killed one left, one reading the cache it fills)
// report exactly what a scan without cache does.
func TestKillScan(t *testing.T) {
	dir := t.TempDir()
	img := killImage(t)
	want := outcome(t, runBinary(t, dir, append(scanArgs(newCache(t), img), "--cache-backend", "memory")...))
	first := runBinary(t, dir, scanArgs(newCache(t), img)...)
	if got := outcome(t, first); got != want {
		t.Fatalf("a scan filling the cache reports\n%s\nwithout cache\n%s", got, want)
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d; an uncached scan takes %v", seed, first.wall)
	rng := rand.New(rand.NewPCG(seed, 0))
	cache := newCache(t)
	kills := 0
	for i := range 8 {
		if i%3 == 0 {
			os.RemoveAll(filepath.Join(cache, "layers")) // so that kills land while the cache fills
		}
		d := time.Duration(rng.Int64N(int64(first.wall) + 1))
		if start(t, dir, scanArgs(cache, img)...).killAfter(d) {
			kills++
		}
		checkCache(t, cache)
		for range 2 {
			if got := outcome(t, runBinary(t, dir, scanArgs(cache, img)...)); got != want {
				t.Fatalf("after a kill at %v, a scan reports\n%s\nwant\n%s", d, got, want)
			}
		}
	}
	if blobs, _ := checkCache(t, cache); blobs == 0 {
		t.Error("the cache holds nothing: the scans did not use it")
	}
	t.Logf("%d of 8 scans killed", kills)
}

// TestKillConcurrent runs two scans and a database update at once on one
// cache directory and kills all three at random points. After each
// round the database is the old one or the new one, whole; the cache's
// blobs are whole; and a scan and an update succeed.
func TestKillConcurrent(t *testing.T) {
	addr := regtest.Start(t, regtest.Options{}).Host
	dir := t.TempDir()
	img := killImage(t)
	want := outcome(t, runBinary(t, dir, append(scanArgs(newCache(t), img), "--cache-backend", "memory")...))

	// The registry holds a database built later than the fixture's.
	pub := newCache(t)
	feed, _ := filepath.Abs("testdata/feeds/alpine")
	if code, _, stderr := vigil(t, "db", "build", "--quiet", "--cache-dir", pub, "--sources", "alpine", "--mirror", "alpine="+feed); code != 0 {
		t.Fatal(stderr)
	}
	repo := addr + "/vigil/db:1"
	if code, _, stderr := vigil(t, "db", "push", "--quiet", "--insecure", "--cache-dir", pub, repo); code != 0 {
		t.Fatal(stderr)
	}
	// The same feeds make the same content (parts are content-addressed):
	// the new database differs from the old by where it came from — built
	// here, or pulled from the registry.
	oldDB := dbDigest(t, fx.db)
	newDB := strings.TrimSuffix(dbDigest(t, filepath.Join(pub, "db")), " built") + " pulled"
	update := []string{"db", "update", "--quiet", "--force", "--insecure", "--db-repository", repo}

	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	cache := newCache(t)
	for round := range 5 {
		if round%2 == 0 {
			os.RemoveAll(filepath.Join(cache, "layers"))
		}
		copyDB(t, fx.db, filepath.Join(cache, "db"))
		procs := []*started{
			start(t, dir, scanArgs(cache, img)...),
			start(t, dir, scanArgs(cache, img)...),
			start(t, dir, append(update, "--cache-dir", cache)...),
		}
		killed := make([]bool, len(procs))
		var wg sync.WaitGroup
		for i, p := range procs {
			window := 600 * time.Millisecond // a scan's time on a busy machine
			if i == 2 {
				window = 250 * time.Millisecond // an update of this small database is quick
			}
			d := time.Duration(rng.Int64N(int64(window)))
			wg.Go(func() { killed[i] = p.killAfter(d) })
		}
		wg.Wait()
		t.Logf("round %d: killed (scan, scan, update) %v", round, killed)
		if db := dbDigest(t, filepath.Join(cache, "db")); db != oldDB && db != newDB {
			t.Fatalf("round %d: the database is neither the old one nor the new one (%s)", round, db)
		}
		checkCache(t, cache)
		if got := outcome(t, runBinary(t, dir, scanArgs(cache, img)...)); got != want {
			t.Fatalf("round %d: a scan after the kills reports\n%s\nwant\n%s", round, got, want)
		}
		if r := runBinary(t, dir, append(update, "--cache-dir", cache)...); r.code != 0 {
			t.Fatalf("round %d: db update after the kills: exit %d\n%s", round, r.code, r.stderr)
		}
		if db := dbDigest(t, filepath.Join(cache, "db")); db != newDB {
			t.Fatalf("round %d: db update did not install the new database: %s, want %s", round, db, newDB)
		}
	}
	// Files that dead writers left must not grow without bound: what a
	// round leaves is bounded by the processes it killed.
	if _, temps := checkCache(t, cache); temps > 3*5 {
		t.Errorf("%d temporary files left in the layer cache", temps)
	}
	ents, _ := os.ReadDir(filepath.Join(cache, "db"))
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	t.Logf("database directory after the rounds: %s", strings.Join(names, " "))
}
