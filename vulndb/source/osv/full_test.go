package osv

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/vigil-scanner/vigil/vulndb"
	"github.com/vigil-scanner/vigil/vulndb/fetch"
)

const goVulnDBModule = "golang.org/x/vulndb@v0.0.0-20261105234957-e22db6528018"

// TestGoVulnDBFull builds a database from the whole Go vulnerability
// database (fetched as a Go module, zipped like osv.dev's Go/all.zip and
// served from a file:// mirror), checks every record round-trips and logs
// build time, memory and sizes. Skipped under -short or without the module.
func TestGoVulnDBFull(t *testing.T) {
	if testing.Short() {
		t.Skip("whole-feed test skipped under -short")
	}
	out, err := exec.Command("go", "mod", "download", "-json", goVulnDBModule).Output()
	if err != nil {
		t.Skipf("go mod download %s: %v", goVulnDBModule, err)
	}
	var mod struct{ Dir string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		t.Skipf("go mod download: no module directory in %s", out)
	}
	files, _ := filepath.Glob(filepath.Join(mod.Dir, "data", "osv", "*.json"))
	if len(files) < 1000 {
		t.Fatalf("only %d OSV files in %s", len(files), mod.Dir)
	}
	mirror := t.TempDir()
	os.MkdirAll(filepath.Join(mirror, "Go"), 0o755)
	zf, err := os.Create(filepath.Join(mirror, "Go", "all.zip"))
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(zf)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		w, _ := zw.Create(filepath.Base(f))
		w.Write(b)
	}
	zw.Close()
	zf.Close()

	base := "file://" + mirror
	dbPath := filepath.Join(t.TempDir(), "vigil.db")
	runtime.GC()
	start := time.Now()
	rep, err := vulndb.Build(context.Background(), vulndb.BuildOptions{
		Path: dbPath, Sources: []vulndb.Source{New("Go", nil)}, Mirrors: map[string]string{"osv:Go": base},
	})
	if err != nil {
		t.Fatal(err)
	}
	buildTime := time.Since(start)
	src := rep.Metadata.Sources[0]
	if src.Vulnerabilities != len(files) {
		t.Errorf("%d vulnerabilities put, want %d", src.Vulnerabilities, len(files))
	}

	f, _ := fetch.New(base, fetch.Options{})
	var ref memSink
	if err := New("Go", nil).Load(context.Background(), f, &ref); err != nil {
		t.Fatal(err)
	}
	db, err := vulndb.Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	checkRoundTrip(t, db, &ref)

	raw, _ := os.ReadFile(dbPath)
	enc, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedBetterCompression))
	compressed := len(enc.EncodeAll(raw, nil))
	t.Logf("Go vulndb: %d records, %d affected, build %s, db %d KiB, tar+zstd ≈ %d KiB, peak RSS %s",
		len(files), src.Affected, buildTime.Round(time.Millisecond), len(raw)/1024, compressed/1024, peakRSS())
}

// peakRSS reads the process's high-water resident set size (Linux).
func peakRSS() string {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	b, _ := io.ReadAll(f)
	for line := range bytes.Lines(b) {
		if s, ok := strings.CutPrefix(string(line), "VmHWM:"); ok {
			return strings.TrimSpace(s)
		}
	}
	return "unknown"
}
