package e2e_test

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	ggcrremote "github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/vigil-scanner/vigil/internal/testutil/regtest"
)

// step is one history entry of an image built in a test: a layer of files,
// or an empty-layer instruction (files nil).
type step struct {
	createdBy, comment string
	files              []file
}

const buildKit = "buildkit.dockerfile.v0"

// buildImage returns the image made of steps on top of from (nil: from
// scratch), with its history, as a builder would write it.
func buildImage(t *testing.T, from v1.Image, steps ...step) v1.Image {
	t.Helper()
	img := from
	if img == nil {
		img = empty.Image
	}
	for _, s := range steps {
		h := v1.History{CreatedBy: s.createdBy, Comment: s.comment, Created: v1.Time{Time: epoch}}
		if s.files == nil {
			h.EmptyLayer = true
			cfg, err := img.ConfigFile()
			if err != nil {
				t.Fatal(err)
			}
			cfg = cfg.DeepCopy()
			cfg.History = append(cfg.History, h)
			if img, err = mutate.ConfigFile(img, cfg); err != nil {
				t.Fatal(err)
			}
			continue
		}
		b, err := tarOf(s.files)
		if err != nil {
			t.Fatal(err)
		}
		l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
		if err != nil {
			t.Fatal(err)
		}
		if img, err = mutate.Append(img, mutate.Addendum{Layer: l, History: h}); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = "linux", "amd64"
	if img, err = mutate.ConfigFile(img, cfg); err != nil {
		t.Fatal(err)
	}
	return img
}

// saveTar writes img as a docker-save archive tagged ref.
func saveTar(t *testing.T, img v1.Image, ref, path string) string {
	t.Helper()
	tag, err := name.NewTag(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := tarball.WriteToFile(path, tag, img); err != nil {
		t.Fatal(err)
	}
	return path
}

// saveLayout writes img as an OCI layout (which keeps manifest
// annotations).
func saveLayout(t *testing.T, img v1.Image, dir string) string {
	t.Helper()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	return dir
}

// debianStatus is a dpkg status database of base-files, libssl3 (source
// openssl), libfoo1 (a binNMU of foo), and what extra holds.
func debianStatus(libssl, libfoo string, extra ...string) string {
	s := "Package: base-files\nStatus: install ok installed\nArchitecture: amd64\nVersion: 12.4+deb12u5\n\n" +
		"Package: libssl3\nStatus: install ok installed\nArchitecture: amd64\nSource: openssl\nVersion: " + libssl + "\n"
	if libfoo != "" {
		src := strings.TrimSuffix(libfoo, "+b1")
		s += "\nPackage: libfoo1\nStatus: install ok installed\nArchitecture: amd64\nSource: foo (" + src + ")\nVersion: " + libfoo + "\n"
	}
	for _, e := range extra {
		s += "\n" + e
	}
	return s
}

// The packages the application's Dockerfile installs.
const (
	libbarEntry = "Package: libbar2\nStatus: install ok installed\nArchitecture: amd64\nSource: bar\nVersion: 1:2.0-1\n"
	cppEntry    = "Package: cpp\nStatus: install ok installed\nArchitecture: amd64\nSource: gcc-defaults (1.203)\nVersion: 4:12.2.0-3\n"
)

// debianBase is an official-style Debian image: one rootfs layer made by
// debuerreotype, then CMD ["bash"].
func debianBase(t *testing.T, point, libssl, libfoo string) v1.Image {
	return buildImage(t, nil,
		step{createdBy: "# debian.sh --arch 'amd64' out/ 'bookworm' '@1709251200'", comment: "debuerreotype 0.15", files: []file{
			{"etc/os-release", debianOSRelease},
			{"etc/debian_version", point + "\n"},
			{"var/lib/dpkg/status", debianStatus(libssl, libfoo)},
		}},
		step{createdBy: `CMD ["bash"]`, comment: buildKit},
	)
}

// appSteps is the application's Dockerfile on a base whose dpkg database
// is baseStatus: apt-get install of libbar2 and cpp, then the Node.js app.
func appSteps(baseStatus string) []step {
	return []step{
		{createdBy: "RUN /bin/sh -c apt-get update && apt-get install -y libbar2 cpp # buildkit", comment: buildKit, files: []file{
			{"var/lib/dpkg/status", baseStatus + "\n" + libbarEntry + "\n" + cppEntry},
		}},
		{createdBy: "COPY app /app # buildkit", comment: buildKit, files: []file{
			{"app/node_modules/lodash/package.json", `{"name": "lodash", "version": "4.17.20", "license": "MIT"}`},
		}},
		{createdBy: `CMD ["node", "/app"]`, comment: buildKit},
	}
}

// baseImages are the images of the base-image tests, built once.
type baseImages struct {
	dir string
	// debian125 and debian126 are docker-save archives of the bases.
	debian125, debian126 string
	// annotated is an OCI layout of the app on debian 12.5 whose manifest
	// names its base; plain is the same image saved by docker (no
	// annotations); squashed has a history that tells nothing; multi is a
	// multi-stage build; rebuilt is the app rebuilt on debian 12.6.
	annotated, plain, squashed, multi, rebuilt string
	// base125 and base126 are the bases as images; digest125 is the
	// manifest digest of debian:12.5.
	base125, base126 v1.Image
	digest125        string
}

var (
	baseOnce sync.Once
	baseFx   baseImages
)

func baseFixture(t *testing.T) *baseImages {
	t.Helper()
	baseOnce.Do(func() {
		dir := filepath.Join(fx.dir, "base")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		b := baseImages{dir: dir}
		b.base125 = debianBase(t, "12.5", "3.0.11-1~deb12u1", "1.2-3+b1")
		b.base126 = debianBase(t, "12.6", "3.0.11-1~deb12u2", "1.2-4")
		d, err := b.base125.Digest()
		if err != nil {
			t.Fatal(err)
		}
		b.digest125 = d.String()
		b.debian125 = saveTar(t, b.base125, "debian:12.5", filepath.Join(dir, "debian-12.5.tar"))
		b.debian126 = saveTar(t, b.base126, "debian:12.6", filepath.Join(dir, "debian-12.6.tar"))

		app := buildImage(t, b.base125, appSteps(debianStatus("3.0.11-1~deb12u1", "1.2-3+b1"))...)
		b.plain = saveTar(t, app, "example.com/app:1", filepath.Join(dir, "app.tar"))
		annotated := mutate.Annotations(app, map[string]string{
			"org.opencontainers.image.base.name":   "docker.io/library/debian:12.5",
			"org.opencontainers.image.base.digest": b.digest125,
		}).(v1.Image)
		b.annotated = saveLayout(t, annotated, filepath.Join(dir, "app-annotated"))

		// The same layers with a history rewritten by a tool that
		// keeps no instructions.
		cfg, err := app.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		cfg = cfg.DeepCopy()
		cfg.History = nil
		for range cfg.RootFS.DiffIDs {
			cfg.History = append(cfg.History, v1.History{CreatedBy: "squash", Created: v1.Time{Time: epoch}})
		}
		squashed, err := mutate.ConfigFile(app, cfg)
		if err != nil {
			t.Fatal(err)
		}
		b.squashed = saveTar(t, squashed, "example.com/app:squashed", filepath.Join(dir, "app-squashed.tar"))

		// FROM node AS builder … FROM debian:12.5; COPY --from=builder.
		multi := buildImage(t, b.base125,
			step{createdBy: "COPY /src/node_modules /app/node_modules # buildkit", comment: buildKit, files: []file{
				{"app/node_modules/lodash/package.json", `{"name": "lodash", "version": "4.17.20", "license": "MIT"}`},
			}},
			step{createdBy: `ENTRYPOINT ["node", "/app"]`, comment: buildKit},
		)
		b.multi = saveTar(t, multi, "example.com/app:multi", filepath.Join(dir, "app-multi.tar"))

		rebuilt := buildImage(t, b.base126, appSteps(debianStatus("3.0.11-1~deb12u2", "1.2-4"))...)
		b.rebuilt = saveTar(t, rebuilt, "example.com/app:2", filepath.Join(dir, "app-rebuilt.tar"))
		baseFx = b
	})
	if baseFx.dir == "" {
		t.Fatal("base image fixture not built")
	}
	return &baseFx
}

// baseReport is the part of the JSON report the base-image tests read.
type baseReport struct {
	Artifact struct {
		Base *struct {
			Name         string   `json:"name"`
			Digest       string   `json:"digest"`
			Layers       int      `json:"layers"`
			IdentifiedBy []string `json:"identifiedBy"`
		} `json:"base"`
	} `json:"artifact"`
	Results []struct {
		Vulnerabilities []struct {
			ID      string `json:"id"`
			PkgName string `json:"pkgName"`
			Layer   struct {
				CreatedBy string `json:"createdBy"`
				Base      bool   `json:"base"`
			} `json:"layer"`
		} `json:"vulnerabilities"`
	} `json:"results"`
	FixPlan []struct {
		Package          string         `json:"package"`
		InstalledVersion string         `json:"installedVersion"`
		FixedVersion     string         `json:"fixedVersion"`
		Findings         []string       `json:"findings"`
		Base             bool           `json:"base"`
		Severities       map[string]int `json:"severities"`
		RiskRemoved      float64        `json:"riskRemoved"`
	} `json:"fixPlan"`
}

// origins lists "id package base|own: createdBy" for every finding, sorted.
func origins(t *testing.T, out string) []string {
	t.Helper()
	var r baseReport
	mustJSON(t, out, &r)
	var rows []string
	for _, res := range r.Results {
		for _, v := range res.Vulnerabilities {
			o := "own"
			if v.Layer.Base {
				o = "base"
			}
			rows = append(rows, v.ID+" "+v.PkgName+" "+o+": "+v.Layer.CreatedBy)
		}
	}
	slices.Sort(rows)
	return rows
}

const (
	debianLayer = "base: # debian.sh --arch 'amd64' out/ 'bookworm' '@1709251200'"
	aptLayer    = "own: RUN /bin/sh -c apt-get update && apt-get install -y libbar2 cpp # buildkit"
	copyLayer   = "own: COPY app /app # buildkit"
)

// appOrigins are the app's findings on debian 12.5, with the layer each
// came from.
var appOrigins = []string{
	"CVE-2021-23337 lodash " + copyLayer,
	"CVE-2024-1001 libssl3 " + debianLayer,
	"CVE-2024-1002 libssl3 " + debianLayer,
	"CVE-2024-1003 libssl3 " + debianLayer,
	"CVE-2024-1010 libfoo1 " + debianLayer,
	"CVE-2024-1020 cpp " + aptLayer,
	"CVE-2024-1030 libbar2 " + aptLayer,
}

func scanInput(t *testing.T, input string, wantCode int, extra ...string) string {
	t.Helper()
	args := append([]string{"image", "--input", input, "--cache-dir", fx.cache, "--offline", "--quiet"}, extra...)
	code, stdout, stderr := vigil(t, args...)
	if code != wantCode {
		t.Fatalf("vigil %s: exit %d, want %d\nstderr:\n%s", strings.Join(args, " "), code, wantCode, stderr)
	}
	return stdout
}

func TestBaseImageAttribution(t *testing.T) {
	b := baseFixture(t)
	// Saved inventories of the bases, as --base-images DIR reads them.
	known := filepath.Join(t.TempDir(), "bases")
	if err := os.MkdirAll(known, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{b.debian125, b.debian126} {
		out := filepath.Join(known, strings.TrimSuffix(filepath.Base(p), ".tar")+".json")
		scanInput(t, p, 0, "--format", "json", "--list-all-pkgs", "--output", out)
	}

	type base struct {
		name, digest string
		layers       int
		by           []string
	}
	tests := []struct {
		name  string
		input string
		args  []string
		base  *base
		rows  []string
	}{
		{"annotations, history counts the layers", b.annotated, nil,
			&base{"docker.io/library/debian:12.5", b.digest125, 1, []string{"annotation", "history"}}, appOrigins},
		{"history alone", b.plain, nil, &base{"", "", 1, []string{"history"}}, appOrigins},
		{"known base images name it", b.plain, []string{"--base-images", known},
			&base{"debian:12.5", "", 1, []string{"layers"}}, appOrigins},
		{"squashed history: only known images tell", b.squashed, []string{"--base-images", known},
			&base{"debian:12.5", "", 1, []string{"layers"}}, squashedOrigins()},
		{"squashed history, nothing known", b.squashed, nil, nil, nil},
		{"multi-stage: COPY --from is the image's own", b.multi, nil, &base{"", "", 1, []string{"history"}}, []string{
			"CVE-2021-23337 lodash own: COPY /src/node_modules /app/node_modules # buildkit",
			"CVE-2024-1001 libssl3 " + debianLayer,
			"CVE-2024-1002 libssl3 " + debianLayer,
			"CVE-2024-1003 libssl3 " + debianLayer,
			"CVE-2024-1010 libfoo1 " + debianLayer,
		}},
		{"rebuilt on debian 12.6", b.rebuilt, []string{"--base-images", known},
			&base{"debian:12.6", "", 1, []string{"layers"}}, []string{
				"CVE-2021-23337 lodash " + copyLayer,
				"CVE-2024-1002 libssl3 " + debianLayer,
				"CVE-2024-1003 libssl3 " + debianLayer,
				"CVE-2024-1020 cpp " + aptLayer,
				"CVE-2024-1030 libbar2 " + aptLayer,
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := scanInput(t, tt.input, 0, append([]string{"--format", "json"}, tt.args...)...)
			var r baseReport
			mustJSON(t, out, &r)
			switch got := r.Artifact.Base; {
			case tt.base == nil && got != nil:
				t.Errorf("base = %+v, want none", got)
			case tt.base != nil && got == nil:
				t.Errorf("no base, want %+v", tt.base)
			case tt.base != nil:
				if got.Name != tt.base.name || got.Digest != tt.base.digest || got.Layers != tt.base.layers || !slices.Equal(got.IdentifiedBy, tt.base.by) {
					t.Errorf("base = %+v, want %+v", got, tt.base)
				}
			}
			if tt.rows != nil {
				if got := origins(t, out); !slices.Equal(got, tt.rows) {
					t.Errorf("findings:\n got  %s\n want %s", strings.Join(got, "\n      "), strings.Join(tt.rows, "\n      "))
				}
			}
		})
	}
}

// squashedOrigins are appOrigins with the squashed image's history.
func squashedOrigins() []string {
	out := make([]string, len(appOrigins))
	for i, r := range appOrigins {
		id, _, _ := strings.Cut(r, ": ")
		out[i] = id + ": squash"
	}
	return out
}

func TestExcludeBaseGate(t *testing.T) {
	b := baseFixture(t)
	ignore := writeFile(t, "own.vigilignore", "CVE-2021-23337 # templates are not user input\nCVE-2024-1030\n")
	own := []string{
		"CVE-2021-23337 lodash 4.17.20 fixed=4.17.21 fixed HIGH/ghsa",
		"CVE-2024-1020 cpp 4:12.2.0-3 fixed=1.204 fixed MEDIUM/debian",
		"CVE-2024-1030 libbar2 1:2.0-1 fixed=1:2.0-2 fixed HIGH/debian",
	}
	base := []string{
		"CVE-2024-1001 libssl3 3.0.11-1~deb12u1 fixed=3.0.11-1~deb12u2 fixed HIGH/nvd",
		"CVE-2024-1002 libssl3 3.0.11-1~deb12u1 fixed= affected LOW/debian",
		"CVE-2024-1003 libssl3 3.0.11-1~deb12u1 fixed= will_not_fix LOW/debian",
		"CVE-2024-1010 libfoo1 1.2-3+b1 fixed=1.2-4 fixed MEDIUM/debian",
	}
	tests := []struct {
		name  string
		input string
		args  []string
		code  int
		want  []string
	}{
		{"everything", b.plain, []string{"--exit-code", "1"}, 1, append(slices.Clone(own), base...)},
		{"exclude base", b.plain, []string{"--exclude-base", "--exit-code", "1"}, 1, own},
		{"exclude base, annotated", b.annotated, []string{"--exclude-base", "--exit-code", "1"}, 1, own},
		{"exclude base, high", b.plain, []string{"--exclude-base", "--severity", "HIGH", "--exit-code", "1"}, 1, only(own, "HIGH")},
		{"base only has the fixable HIGH", b.plain, []string{"--severity", "HIGH", "--ignore-unfixed", "--exit-code", "1"}, 1,
			append(only(own, "HIGH"), only(base, "HIGH")...)},
		{"exclude base, kev: none", b.plain, []string{"--exclude-base", "--kev", "--exit-code", "1"}, 0, nil},
		{"exclude base, likely exploited", b.plain, []string{"--exclude-base", "--min-epss", "0.01", "--exit-code", "1"}, 1, only(own, "lodash")},
		{"exclude base, kev or likely, fixable", b.plain, []string{"--exclude-base", "--kev", "--min-epss", "0.01", "--ignore-unfixed", "--exit-code", "1"}, 1, only(own, "lodash")},
		{"exclude base, percentile", b.plain, []string{"--exclude-base", "--min-epss-percentile", "0.9", "--exit-code", "1"}, 0, nil},
		{"exclude base, ignore file", b.plain, []string{"--exclude-base", "--ignorefile", ignore, "--exit-code", "1"}, 1,
			suppressed("ignorefile", own, "lodash", "libbar2")},
		{"exclude base, ignore file, high", b.plain, []string{"--exclude-base", "--ignorefile", ignore, "--severity", "HIGH", "--exit-code", "1"}, 0,
			suppressed("ignorefile", only(own, "HIGH"), "lodash", "libbar2")},
		{"exclude base, squashed: nothing is known as base", b.squashed, []string{"--exclude-base", "--exit-code", "1"}, 1, append(slices.Clone(own), base...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := scanInput(t, tt.input, tt.code, append([]string{"--format", "json"}, tt.args...)...)
			assertRows(t, findings(t, out), tt.want)
		})
	}

	// A baseline of the base's findings, and the own ones still gate.
	bl := filepath.Join(t.TempDir(), "baseline.json")
	scanInput(t, b.plain, 0, "--format", "json", "--output", bl, "--severity", "LOW,MEDIUM")
	out := scanInput(t, b.plain, 1, "--format", "json", "--baseline", bl, "--exclude-base", "--exit-code", "1")
	assertRows(t, findings(t, out), only(own, "HIGH"))

	// Without a known base, --exclude-base says so.
	code, _, stderr := vigil(t, "image", "--input", b.squashed, "--cache-dir", fx.cache, "--offline", "--exclude-base")
	if code != 0 || !strings.Contains(stderr, "no base image layers were identified") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

func TestBaseImageTable(t *testing.T) {
	b := baseFixture(t)
	out := scanInput(t, b.annotated, 0)
	for _, want := range []string{
		"base image docker.io/library/debian:12.5 (1 layer; identified by annotation, history): 4 (CRITICAL: 0, HIGH: 1, MEDIUM: 1, LOW: 2, UNKNOWN: 0)\n",
		"7 findings: 0 known-exploited, 0 with EPSS ≥ 10 %, 5 fixable; 4 in the base image\n",
		"Highest risk (5 of 7 findings)",
		"Top fix: upgrade ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	// Own findings come before the base image's group.
	if i, j := strings.Index(out, "libbar2"), strings.Index(out, "base image docker.io"); i < 0 || j < 0 || i > j {
		t.Errorf("own findings are not listed before the base image's:\n%s", out)
	}
}

func TestFixPlanOnImage(t *testing.T) {
	b := baseFixture(t)
	var r baseReport
	mustJSON(t, scanInput(t, b.plain, 0, "--format", "json"), &r)
	var got []string
	for _, f := range r.FixPlan {
		row := fmt.Sprintf("%s %s → %s %s %.1f", f.Package, f.InstalledVersion, f.FixedVersion, strings.Join(f.Findings, ","), f.RiskRemoved)
		if f.Base {
			row += " (base)"
		}
		got = append(got, row)
	}
	// Hand-checked. Versions are the source packages' (gcc-defaults 1.203
	// → 1.204, foo 1.2-3 → 1.2-4); CVE-2024-1002 and -1003 have no fix.
	// Risk removed (docs/matching.md): lodash HIGH by GHSA without a score
	// (24) + EPSS 0.01234 (10.9) + fix (5) = 39.9; libbar2 HIGH by Debian
	// 24 + 5 = 29; libssl3 HIGH by NVD, CVSS 7.5: 22.5 + 5 = 27.5; foo and
	// gcc-defaults MEDIUM by Debian 16.5 + 5 = 21.5 each, then by name.
	want := []string{
		"lodash 4.17.20 → 4.17.21 CVE-2021-23337 39.9",
		"bar 1:2.0-1 → 1:2.0-2 CVE-2024-1030 29.0",
		"openssl 3.0.11-1~deb12u1 → 3.0.11-1~deb12u2 CVE-2024-1001 27.5 (base)",
		"foo 1.2-3 → 1.2-4 CVE-2024-1010 21.5 (base)",
		"gcc-defaults 1.203 → 1.204 CVE-2024-1020 21.5",
	}
	if !slices.Equal(got, want) {
		t.Errorf("fix plan:\n got  %s\n want %s", strings.Join(got, "\n      "), strings.Join(want, "\n      "))
	}
}

// TestBaseUpdates pushes a Debian repository to a real registry and asks
// which newer tag of the app's base line removes the most findings. The
// base of the app is debian 12.5 (libssl3 deb12u1, libfoo1 1.2-3+b1):
// CVE-2024-1001 (HIGH, NVD CVSS 7.5: risk 27.5), -1002 and -1003 (LOW, no
// fix: 6 each) and -1010 (MEDIUM, 21.5).
func TestBaseUpdates(t *testing.T) {
	b := baseFixture(t)
	reg := regtest.Start(t, regtest.Options{Proxy: true})
	repo := reg.ProxyHost + "/library/debian"
	slim := debianBase(t, "12.6", "3.0.11-1~deb12u2", "")
	// 12.7 fixes the same, but its base now carries libbar2 (CVE-2024-1030,
	// HIGH, 24 + 5 = 29).
	withBar := buildImage(t, nil,
		step{createdBy: "# debian.sh --arch 'amd64' out/ 'bookworm' '@1717200000'", comment: "debuerreotype 0.15", files: []file{
			{"etc/os-release", debianOSRelease},
			{"etc/debian_version", "12.7\n"},
			{"var/lib/dpkg/status", debianStatus("3.0.11-1~deb12u2", "1.2-4", libbarEntry)},
		}},
		step{createdBy: `CMD ["bash"]`, comment: buildKit},
	)
	other := debianBase(t, "11.9", "3.0.11-1~deb12u2", "1.2-4")
	for tag, img := range map[string]v1.Image{"12.5": b.base125, "12.6": b.base126, "12.6-slim": slim, "12.7": withBar, "11.9": other, "13.0": other} {
		ref, err := name.NewTag(repo+":"+tag, name.Insecure)
		if err != nil {
			t.Fatal(err)
		}
		if err := ggcrremote.Write(ref, img); err != nil {
			t.Fatal(err)
		}
	}
	from := repo + ":12.5"
	want := []string{
		// −1001 and −1010: 27.5 + 21.5 removed.
		repo + ":12.6 findings=2 removed=2 added=0 HIGH-1 MEDIUM-1 risk=49.0",
		repo + ":12.6-slim findings=2 removed=2 added=0 HIGH-1 MEDIUM-1 risk=49.0",
		// −1001 −1010 +1030: 49 − 29.
		repo + ":12.7 findings=3 removed=2 added=1 MEDIUM-1 risk=20.0",
	}
	scanUpdates := func() baseUpdatesReport {
		var r baseUpdatesReport
		mustJSON(t, scanInput(t, b.annotated, 0, "--format", "json", "--base-updates", repo, "--insecure"), &r)
		return r
	}
	reg.ResetCounts()
	r := scanUpdates()
	if got := r.rows(from); !slices.Equal(got, want) {
		t.Errorf("base updates:\n got  %s\n want %s", strings.Join(got, "\n      "), strings.Join(want, "\n      "))
	}
	cold, _ := reg.Count(regtest.Blob)

	// Again: the candidates' inventories come from the cache; only the
	// tags' manifests and configs are read.
	reg.ResetCounts()
	r = scanUpdates()
	if got := r.rows(from); !slices.Equal(got, want) {
		t.Errorf("second run: %q", got)
	}
	warm, _ := reg.Count(regtest.Blob)
	if warm != 4 || cold <= warm {
		t.Errorf("blob downloads: %d cold, %d warm; want the 4 configs (12.5, 12.6, 12.6-slim, 12.7) warm and layers too cold", cold, warm)
	}

	// The table names the single best change: moving the base removes 49
	// risk, more than the first package upgrade (lodash, 39.9).
	out := scanInput(t, b.annotated, 0, "--base-updates", repo, "--insecure")
	if wantLine := "Top fix: move the base image from " + from + " to " + repo + ":12.6: −2 findings, −1 HIGH, −1 MEDIUM, −49.0 risk\n"; !strings.Contains(out, wantLine) {
		t.Errorf("table lacks %q:\n%s", wantLine, out)
	}

	// The repository as known base images: the squashed image, whose
	// history says nothing, is told by its layers.
	var known baseReport
	mustJSON(t, scanInput(t, b.squashed, 0, "--format", "json", "--base-images", repo, "--insecure"), &known)
	if got := known.Artifact.Base; got == nil || got.Name != from || got.Layers != 1 || !slices.Equal(got.IdentifiedBy, []string{"layers"}) {
		t.Errorf("--base-images %s: base %+v, want %s by layers", repo, got, from)
	}

	// From a directory of saved inventories, without a registry: the same
	// advice, under the saved images' names.
	dir := t.TempDir()
	for tag, img := range map[string]v1.Image{"12.5": b.base125, "12.6": b.base126, "12.7": withBar} {
		tar := saveTar(t, img, "debian:"+tag, filepath.Join(t.TempDir(), tag+".tar"))
		scanInput(t, tar, 0, "--format", "json", "--list-all-pkgs", "--output", filepath.Join(dir, "debian-"+tag+".json"))
	}
	var fromDir baseUpdatesReport
	mustJSON(t, scanInput(t, b.plain, 0, "--format", "json", "--base-images", dir, "--base-updates", dir), &fromDir)
	wantDir := []string{
		"debian:12.6 findings=2 removed=2 added=0 HIGH-1 MEDIUM-1 risk=49.0",
		"debian:12.7 findings=3 removed=2 added=1 MEDIUM-1 risk=20.0",
	}
	if got := fromDir.rows("debian:12.5"); !slices.Equal(got, wantDir) {
		t.Errorf("from a directory:\n got  %s\n want %s", strings.Join(got, "\n      "), strings.Join(wantDir, "\n      "))
	}

	// The current base missing from the source: the image's own base
	// layers stand for it, whatever --exclude-base leaves in the report.
	newer := t.TempDir()
	for _, tag := range []string{"12.6", "12.7"} {
		body, err := os.ReadFile(filepath.Join(dir, "debian-"+tag+".json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(newer, tag+".json"), body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, extra := range [][]string{nil, {"--exclude-base"}} {
		var r baseUpdatesReport
		mustJSON(t, scanInput(t, b.annotated, 0, append([]string{"--format", "json", "--base-updates", newer}, extra...)...), &r)
		if got := r.rows("docker.io/library/debian:12.5"); !slices.Equal(got, wantDir) {
			t.Errorf("current base not in the source %v:\n got  %s\n want %s", extra, strings.Join(got, "\n      "), strings.Join(wantDir, "\n      "))
		}
	}

	// Without a name for the base, vigil says why there is no advice.
	code, _, stderr := vigil(t, "image", "--input", b.plain, "--cache-dir", fx.cache, "--offline", "--base-updates", dir)
	if code != 0 || !strings.Contains(stderr, "the base image's name is not known") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

type baseUpdatesReport struct {
	BaseUpdates []struct {
		From        string         `json:"from"`
		To          string         `json:"to"`
		Findings    int            `json:"findings"`
		Removed     int            `json:"removed"`
		Added       int            `json:"added"`
		Severities  map[string]int `json:"severities"`
		RiskRemoved float64        `json:"riskRemoved"`
	} `json:"baseUpdates"`
}

// rows are the updates, one line each; every one must start from from.
func (r baseUpdatesReport) rows(from string) []string {
	var out []string
	for _, u := range r.BaseUpdates {
		row := fmt.Sprintf("%s findings=%d removed=%d added=%d", u.To, u.Findings, u.Removed, u.Added)
		for _, s := range []string{"CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"} {
			if n := u.Severities[s]; n != 0 {
				row += fmt.Sprintf(" %s%+d", s, n)
			}
		}
		row += fmt.Sprintf(" risk=%.1f", u.RiskRemoved)
		if u.From != from {
			row += " from=" + u.From
		}
		out = append(out, row)
	}
	return out
}
