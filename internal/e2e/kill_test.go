package e2e_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-scanner/vigil/internal/testutil/regtest"
	"github.com/vigil-scanner/vigil/vulndb"
	"github.com/vigil-scanner/vigil/vulndb/vulndbtest"
)

// The kill tests run the vigil binary, built here, as a subprocess and
// SIGKILL it at random points of `vigil db build` and `vigil db update`.
// After each kill the database directory must hold the previous database
// intact or the new one complete (every part the index names on disk with
// the content digest the index records), a scan must work, and the next
// run must succeed. Leftovers of a killed run are swept once stale.

// vigilBinary returns cmd/vigil, built once per test binary.
func vigilBinary(t *testing.T) string { return fx.vigil.Path(t, fx.dir) }

// killFeeds writes two versions of an npm OSV mirror and an EPSS mirror,
// large enough that a build takes a while: version 2 changes a tenth of
// the advisories and every EPSS score.
func killFeeds(t *testing.T, version int) (osvDir, epssDir string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), fmt.Sprint("feeds-v", version))
	entries := map[string]string{}
	for i := range 4000 {
		fixed := fmt.Sprintf("1.%d.0", i%50)
		if version == 2 && i%10 == 0 {
			fixed = fmt.Sprintf("2.%d.0", i%50)
		}
		entries[fmt.Sprintf("GHSA-kill-%04d.json", i)] = fmt.Sprintf(`{"id":"GHSA-kill-%04d-xxxx","modified":"2024-01-01T00:00:00Z","aliases":["CVE-2030-%05d"],
"summary":"synthetic advisory %d","details":"%s","affected":[{"package":{"ecosystem":"npm","name":"kill-pkg-%d"},
"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"%s"}]}]}],"database_specific":{"severity":"HIGH"}}`,
			i, i, i, strings.Repeat("text of the advisory ", 10), i%900, fixed)
	}
	b, err := zipOf(entries)
	if err != nil {
		t.Fatal(err)
	}
	osvDir = filepath.Join(dir, "osv")
	os.MkdirAll(filepath.Join(osvDir, "npm"), 0o755)
	if err := os.WriteFile(filepath.Join(osvDir, "npm", "all.zip"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	var csv strings.Builder
	csv.WriteString("#model_version:v2023.03.01,score_date:2024-03-01T00:00:00+0000\ncve,epss,percentile\n")
	for i := range 20000 {
		fmt.Fprintf(&csv, "CVE-2030-%05d,0.%05d,0.%05d\n", i, (i*7+version)%100000, (i*13)%100000)
	}
	epssDir = filepath.Join(dir, "epss")
	if err := writeGzip(filepath.Join(epssDir, "epss_scores-current.csv.gz"), csv.String()); err != nil {
		t.Fatal(err)
	}
	return osvDir, epssDir
}

func buildArgs(cache, osvDir, epssDir string) []string {
	return []string{"db", "build", "--quiet", "--cache-dir", cache, "--sources", "alpine,osv:npm,epss",
		"--mirror", "alpine=" + filepath.Join("testdata", "feeds", "alpine"),
		"--mirror", "osv=" + osvDir, "--mirror", "epss=" + epssDir}
}

// fingerprint checks every part the index of the database in dir lists as
// present against its content digest, and returns the index's parts as
// sorted "part=content" lines.
func fingerprint(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	for _, p := range vulndbtest.Whole(t, dir).Parts {
		out = append(out, p.PartKey.String()+"="+p.Content)
	}
	slices.Sort(out)
	return out
}

// runKilled starts bin with args and kills it after d (or lets it finish
// first). It reports whether the process was killed.
func runKilled(t *testing.T, bin string, args []string, d time.Duration) bool {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir, _ = os.Getwd()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("vigil %s failed before the kill: %v\n%s", strings.Join(args, " "), err, out.String())
		}
		return false
	case <-time.After(d):
		cmd.Process.Signal(syscall.SIGKILL)
		<-done
		return true
	}
}

// timed runs bin to completion and returns how long it took.
func timed(t *testing.T, bin string, args ...string) time.Duration {
	t.Helper()
	start := time.Now()
	if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		t.Fatalf("vigil %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return time.Since(start)
}

// ageTemps backdates the temporary files a killed run left, as if they
// were hours old, so that the next run sweeps them.
func ageTemps(dir string) (n int) {
	old := time.Now().Add(-3 * time.Hour)
	for _, d := range []string{dir, filepath.Join(dir, vulndb.PartsDirName)} {
		entries, _ := os.ReadDir(d)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".tmp-") {
				os.Chtimes(filepath.Join(d, e.Name()), old, old)
				n++
			}
		}
	}
	return n
}

func assertNoTemps(t *testing.T, dir string) {
	t.Helper()
	for _, d := range []string{dir, filepath.Join(dir, vulndb.PartsDirName)} {
		entries, _ := os.ReadDir(d)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".tmp-") {
				t.Errorf("stale temporary file not swept: %s", e.Name())
			}
		}
	}
}

// scanWorks scans the alpine fixture image offline and returns its
// findings.
func scanWorks(t *testing.T, bin, cache string) string {
	t.Helper()
	out, err := exec.Command(bin, "image", "--input", fx.images["alpine"], "--cache-dir", cache, "--offline", "--quiet", "--format", "json").Output()
	if err != nil {
		t.Fatalf("scan after a kill: %v", err)
	}
	return strings.Join(findings(t, string(out)), "\n")
}

func TestKillDuringBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: builds vigil and runs it many times")
	}
	bin := vigilBinary(t)
	osv1, epss1 := killFeeds(t, 1)
	osv2, epss2 := killFeeds(t, 2)
	// The two databases a killed build may leave.
	ref1, ref2 := t.TempDir(), t.TempDir()
	d := timed(t, bin, buildArgs(ref1, osv1, epss1)...)
	timed(t, bin, buildArgs(ref2, osv2, epss2)...)
	want := map[string]int{strings.Join(fingerprint(t, oci(ref1)), "\n"): 1, strings.Join(fingerprint(t, oci(ref2)), "\n"): 2}
	if len(want) != 2 {
		t.Fatal("the two feed versions give the same database")
	}
	t.Logf("a build takes %s", d)

	cache := t.TempDir()
	timed(t, bin, buildArgs(cache, osv1, epss1)...)
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	// Kill times are drawn within one measured build, which load can make
	// longer than later builds: go on until four kills landed mid-build
	// (a kill after the end proves nothing), within a bound.
	killed, runs := 0, 0
	for i := 0; (killed < 4 || i < 8) && i < 16; i++ {
		runs++
		osvDir, epssDir := osv1, epss1
		if i%2 == 0 {
			osvDir, epssDir = osv2, epss2
		}
		if runKilled(t, bin, buildArgs(cache, osvDir, epssDir), time.Duration(r.Int64N(int64(d)))) {
			killed++
		}
		fp := strings.Join(fingerprint(t, oci(cache)), "\n")
		if want[fp] == 0 {
			t.Fatalf("after kill %d the database is neither version:\n%s", i, fp)
		}
		scanWorks(t, bin, cache)
	}
	if killed < 4 {
		t.Errorf("only %d of %d builds were killed before they finished", killed, runs)
	}
	left := ageTemps(oci(cache))
	timed(t, bin, buildArgs(cache, osv1, epss1)...)
	if fp := strings.Join(fingerprint(t, oci(cache)), "\n"); want[fp] != 1 {
		t.Error("the build after the kills did not give version 1")
	}
	assertNoTemps(t, oci(cache))
	t.Logf("%d builds killed; %d leftovers swept by the next build", killed, left)
}

func oci(cache string) string { return filepath.Join(cache, "db") }

func TestKillDuringUpdate(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: builds vigil and runs it many times")
	}
	bin := vigilBinary(t)
	reg := regtest.Start(t, regtest.Options{})
	// A proxy slowing blobs down, so that kills land in transfers.
	u, _ := url.Parse("http://" + reg.Host)
	rp := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(r.URL.Path, "/blobs/") || r.Method != http.MethodGet {
			rp.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		rp.ServeHTTP(rec, r)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		body := rec.Body.Bytes()
		for len(body) > 0 && r.Context().Err() == nil {
			n := min(len(body), 4<<10)
			w.Write(body[:n])
			w.(http.Flusher).Flush()
			body = body[n:]
			time.Sleep(5 * time.Millisecond)
		}
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")

	osv1, epss1 := killFeeds(t, 1)
	osv2, epss2 := killFeeds(t, 2)
	src1, src2 := t.TempDir(), t.TempDir()
	timed(t, bin, buildArgs(src1, osv1, epss1)...)
	timed(t, bin, buildArgs(src2, osv2, epss2)...)
	// Version 1 at :a; :b holds version 2 (pushed over version 1, so it
	// carries deltas from it).
	for _, p := range []struct{ src, ref string }{{src1, "vigil/db:a"}, {src1, "vigil/db:b"}, {src2, "vigil/db:b"}} {
		timed(t, bin, "db", "push", "--quiet", "--cache-dir", p.src, "--insecure", reg.Host+"/"+p.ref)
	}
	want := map[string]int{strings.Join(fingerprint(t, oci(src1)), "\n"): 1, strings.Join(fingerprint(t, oci(src2)), "\n"): 2}
	wantScan := scanWorks(t, bin, src2)

	cache := t.TempDir()
	update := func(tag string) []string {
		return []string{"db", "update", "--quiet", "--cache-dir", cache, "--insecure", "--db-repository", host + "/vigil/db:" + tag}
	}
	timed(t, bin, update("a")...)
	d := timed(t, bin, append(update("b"), "--force")...)
	timed(t, bin, append(update("a"), "--force")...)
	t.Logf("a whole update takes %s", d)
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 2))
	killed, runs := 0, 0 // as in TestKillDuringBuild: until four kills landed
	for i := 0; (killed < 4 || i < 10) && i < 20; i++ {
		runs++
		tag := "b"
		if i%2 == 1 {
			tag = "a"
		}
		args := update(tag)
		if i%3 != 2 {
			args = append(args, "--force") // whole parts rather than deltas
		}
		if runKilled(t, bin, args, time.Duration(r.Int64N(int64(d)))) {
			killed++
		}
		fp := strings.Join(fingerprint(t, oci(cache)), "\n")
		if want[fp] == 0 {
			t.Fatalf("after kill %d the database is neither version:\n%s", i, fp)
		}
		scanWorks(t, bin, cache)
	}
	if killed < 4 {
		t.Errorf("only %d of %d updates were killed before they finished", killed, runs)
	}
	t.Logf("%d updates killed", killed)
	ageTemps(oci(cache))
	timed(t, bin, update("b")...)
	if fp := strings.Join(fingerprint(t, oci(cache)), "\n"); want[fp] != 2 {
		t.Error("the update after the kills did not give version 2")
	}
	assertNoTemps(t, oci(cache))

	// Two scans and an update at once on one fresh cache directory, the
	// update killed: both scans report what the database says.
	for i := range 4 {
		cache = t.TempDir()
		var wg sync.WaitGroup
		scans := make([]string, 2)
		errs := make([]error, 2)
		for j := range scans {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out, err := exec.Command(bin, "image", "--input", fx.images["alpine"], "--cache-dir", cache, "--quiet", "--format", "json",
					"--insecure", "--db-repository", host+"/vigil/db:b").Output()
				scans[j], errs[j] = string(out), err
			}()
		}
		runKilled(t, bin, append(update("b"), "--all"), time.Duration(r.Int64N(int64(d))))
		wg.Wait()
		for j := range scans {
			if errs[j] != nil {
				t.Fatalf("round %d: concurrent scan %d: %v", i, j, errs[j])
			}
			if got := strings.Join(findings(t, scans[j]), "\n"); got != wantScan {
				t.Errorf("round %d: concurrent scan %d found:\n%s\nwant:\n%s", i, j, got, wantScan)
			}
		}
		if fp := strings.Join(fingerprint(t, oci(cache)), "\n"); want[fp] != 2 {
			t.Errorf("round %d: database after the concurrent run: %s", i, fp)
		}
	}
}
