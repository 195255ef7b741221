// Command resave rewrites a docker-save archive whose layers are gzip
// files as `docker save` itself writes one: every layer an uncompressed
// <id>/layer.tar. Piped through gzip, it is the `docker save | gzip`
// archive of the same image.
//
//	resave -o debian-save.tar debian.tar && gzip -6 debian-save.tar
package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"io"
	"log"
	"os"
	"strings"
)

func main() {
	out := flag.String("o", "", "output archive")
	flag.Parse()
	if *out == "" || flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(flag.Arg(0), *out); err != nil {
		log.Fatal(err)
	}
}

func run(in, out string) error {
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	o, err := os.Create(out)
	if err != nil {
		return err
	}
	defer o.Close()
	bw := bufio.NewWriterSize(o, 1<<20)
	tw := tar.NewWriter(bw)
	tr := tar.NewReader(bufio.NewReaderSize(f, 1<<20))
	renamed := map[string]string{}
	var manifest []byte
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		switch {
		case hdr.Name == "manifest.json":
			if manifest, err = io.ReadAll(tr); err != nil {
				return err
			}
		case strings.HasSuffix(hdr.Name, ".tar.gz"):
			zr, err := gzip.NewReader(tr)
			if err != nil {
				return err
			}
			var layer bytes.Buffer
			if _, err := io.Copy(&layer, zr); err != nil {
				return err
			}
			name := strings.TrimSuffix(hdr.Name, ".tar.gz") + "/layer.tar"
			renamed[hdr.Name] = name
			if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(layer.Len()), Typeflag: tar.TypeReg}); err != nil {
				return err
			}
			if _, err := tw.Write(layer.Bytes()); err != nil {
				return err
			}
		default:
			if err := tw.WriteHeader(hdr); err != nil {
				return err
			}
			if _, err := io.Copy(tw, tr); err != nil {
				return err
			}
		}
	}
	var entries []map[string]any
	if err := json.Unmarshal(manifest, &entries); err != nil {
		return err
	}
	for _, e := range entries {
		layers, _ := e["Layers"].([]any)
		for i, l := range layers {
			if n, ok := renamed[l.(string)]; ok {
				layers[i] = n
			}
		}
	}
	if manifest, err = json.Marshal(entries); err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: "manifest.json", Mode: 0o644, Size: int64(len(manifest)), Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	if _, err := tw.Write(manifest); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return bw.Flush()
}
