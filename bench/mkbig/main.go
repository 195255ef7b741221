// Command mkbig writes a large synthetic image as a docker-save archive
// with gzip layers, to show how a scanner's time and memory grow with an
// image's size: a fixed set of packages (npm package.json files, Maven
// jars, Python dist-info directories, an Alpine-free Debian-like
// os-release) spread over the layers, and filler files (text-like data,
// about 3:1 compressible) that bring the layers to the asked-for size.
//
//	mkbig -o big-2g.tar -gb 2 -npm 50000 -jars 2000 -wheels 2000 -layers 4
//
// Everything is generated from a seed, so two runs write the same image.
package main

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"hash"
	"io"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/klauspost/compress/gzip"
)

const fillerFile = 4 << 20 // bytes per filler file

func main() {
	out := flag.String("o", "", "output archive")
	gb := flag.Float64("gb", 1, "uncompressed size of the layers, in GB (filler included)")
	npm := flag.Int("npm", 20000, "node_modules package.json files")
	jars := flag.Int("jars", 1000, "Maven jars")
	wheels := flag.Int("wheels", 1000, "Python dist-info directories")
	layers := flag.Int("layers", 4, "layers")
	flag.Parse()
	if *out == "" || *layers < 1 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*out, int64(*gb*1e9), *npm, *jars, *wheels, *layers); err != nil {
		log.Fatal(err)
	}
}

type layerFile struct {
	path            string
	diffID, digest  string
	compressed, raw int64
}

func run(out string, size int64, npm, jars, wheels, nlayers int) error {
	r := rand.New(rand.NewPCG(1, 2))
	text := textBuffer(r, 16<<20)
	dir, err := os.MkdirTemp(filepath.Dir(out), ".mkbig-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	var ls []layerFile
	for i := range nlayers {
		lf, err := writeLayer(dir, i, nlayers, size/int64(nlayers), npm, jars, wheels, text, r)
		if err != nil {
			return err
		}
		log.Printf("layer %d: %d MB tar, %d MB gzip", i, lf.raw>>20, lf.compressed>>20)
		ls = append(ls, lf)
	}
	return writeArchive(out, ls)
}

// textBuffer returns text-like bytes: words with some noise.
func textBuffer(r *rand.Rand, n int) []byte {
	words := []string{"lorem ", "ipsum ", "dolor ", "sit ", "amet ", "function ", "return ", "const ", "var ", "export ",
		"module ", "require(", ");\n", "{\n", "}\n", "if (", "else ", "this.", "null", "undefined", "0x", "\t"}
	var b bytes.Buffer
	for b.Len() < n {
		if r.IntN(4) == 0 {
			fmt.Fprintf(&b, "%x", r.Uint32())
		}
		b.WriteString(words[r.IntN(len(words))])
	}
	return b.Bytes()[:n]
}

// writeLayer writes layer i of n: its share of every kind of package,
// then filler up to about size bytes.
func writeLayer(dir string, i, n int, size int64, npm, jars, wheels int, text []byte, r *rand.Rand) (layerFile, error) {
	f, err := os.Create(filepath.Join(dir, fmt.Sprintf("layer%d.tar.gz", i)))
	if err != nil {
		return layerFile{}, err
	}
	defer f.Close()
	dig := sha256.New()
	cw := &counter{w: io.MultiWriter(f, dig)}
	bw := bufio.NewWriterSize(cw, 1<<20)
	zw, err := gzip.NewWriterLevel(bw, gzip.DefaultCompression)
	if err != nil {
		return layerFile{}, err
	}
	diff := sha256.New()
	tc := &counter{w: io.MultiWriter(zw, diff)}
	tw := tar.NewWriter(tc)
	mtime := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	add := func(name string, body []byte) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), ModTime: mtime, Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		_, err := tw.Write(body)
		return err
	}
	if i == 0 {
		if err := add("etc/os-release", []byte("PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n")); err != nil {
			return layerFile{}, err
		}
	}
	for k := i; k < npm; k += n {
		name := fmt.Sprintf("pkg-%d", k)
		body := fmt.Sprintf(`{"name":%q,"version":"1.%d.%d","description":"synthetic package %d","main":"index.js","license":"MIT"}`, name, k%97, k%13, k)
		if err := add(fmt.Sprintf("srv/app/node_modules/%s/package.json", name), []byte(body)); err != nil {
			return layerFile{}, err
		}
		if err := add(fmt.Sprintf("srv/app/node_modules/%s/index.js", name), text[k%1000:k%1000+200+k%700]); err != nil {
			return layerFile{}, err
		}
	}
	for k := i; k < jars; k += n {
		jar, err := jarBytes(k, text)
		if err != nil {
			return layerFile{}, err
		}
		if err := add(fmt.Sprintf("opt/app/lib/lib%d-2.%d.jar", k, k%10), jar); err != nil {
			return layerFile{}, err
		}
	}
	for k := i; k < wheels; k += n {
		meta := fmt.Sprintf("Metadata-Version: 2.1\nName: pydist%d\nVersion: 0.%d.%d\nSummary: synthetic\n", k, k%50, k%7)
		if err := add(fmt.Sprintf("usr/lib/python3/dist-packages/pydist%d-0.%d.%d.dist-info/METADATA", k, k%50, k%7), []byte(meta)); err != nil {
			return layerFile{}, err
		}
	}
	for k := 0; tc.n < size; k++ {
		off := r.IntN(len(text) - fillerFile)
		if err := add(fmt.Sprintf("usr/share/filler/%d/%d.dat", i, k), text[off:off+fillerFile]); err != nil {
			return layerFile{}, err
		}
	}
	if err := tw.Close(); err != nil {
		return layerFile{}, err
	}
	if err := zw.Close(); err != nil {
		return layerFile{}, err
	}
	if err := bw.Flush(); err != nil {
		return layerFile{}, err
	}
	return layerFile{path: f.Name(), diffID: sum(diff), digest: sum(dig), compressed: cw.n, raw: tc.n}, nil
}

// jarBytes returns a small jar with Maven metadata and a class-sized entry.
func jarBytes(k int, text []byte) ([]byte, error) {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for name, body := range map[string][]byte{
		"META-INF/MANIFEST.MF": []byte("Manifest-Version: 1.0\r\n\r\n"),
		fmt.Sprintf("META-INF/maven/org.example.g%d/lib%d/pom.properties", k%20, k): []byte(fmt.Sprintf("groupId=org.example.g%d\nartifactId=lib%d\nversion=2.%d\n", k%20, k, k%10)),
		fmt.Sprintf("org/example/lib%d/Main.class", k):                              text[k%5000 : k%5000+3000],
	} {
		w, err := zw.Create(name)
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(body); err != nil {
			return nil, err
		}
	}
	err := zw.Close()
	return b.Bytes(), err
}

func sum(h hash.Hash) string { return "sha256:" + hex.EncodeToString(h.Sum(nil)) }

type counter struct {
	w io.Writer
	n int64
}

func (c *counter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// writeArchive writes the docker-save archive: config, layers named by
// digest, manifest.json.
func writeArchive(out string, ls []layerFile) error {
	var diffIDs []string
	for _, l := range ls {
		diffIDs = append(diffIDs, l.diffID)
	}
	config, err := json.Marshal(map[string]any{
		"architecture": "amd64", "os": "linux", "created": "2026-01-01T00:00:00Z",
		"config": map[string]any{}, "rootfs": map[string]any{"type": "layers", "diff_ids": diffIDs},
	})
	if err != nil {
		return err
	}
	cs := sha256.Sum256(config)
	configName := hex.EncodeToString(cs[:]) + ".json"
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	tw := tar.NewWriter(bw)
	write := func(name string, size int64, r io.Reader) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: size, Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		_, err := io.Copy(tw, r)
		return err
	}
	if err := write(configName, int64(len(config)), bytes.NewReader(config)); err != nil {
		return err
	}
	var names []string
	for _, l := range ls {
		name := l.digest[len("sha256:"):] + ".tar.gz"
		lf, err := os.Open(l.path)
		if err != nil {
			return err
		}
		err = write(name, l.compressed, lf)
		lf.Close()
		if err != nil {
			return err
		}
		names = append(names, name)
	}
	manifest, err := json.Marshal([]map[string]any{{"Config": configName, "RepoTags": []string{"bench/big:latest"}, "Layers": names}})
	if err != nil {
		return err
	}
	if err := write("manifest.json", int64(len(manifest)), bytes.NewReader(manifest)); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return bw.Flush()
}
