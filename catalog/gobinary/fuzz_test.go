package gobinary

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"slices"
	"testing"
	"testing/fstest"

	"github.com/vigil-scanner/vigil/catalog"
	"github.com/vigil-scanner/vigil/catalog/internal/exetest"
	"github.com/vigil-scanner/vigil/inventory"
)

const fuzzModinfo = "path\texample.com/app\nmod\texample.com/app\t(devel)\t\n" +
	"dep\tgolang.org/x/text\tv0.3.5\th1:x=\ndep\tgithub.com/a/b\tv1.0.0\t\n=>\tgithub.com/c/d\tv1.2.0\th1:y=\n" +
	"build\t-trimpath=true\n"

// pclntab returns a Go 1.20 function-name table naming fns.
func pclntab(fns ...string) []byte {
	le := binary.LittleEndian
	b := le.AppendUint32(nil, magic120)
	b = append(b, 0, 0, 1, 8)
	var names []byte
	for _, f := range fns {
		names = append(names, f...)
		names = append(names, 0)
	}
	for _, w := range []uint64{uint64(len(fns)), 0, 0, 64, 64 + uint64(len(names)), 0, 0} {
		b = le.AppendUint64(b, w)
	}
	return append(b, names...)
}

// FuzzExecutable reads arbitrary executables, and summaries of them, as
// the cataloger does: through Catalog on a file system holding the input,
// and through the condenser the layer walk streams it into.
func FuzzExecutable(f *testing.F) {
	exe := exetest.ELF(
		exetest.Section{Name: ".text", Data: []byte{0xc3}},
		exetest.Section{Name: ".go.buildinfo", Data: exetest.BuildInfo("go1.22.3", fuzzModinfo)},
		exetest.Section{Name: ".gopclntab", Data: pclntab("main.main", "golang.org/x/text/language.Parse")},
	)
	f.Add(exe)
	f.Add(exetest.ELF(exetest.Section{Name: ".go.buildinfo", Data: exetest.BuildInfo("go1.21.0", fuzzModinfo)}))
	if b, err := os.ReadFile("testdata/summary.txt"); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		fsys := fstest.MapFS{"usr/bin/app": {Data: in, Mode: 0o755}}
		var warned int
		env := catalog.Env{Warned: func(inventory.Warning) { warned++ }}
		results, err := New().Catalog(context.Background(), fsys, env)
		if err != nil {
			t.Fatalf("Catalog: %v (a bad binary is a warning)", err)
		}
		for _, r := range results {
			for _, p := range r.Packages {
				if p.Name == "" {
					t.Fatalf("package without a name: %+v", p)
				}
			}
		}
		// Condensing must agree with reading: a summary is read like the
		// binary it summarises.
		sum, err := condense("usr/bin/app", bytes.NewReader(in), int64(len(in)))
		if err != nil || len(sum) == 0 {
			return
		}
		fsys["usr/bin/app"] = &fstest.MapFile{Data: sum, Mode: 0o755}
		if _, err := New().Catalog(context.Background(), fsys, env); err != nil {
			t.Fatalf("Catalog of the summary: %v", err)
		}
	})
}

// FuzzFuncNames reads arbitrary .gopclntab sections.
func FuzzFuncNames(f *testing.F) {
	f.Add(pclntab("main.main", "a.b"), false)
	f.Add(pclntab(), true)
	f.Fuzz(func(t *testing.T, pcln []byte, big bool) {
		var order binary.ByteOrder = binary.LittleEndian
		if big {
			order = binary.BigEndian
		}
		for _, n := range funcNames(pcln, order) {
			if n == "" {
				t.Fatal("empty function name")
			}
		}
	})
}

// TestFuzzSeed: the fuzz seed is a Go executable the cataloger reads in
// full, so that mutations start from every step of the reader.
func TestFuzzSeed(t *testing.T) {
	exe := exetest.ELF(
		exetest.Section{Name: ".text", Data: []byte{0xc3}},
		exetest.Section{Name: ".go.buildinfo", Data: exetest.BuildInfo("go1.22.3", fuzzModinfo)},
		exetest.Section{Name: ".gopclntab", Data: pclntab("main.main", "golang.org/x/text/language.Parse")},
	)
	results, err := New().Catalog(context.Background(), fstest.MapFS{"app": {Data: exe, Mode: 0o755}}, catalog.Env{})
	if err != nil || len(results) != 1 {
		t.Fatalf("Catalog = %v, %v", results, err)
	}
	var got []string
	for _, p := range results[0].Packages {
		got = append(got, p.Name+"@"+p.Version)
	}
	want := []string{"github.com/c/d@v1.2.0", "golang.org/x/text@v0.3.5", "stdlib@v1.22.3"}
	if !slices.Equal(got, want) {
		t.Errorf("packages = %q, want %q", got, want)
	}
	if syms := results[0].Packages[0].Symbols; !syms["golang.org/x/text/language.Parse"] {
		t.Errorf("symbols = %v, want the pclntab's", syms)
	}
}
