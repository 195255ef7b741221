// Command gen writes vigil's bundled example data: a small container image
// (docker save format) and feed mirrors in the upstream layouts, so that the
// README's quick start runs offline. The files are hand-written in the real
// formats; regenerate them with
//
//	go run ./examples/gen -out examples
//
// The image imitates Alpine 3.19 with an older OpenSSL and a Node.js
// application with lodash 4.17.20 and minimist 1.2.5 installed in
// node_modules (and pinned in its lockfile). The
// advisories are real (CVE-2024-0727 for OpenSSL in Alpine 3.19; GHSA
// advisories for lodash and minimist), trimmed to the fields that matter.
package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

func main() {
	out := flag.String("out", "examples", "output directory")
	flag.Parse()
	if err := run(*out); err != nil {
		log.Fatal(err)
	}
}

func run(out string) error {
	if err := writeImage(filepath.Join(out, "images", "demo-alpine-node.tar")); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(out, "feeds", "alpine", "v3.19", "main.json"), alpineSecdb); err != nil {
		return err
	}
	return writeOSVZip(filepath.Join(out, "feeds", "osv", "npm", "all.zip"), map[string]string{
		"GHSA-35jh-r3h4-6jhm.json": osvLodash,
		"GHSA-xvch-5gv4-984h.json": osvMinimist,
	})
}

var epoch = time.Date(2024, 1, 15, 10, 0, 0, 0, time.UTC)

type file struct{ path, body string }

func layer(files ...file) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := map[string]bool{}
	for _, f := range files {
		for d := filepath.Dir(f.path); d != "." && !dirs[d]; d = filepath.Dir(d) {
			dirs[d] = true
		}
	}
	for _, d := range sortedKeys(dirs) {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: 0o755, ModTime: epoch}); err != nil {
			return nil, err
		}
	}
	for _, f := range files {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: f.path, Mode: 0o644, Size: int64(len(f.body)), ModTime: epoch}); err != nil {
			return nil, err
		}
		if _, err := io.WriteString(tw, f.body); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	// Parents sort before children.
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}

func writeImage(path string) error {
	base, err := layer(
		file{"etc/os-release", osRelease},
		file{"etc/alpine-release", "3.19.0\n"},
		file{"lib/apk/db/installed", apkInstalled},
	)
	if err != nil {
		return err
	}
	app, err := layer(
		file{"app/package.json", appPackageJSON},
		file{"app/package-lock.json", appPackageLock},
		file{"app/node_modules/lodash/package.json", lodashPackageJSON},
		file{"app/node_modules/minimist/package.json", minimistPackageJSON},
	)
	if err != nil {
		return err
	}
	img, err := mutate.Append(empty.Image,
		mutate.Addendum{Layer: base, History: v1.History{CreatedBy: "/bin/sh -c #(nop) ADD file:3b3fa8e3 in / ", Created: v1.Time{Time: epoch}}},
		mutate.Addendum{Layer: app, History: v1.History{CreatedBy: "COPY app/ /app/ # buildkit", Created: v1.Time{Time: epoch}}},
	)
	if err != nil {
		return err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = "linux", "amd64"
	cfg.Created = v1.Time{Time: epoch}
	cfg.Config.Cmd = []string{"node", "/app/index.js"}
	img, err = mutate.ConfigFile(img, cfg)
	if err != nil {
		return err
	}
	tag, err := name.NewTag("example.com/vigil/demo-alpine-node:1.0")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := tarball.Write(tag, img, f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

func writeFile(path, body string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(body), 0o644)
}

func writeOSVZip(path string, records map[string]string) error {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range []string{"GHSA-35jh-r3h4-6jhm.json", "GHSA-xvch-5gv4-984h.json"} {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: n, Method: zip.Deflate, Modified: epoch})
		if err != nil {
			return err
		}
		if _, err := io.WriteString(w, records[n]); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return writeFile(path, buf.String())
}
