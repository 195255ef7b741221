package e2e_test

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"debug/buildinfo"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/vigil-scanner/vigil/internal/cli"
	"github.com/vigil-scanner/vigil/internal/testutil"
)

// fixture is what TestMain prepares once per test binary: a database built
// from every fixture feed, and the images the tests scan.
type fixture struct {
	dir    string            // scratch directory
	cache  string            // --cache-dir holding the built database
	images map[string]string // image name → docker-save tarball
	// goStdlib is the stdlib version (v1.x.y) of the Go binary in the
	// alpine image, or "" when it could not be built (no module proxy).
	goStdlib string
	// vigil is the vigil command, built for the kill tests.
	vigil testutil.VigilBuild
}

var fx fixture

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "vigil-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	fx = fixture{dir: dir, cache: filepath.Join(dir, "cache"), images: map[string]string{}}
	if err := setup(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e setup:", err)
		return 1
	}
	return m.Run()
}

// sources is every source the fixture database is built from.
const sources = "alpine,debian,redhat,osv:npm,osv:PyPI,osv:Maven,osv:Go,nvd,epss,kev"

func setup() error {
	feeds, err := filepath.Abs("testdata/feeds")
	if err != nil {
		return err
	}
	osvDir := filepath.Join(fx.dir, "osv")
	for _, eco := range []string{"npm", "PyPI", "Maven", "Go"} {
		if err := writeOSVZip(filepath.Join("testdata/osv-records", eco), filepath.Join(osvDir, eco, "all.zip")); err != nil {
			return err
		}
	}
	epssDir := filepath.Join(fx.dir, "epss")
	if err := writeGzip(filepath.Join(epssDir, "epss_scores-current.csv.gz"), epssCSV); err != nil {
		return err
	}
	args := []string{"db", "build", "--quiet", "--cache-dir", fx.cache, "--sources", sources,
		"--mirror", "alpine=" + filepath.Join(feeds, "alpine"),
		"--mirror", "debian=" + filepath.Join(feeds, "debian"),
		"--mirror", "redhat=" + filepath.Join(feeds, "redhat"),
		"--mirror", "nvd=" + filepath.Join(feeds, "nvd"),
		"--mirror", "kev=" + filepath.Join(feeds, "kev"),
		"--mirror", "osv=" + osvDir,
		"--mirror", "epss=" + epssDir,
	}
	var stdout, stderr bytes.Buffer
	if code := cli.Main(context.Background(), args, nil, &stdout, &stderr); code != 0 {
		return fmt.Errorf("vigil %s: exit %d\n%s%s", strings.Join(args, " "), code, stdout.String(), stderr.String())
	}
	rpmdb, err := os.ReadFile("../../catalog/rpm/testdata/rpmdb.sqlite")
	if err != nil {
		return err
	}
	jar, err := zipOf(map[string]string{
		"META-INF/MANIFEST.MF": "Manifest-Version: 1.0\r\nImplementation-Title: Apache Log4j Core\r\nImplementation-Version: 2.14.1\r\n\r\n",
		"META-INF/maven/org.apache.logging.log4j/log4j-core/pom.properties": "groupId=org.apache.logging.log4j\nartifactId=log4j-core\nversion=2.14.1\n",
	})
	if err != nil {
		return err
	}
	appLayer := []file{
		{"app/node_modules/lodash/package.json", `{"name": "lodash", "version": "4.17.20", "license": "MIT"}`},
		{"usr/lib/python3.11/site-packages/requests-2.30.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: requests\nVersion: 2.30.0\nLicense: Apache 2.0\n\nRequests.\n"},
		{"opt/app/lib/log4j-core-2.14.1.jar", string(jar)},
	}
	if bin, stdlib, err := buildGoApp(filepath.Join(fx.dir, "goapp")); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: the alpine image has no Go binary: %v\n", err)
	} else {
		appLayer = append(appLayer, file{"usr/local/bin/goapp", string(bin)})
		fx.goStdlib = stdlib
		alpineFindings = append(alpineFindings, goFindings...)
		alpinePackages = append(alpinePackages, "gobinary: golang.org/x/text v0.3.5", "gobinary: stdlib "+stdlib)
		slices.Sort(alpinePackages)
	}
	images := map[string][][]file{
		"alpine": {
			{
				{"etc/os-release", alpineOSRelease},
				{"etc/alpine-release", "3.19.1\n"},
				{"lib/apk/db/installed", apkInstalled},
			},
			appLayer,
		},
		"debian": {{
			{"etc/os-release", debianOSRelease},
			{"etc/debian_version", "12.5\n"},
			{"var/lib/dpkg/status", dpkgStatus},
		}},
		// An unstable image: os-release has no VERSION_ID and
		// debian_version names the testing codename with "/sid".
		"debian-sid": {{
			{"etc/os-release", debianSidOSRelease},
			{"etc/debian_version", "trixie/sid\n"},
			{"var/lib/dpkg/status", dpkgStatusSid},
		}},
		"rhel": {{
			{"etc/os-release", rhelOSRelease},
			{"etc/redhat-release", "Red Hat Enterprise Linux release 9.2 (Plow)\n"},
			{"var/lib/rpm/rpmdb.sqlite", string(rpmdb)},
		}},
	}
	for img, layers := range images {
		path := filepath.Join(fx.dir, "images", img+".tar")
		if err := writeImage(path, "example.com/e2e/"+img+":1", layers); err != nil {
			return fmt.Errorf("image %s: %w", img, err)
		}
		fx.images[img] = path
	}
	return nil
}

// file is a regular file of a layer; one whose body is an ELF executable
// gets mode 0755, the others 0644.
type file struct{ path, body string }

// goAppMain calls the function of golang.org/x/text that GO-2021-0113
// names, so the finding is reachable.
const goAppMain = `package main

import (
	"fmt"
	"os"

	"golang.org/x/text/language"
)

func main() {
	tag, err := language.Parse(os.Args[len(os.Args)-1])
	fmt.Println(tag, err)
}
`

// buildGoApp builds, in dir, a linux/amd64 Go binary requiring
// golang.org/x/text v0.3.5 (fetched through the Go module proxy) and
// returns it with the stdlib version vigil reports for it.
func buildGoApp(dir string) (bin []byte, stdlib string, err error) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		return nil, "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, "", err
	}
	gomod := "module example.com/e2e/goapp\n\ngo 1.22\n\nrequire golang.org/x/text v0.3.5\n"
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644); err != nil {
		return nil, "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(goAppMain), 0o644); err != nil {
		return nil, "", err
	}
	out := filepath.Join(dir, "goapp")
	cmd := exec.Command(gobin, "build", "-trimpath", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod -buildvcs=false", "CGO_ENABLED=0",
		"GOTOOLCHAIN=local", "GOOS=linux", "GOARCH=amd64")
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, "", fmt.Errorf("go build: %v\n%s", err, b)
	}
	info, err := buildinfo.ReadFile(out)
	if err != nil {
		return nil, "", err
	}
	// go1.26.8 → v1.26.8, go1.26 → v1.26.0 (release toolchains only).
	v, _, _ := strings.Cut(strings.TrimPrefix(info.GoVersion, "go"), " ")
	if strings.Count(v, ".") == 1 {
		v += ".0"
	}
	bin, err = os.ReadFile(out)
	return bin, "v" + v, err
}

var epoch = time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)

// writeImage writes a docker-save tarball of an image made of layers,
// base first.
func writeImage(path, ref string, layers [][]file) error {
	img := empty.Image
	for _, files := range layers {
		b, err := tarOf(files)
		if err != nil {
			return err
		}
		l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
		if err != nil {
			return err
		}
		img, err = mutate.Append(img, mutate.Addendum{Layer: l, History: v1.History{CreatedBy: fmt.Sprintf("COPY layer %d", len(files)), Created: v1.Time{Time: epoch}}})
		if err != nil {
			return err
		}
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = "linux", "amd64"
	if img, err = mutate.ConfigFile(img, cfg); err != nil {
		return err
	}
	tag, err := name.NewTag(ref)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return tarball.WriteToFile(path, tag, img)
}

func tarOf(files []file) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := map[string]bool{}
	for _, f := range files {
		for d := filepath.Dir(f.path); d != "." && !dirs[d]; d = filepath.Dir(d) {
			dirs[d] = true
		}
	}
	for _, d := range slices.Sorted(maps.Keys(dirs)) {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: 0o755, ModTime: epoch}); err != nil {
			return nil, err
		}
	}
	for _, f := range files {
		mode := int64(0o644)
		if strings.HasPrefix(f.body, "\x7fELF") {
			mode = 0o755
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: f.path, Mode: mode, Size: int64(len(f.body)), ModTime: epoch}); err != nil {
			return nil, err
		}
		if _, err := io.WriteString(tw, f.body); err != nil {
			return nil, err
		}
	}
	err := tw.Close()
	return buf.Bytes(), err
}

func zipOf(entries map[string]string) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	names := make([]string, 0, len(entries))
	for n := range entries {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		w, err := zw.Create(n)
		if err != nil {
			return nil, err
		}
		if _, err := io.WriteString(w, entries[n]); err != nil {
			return nil, err
		}
	}
	err := zw.Close()
	return buf.Bytes(), err
}

// writeOSVZip zips the JSON records of dir into out, as osv.dev's
// <ECOSYSTEM>/all.zip holds them: one record per entry, named by id.
func writeOSVZip(dir, out string) error {
	names, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return err
	}
	entries := map[string]string{}
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			return err
		}
		entries[filepath.Base(n)] = string(b)
	}
	b, err := zipOf(entries)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	return os.WriteFile(out, b, 0o644)
}

func writeGzip(path, body string) error {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := io.WriteString(zw, body); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// vigil runs the CLI with args and returns its exit code and outputs.
func vigil(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = cli.Main(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

// scanImage runs `vigil image` on a fixture image against the fixture
// database, offline, with extra flags, and checks the exit code.
func scanImage(t *testing.T, img string, wantCode int, extra ...string) string {
	t.Helper()
	args := append([]string{"image", "--input", fx.images[img], "--cache-dir", fx.cache, "--offline", "--quiet"}, extra...)
	code, stdout, stderr := vigil(t, args...)
	if code != wantCode {
		t.Fatalf("vigil %s: exit %d, want %d\nstderr:\n%s", strings.Join(args, " "), code, wantCode, stderr)
	}
	return stdout
}

// jsonReport is the part of vigil's JSON report the tests read, as an
// outside consumer would read it.
type jsonReport struct {
	Artifact struct {
		OS *struct {
			Family string `json:"family"`
			Name   string `json:"name"`
			EOSL   bool   `json:"eosl"`
		} `json:"os"`
	} `json:"artifact"`
	Results []struct {
		Target   string `json:"target"`
		Class    string `json:"class"`
		Type     string `json:"type"`
		Packages []struct {
			Name    string `json:"name"`
			Version string `json:"version"`
		} `json:"packages"`
		Vulnerabilities []struct {
			ID             string                   `json:"id"`
			PkgName        string                   `json:"pkgName"`
			Installed      string                   `json:"installedVersion"`
			FixedVersion   string                   `json:"fixedVersion"`
			Status         string                   `json:"status"`
			Severity       string                   `json:"severity"`
			SeveritySource string                   `json:"severitySource"`
			EPSS           *struct{ Score float64 } `json:"epss"`
			KEV            json.RawMessage          `json:"kev"`
			Reachability   string                   `json:"reachability"`
			Suppressed     *struct {
				Kind string `json:"kind"`
			} `json:"suppressed"`
		} `json:"vulnerabilities"`
	} `json:"results"`
}

func parseReport(t *testing.T, out string) jsonReport {
	t.Helper()
	var r jsonReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, out)
	}
	return r
}

// findings returns the report's findings, one line each: "id package
// installed fixed=… status severity/source", sorted; suppressed findings
// are prefixed with "suppressed(kind) ".
func findings(t *testing.T, out string) []string {
	t.Helper()
	var rows []string
	for _, res := range parseReport(t, out).Results {
		for _, v := range res.Vulnerabilities {
			row := fmt.Sprintf("%s %s %s fixed=%s %s %s/%s", v.ID, v.PkgName, v.Installed, v.FixedVersion, v.Status, v.Severity, v.SeveritySource)
			if v.Suppressed != nil {
				row = "suppressed(" + v.Suppressed.Kind + ") " + row
			}
			rows = append(rows, row)
		}
	}
	sort.Strings(rows)
	return rows
}

func assertRows(t *testing.T, got, want []string) {
	t.Helper()
	want = slices.Clone(want)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Errorf("findings:\n got:\n  %s\n want:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
