// Package exetest writes small executables for the tests and fuzz seeds of
// the binary catalogers: an ELF file with the sections asked for, and the
// .go.buildinfo section that the Go linker writes, so that a reader's
// every step can be reached without building a real binary.
package exetest

import (
	"encoding/binary"
	"slices"
)

// Section is one section of an ELF file.
type Section struct {
	Name string
	Data []byte
}

// ELF returns a little-endian 64-bit x86-64 ELF executable holding
// sections, in order, and the section name table, all in one loadable
// segment mapped at 0x400000.
func ELF(sections ...Section) []byte {
	le := binary.LittleEndian
	const ehsize, phentsize, shentsize = 64, 56, 64
	names := []byte{0}
	nameOff := make([]int, len(sections)+1)
	for i, s := range sections {
		nameOff[i] = len(names)
		names = append(names, s.Name...)
		names = append(names, 0)
	}
	nameOff[len(sections)] = len(names)
	names = append(names, ".shstrtab\x00"...)
	all := append(slices.Clone(sections), Section{Name: ".shstrtab", Data: names})

	body := make([]byte, phentsize) // the program header, written below
	offs := make([]int, len(all))
	for i, s := range all {
		for (ehsize+len(body))%8 != 0 {
			body = append(body, 0)
		}
		offs[i] = ehsize + len(body)
		body = append(body, s.Data...)
	}
	for (ehsize+len(body))%8 != 0 {
		body = append(body, 0)
	}
	shoff := ehsize + len(body)

	h := make([]byte, 0, ehsize)
	h = append(h, 0x7f, 'E', 'L', 'F', 2, 1, 1, 0)
	h = append(h, make([]byte, 8)...)
	h = le.AppendUint16(h, 2)  // ET_EXEC
	h = le.AppendUint16(h, 62) // EM_X86_64
	h = le.AppendUint32(h, 1)
	h = le.AppendUint64(h, 0x401000) // entry
	h = le.AppendUint64(h, ehsize)   // program headers
	h = le.AppendUint64(h, uint64(shoff))
	h = le.AppendUint32(h, 0)
	h = le.AppendUint16(h, ehsize)
	h = le.AppendUint16(h, phentsize)
	h = le.AppendUint16(h, 1)
	h = le.AppendUint16(h, shentsize)
	h = le.AppendUint16(h, uint16(len(all)+1))
	h = le.AppendUint16(h, uint16(len(all)))

	size := uint64(shoff + (len(all)+1)*shentsize)
	ph := le.AppendUint32(nil, 1) // PT_LOAD
	ph = le.AppendUint32(ph, 6)   // read, write
	ph = le.AppendUint64(ph, 0)   // offset
	ph = le.AppendUint64(ph, 0x400000)
	ph = le.AppendUint64(ph, 0x400000)
	ph = le.AppendUint64(ph, size) // in the file
	ph = le.AppendUint64(ph, size) // in memory
	ph = le.AppendUint64(ph, 0x1000)
	copy(body, ph)

	out := append(h, body...)
	out = append(out, make([]byte, shentsize)...) // the null section
	addr := uint64(0x400000)
	for i, s := range all {
		typ, flags := uint32(1), uint64(2) // PROGBITS, ALLOC
		if i == len(all)-1 {
			typ, flags = 3, 0 // STRTAB
		}
		out = le.AppendUint32(out, uint32(nameOff[i]))
		out = le.AppendUint32(out, typ)
		out = le.AppendUint64(out, flags)
		out = le.AppendUint64(out, addr+uint64(offs[i]))
		out = le.AppendUint64(out, uint64(offs[i]))
		out = le.AppendUint64(out, uint64(len(s.Data)))
		out = le.AppendUint32(out, 0)
		out = le.AppendUint32(out, 0)
		out = le.AppendUint64(out, 1)
		out = le.AppendUint64(out, 0)
	}
	return out
}

// BuildInfo returns a .go.buildinfo section, in the layout of Go 1.18 and
// later, recording the toolchain version and the module information
// modinfo, which is what runtime/debug.BuildInfo.String writes.
func BuildInfo(goVersion, modinfo string) []byte {
	b := []byte("\xff Go buildinf:")
	b = append(b, 8, 2) // pointer size, inline strings
	b = append(b, make([]byte, 32-len(b))...)
	b = binary.AppendUvarint(b, uint64(len(goVersion)))
	b = append(b, goVersion...)
	// The linker wraps modinfo in 16-byte sentinels.
	mod := "0w\xaf\x0c\x92t\x08\x02A\xe1\xc1\x07\xe6\xd6\x18\xe6" + modinfo + "\xf92C1\x86\x18 r\x00\x82B\x10A\x16\xd8\xf2"
	b = binary.AppendUvarint(b, uint64(len(mod)))
	b = append(b, mod...)
	return b
}
