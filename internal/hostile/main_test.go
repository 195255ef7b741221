package hostile_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/vigil-scanner/vigil/internal/cli"
	"github.com/vigil-scanner/vigil/internal/testutil"
	lt "github.com/vigil-scanner/vigil/layerfs/layertest"
	"github.com/vigil-scanner/vigil/vulndb/vulndbtest"
)

// fx is what TestMain prepares once: a database built from the fixture
// Alpine feed, which lists CVE-2023-6129 as fixed in openssl 3.1.4-r3.
var fx struct {
	dir   string // scratch directory
	db    string // the built database file
	vigil testutil.VigilBuild
}

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "vigil-hostile-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	fx.dir = dir
	feed, err := filepath.Abs("testdata/feeds/alpine")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	cache := filepath.Join(dir, "cache")
	args := []string{"db", "build", "--quiet", "--cache-dir", cache, "--sources", "alpine", "--mirror", "alpine=" + feed}
	var stdout, stderr bytes.Buffer
	if code := cli.Main(context.Background(), args, nil, &stdout, &stderr); code != 0 {
		fmt.Fprintf(os.Stderr, "vigil %s: exit %d\n%s%s", strings.Join(args, " "), code, stdout.String(), stderr.String())
		return 1
	}
	fx.db = filepath.Join(cache, "db")
	return m.Run()
}

// newCache returns a cache directory of its own holding the fixture
// database.
func newCache(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "cache")
	copyDB(t, fx.db, filepath.Join(dir, "db"))
	return dir
}

// copyDB copies the database directory src (index and parts) to dst,
// replacing what dst held.
func copyDB(t *testing.T, src, dst string) {
	t.Helper()
	os.RemoveAll(dst)
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// dbDigest checks that the database in dir is whole — its index readable,
// every part it lists present with the content digest it records — and
// returns what tells two databases apart: the digest of its content
// (vulndb.Index.Digest) and where it came from (built here, or pulled).
func dbDigest(t *testing.T, dir string) string {
	t.Helper()
	idx := vulndbtest.Whole(t, dir)
	origin := "unknown"
	if p := idx.Metadata.Provenance; p != nil {
		origin = p.Kind
	}
	return idx.Digest() + " " + origin
}

// The contents of an Alpine 3.19 image with a vulnerable openssl.
const (
	osRelease = "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.19.1\nPRETTY_NAME=\"Alpine Linux v3.19\"\n"
	apkDB     = "P:musl\nV:1.2.4_git20230717-r4\nA:x86_64\no:musl\n\n" +
		"P:libssl3\nV:3.1.4-r1\nA:x86_64\no:openssl\n\n"
	// apkFinding is what vigil reports for apkDB against the fixture
	// database, as "id package version".
	apkFinding = "CVE-2023-6129 libssl3 3.1.4-r1"
)

// alpineBase is a layer holding os-release and apkDB.
func alpineBase() []lt.Entry {
	return []lt.Entry{
		{Name: "etc/os-release", Body: osRelease},
		{Name: "lib/apk/db/installed", Body: apkDB},
	}
}

// writeImage writes a docker-save tarball of an image made of layers, base
// first, to a new file and returns its path. Layers are gzip-compressed
// and named by their digest, as go-containerregistry writes them.
func writeImage(t *testing.T, layers ...[]lt.Entry) string {
	t.Helper()
	var ls []v1.Layer
	for _, es := range layers {
		ls = append(ls, lt.NewLayer(t, es...))
	}
	return writeLayers(t, ls...)
}

func writeLayers(t *testing.T, layers ...v1.Layer) string {
	t.Helper()
	img := lt.Image(t, layers)
	path := filepath.Join(t.TempDir(), "image.tar")
	tag, err := name.NewTag("example.com/hostile:1")
	if err != nil {
		t.Fatal(err)
	}
	if err := tarball.WriteToFile(path, tag, img); err != nil {
		t.Fatal(err)
	}
	return path
}

// vigil runs the CLI in-process and returns its exit code and outputs.
func vigil(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = cli.Main(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

// report is the part of vigil's JSON report the tests read.
type report struct {
	Artifact struct {
		OS *struct {
			Family string `json:"family"`
			Name   string `json:"name"`
		} `json:"os"`
		Layers []struct {
			DiffID string `json:"diffID"`
		} `json:"layers"`
	} `json:"artifact"`
	Results []struct {
		Target   string `json:"target"`
		Packages []struct {
			Name    string `json:"name"`
			Version string `json:"version"`
		} `json:"packages"`
		Vulnerabilities []struct {
			ID        string `json:"id"`
			PkgName   string `json:"pkgName"`
			Installed string `json:"installedVersion"`
		} `json:"vulnerabilities"`
	} `json:"results"`
	Warnings []struct {
		Layer   string `json:"layer"`
		Path    string `json:"path"`
		Message string `json:"message"`
	} `json:"warnings"`
}

func parseReport(t *testing.T, out string) *report {
	t.Helper()
	var r report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("report is not JSON: %v\n%.2000s", err, out)
	}
	return &r
}

// packages lists the report's packages as "name version", sorted.
func (r *report) packages() []string {
	var out []string
	for _, res := range r.Results {
		for _, p := range res.Packages {
			out = append(out, p.Name+" "+p.Version)
		}
	}
	slices.Sort(out)
	return out
}

// findings lists the report's findings as "id package version", sorted.
func (r *report) findings() []string {
	var out []string
	for _, res := range r.Results {
		for _, v := range res.Vulnerabilities {
			out = append(out, v.ID+" "+v.PkgName+" "+v.Installed)
		}
	}
	slices.Sort(out)
	return out
}

// warnings lists the report's warnings as "layer N path: message" (the
// layer's index only, "-" when none).
// warnings lists the report's warnings as "layer N path: message", N
// being the position of the layer whose diff ID the warning names ("-"
// for none).
func (r *report) warnings() []string {
	var out []string
	for _, w := range r.Warnings {
		layer := "-"
		if w.Layer != "" {
			layer = "layer ?" + w.Layer
			for i, l := range r.Artifact.Layers {
				if l.DiffID == w.Layer {
					layer = fmt.Sprintf("layer %d", i)
				}
			}
		}
		out = append(out, layer+" "+w.Path+": "+w.Message)
	}
	return out
}

// vigilBinary returns the vigil command, built once per test binary, for
// the tests that run it as a process of its own (to measure it, or to
// kill it).
func vigilBinary(t *testing.T) string { return fx.vigil.Path(t, fx.dir) }

// run is one run of the vigil binary, measured.
type run struct {
	code           int
	stdout, stderr string
	wall           time.Duration
	maxRSS         int64 // bytes
}

// runBinary runs the vigil binary with args, in dir as its home and
// working directory, and measures its wall time and peak resident memory.
func runBinary(t *testing.T, dir string, args ...string) run {
	t.Helper()
	cmd := exec.Command(vigilBinary(t), args...)
	cmd.Dir = dir
	cmd.Env = sandboxEnv(dir)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	peak := watchRSS(cmd.Process.Pid)
	err := cmd.Wait()
	r := run{wall: time.Since(start), stdout: out.String(), stderr: errb.String(), maxRSS: peak()}
	if err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatal(err)
		}
	}
	r.code = cmd.ProcessState.ExitCode()
	return r
}

// watchRSS samples the peak resident memory (VmHWM) of the process pid
// every 10 ms until the returned function is called, which returns the
// last value seen. (The rusage of a waited-for child cannot be used: the
// child is forked from this large test process, whose peak it inherits.)
func watchRSS(pid int) (stop func() int64) {
	var peak atomic.Int64
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		path := fmt.Sprintf("/proc/%d/status", pid)
		for {
			if b, err := os.ReadFile(path); err == nil {
				for line := range strings.Lines(string(b)) {
					if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
						var kb int64
						fmt.Sscan(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), &kb)
						peak.Store(max(peak.Load(), kb<<10))
					}
				}
			}
			select {
			case <-done:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	return func() int64 {
		close(done)
		<-finished
		return peak.Load()
	}
}

// sandboxEnv is the environment of a vigil process confined to dir: its
// home, temporary and cache directories are inside it.
func sandboxEnv(dir string) []string {
	env := []string{"HOME=" + dir, "TMPDIR=" + filepath.Join(dir, "tmp"), "PATH=" + os.Getenv("PATH"),
		"GOMAXPROCS=" + fmt.Sprint(runtime.GOMAXPROCS(0))}
	os.MkdirAll(filepath.Join(dir, "tmp"), 0o755)
	return env
}
