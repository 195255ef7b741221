package e2e_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// brokenImage writes a docker-save tarball of layers to a temporary file.
func brokenImage(t *testing.T, layers ...[]file) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "image.tar")
	if err := writeImage(p, "example.com/e2e/broken:1", layers); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestUnreadableOSDatabase: an OS package database that exists but of
// which nothing can be read fails the scan (exit 2) naming the file; it is
// never an image without packages that passes the gate.
func TestUnreadableOSDatabase(t *testing.T) {
	rpmdb, err := os.ReadFile("../../catalog/rpm/testdata/rpmdb.sqlite")
	if err != nil {
		t.Fatal(err)
	}
	bdb, err := os.ReadFile("../../catalog/rpm/testdata/Packages")
	if err != nil {
		t.Fatal(err)
	}
	garbage := "\x00\x01\x02 not a database\n\xff\xfe\n"
	for _, tc := range []struct {
		name  string
		files []file
		want  string // in the message
	}{
		{"dpkg status of garbage", []file{{"etc/os-release", debianOSRelease}, {"var/lib/dpkg/status", garbage}},
			"dpkg: var/lib/dpkg/status: nothing could be read: line 1: line without a field name"},
		{"dpkg status.d file of garbage", []file{{"etc/os-release", debianOSRelease}, {"var/lib/dpkg/status.d/base", garbage}},
			"dpkg: var/lib/dpkg/status.d/base: nothing could be read"},
		{"truncated rpmdb.sqlite", []file{{"etc/os-release", rhelOSRelease}, {"var/lib/rpm/rpmdb.sqlite", string(rpmdb[:8192])}},
			"rpm: var/lib/rpm/rpmdb.sqlite: corrupt rpm database"},
		{"rpmdb.sqlite of garbage", []file{{"etc/os-release", rhelOSRelease}, {"var/lib/rpm/rpmdb.sqlite", garbage}},
			"rpm: var/lib/rpm/rpmdb.sqlite: corrupt rpm database: not an SQLite database"},
		{"Packages (BDB) cut to its first page", []file{{"etc/os-release", rhelOSRelease}, {"var/lib/rpm/Packages", string(bdb[:4096])}},
			"rpm: var/lib/rpm/Packages: nothing could be read: corrupt rpm database: truncated"},
		{"Packages.db (NDB) of garbage", []file{{"etc/os-release", rhelOSRelease}, {"usr/lib/sysimage/rpm/Packages.db", garbage}},
			"rpm: usr/lib/sysimage/rpm/Packages.db: corrupt rpm database: not an ndb Packages.db"},
		{"apk installed of garbage", []file{{"etc/os-release", alpineOSRelease}, {"lib/apk/db/installed", garbage}},
			"apk: lib/apk/db/installed: nothing could be read: line 1: not a \"K:value\" line"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img := brokenImage(t, tc.files)
			for _, extra := range [][]string{nil, {"--scanners", "none"}, {"--exit-code", "1", "--format", "json"}, {"--skip-files", "etc/other"}} {
				args := append([]string{"image", "--input", img, "--cache-dir", fx.cache, "--offline", "--quiet"}, extra...)
				code, stdout, stderr := vigil(t, args...)
				if code != 2 || !strings.HasPrefix(stderr, "vigil: ") || !strings.Contains(stderr, tc.want) {
					t.Errorf("%v: exit %d, stderr %q; want 2 and %q", extra, code, stderr, tc.want)
				}
				if stdout != "" {
					t.Errorf("%v: a report was written: %q", extra, stdout)
				}
			}
			// A user may leave the database out: the scan then has no
			// OS packages, as asked.
			db := tc.files[1].path
			code, _, stderr := vigil(t, "image", "--input", img, "--cache-dir", fx.cache, "--offline", "--quiet", "--strict", "--skip-files", db)
			if code != 0 || stderr != "" {
				t.Errorf("--skip-files %s: exit %d, stderr %q", db, code, stderr)
			}
		})
	}
}

// jsonWarnings are the warnings of a JSON report, as a consumer reads them.
type jsonWarnings struct {
	Artifact struct {
		Layers []struct {
			DiffID string `json:"diffID"`
		} `json:"layers"`
	} `json:"artifact"`
	Warnings []struct {
		Layer   string `json:"layer"`
		Path    string `json:"path"`
		Message string `json:"message"`
	} `json:"warnings"`
}

// TestIncompleteScan: a malformed installed package.json and a status
// file read in part make an image scan incomplete. Every output says so, stderr too (even with
// --quiet); the gate is unchanged unless --strict, which exits 2 after
// writing the report; --skip-files leaves the lockfile out without a
// warning; and a saved report matched again keeps the warnings.
func TestIncompleteScan(t *testing.T) {
	const lockfile = "srv/app/node_modules/left-pad/package.json"
	img := brokenImage(t,
		[]file{
			{"etc/os-release", debianOSRelease},
			{"etc/debian_version", "12.5\n"},
			// A status file cut in its last paragraph: the packages
			// before it are kept, with a warning.
			{"var/lib/dpkg/status", dpkgStatus + "\nPackage: half-writ\nStatu"},
		},
		[]file{{lockfile, `{"name": "left-pad", "version": `}},
	)
	scan := func(t *testing.T, wantCode int, extra ...string) (stdout, stderr string) {
		t.Helper()
		args := append([]string{"image", "--input", img, "--cache-dir", fx.cache, "--offline", "--quiet"}, extra...)
		code, stdout, stderr := vigil(t, args...)
		if code != wantCode {
			t.Fatalf("vigil %s: exit %d, want %d\nstderr:\n%s", strings.Join(args, " "), code, wantCode, stderr)
		}
		return stdout, stderr
	}

	out, stderr := scan(t, 0, "--format", "json", "--list-all-pkgs")
	var rep jsonWarnings
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Warnings) != 2 || len(rep.Artifact.Layers) != 2 {
		t.Fatalf("warnings = %+v (layers %+v), want 2", rep.Warnings, rep.Artifact.Layers)
	}
	status, lock := rep.Warnings[0], rep.Warnings[1]
	if status.Path != "var/lib/dpkg/status" || status.Layer != rep.Artifact.Layers[0].DiffID ||
		!strings.HasPrefix(status.Message, "dpkg: database read in part (") {
		t.Errorf("status warning = %+v", status)
	}
	if lock.Path != lockfile || lock.Layer != rep.Artifact.Layers[1].DiffID || !strings.HasPrefix(lock.Message, "node: malformed package.json") {
		t.Errorf("lockfile warning = %+v", lock)
	}
	if !strings.HasPrefix(stderr, "vigil: scan incomplete: 2 warnings (first: "+status.Layer+`: "var/lib/dpkg/status": dpkg: database read in part`) {
		t.Errorf("stderr = %q, want the scan-incomplete line", stderr)
	}
	// The packages read before the cut are reported, and matched.
	if rows := findings(t, out); len(rows) == 0 {
		t.Error("no findings for the packages read from the status file")
	}
	saved := filepath.Join(t.TempDir(), "report.json")
	if err := os.WriteFile(saved, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}

	t.Run("sarif", func(t *testing.T) {
		out, _ := scan(t, 0, "--format", "sarif")
		var log struct {
			Runs []struct {
				Invocations []struct {
					ExecutionSuccessful bool `json:"executionSuccessful"`
					Notifications       []struct {
						Message struct{ Text string } `json:"message"`
					} `json:"toolExecutionNotifications"`
				} `json:"invocations"`
			} `json:"runs"`
		}
		if err := json.Unmarshal([]byte(out), &log); err != nil {
			t.Fatal(err)
		}
		inv := log.Runs[0].Invocations[0]
		if inv.ExecutionSuccessful || len(inv.Notifications) != 2 || !strings.Contains(inv.Notifications[1].Message.Text, "node: malformed package.json") {
			t.Errorf("invocation = %+v", inv)
		}
	})
	t.Run("table", func(t *testing.T) {
		out, _ := scan(t, 0)
		if !strings.Contains(out, "\nScan incomplete: 2 warnings; vulnerabilities may be missing from this report\n") ||
			!strings.Contains(out, `"`+lockfile+`": node: malformed package.json`) {
			t.Errorf("table without the footer:\n%s", out)
		}
	})
	t.Run("cyclonedx and spdx", func(t *testing.T) {
		if out, _ := scan(t, 0, "--format", "cyclonedx"); !strings.Contains(out, `"text": "vigil: scan incomplete: `) {
			t.Error("CycloneDX BOM without annotations")
		}
		if out, _ := scan(t, 0, "--format", "spdx-json"); !strings.Contains(out, `"comment": "Scan incomplete: 2 warnings;`) {
			t.Error("SPDX document without the creator comment")
		}
	})
	t.Run("junit", func(t *testing.T) {
		if out, _ := scan(t, 0, "--format", "junit"); !strings.Contains(out, `<testsuite name="scan completeness" tests="2" failures="0" errors="2"`) {
			t.Errorf("JUnit without the completeness suite:\n%s", out)
		}
	})
	t.Run("gate unchanged", func(t *testing.T) {
		scan(t, 1, "--exit-code", "1")
	})
	t.Run("strict", func(t *testing.T) {
		out, stderr := scan(t, 2, "--strict", "--format", "json")
		if !strings.Contains(out, `"warnings": [`) {
			t.Error("--strict wrote no report")
		}
		if !strings.HasPrefix(stderr, "vigil: scan incomplete: 2 warnings") {
			t.Errorf("stderr = %q", stderr)
		}
	})
	t.Run("skip-files", func(t *testing.T) {
		// Only the package.json's warning goes.
		_, stderr := scan(t, 2, "--strict", "--skip-files", "**/node_modules/*/package.json")
		if !strings.HasPrefix(stderr, "vigil: scan incomplete: 1 warning: ") || strings.Contains(stderr, lockfile) {
			t.Errorf("stderr = %q", stderr)
		}
		out, stderr := scan(t, 0, "--format", "json", "--skip-dirs", "srv/app")
		if strings.Contains(out, lockfile) || strings.Contains(stderr, lockfile) {
			t.Errorf("warning about a skipped file:\n%s\n%s", out, stderr)
		}
		// Both left out: the scan is complete.
		if _, stderr := scan(t, 0, "--strict", "--skip-files", "var/lib/dpkg/status", "--skip-dirs", "srv"); stderr != "" {
			t.Errorf("stderr = %q", stderr)
		}
	})
	t.Run("sbom keeps the warnings", func(t *testing.T) {
		code, out, stderr := vigil(t, "sbom", saved, "--cache-dir", fx.cache, "--offline", "--quiet", "--format", "json")
		var again jsonWarnings
		if code != 0 || json.Unmarshal([]byte(out), &again) != nil || len(again.Warnings) != 2 {
			t.Fatalf("sbom: exit %d, warnings %+v\n%s", code, again.Warnings, stderr)
		}
		if !strings.HasPrefix(stderr, "vigil: scan incomplete: 2 warnings") {
			t.Errorf("stderr = %q", stderr)
		}
		if code, _, _ := vigil(t, "sbom", saved, "--cache-dir", fx.cache, "--offline", "--quiet", "--strict"); code != 2 {
			t.Errorf("sbom --strict: exit %d, want 2", code)
		}
	})
}

// TestMalformedLockfile: a project whose package-lock.json is malformed is
// scanned (exit 0) with a warning in every output and on stderr; --strict
// exits 2 after writing the report; --skip-files leaves it out silently.
func TestMalformedLockfile(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"web/package-lock.json": `{"name": "web", "lockfileVersion": 3, "packages": {"": {`,
		"api/package-lock.json": `{"name": "api", "lockfileVersion": 3, "packages": {"node_modules/lodash": {"version": "4.17.20"}}}`,
	} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	const lockfile = "web/package-lock.json"
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		check  func(t *testing.T, out string)
		stderr string // the start of stderr
	}{
		{"json", []string{"--format", "json"}, 0, func(t *testing.T, out string) {
			var rep jsonWarnings
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatal(err)
			}
			if len(rep.Warnings) != 1 || rep.Warnings[0].Path != lockfile || rep.Warnings[0].Layer != "" ||
				rep.Warnings[0].Message != "node: malformed lockfile: unexpected end of JSON input" {
				t.Errorf("warnings = %+v", rep.Warnings)
			}
			if rows := findings(t, out); len(rows) == 0 || !strings.Contains(rows[0], "lodash") {
				t.Errorf("the readable lockfile's findings are missing: %q", rows)
			}
		}, `vigil: scan incomplete: 1 warning: "web/package-lock.json": node: malformed lockfile: unexpected end of JSON input`},
		{"sarif", []string{"--format", "sarif"}, 0, func(t *testing.T, out string) {
			if !strings.Contains(out, `"executionSuccessful": false`) || !strings.Contains(out, `"uri": "web/package-lock.json"`) {
				t.Errorf("SARIF does not say the scan is incomplete:\n%s", out)
			}
		}, "vigil: scan incomplete: 1 warning"},
		{"table", nil, 0, func(t *testing.T, out string) {
			if !strings.HasSuffix(out, "\nScan incomplete: 1 warning; vulnerabilities may be missing from this report\n  - \"web/package-lock.json\": node: malformed lockfile: unexpected end of JSON input\n") {
				t.Errorf("table footer missing:\n%s", out)
			}
		}, "vigil: scan incomplete: 1 warning"},
		{"strict", []string{"--strict", "--format", "json"}, 2, func(t *testing.T, out string) {
			if !strings.Contains(out, `"warnings"`) {
				t.Error("--strict wrote no report")
			}
		}, "vigil: scan incomplete: 1 warning"},
		{"strict with the lockfile skipped", []string{"--strict", "--skip-files", lockfile}, 0, nil, ""},
		{"strict with its directory skipped", []string{"--strict", "--skip-dirs", "web"}, 0, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"fs", dir, "--cache-dir", fx.cache, "--offline", "--quiet"}, tc.args...)
			code, out, stderr := vigil(t, args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\n%s", code, tc.code, stderr)
			}
			if tc.stderr == "" && stderr != "" || !strings.HasPrefix(stderr, tc.stderr) {
				t.Errorf("stderr = %q, want it to start with %q", stderr, tc.stderr)
			}
			if tc.check != nil {
				tc.check(t, out)
			}
		})
	}
}
