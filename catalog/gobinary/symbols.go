package gobinary

import (
	"debug/elf"
	"debug/gosym"
	"errors"
	"fmt"
	"io"
)

// maxPclntab bounds the symbol data read from one binary.
const maxPclntab = 256 << 20

// Symbols returns the names of the functions compiled into a Go ELF
// executable ("net/http.(*Server).Serve", "main.main", …), read from its
// .gopclntab (and .gosymtab, empty in modern toolchains) through
// debug/gosym. It is the input of reachability analysis: a vulnerable
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
