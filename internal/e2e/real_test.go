package e2e_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-scanner/vigil/internal/cli"
	"github.com/vigil-scanner/vigil/internal/testutil"
)

// buildDB builds a database in a new cache directory from mirrors
// (source=path) and returns the directory.
func buildDB(t *testing.T, sources string, mirrors ...string) string {
	t.Helper()
	cache := t.TempDir()
	args := []string{"db", "build", "--quiet", "--cache-dir", cache, "--sources", sources}
	for _, m := range mirrors {
		args = append(args, "--mirror", m)
	}
	var stdout, stderr bytes.Buffer
	if code := cli.Main(context.Background(), args, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("vigil %s: exit %d\n%s", strings.Join(args, " "), code, stderr.String())
	}
	return cache
}

// TestRealAlpine scans the real alpine:3.10.4 and alpine:3.11.5 images
// against the real 2020 alpine-secdb snapshot (YAML, laid out upstream's
// way as <release>/<repo>.yaml, so the shared folder is the mirror).
func TestRealAlpine(t *testing.T) {
	secdb := testutil.Shared(t, "data/feeds/alpine-secdb")
	cache := buildDB(t, "alpine", "alpine="+secdb)

	for _, tt := range []struct {
		image string
		want  []string // a few of the 14 packages
	}{
		{"alpine-310.tar.gz", []string{"alpine: musl 1.1.22-r3", "alpine: libcrypto1.1 1.1.1d-r2", "alpine: busybox 1.30.1-r3"}},
		{"alpine-311.tar.gz", []string{"alpine: musl 1.1.24-r2", "alpine: libcrypto1.1 1.1.1d-r3", "alpine: busybox 1.31.1-r9"}},
	} {
		t.Run(tt.image, func(t *testing.T) {
			img := testutil.Shared(t, filepath.Join("data/images", tt.image))
			args := []string{"image", "--input", img, "--cache-dir", cache, "--offline", "--quiet",
				"--format", "json", "--list-all-pkgs", "--exit-code", "1"}
			code, out, stderr := vigil(t, args...)
			// The images' README: the snapshot lists no fix newer than
			// these images' packages, so the right answer is nothing.
			if code != 0 {
				t.Errorf("exit %d, want 0; stderr:\n%s", code, stderr)
			}
			assertRows(t, findings(t, out), nil)
			pkgs := packages(t, out)
			if len(pkgs) != 14 {
				t.Errorf("%d packages, want 14: %q", len(pkgs), pkgs)
			}
			for _, p := range tt.want {
				if !slices.Contains(pkgs, p) {
					t.Errorf("inventory lacks %q: %q", p, pkgs)
				}
			}
		})
	}

	// An Alpine 3.10 image whose packages sit just below real fixed
	// versions. Expectations, read from v3.10/main.yaml of the sample:
	//   - openssl (line 1272): "1.1.1d-r0: CVE-2019-1547, CVE-2019-1549,
	//     CVE-2019-1563"; "1.1.1b-r1: CVE-2019-1543"; "1.1.1a-r0: …".
	//     libcrypto1.1 1.1.1c-r0 (origin openssl) is below 1.1.1d-r0 and
	//     above 1.1.1b-r1: exactly the three 1.1.1d-r0 CVEs.
	//   - musl (line 1127): "1.1.22-r3: CVE-2019-14697",
	//     "1.1.15-r4: CVE-2016-8859". musl 1.1.22-r2: CVE-2019-14697 only.
	//   - sdl2_image (line 1629): "2.0.5-r0" lists six "CVE-… TALOS-…"
	//     pairs and five plain CVEs; "2.0.3-r0" older ones. sdl2_image
	//     2.0.4-r0 gets the eleven 2.0.5-r0 vulnerabilities, each once,
	//     under its CVE (the TALOS id names the same vulnerability).
	//   - curl (line 230): newest fix 7.66.0-r0; curl 7.66.0-r0 installed
	//     is not affected.
	t.Run("below real fixes", func(t *testing.T) {
		apk := apkEntry("libcrypto1.1", "1.1.1c-r0", "openssl") + apkEntry("musl", "1.1.22-r2", "musl") +
			apkEntry("sdl2_image", "2.0.4-r0", "sdl2_image") + apkEntry("curl", "7.66.0-r0", "curl")
		path := filepath.Join(t.TempDir(), "alpine310.tar")
		err := writeImage(path, "example.com/e2e/alpine310:1", [][]file{{
			{"etc/os-release", "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.10.4\n"},
			{"etc/alpine-release", "3.10.4\n"},
			{"lib/apk/db/installed", apk},
		}})
		if err != nil {
			t.Fatal(err)
		}
		code, out, stderr := vigil(t, "image", "--input", path, "--cache-dir", cache, "--offline", "--quiet", "--format", "json", "--exit-code", "1")
		if code != 1 {
			t.Fatalf("exit %d, want 1: %s", code, stderr)
		}
		var want []string
		for _, id := range []string{"CVE-2019-1547", "CVE-2019-1549", "CVE-2019-1563"} {
			want = append(want, id+" libcrypto1.1 1.1.1c-r0 fixed=1.1.1d-r0 fixed UNKNOWN/")
		}
		want = append(want, "CVE-2019-14697 musl 1.1.22-r2 fixed=1.1.22-r3 fixed UNKNOWN/")
		for _, id := range []string{"CVE-2019-5060", "CVE-2019-5059", "CVE-2019-5058", "CVE-2019-5057", "CVE-2019-5052", "CVE-2019-5051",
			"CVE-2019-12222", "CVE-2019-12221", "CVE-2019-12219", "CVE-2019-12218", "CVE-2019-12217"} {
			want = append(want, id+" sdl2_image 2.0.4-r0 fixed=2.0.5-r0 fixed UNKNOWN/")
		}
		assertRows(t, findings(t, out), want)
	})
}

func apkEntry(name, version, origin string) string {
	return "P:" + name + "\nV:" + version + "\nA:x86_64\no:" + origin + "\n\n"
}

// TestRealDebian scans images built in code against the real Debian
// tracker sample (vunnel's fixture of tracker/data/json), mirrored as a
// directory whose "json" links to the shared file. Expectations, read from
// security-tracker-json/vunnel-fixture-debian.json:
//   - chromium CVE-2022-0456: bullseye resolved 98.0.4758.80-1~deb11u1,
//     buster open with urgency end-of-life, sid resolved 98.0.4758.80-1;
//     urgency "not yet assigned" everywhere (and no NVD here): UNKNOWN.
//   - sope CVE-2025-53603: bullseye resolved 5.0.1-2+deb11u1, sid
//     5.12.1-2; "not yet assigned".
//   - backupninja CVE-2005-3111: buster resolved 0.8-2, urgency medium.
//   - txt2man CVE-2013-1444: buster resolved 1.5.5-4.1 (installed: not
//     affected); prototypejs CVE-2008-7220 fixed 1.6.0.2-1 and
//     CVE-2007-2383 resolved "0" (installed 1.7.1-3: neither).
func TestRealDebian(t *testing.T) {
	sample := testutil.Shared(t, "data/feeds/debian/security-tracker-json/vunnel-fixture-debian.json")
	mirror := t.TempDir()
	if err := os.Symlink(sample, filepath.Join(mirror, "json")); err != nil {
		t.Fatal(err)
	}
	cache := buildDB(t, "debian", "debian="+mirror)
	osRelease := func(id, codename string) string {
		s := "NAME=\"Debian GNU/Linux\"\nID=debian\nVERSION_CODENAME=" + codename + "\n"
		if id != "" {
			s += "VERSION_ID=\"" + id + "\"\n"
		}
		return s
	}
	tests := []struct {
		name, osRelease, debianVersion, status string
		want                                   []string
	}{
		{"bullseye", osRelease("11", "bullseye"), "11.3", dpkgEntry("chromium", "97.0.4692.99-1~deb11u2", "") + dpkgEntry("libsope1.7", "5.0.1-2", "sope"),
			[]string{
				"CVE-2022-0456 chromium 97.0.4692.99-1~deb11u2 fixed=98.0.4758.80-1~deb11u1 fixed UNKNOWN/",
				"CVE-2025-53603 libsope1.7 5.0.1-2 fixed=5.0.1-2+deb11u1 fixed UNKNOWN/",
			}},
		{"buster", osRelease("10", "buster"), "10.13", dpkgEntry("chromium", "90.0.4430.212-1~deb10u1", "") + dpkgEntry("backupninja", "0.8-1", "") +
			dpkgEntry("txt2man", "1.5.5-4.1", "") + dpkgEntry("libjs-prototype", "1.7.1-3", "prototypejs"),
			[]string{
				"CVE-2005-3111 backupninja 0.8-1 fixed=0.8-2 fixed MEDIUM/debian",
				"CVE-2022-0456 chromium 90.0.4430.212-1~deb10u1 fixed= end_of_life UNKNOWN/",
			}},
		{"sid", osRelease("", "trixie"), "trixie/sid", dpkgEntry("libsope1.7", "5.12.1-1", "sope") + dpkgEntry("chromium", "98.0.4758.80-1", ""),
			[]string{
				"CVE-2025-53603 libsope1.7 5.12.1-1 fixed=5.12.1-2 fixed UNKNOWN/",
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "debian.tar")
			err := writeImage(path, "example.com/e2e/debian:"+tt.name, [][]file{{
				{"etc/os-release", tt.osRelease},
				{"etc/debian_version", tt.debianVersion + "\n"},
				{"var/lib/dpkg/status", tt.status},
			}})
			if err != nil {
				t.Fatal(err)
			}
			code, out, stderr := vigil(t, "image", "--input", path, "--cache-dir", cache, "--offline", "--quiet", "--format", "json")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			assertRows(t, findings(t, out), tt.want)
		})
	}
}

func dpkgEntry(name, version, source string) string {
	s := "Package: " + name + "\nStatus: install ok installed\nArchitecture: amd64\nVersion: " + version + "\n"
	if source != "" {
		s += "Source: " + source + "\n"
	}
	return s + "\n"
}

// TestRealGHSA matches jars against the real GitHub advisory for Log4Shell
// (ghsa/advisories/github-reviewed/2021/12/GHSA-jfh8-c2jp-5v3q), zipped in
// the test as osv.dev's Maven/all.zip. The file lists three affected
// entries for org.apache.logging.log4j:log4j-core: [2.13.0, 2.15.0),
// [0, 2.3.1), [2.4, 2.12.2); aliases CVE-2021-44228; severity CRITICAL.
func TestRealGHSA(t *testing.T) {
	adv := testutil.Shared(t, "data/feeds/ghsa/advisories/github-reviewed/2021/12/GHSA-jfh8-c2jp-5v3q/GHSA-jfh8-c2jp-5v3q.json")
	mirror := t.TempDir()
	if err := writeOSVZip(filepath.Dir(adv), filepath.Join(mirror, "Maven", "all.zip")); err != nil {
		t.Fatal(err)
	}
	cache := buildDB(t, "osv:Maven", "osv="+mirror)
	jar := func(artifact, version string) file {
		b, err := zipOf(map[string]string{
			"META-INF/maven/org.apache.logging.log4j/" + artifact + "/pom.properties": "groupId=org.apache.logging.log4j\nartifactId=" + artifact + "\nversion=" + version + "\n",
		})
		if err != nil {
			t.Fatal(err)
		}
		return file{"opt/" + artifact + "-" + version + "/lib/" + artifact + "-" + version + ".jar", string(b)}
	}
	path := filepath.Join(t.TempDir(), "jars.tar")
	err := writeImage(path, "example.com/e2e/jars:1", [][]file{{
		jar("log4j-core", "2.14.1"), // in [2.13.0, 2.15.0)
		jar("log4j-core", "2.3"),    // in [0, 2.3.1)
		jar("log4j-core", "2.12.2"), // a fixed version
		jar("log4j-api", "2.14.1"),  // another artifact
	}})
	if err != nil {
		t.Fatal(err)
	}
	code, out, stderr := vigil(t, "image", "--input", path, "--cache-dir", cache, "--offline", "--quiet", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	assertRows(t, findings(t, out), []string{
		"CVE-2021-44228 org.apache.logging.log4j:log4j-core 2.14.1 fixed=2.3.1, 2.12.2, 2.15.0 fixed CRITICAL/ghsa",
		"CVE-2021-44228 org.apache.logging.log4j:log4j-core 2.3 fixed=2.3.1, 2.12.2, 2.15.0 fixed CRITICAL/ghsa",
	})
}
