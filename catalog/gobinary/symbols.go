package gobinary

import (
	"bytes"
	"debug/elf"
	"debug/gosym"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// maxPclntab bounds the symbol data read from one binary.
const maxPclntab = 256 << 20

// Symbols returns the names of the functions compiled into a Go ELF
// executable ("net/http.(*Server).Serve", "main.main", …), read from its
// .gopclntab (and .gosymtab, empty in modern toolchains) through
// debug/gosym, and the functions inlined into them, read from the
// .gopclntab function-name table. It is the input of reachability analysis: a vulnerable
// symbol absent from the binary cannot be called. Binaries built with
// -ldflags=-s keep .gopclntab, so they work too.
func Symbols(r io.ReaderAt) (syms map[string]bool, err error) {
	// debug/elf and debug/gosym have panicked on corrupt input before;
	// a hostile binary must not stop the scan.
	defer func() {
		if p := recover(); p != nil {
			syms, err = nil, fmt.Errorf("gobinary symbols: corrupt binary: %v", p)
		}
	}()
	f, err := elf.NewFile(r)
	if err != nil {
		return nil, fmt.Errorf("gobinary symbols: %w", err)
	}
	defer f.Close()
	pcln := f.Section(".gopclntab")
	text := f.Section(".text")
	if pcln == nil || text == nil {
		return nil, errors.New("gobinary symbols: no .gopclntab or .text section")
	}
	if pcln.Size > maxPclntab {
		return nil, fmt.Errorf("gobinary symbols: .gopclntab too large (%d bytes)", pcln.Size)
	}
	pclnData, err := pcln.Data()
	if err != nil {
		return nil, fmt.Errorf("gobinary symbols: .gopclntab: %w", err)
	}
	if names := funcNames(pclnData, f.ByteOrder); len(names) > 0 {
		// The function-name table of a Go 1.16+ binary names every
		// function, compiled out of line or inlined: debug/gosym's table
		// (which decodes every function's entry, a tenth of a Go binary
		// scan) would add no name. Checked on real binaries (vigil,
		// Trivy, Syft, Debian's podman): each name debug/gosym reports
		// is in it.
		syms = make(map[string]bool, len(names))
		for _, name := range names {
			syms[name] = true
		}
		return syms, nil
	}
	// An older or unknown layout: what debug/gosym reads.
	var symData []byte
	if s := f.Section(".gosymtab"); s != nil && s.Size <= maxPclntab {
		if symData, err = s.Data(); err != nil {
			return nil, fmt.Errorf("gobinary symbols: .gosymtab: %w", err)
		}
	}
	tab, err := gosym.NewTable(symData, gosym.NewLineTable(pclnData, text.Addr))
	if err != nil {
		return nil, fmt.Errorf("gobinary symbols: %w", err)
	}
	syms = make(map[string]bool, len(tab.Funcs))
	for _, fn := range tab.Funcs {
		syms[fn.Name] = true
	}
	return syms, nil
}

// pclntab header magic numbers (runtime/symtab.go).
const (
	magic116 = 0xfffffffa // Go 1.16 and 1.17
	magic118 = 0xfffffff0 // Go 1.18 and 1.19
	magic120 = 0xfffffff1 // Go 1.20 and later
)

// funcNames returns every name in the function-name table of a Go 1.16+
// .gopclntab: the functions compiled out of line and those only inlined
// into others (named by the inline trees that tracebacks use). debug/gosym
// reports the former only, and a small vulnerable function is often
// inlined everywhere it is called. Unknown layouts yield nothing.
func funcNames(pcln []byte, order binary.ByteOrder) []string {
	if len(pcln) < 8 || pcln[4] != 0 || pcln[5] != 0 {
		return nil
	}
	ptr := int(pcln[7])
	if ptr != 4 && ptr != 8 {
		return nil
	}
	word := func(i int) (uint64, bool) {
		off := 8 + i*ptr
		if off+ptr > len(pcln) {
			return 0, false
		}
		if ptr == 4 {
			return uint64(order.Uint32(pcln[off:])), true
		}
		return order.Uint64(pcln[off:]), true
	}
	// Header words after the magic: nfunc, nfiles, [textStart,]
	// funcnameOffset, cuOffset, …
	var nameWord int
	switch order.Uint32(pcln) {
	case magic116:
		nameWord = 2
	case magic118, magic120:
		nameWord = 3
	default:
		return nil
	}
	start, ok1 := word(nameWord)
	end, ok2 := word(nameWord + 1)
	if !ok1 || !ok2 || start > end || end > uint64(len(pcln)) {
		return nil
	}
	var names []string
	for name := range bytes.SplitSeq(pcln[start:end], []byte{0}) {
		if len(name) > 0 {
			names = append(names, string(name))
		}
	}
	return names
}
