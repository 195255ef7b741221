package rustbinary

import (
	"bytes"
	"context"
	"testing"
	"testing/fstest"

	"github.com/vigil-scanner/vigil/catalog"
	"github.com/vigil-scanner/vigil/catalog/internal/exetest"
)

// FuzzExecutable reads arbitrary executables as the cataloger does,
// through Catalog and through the condenser the layer walk streams them
// into.
func FuzzExecutable(f *testing.F) {
	exe := exetest.ELF(exetest.Section{Name: ".text", Data: []byte{0xc3}}, exetest.Section{Name: Section, Data: compress(f, depJSON)})
	f.Add(exe)
	f.Add([]byte("MZ\x90\x00"))
	f.Fuzz(func(t *testing.T, in []byte) {
		fsys := fstest.MapFS{"usr/bin/app": {Data: in, Mode: 0o755}}
		if _, err := New().Catalog(context.Background(), fsys, catalog.Env{}); err != nil {
			t.Fatalf("Catalog: %v (a bad binary is a warning)", err)
		}
		sum, err := condense("usr/bin/app", bytes.NewReader(in), int64(len(in)))
		if err != nil || len(sum) == 0 {
			return
		}
		fsys["usr/bin/app"] = &fstest.MapFile{Data: sum, Mode: 0o755}
		if _, err := New().Catalog(context.Background(), fsys, catalog.Env{}); err != nil {
			t.Fatalf("Catalog of the summary: %v", err)
		}
	})
}

// FuzzParse reads arbitrary .dep-v0 sections (zlib-compressed JSON).
func FuzzParse(f *testing.F) {
	f.Add(compress(f, depJSON))
	f.Add(compress(f, `{"packages":[{"name":"a","version":"1","dependencies":[0,0,1]}]}`))
	f.Fuzz(func(t *testing.T, section []byte) {
		pkgs, err := Parse(section)
		if err != nil {
			return
		}
		ids := map[string]bool{}
		for _, p := range pkgs {
			ids[p.ID] = true
		}
		for _, p := range pkgs {
			for _, d := range p.DependsOn {
				if !ids[d] {
					t.Fatalf("%s depends on %s, which is not reported", p.ID, d)
				}
			}
		}
	})
}

// TestFuzzSeed: the fuzz seed is an executable the cataloger reads in
// full.
func TestFuzzSeed(t *testing.T) {
	exe := exetest.ELF(exetest.Section{Name: ".text", Data: []byte{0xc3}}, exetest.Section{Name: Section, Data: compress(t, depJSON)})
	results, err := New().Catalog(context.Background(), fstest.MapFS{"app": {Data: exe, Mode: 0o755}}, catalog.Env{})
	if err != nil || len(results) != 1 || len(results[0].Packages) != 3 {
		t.Fatalf("Catalog = %+v, %v; want the 3 crates", results, err)
	}
}
