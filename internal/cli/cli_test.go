package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/vigil-scanner/vigil/internal/testutil"
)

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func TestVersion(t *testing.T) {
	code, out, _ := run(t, "version")
	if code != 0 || !strings.Contains(out, "Version: dev") {
		t.Errorf("code %d, out %q", code, out)
	}
}

func TestFlagErrorsExitTwo(t *testing.T) {
	demo := filepath.Join(testutil.RepoRoot(t), "examples", "images", "demo-alpine-node.tar")
	for name, args := range map[string][]string{
		"exit code collides":  {"image", "--input", demo, "--exit-code", "2"},
		"unknown format":      {"image", "--input", demo, "--format", "yaml"},
		"unknown scanner":     {"image", "--input", demo, "--scanners", "secret"},
		"template without -t": {"image", "--input", demo, "--format", "template"},
		"no image":            {"image"},
		"missing archive":     {"image", "--input", filepath.Join(t.TempDir(), "absent.tar"), "--scanners", "none"},
		"offline without db":  {"image", "--input", demo, "--offline", "--cache-dir", t.TempDir()},
		"unknown source":      {"db", "build", "--sources", "nope", "--cache-dir", t.TempDir()},
		"bad mirror":          {"db", "build", "--sources", "alpine", "--mirror", "alpine", "--cache-dir", t.TempDir()},
		"unknown backend":     {"image", "--input", demo, "--scanners", "none", "--cache-backend", "redis://x"},
		"clean nothing":       {"clean"},
		"unknown sort":        {"image", "--input", demo, "--scanners", "none", "--sort", "cvss"},
		"epss above one":      {"image", "--input", demo, "--min-epss", "10", "--cache-dir", t.TempDir()},
		"epss not a number":   {"image", "--input", demo, "--min-epss-percentile", "high"},
	} {
		t.Run(name, func(t *testing.T) {
			code, _, stderr := run(t, args...)
			if code != ExitError || !strings.HasPrefix(stderr, "vigil: ") {
				t.Errorf("code %d, stderr %q", code, stderr)
			}
		})
	}
}

// TestQuickStart runs the README's quick start through Main: build the
// database from the bundled mirrors, scan the bundled image, gate on it.
func TestQuickStart(t *testing.T) {
	root := testutil.RepoRoot(t)
	cache := t.TempDir()
	t.Setenv("VIGIL_CACHE_DIR", cache) // for the scans without --cache-dir
	t.Chdir(root)
	if code, _, stderr := run(t, "db", "build", "--cache-dir", cache, "--sources", "alpine,osv:npm",
		"--mirror", "alpine=examples/feeds/alpine", "--mirror", "osv=examples/feeds/osv"); code != 0 {
		t.Fatalf("db build: %d %s", code, stderr)
	}
	img := filepath.Join("examples", "images", "demo-alpine-node.tar")
	code, out, stderr := run(t, "image", "--cache-dir", cache, "--offline", "--input", img, "--format", "json")
	if code != 0 {
		t.Fatalf("scan: %d %s", code, stderr)
	}
	for _, want := range []string{`"CVE-2024-0727"`, `"CVE-2021-23337"`, `"CVE-2021-44906"`, `"libssl3"`, `"createdBy": "COPY app/ /app/ # buildkit"`} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %s", want)
		}
	}
	code, _, _ = run(t, "image", "--cache-dir", cache, "--offline", "--input", img, "--exit-code", "1", "--ignore-unfixed", "--severity", "HIGH,CRITICAL")
	if code != 1 {
		t.Errorf("gate: exit %d, want 1", code)
	}
	code, _, _ = run(t, "image", "--cache-dir", cache, "--offline", "--input", img, "--exit-code", "1", "--severity", "LOW")
	if code != 0 {
		t.Errorf("gate on LOW: exit %d, want 0", code)
	}
	code, out, _ = run(t, "image", "--cache-dir", cache, "--offline", "--input", img, "--format", "json", "--pkg-types", "os")
	if code != 0 || strings.Contains(out, "CVE-2021-23337") || !strings.Contains(out, "CVE-2024-0727") {
		t.Errorf("--pkg-types os: exit %d, npm findings present or OS findings missing", code)
	}
	code, out, _ = run(t, "image", "--cache-dir", cache, "--offline", "--input", img, "--format", "json", "--skip-dirs", "app/node_modules/minimist")
	if code != 0 || strings.Contains(out, "CVE-2021-44906") || !strings.Contains(out, "CVE-2021-23337") {
		t.Errorf("--skip-dirs: exit %d, minimist present or lodash missing", code)
	}
	// The saved inventory matches again without the image.
	inv := filepath.Join(t.TempDir(), "inv.json")
	if code, _, stderr := run(t, "image", "--input", img, "--scanners", "none", "--format", "json", "-o", inv); code != 0 {
		t.Fatalf("inventory: %d %s", code, stderr)
	}
	if _, err := os.Stat(inv); err != nil {
		t.Fatal(err)
	}
	// Without a vulnerability scan the table lists packages and no
	// vulnerability count.
	code, out, stderr = run(t, "image", "--input", img, "--scanners", "none")
	if code != 0 || !strings.Contains(out, " packages\n") || strings.Contains(out, "CRITICAL") {
		t.Errorf("inventory table: %d %s\n%s", code, stderr, out)
	}
	code, out, stderr = run(t, "sbom", inv, "--cache-dir", cache, "--offline", "--format", "json")
	if code != 0 || !strings.Contains(out, `"CVE-2021-44906"`) || !strings.Contains(out, `"CVE-2024-0727"`) {
		t.Errorf("sbom: %d %s", code, stderr)
	}
}

// TestLayerCache scans an image twice with the layer cache, then without,
// and cleans the cache.
func TestLayerCache(t *testing.T) {
	img := filepath.Join(testutil.RepoRoot(t), "examples", "images", "demo-alpine-node.tar")
	cache := t.TempDir()
	layers := filepath.Join(cache, "layers")
	scan := func(args ...string) string {
		t.Helper()
		args = append([]string{"image", "--cache-dir", cache, "--input", img, "--scanners", "none", "--format", "json", "-d"}, args...)
		code, out, stderr := run(t, args...)
		if code != 0 {
			t.Fatalf("%v: %d %s", args, code, stderr)
		}
		// The report's creation time is the only thing allowed to differ.
		return regexp.MustCompile(`"createdAt": "[^"]*"`).ReplaceAllString(out, "")
	}
	cold := scan()
	entries, err := os.ReadDir(layers)
	if err != nil || len(entries) == 0 {
		t.Fatalf("no layer cache after a scan: %v", err)
	}
	if warm := scan(); warm != cold {
		t.Errorf("the warm scan's report differs:\n%s\nwant:\n%s", warm, cold)
	}
	if uncached := scan("--cache-backend", "memory"); uncached != cold {
		t.Errorf("the uncached scan's report differs")
	}
	if code, _, stderr := run(t, "clean", "--cache-dir", cache, "--scan-cache"); code != 0 {
		t.Fatalf("clean: %d %s", code, stderr)
	}
	if _, err := os.Stat(layers); err == nil {
		t.Error("clean --scan-cache left the layer cache")
	}
	scan("--cache-backend", "memory")
	if _, err := os.Stat(layers); err == nil {
		t.Error("--cache-backend memory wrote a layer cache")
	}
}
