package gobinary

import (
	"debug/elf"
	"debug/gosym"
	"os"
	"runtime"
	"testing"
)

// TestSymbolsCoverGosym: Symbols reads the function-name table alone; every
// function debug/gosym finds in a real Go binary (this test's own) must be
// among its names, and the inlined-only names debug/gosym misses too.
func TestSymbolsCoverGosym(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads this test's own ELF binary")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	fh, err := os.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	syms, err := Symbols(fh)
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.NewFile(fh)
	if err != nil {
		t.Fatal(err)
	}
	pcln, err := f.Section(".gopclntab").Data()
	if err != nil {
		t.Fatal(err)
	}
	tab, err := gosym.NewTable(nil, gosym.NewLineTable(pcln, f.Section(".text").Addr))
	if err != nil {
		t.Fatal(err)
	}
	missing := 0
	for _, fn := range tab.Funcs {
		if !syms[fn.Name] {
			if missing++; missing <= 5 {
				t.Errorf("debug/gosym's %q is not among Symbols", fn.Name)
			}
		}
	}
	if len(syms) <= len(tab.Funcs) {
		t.Errorf("Symbols found %d names, debug/gosym %d functions: the inlined-only names are missing", len(syms), len(tab.Funcs))
	}
}
