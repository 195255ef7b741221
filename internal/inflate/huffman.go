package inflate

import (
	"errors"
	"math/bits"
)

// Deflate (RFC 1951) decoding tables.
//
// A table maps the next tableBits bits of the stream (least significant
// bit first, as deflate stores Huffman codes reversed) to an entry. Codes
// longer than the primary table's width go through a subtable, reached
// from the entry of their first bits.
//
// An entry is a uint32:
//
//	bits 0-4    bits of the code (or of the primary part, for a subtable link)
//	bits 8-11   extra bits that follow the code (lengths, distances), or the
//	            width of the subtable a link points to
//	bits 12-15  kind
//	bits 16-31  value: literal byte, length or distance base, subtable offset
const (
	kindLiteral = 0 << 12
	kindLength  = 1 << 12
	kindEnd     = 2 << 12
	kindLink    = 3 << 12
	kindInvalid = 4 << 12
	kindMask    = 0xf << 12
)

const (
	litBits  = 11 // primary width of literal/length tables
	distBits = 8  // primary width of distance tables
	clBits   = 7  // code-length codes are at most 7 bits
	maxBits  = 15 // longest deflate code
)

// Number of symbols of each alphabet.
const (
	numLitLen   = 288 // 286 used; 286 and 287 appear only in fixed blocks
	numDist     = 32  // 30 used
	numCodeLens = 19
)

// A table with room for every subtable a valid code can need: at most one
// per code longer than the primary width, each of 1<<(maxBits-width)
// entries.
type table struct {
	e     []uint32
	width uint
}

var (
	lengthBase  = [29]uint16{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lengthExtra = [29]uint8{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase    = [30]uint16{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra   = [30]uint8{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
	clOrder     = [numCodeLens]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}
)

var (
	errCode    = errors.New("invalid Huffman code")
	errHeader  = errors.New("invalid block header")
	errDist    = errors.New("distance too far back")
	errSymbol  = errors.New("invalid symbol")
	errStored  = errors.New("stored block length does not match its complement")
	errBtype   = errors.New("reserved block type")
	errNoDists = errors.New("length code in a block without distance codes")
)

// litEntry returns the entry of literal/length symbol s.
func litEntry(s int) uint32 {
	switch {
	case s < 256:
		return kindLiteral | uint32(s)<<16
	case s == 256:
		return kindEnd
	case s < 286:
		i := s - 257
		return kindLength | uint32(lengthExtra[i])<<8 | uint32(lengthBase[i])<<16
	}
	return kindInvalid
}

// distEntry returns the entry of distance symbol s.
func distEntry(s int) uint32 {
	if s < 30 {
		return kindLength | uint32(distExtra[s])<<8 | uint32(distBase[s])<<16
	}
	return kindInvalid
}

// build fills t for the code with the given lengths (0: symbol unused),
// entries made by entry. The code must be complete, as zlib and Go's
// compress/flate require, except that a code of one symbol of length 1
// is allowed, and an empty code when empty is true (distance codes of a
// block of literals only). Entries no code reaches are kindInvalid.
func (t *table) build(lengths []uint8, width uint, entry func(int) uint32, empty bool) error {
	var count [maxBits + 1]int
	maxLen := 0
	for _, l := range lengths {
		count[l]++
		if int(l) > maxLen {
			maxLen = int(l)
		}
	}
	count[0] = 0
	size := 1 << width
	if cap(t.e) < size {
		t.e = make([]uint32, size, size+len(lengths)<<(maxBits-width))
	}
	t.e = t.e[:size]
	for i := range t.e {
		t.e[i] = kindInvalid
	}
	t.width = width
	if maxLen == 0 {
		if !empty {
			return errCode
		}
		return nil
	}
	// Kraft sum, and the first code of each length.
	var next [maxBits + 2]int
	code := 0
	for l := 1; l <= maxBits; l++ {
		code = (code + count[l-1]) << 1
		next[l] = code
	}
	left := 1
	for l := 1; l <= maxBits; l++ {
		left = left<<1 - count[l]
		if left < 0 {
			return errCode // over-subscribed
		}
	}
	if left > 0 && !(maxLen == 1 && count[1] == 1) {
		return errCode // incomplete
	}
	// Symbols in order of length, then of value: canonical order.
	subWidth := uint(0)
	if maxLen > int(width) {
		subWidth = uint(maxLen) - width
	}
	for s, sl := range lengths {
		l := int(sl)
		if l == 0 {
			continue
		}
		c := next[l]
		next[l]++
		rev := reverse(c, l)
		e := entry(s)
		if uint(l) <= width {
			e |= uint32(l)
			for i := rev; i < size; i += 1 << l {
				t.e[i] = e
			}
			continue
		}
		// Long code: its first width bits pick a link to a subtable of
		// 1<<subWidth entries indexed by the remaining bits.
		p := rev & (size - 1)
		link := t.e[p]
		if link&kindMask != kindLink {
			off := len(t.e)
			t.e = t.e[:off+1<<subWidth]
			for i := off; i < len(t.e); i++ {
				t.e[i] = kindInvalid
			}
			link = kindLink | uint32(width) | uint32(subWidth)<<8 | uint32(off)<<16
			t.e[p] = link
		}
		off := int(link >> 16)
		rest := rev >> width
		for i := rest; i < 1<<subWidth; i += 1 << (uint(l) - width) {
			t.e[off+i] = e | uint32(uint(l)-width)
		}
	}
	return nil
}

func reverse(c, n int) int {
	return int(bits.Reverse16(uint16(c)) >> (16 - n))
}
