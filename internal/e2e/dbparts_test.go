package e2e_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-scanner/vigil/internal/testutil"
	"github.com/vigil-scanner/vigil/internal/testutil/regtest"
)

var createdAt = regexp.MustCompile(`"createdAt": "[^"]*"`)

// dbStatus is what `vigil db status --format json` says.
type dbStatus struct {
	Metadata struct {
		Provenance struct {
			Kind       string `json:"kind"`
			Repository string `json:"repository"`
		} `json:"provenance"`
	} `json:"metadata"`
	Parts []struct {
		Kind      string `json:"kind"`
		Ecosystem string `json:"ecosystem"`
		Local     bool   `json:"local"`
		Size      int64  `json:"size"`
		Blob      *struct {
			Size int64 `json:"size"`
		} `json:"blob"`
	} `json:"parts"`
}

func status(t *testing.T, cache string) dbStatus {
	t.Helper()
	code, out, stderr := vigil(t, "db", "status", "--cache-dir", cache, "--format", "json")
	if code != 0 {
		t.Fatalf("db status: exit %d: %s", code, stderr)
	}
	var s dbStatus
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestDatabaseParts publishes the fixture database to a real registry and
// scans each fixture image from a fresh cache that downloads only the parts
// the image needs: the report must be exactly the one the whole database
// gives, and the parts on disk exactly the image's ecosystems plus EPSS and
// KEV. A second scan makes no request.
func TestDatabaseParts(t *testing.T) {
	reg := regtest.Start(t, regtest.Options{})
	ref := reg.Host + "/vigil/db:2"
	if code, out, stderr := vigil(t, "db", "push", "--cache-dir", fx.cache, "--insecure", ref); code != 0 {
		t.Fatalf("db push: exit %d\n%s%s", code, out, stderr)
	}
	full := status(t, fx.cache)
	var fullBlobs int64
	for _, p := range full.Parts {
		fullBlobs += p.Size
	}
	for img, want := range map[string][]string{
		"alpine":     {"Go", "Maven", "PyPI", "alpine:3.19", "epss", "kev", "npm"},
		"debian":     {"debian:12", "epss", "kev"},
		"debian-sid": {"debian:sid", "epss", "kev"},
		"rhel":       {"epss", "kev", "redhat:9"},
	} {
		t.Run(img, func(t *testing.T) {
			if img == "alpine" && fx.goStdlib == "" {
				want = slices.DeleteFunc(want, func(s string) bool { return s == "Go" })
			}
			args := []string{"image", "--input", fx.images[img], "--format", "json", "--list-all-pkgs"}
			code, wantOut, stderr := vigil(t, append(args, "--cache-dir", fx.cache, "--offline")...)
			if code != 0 {
				t.Fatalf("scan with the whole database: exit %d: %s", code, stderr)
			}
			cache := t.TempDir()
			code, got, stderr := vigil(t, append(args, "--cache-dir", cache, "--db-repository", ref, "--insecure")...)
			if code != 0 {
				t.Fatalf("scan pulling parts: exit %d: %s", code, stderr)
			}
			if createdAt.ReplaceAllString(got, "") != createdAt.ReplaceAllString(wantOut, "") {
				t.Errorf("report from the parts differs from the whole database's:\n--- parts\n%s\n--- whole\n%s", got, wantOut)
			}
			st := status(t, cache)
			var local []string
			for _, p := range st.Parts {
				if p.Local {
					name := p.Kind
					if p.Ecosystem != "" {
						name = p.Ecosystem
					}
					local = append(local, name)
				}
			}
			slices.Sort(local)
			if !slices.Equal(local, want) {
				t.Errorf("parts on disk %q, want %q", local, want)
			}
			if st.Metadata.Provenance.Kind != "pulled" || st.Metadata.Provenance.Repository != ref {
				t.Errorf("provenance %+v", st.Metadata.Provenance)
			}
			// Fresh: the next scan asks nothing (a repository that does
			// not exist would fail any request).
			code, again, stderr := vigil(t, append(args, "--cache-dir", cache, "--db-repository", "127.0.0.1:1/none:2", "--insecure")...)
			if code != 0 || strings.Contains(stderr, "refresh") || createdAt.ReplaceAllString(again, "") != createdAt.ReplaceAllString(wantOut, "") {
				t.Errorf("second scan: exit %d, stderr %s", code, stderr)
			}
		})
	}

	// db update on a fresh cache takes every part; status says where from.
	cache := t.TempDir()
	if code, out, stderr := vigil(t, "db", "update", "--cache-dir", cache, "--insecure", "--db-repository", ref); code != 0 || !strings.Contains(out, "Updated") {
		t.Fatalf("db update: exit %d\n%s%s", code, out, stderr)
	}
	st := status(t, cache)
	for _, p := range st.Parts {
		if !p.Local {
			t.Errorf("db update left out part %s %s", p.Kind, p.Ecosystem)
		}
	}
	// Asked again, it checks, and finds nothing new.
	if code, out, stderr := vigil(t, "db", "update", "--cache-dir", cache, "--insecure", "--db-repository", ref); code != 0 || !strings.Contains(out, "up to date") {
		t.Errorf("second db update: exit %d\n%s%s", code, out, stderr)
	}
	// A scan of an image whose ecosystem is not on disk, offline, fails
	// and says what is missing.
	partial := t.TempDir()
	if code, _, stderr := vigil(t, "db", "update", "--cache-dir", partial, "--insecure", "--db-repository", ref, "--ecosystem", "debian:12"); code != 0 {
		t.Fatalf("db update --ecosystem: %s", stderr)
	}
	code, _, stderr := vigil(t, "image", "--input", fx.images["alpine"], "--cache-dir", partial, "--offline")
	if code != 2 || !strings.Contains(stderr, "alpine:3.19") || !strings.Contains(stderr, "not downloaded") {
		t.Errorf("offline scan without its parts: exit %d: %s", code, stderr)
	}
}

// TestBuiltDatabaseKept: a scan does not replace a database built here
// with a download, unless a repository is named.
func TestBuiltDatabaseKept(t *testing.T) {
	st := status(t, fx.cache)
	if st.Metadata.Provenance.Kind != "built" {
		t.Fatalf("fixture database provenance %+v", st.Metadata.Provenance)
	}
	// The default repositories are not reachable from the tests: a scan
	// that tried them would warn.
	code, _, stderr := vigil(t, "image", "--input", fx.images["debian"], "--cache-dir", fx.cache)
	if code != 0 || strings.Contains(stderr, "refresh") {
		t.Errorf("scan with a built database: exit %d, stderr %s", code, stderr)
	}
}

// TestNoPasswordInHelp: a password in the environment is never printed as
// a flag default.
func TestNoPasswordInHelp(t *testing.T) {
	t.Setenv("VIGIL_PASSWORD", "hunter2-secret")
	t.Setenv("VIGIL_USERNAME", "someone")
	for _, cmd := range [][]string{{"db", "update"}, {"db", "push"}, {"image"}, {"watch"}, {"fs"}} {
		_, out, stderr := vigil(t, append(cmd, "--help")...)
		if strings.Contains(out+stderr, "hunter2-secret") {
			t.Errorf("vigil %s --help prints the password", strings.Join(cmd, " "))
		}
	}
	// Nor in the error of a failed push.
	code, out, stderr := vigil(t, "db", "push", "--cache-dir", fx.cache, "--timeout", "5s", "127.0.0.1:1/x/db:2")
	if code == 0 || strings.Contains(out+stderr, "hunter2-secret") {
		t.Errorf("failed push: exit %d, output %s%s", code, out, stderr)
	}
}

// TestDatabasePartsReal does the same with a database built from the real
// feed samples (Alpine secdb, the Debian tracker sample) and the real
// Alpine images.
func TestDatabasePartsReal(t *testing.T) {
	secdb := testutil.Shared(t, "data/feeds/alpine-secdb")
	tracker := testutil.Shared(t, "data/feeds/debian/security-tracker-json/vunnel-fixture-debian.json")
	mirror := t.TempDir()
	if err := os.Symlink(tracker, filepath.Join(mirror, "json")); err != nil {
		t.Fatal(err)
	}
	built := buildDB(t, "alpine,debian", "alpine="+secdb, "debian="+mirror)
	reg := regtest.Start(t, regtest.Options{})
	ref := reg.Host + "/vigil/real:2"
	if code, out, stderr := vigil(t, "db", "push", "--cache-dir", built, "--insecure", ref); code != 0 {
		t.Fatalf("db push: exit %d\n%s%s", code, out, stderr)
	}
	for _, name := range []string{"alpine-310.tar.gz", "alpine-311.tar.gz"} {
		img := testutil.Shared(t, filepath.Join("data/images", name))
		args := []string{"image", "--input", img, "--format", "json", "--list-all-pkgs"}
		_, want, _ := vigil(t, append(args, "--cache-dir", built, "--offline")...)
		cache := t.TempDir()
		code, got, stderr := vigil(t, append(args, "--cache-dir", cache, "--db-repository", ref, "--insecure")...)
		if code != 0 || createdAt.ReplaceAllString(got, "") != createdAt.ReplaceAllString(want, "") {
			t.Errorf("%s: exit %d (%s); report from the parts differs:\n%s\n--- whole\n%s", name, code, stderr, got, want)
		}
		var local []string
		for _, p := range status(t, cache).Parts {
			if p.Local && p.Kind == "ecosystem" {
				local = append(local, p.Ecosystem)
			}
		}
		if len(local) != 1 || !strings.HasPrefix(local[0], "alpine:3.1") {
			t.Errorf("%s: ecosystem parts on disk %q", name, local)
		}
	}
}
