package rpm

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Header tags read by the cataloger (rpm's rpmtag.h).
const (
	tagName            = 1000
	tagVersion         = 1001
	tagRelease         = 1002
	tagEpoch           = 1003
	tagSize            = 1009
	tagVendor          = 1011
	tagLicense         = 1014
	tagArch            = 1022
	tagOldFilenames    = 1027
	tagSourceRPM       = 1044
	tagDirIndexes      = 1116
	tagBasenames       = 1117
	tagDirnames        = 1118
	tagModularityLabel = 5096
)

// Header data types used by those tags.
const (
	typeInt32       = 4
	typeString      = 6
	typeStringArray = 8
	typeI18NString  = 9
)

// Limits from rpm (header_internal.h): a header has at most 0xffff index
// entries and 256 MiB of data.
const (
	// maxStrings bounds a string array (a package's file names): the
	// largest real packages have a few hundred thousand files.
	maxStrings      = 1 << 20
	maxIndexEntries = 0xffff
	maxDataLen      = 0x0fffffff
)

// Header is the part of an rpm package header the cataloger uses.
type Header struct {
	Name, Version, Release string
	Epoch                  int
	HasEpoch               bool
	Arch                   string
	SourceRPM              string
	License                string
	Vendor                 string
	ModularityLabel        string
	Size                   int64
	// Files are the installed paths, with their leading slash.
	Files []string
}

var errCorrupt = errors.New("corrupt rpm header")

// ParseHeader parses an rpm header blob as stored in the package database
// (no lead and no magic: the intro "index count, data length", then the
// index entries, then the data). Every offset and count is checked against
// the blob; a malformed blob gives an error wrapping errCorrupt.
func ParseHeader(blob []byte) (*Header, error) {
	if len(blob) < 8 {
		return nil, fmt.Errorf("%w: %d bytes, shorter than the intro", errCorrupt, len(blob))
	}
	il := binary.BigEndian.Uint32(blob[0:4])
	dl := binary.BigEndian.Uint32(blob[4:8])
	if il == 0 || il > maxIndexEntries || dl > maxDataLen {
		return nil, fmt.Errorf("%w: %d index entries, %d data bytes", errCorrupt, il, dl)
	}
	indexEnd := 8 + int(il)*16
	if indexEnd+int(dl) > len(blob) {
		return nil, fmt.Errorf("%w: %d index entries and %d data bytes do not fit in %d bytes",
			errCorrupt, il, dl, len(blob))
	}
	h := &hdr{index: blob[8:indexEnd], data: blob[indexEnd : indexEnd+int(dl)]}

	out := &Header{}
	var err error
	str := func(tag uint32) string {
		if err != nil {
			return ""
		}
		var s string
		s, err = h.string(tag)
		return s
	}
	out.Name = str(tagName)
	out.Version = str(tagVersion)
	out.Release = str(tagRelease)
	out.Arch = str(tagArch)
	out.SourceRPM = str(tagSourceRPM)
	out.License = str(tagLicense)
	out.Vendor = str(tagVendor)
	out.ModularityLabel = str(tagModularityLabel)
	if err != nil {
		return nil, err
	}
	if epochs, err := h.int32s(tagEpoch); err != nil {
		return nil, err
	} else if len(epochs) > 0 {
		out.Epoch, out.HasEpoch = int(epochs[0]), true
	}
	if sizes, err := h.int32s(tagSize); err != nil {
		return nil, err
	} else if len(sizes) > 0 {
		out.Size = int64(uint32(sizes[0]))
	}
	if out.Files, err = h.files(); err != nil {
		return nil, err
	}
	if out.Name == "" {
		return nil, fmt.Errorf("%w: no name", errCorrupt)
	}
	return out, nil
}

// hdr is a bounds-checked view of a header's index and data.
type hdr struct {
	index []byte // il entries of 16 bytes
	data  []byte
}

type entry struct {
	typ, offset, count uint32
}

// find returns the first index entry for tag.
func (h *hdr) find(tag uint32) (entry, bool) {
	for i := 0; i+16 <= len(h.index); i += 16 {
		if binary.BigEndian.Uint32(h.index[i:]) == tag {
			return entry{
				typ:    binary.BigEndian.Uint32(h.index[i+4:]),
				offset: binary.BigEndian.Uint32(h.index[i+8:]),
				count:  binary.BigEndian.Uint32(h.index[i+12:]),
			}, true
		}
	}
	return entry{}, false
}

// string returns a STRING or I18NSTRING value (the first string of an
// I18N table), or "" when the tag is absent.
func (h *hdr) string(tag uint32) (string, error) {
	e, ok := h.find(tag)
	if !ok {
		return "", nil
	}
	switch e.typ {
	case typeString, typeI18NString, typeStringArray:
	default:
		return "", fmt.Errorf("%w: tag %d has type %d, want a string", errCorrupt, tag, e.typ)
	}
	s, _, err := h.cstring(tag, e.offset)
	return s, err
}

// cstring reads the NUL-terminated string at off, returning it and the
// offset after its NUL.
func (h *hdr) cstring(tag, off uint32) (string, uint32, error) {
	if uint64(off) >= uint64(len(h.data)) {
		return "", 0, fmt.Errorf("%w: tag %d offset %d beyond %d data bytes", errCorrupt, tag, off, len(h.data))
	}
	n := bytes.IndexByte(h.data[off:], 0)
	if n < 0 {
		return "", 0, fmt.Errorf("%w: tag %d: unterminated string", errCorrupt, tag)
	}
	return string(h.data[off : off+uint32(n)]), off + uint32(n) + 1, nil
}

// strings returns a STRING_ARRAY value.
func (h *hdr) strings(tag uint32) ([]string, error) {
	e, ok := h.find(tag)
	if !ok {
		return nil, nil
	}
	if e.typ != typeStringArray {
		return nil, fmt.Errorf("%w: tag %d has type %d, want a string array", errCorrupt, tag, e.typ)
	}
	// Every string takes at least one byte: a count larger than the data
	// is corrupt. A string header is 16 bytes, so the slice grows as the
	// strings are read rather than from the count.
	if uint64(e.count) > uint64(len(h.data)) || e.count > maxStrings {
		return nil, fmt.Errorf("%w: tag %d: %d strings in %d data bytes", errCorrupt, tag, e.count, len(h.data))
	}
	out := make([]string, 0, min(e.count, 1024))
	off := e.offset
	for range e.count {
		s, next, err := h.cstring(tag, off)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
		off = next
	}
	return out, nil
}

// int32s returns an INT32 array value.
func (h *hdr) int32s(tag uint32) ([]int32, error) {
	e, ok := h.find(tag)
	if !ok {
		return nil, nil
	}
	if e.typ != typeInt32 {
		return nil, fmt.Errorf("%w: tag %d has type %d, want int32", errCorrupt, tag, e.typ)
	}
	end := uint64(e.offset) + 4*uint64(e.count)
	if end > uint64(len(h.data)) {
		return nil, fmt.Errorf("%w: tag %d: %d int32 at offset %d beyond %d data bytes",
			errCorrupt, tag, e.count, e.offset, len(h.data))
	}
	out := make([]int32, e.count)
	for i := range out {
		out[i] = int32(binary.BigEndian.Uint32(h.data[e.offset+uint32(i)*4:]))
	}
	return out, nil
}

// files joins DIRNAMES[DIRINDEXES[i]] and BASENAMES[i], or returns
// OLDFILENAMES for packages built before rpm 4.
func (h *hdr) files() ([]string, error) {
	base, err := h.strings(tagBasenames)
	if err != nil {
		return nil, err
	}
	if base == nil {
		return h.strings(tagOldFilenames)
	}
	dirs, err := h.strings(tagDirnames)
	if err != nil {
		return nil, err
	}
	idx, err := h.int32s(tagDirIndexes)
	if err != nil {
		return nil, err
	}
	if len(idx) != len(base) {
		return nil, fmt.Errorf("%w: %d basenames but %d dir indexes", errCorrupt, len(base), len(idx))
	}
	files := make([]string, len(base))
	for i, b := range base {
		d := idx[i]
		if d < 0 || int(d) >= len(dirs) {
			return nil, fmt.Errorf("%w: dir index %d out of %d dirnames", errCorrupt, d, len(dirs))
		}
		files[i] = dirs[d] + b
	}
	return files, nil
}

// splitSourceRPM splits "openssl-3.0.7-18.el9_2.src.rpm" into name,
// version and release. ok is false when s does not have that shape.
func splitSourceRPM(s string) (name, version, release string, ok bool) {
	s = strings.TrimSuffix(s, ".rpm")
	i := strings.LastIndexByte(s, '.') // drop ".src" / ".nosrc"
	if i < 0 {
		return "", "", "", false
	}
	s = s[:i]
	r := strings.LastIndexByte(s, '-')
	if r <= 0 {
		return "", "", "", false
	}
	v := strings.LastIndexByte(s[:r], '-')
	if v <= 0 {
		return "", "", "", false
	}
	return s[:v], s[v+1 : r], s[r+1:], true
}

// evr formats "[epoch:]version-release", with the epoch only when non-zero.
func evr(epoch int, version, release string) string {
	v := version
	if release != "" {
		v += "-" + release
	}
	if epoch != 0 {
		v = strconv.Itoa(epoch) + ":" + v
	}
	return v
}
