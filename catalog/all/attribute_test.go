package all_test

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"maps"
	"math/rand/v2"
	"path"
	"slices"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/vigil-scanner/vigil/catalog"
	"github.com/vigil-scanner/vigil/catalog/all"
	"github.com/vigil-scanner/vigil/inventory"
	"github.com/vigil-scanner/vigil/layerfs"
	lt "github.com/vigil-scanner/vigil/layerfs/layertest"
)

// viewsOnly hides every method of a tree but catalog.Tree's, so that Run
// attributes packages to layers by cataloging whole earlier views only.
type viewsOnly struct{ catalog.Tree }

// TestAttributionByFiles checks, on random images of several layers, that
// attributing packages by the history of their input files (the
// catalogers' Inputs) gives every package the layer that cataloging whole
// earlier views gives it. The layers write, rewrite (with the same or other
// contents, or another mode), delete (whiteouts of files and folders,
// opaque folders) and replace with symbolic links installed npm packages
// (nested, fixtures, pnpm), Python distributions and Java archives (nested
// in a war too).
func TestAttributionByFiles(t *testing.T) {
	cats := all.Catalogers(all.Installed, all.Options{})
	want := func(p string, mode fs.FileMode, size int64) bool {
		for _, c := range cats {
			if c.Wants(p, mode, size) {
				return true
			}
		}
		return false
	}
	moved := 0
	for seed := range uint64(40) {
		r := rand.New(rand.NewPCG(seed, 99))
		ls, layers := randomImage(t, r)
		tree, err := layerfs.ReadLayers(context.Background(), ls, layerfs.Options{Want: want})
		if err != nil {
			t.Fatal(err)
		}
		run := func(tr catalog.Tree) map[string]string {
			out, err := catalog.Run(context.Background(), tr, cats, catalog.RunOptions{Name: "img", Layers: layers,
				Now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, res := range out.Results {
				for _, p := range res.Packages {
					got[res.Type+" "+p.Name+"@"+p.Version+" "+p.FilePath] = p.Layer.CreatedBy
				}
			}
			return got
		}
		byFiles, byViews := run(tree), run(viewsOnly{tree})
		if !maps.Equal(byFiles, byViews) {
			for _, k := range slices.Sorted(maps.Keys(byViews)) {
				if byFiles[k] != byViews[k] {
					t.Errorf("seed %d: %s: layer %q by files, %q by views", seed, k, byFiles[k], byViews[k])
				}
			}
			t.Fatalf("seed %d: %d packages by files, %d by views", seed, len(byFiles), len(byViews))
		}
		for _, l := range byViews {
			if l != layers[len(layers)-1].CreatedBy {
				moved++
			}
		}
	}
	t.Logf("%d packages moved", moved)
	if moved < 100 {
		t.Errorf("only %d packages attributed to another layer than the last: the images test too little", moved)
	}
}

// randomImage returns 3 to 6 layers that install, change and remove
// packages at random, and their descriptions.
func randomImage(t *testing.T, r *rand.Rand) ([]v1.Layer, []inventory.Layer) {
	files := []string{
		"app/node_modules/a/package.json",
		"app/node_modules/b/package.json",
		"app/node_modules/@s/c/package.json",
		"app/node_modules/a/node_modules/d/package.json", // nested: counts when a has a package.json
		"app/node_modules/a/test/node_modules/f/package.json",
		"app/node_modules/.pnpm/e@1.0.0/node_modules/e/package.json",
		"usr/lib/python3/site-packages/p-1.dist-info/METADATA",
		"usr/lib/python3/site-packages/q-2.dist-info/METADATA",
		"usr/lib/python3/site-packages/r.egg-info",
		"opt/lib/j.jar",
		"opt/lib/k.jar",
		"opt/w.war",
	}
	dirs := []string{"app/node_modules/a", "app/node_modules", "usr/lib/python3/site-packages", "opt/lib", "opt"}
	var ls []v1.Layer
	var layers []inventory.Layer
	n := 3 + r.IntN(4)
	for i := range n {
		var es []lt.Entry
		for _, f := range files {
			if r.IntN(3) != 0 {
				continue
			}
			switch op := r.IntN(10); {
			case op < 6: // (re)write, often with the same contents
				es = append(es, lt.Entry{Name: f, Body: body(t, f, r.IntN(2)), Mode: []int64{0o644, 0o600}[r.IntN(2)]})
			case op < 8: // delete
				es = append(es, lt.Entry{Name: path.Join(path.Dir(f), ".wh."+path.Base(f))})
			default: // replace with a symbolic link to another file of the list
				es = append(es, lt.Entry{Name: f, Type: '2', Linkname: "/" + files[r.IntN(len(files))]})
			}
		}
		if r.IntN(4) == 0 {
			d := dirs[r.IntN(len(dirs))]
			if r.IntN(2) == 0 {
				es = append(es, lt.Entry{Name: path.Join(path.Dir(d), ".wh."+path.Base(d))})
			} else {
				es = append(es, lt.Entry{Name: d + "/.wh..wh..opq"})
			}
		}
		es = append(es, lt.Entry{Name: fmt.Sprintf("etc/step%d", i), Body: "x"})
		l := lt.NewLayer(t, es...)
		d, _ := l.Digest()
		diff, _ := l.DiffID()
		ls = append(ls, l)
		layers = append(layers, inventory.Layer{Digest: d.String(), DiffID: diff.String(), CreatedBy: fmt.Sprintf("step %d", i)})
	}
	return ls, layers
}

// body returns the contents of file f in version v (0 or 1).
func body(t *testing.T, f string, v int) string {
	name := path.Base(path.Dir(f))
	switch path.Ext(f) {
	case ".json":
		return fmt.Sprintf(`{"name": %q, "version": "1.%d.0"}`, name, v)
	case ".jar", ".war":
		return jar(t, f, v)
	}
	if path.Base(f) == "METADATA" || path.Ext(f) == ".egg-info" {
		return fmt.Sprintf("Metadata-Version: 2.1\nName: %s\nVersion: 2.%d\n", path.Base(f)[:1], v)
	}
	t.Fatalf("no body for %s", f)
	return ""
}

// jar returns a Java archive with one pom.properties (a war: one nested
// jar).
func jar(t *testing.T, f string, v int) string {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	name := path.Base(f)
	if path.Ext(f) == ".war" {
		w, _ := zw.Create("WEB-INF/lib/inner.jar")
		w.Write([]byte(jar(t, "inner.jar", v)))
	} else {
		w, _ := zw.Create("META-INF/maven/org.example/" + name + "/pom.properties")
		fmt.Fprintf(w, "groupId=org.example\nartifactId=%s\nversion=3.%d\n", name, v)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
