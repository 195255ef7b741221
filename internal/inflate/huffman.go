package inflate

import (
	"errors"
	"math/bits"
)

// Deflate (RFC 1951) decoding tables.
//
// A table maps the next root bits of the stream (least significant bit
// first, as deflate stores Huffman codes reversed) to an entry. A code
// longer than root bits goes through a subtable, reached from the entry
// of its first root bits; each subtable is as wide as the longest code
// under its prefix needs (as zlib's and libdeflate's tables are), so the
// tables stay small: at most litTableSize and distTableSize entries.
//
// An entry is a uint32:
//
//	bits 0-4    bits to consume: the code (or what is left of it after the
//	            root bits, in a subtable) plus the extra bits that follow
//	            it (lengths, distances); for a link, the root bits
//	bits 8-11   bits of the code alone, where its extra bits start; for a
//	            link, the width of the subtable
//	bit 13      end of block
//	bit 14      link to a subtable
//	bit 15      exceptional: end of block, link or invalid symbol
//	bits 16-30  value: literal byte, length or distance base, subtable
//	            offset, code-length symbol
//	bit 31      literal
//
// So a literal is one sign test, and a length or distance with its extra
// bits is consumed in one shift: base + (saved & mask(bits 0-4)) >> bits 8-11.
const (
	entryLiteral     = 1 << 31
	entryExceptional = 1 << 15
	entryLink        = 1 << 14 // with entryExceptional
	entryEnd         = 1 << 13 // with entryExceptional

	entryInvalid = entryExceptional
)

const (
	litBits  = 11 // root width of literal/length tables
	distBits = 8  // root width of distance tables
	clBits   = 7  // code-length codes are at most 7 bits: no subtables
	maxBits  = 15 // longest deflate code

	// Table sizes: powers of two at least as large as the largest table a
	// code can need (zlib's "enough": 2342 entries for 288 symbols, root
	// 11, codes up to 15 bits; 402 for 32 symbols, root 8), so that an
	// index masked with size-1 needs no bounds check.
	litTableSize  = 4096
	distTableSize = 512
	clTableSize   = 1 << clBits
)

// Number of symbols of each alphabet.
const (
	numLitLen   = 288 // 286 used; 286 and 287 appear only in fixed blocks
	numDist     = 32  // 30 used
	numCodeLens = 19
)

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

// Alphabets, for symbolEntry.
const (
	alphaLitLen = iota
	alphaDist
	alphaCodeLen
)

// symbolEntry returns the entry of symbol s of an alphabet, without the
// code's bits (added by build): the value, its extra bits in bits 0-4,
// and its kind.
func symbolEntry(alphabet, s int) uint32 {
	switch alphabet {
	case alphaLitLen:
		switch {
		case s < 256:
			return entryLiteral | uint32(s)<<16
		case s == 256:
			return entryExceptional | entryEnd
		case s < 286:
			i := s - 257
			return uint32(lengthBase[i])<<16 | uint32(lengthExtra[i])
		}
	case alphaDist:
		if s < 30 {
			return uint32(distBase[s])<<16 | uint32(distExtra[s])
		}
	case alphaCodeLen:
		return uint32(s) << 16
	}
	return entryInvalid
}

// build fills t for the code with the given lengths (0: symbol unused) of
// symbols of alphabet, with root bits in the first level. The code must
// be complete, as zlib and Go's compress/flate require, except that a
// code of one symbol of length 1 is allowed, and an empty code when empty
// is true (distance codes of a block of literals only). Entries no code
// reaches are invalid.
func build(t []uint32, lengths []uint8, root uint, alphabet int, empty bool) error {
	var count [maxBits + 1]int
	for _, l := range lengths {
		count[l]++
	}
	count[0] = 0
	maxLen := 0
	for l := maxBits; l > 0; l-- {
		if count[l] != 0 {
			maxLen = l
			break
		}
	}
	size := 1 << root
	if maxLen == 0 {
		if !empty {
			return errCode
		}
		fillInvalid(t[:size])
		return nil
	}
	left := 1
	for l := 1; l <= maxBits; l++ {
		left = left<<1 - count[l]
		if left < 0 {
			return errCode // over-subscribed
		}
	}
	if left > 0 {
		if !(maxLen == 1 && count[1] == 1) {
			return errCode // incomplete
		}
		// The one code of length 1 leaves half the table unreached.
		fillInvalid(t[:size])
	}

	// Symbols in canonical order: by code length, then by value. Codes
	// are then consecutive numbers (most significant bit first), so the
	// codes that share a subtable come one after the other.
	var offs [maxBits + 2]int
	for l := 1; l <= maxBits; l++ {
		offs[l+1] = offs[l] + count[l]
	}
	var sorted [numLitLen]uint16
	for s, l := range lengths {
		if l != 0 {
			sorted[offs[l]] = uint16(s)
			offs[l]++
		}
	}
	n := offs[maxBits]

	code := 0 // the next code, most significant bit first
	l := 0    // its length
	sub := -1 // prefix (root bits) of the current subtable
	subStart, subWidth := 0, uint(0)
	end := size // end of the tables built so far
	remaining := count
	for _, s := range sorted[:n] {
		sl := int(lengths[s])
		code <<= sl - l
		l = sl
		rev := int(bits.Reverse16(uint16(code)) >> (16 - l))
		code++
		e := symbolEntry(alphabet, int(s))
		if uint(l) <= root {
			e += uint32(l) | uint32(l)<<8 // consume the code and its extra bits
			for i := rev; i < size; i += 1 << l {
				t[i] = e
			}
			continue
		}
		prefix := rev & (size - 1)
		if prefix != sub {
			// A new subtable: wide enough for the codes left under this
			// prefix, which fill it exactly (the code is complete).
			sub = prefix
			subWidth = uint(l) - root
			room := 1 << subWidth
			for w := l; w < maxLen; w++ {
				room -= remaining[w]
				if room <= 0 {
					break
				}
				subWidth++
				room <<= 1
			}
			subStart = end
			end += 1 << subWidth
			if end > len(t) {
				return errCode // cannot happen for a complete code
			}
			t[prefix] = entryExceptional | entryLink | uint32(root) | uint32(subWidth)<<8 | uint32(subStart)<<16
		}
		remaining[l]--
		ln := uint(l) - root
		e += uint32(ln) | uint32(ln)<<8
		for i := rev >> root; i < 1<<subWidth; i += 1 << ln {
			t[subStart+i] = e
		}
	}
	return nil
}

func fillInvalid(t []uint32) {
	for i := range t {
		t[i] = entryInvalid
	}
}
