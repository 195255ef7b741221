package cli

import (
	"bytes"
	"context"
	"encoding/json"
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

// TestFlagErrorsExitTwo checks that every bad flag value fails before any
// work, with a message that says what is wanted.
func TestFlagErrorsExitTwo(t *testing.T) {
	demo := filepath.Join(testutil.RepoRoot(t), "examples", "images", "demo-alpine-node.tar")
	// No database exists in an empty cache dir: a flag error must come
	// first, not "no database".
	empty := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		want string // in the message
	}{
		{"exit code collides", []string{"image", "--input", demo, "--exit-code", "2"}, "cannot be 2"},
		{"unknown format", []string{"image", "--input", demo, "--format", "yaml"}, `--format "yaml": want one of table, json, sarif, cyclonedx, spdx-json, junit, template`},
		{"unknown scanner", []string{"image", "--input", demo, "--scanners", "secret"}, `--scanners "secret": want vuln or none`},
		{"unknown severity", []string{"image", "--input", demo, "--cache-dir", empty, "--severity", "HIHG"}, `unknown severity "HIHG" (want CRITICAL, HIGH, MEDIUM, LOW, UNKNOWN)`},
		{"unknown status", []string{"image", "--input", demo, "--cache-dir", empty, "--ignore-status", "fixd"}, `unknown status "fixd" (want fixed, affected, will_not_fix, end_of_life)`},
		{"unknown status, fs", []string{"fs", ".", "--cache-dir", empty, "--ignore-status", "fixed,wontfix"}, `unknown status "wontfix"`},
		{"unknown package type", []string{"image", "--input", demo, "--pkg-types", "libary"}, `package type "libary": want os or library`},
		{"bad skip pattern", []string{"image", "--input", demo, "--skip-dirs", "a["}, `pattern "a["`},
		{"unknown image source", []string{"image", "--input", demo, "--scanners", "none", "--image-src", "dockr"}, `unknown image source "dockr" (want docker, podman, remote)`},
		{"bad platform", []string{"image", "--input", demo, "--scanners", "none", "--platform", "linux/amd64/v3/x"}, "platform"},
		{"template without -t", []string{"image", "--input", demo, "--format", "template"}, "needs --template"},
		{"no image", []string{"image"}, "name an image"},
		{"missing archive", []string{"image", "--input", filepath.Join(t.TempDir(), "absent.tar"), "--scanners", "none"}, "absent.tar"},
		{"offline without db", []string{"image", "--input", demo, "--offline", "--cache-dir", t.TempDir()}, "vigil db build"},
		{"unknown source", []string{"db", "build", "--sources", "nope", "--cache-dir", t.TempDir()}, "nope"},
		{"bad mirror", []string{"db", "build", "--sources", "alpine", "--mirror", "alpine", "--cache-dir", t.TempDir()}, "alpine"},
		{"db status format", []string{"db", "status", "--format", "yaml", "--cache-dir", empty}, `--format "yaml": want table or json`},
		{"unknown backend", []string{"image", "--input", demo, "--scanners", "none", "--cache-backend", "redis://x"}, `--cache-backend "redis://x": want fs or memory`},
		{"watch severity", []string{"watch", "--registry", "localhost:1", "--cache-dir", empty, "--severity", "SEVERE"}, `unknown severity "SEVERE"`},
		{"clean nothing", []string{"clean"}, ""},
		{"unknown sort", []string{"image", "--input", demo, "--scanners", "none", "--sort", "cvss"}, `--sort "cvss": want one of`},
		{"epss above one", []string{"image", "--input", demo, "--min-epss", "10", "--cache-dir", empty}, "minimum EPSS 10: want a number from 0 to 1"},
		{"epss not a number", []string{"image", "--input", demo, "--min-epss-percentile", "high"}, `invalid argument "high"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := run(t, tc.args...)
			if code != ExitError || !strings.HasPrefix(stderr, "vigil: ") || !strings.Contains(stderr, tc.want) {
				t.Errorf("code %d, stderr %q; want %d and a message with %q", code, stderr, ExitError, tc.want)
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

// TestIncludeDevDeps: `vigil fs` leaves development dependencies out of
// the report unless --include-dev-deps, and keeps the project's root
// either way (here a yarn workspace whose root needs lint and tool in
// development only).
func TestIncludeDevDeps(t *testing.T) {
	dir := filepath.Join("..", "..", "catalog", "node", "testdata", "yarnws")
	ids := func(args ...string) map[string]bool {
		t.Helper()
		code, out, stderr := run(t, append([]string{"fs", "--offline", "--scanners", "none", "--format", "json", dir}, args...)...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		var rep struct {
			Results []struct {
				Packages []struct {
					ID   string `json:"id"`
					Root bool   `json:"root"`
					Dev  bool   `json:"dev"`
				} `json:"packages"`
			} `json:"results"`
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for _, r := range rep.Results {
			for _, p := range r.Packages {
				got[p.ID] = p.Dev
			}
		}
		return got
	}
	def := ids()
	if _, ok := def["lint@1.2.0"]; ok {
		t.Errorf("dev dependency reported by default: %v", def)
	}
	if _, ok := def["mono"]; !ok || len(def) != 6 {
		t.Errorf("default report: %v", def)
	}
	all := ids("--include-dev-deps")
	if !all["lint@1.2.0"] || !all["tool@5.0.1"] || len(all) != 8 {
		t.Errorf("--include-dev-deps report: %v", all)
	}
}
