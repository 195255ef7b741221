package inflate

import "encoding/binary"

// findStart returns the first bit position in [from, to) of d.in at which
// a non-final dynamic-Huffman block starts that decodes without error,
// with d positioned after that block and its output (speculative, in
// d.out16) kept; -1 when there is none.
//
// Only dynamic blocks are looked for: a stored block's header has too few
// bits to tell it from noise, and a fixed block's has none. A position
// passes when its header fields are in range, its code-length code is a
// complete prefix code, the code lengths it encodes form complete
// literal/length and distance codes with an end-of-block code, and the
// whole block then decodes. Positions that pass by chance are caught
// later: the decoding that precedes them must end exactly there.
func (d *decoder) findStart(from, to int64) int64 {
	in := d.in
	for p := from; p < to; p++ {
		b := int(p >> 3)
		if b+16 > len(in) {
			return -1
		}
		w := binary.LittleEndian.Uint64(in[b:]) >> (p & 7)
		// BFINAL 0, BTYPE 10; HLIT ≤ 29; HDIST ≤ 29.
		if w&7 != 4 || (w>>3)&31 > 29 || (w>>8)&31 > 29 {
			continue
		}
		if !completeCodeLengthCode(in, p) {
			continue
		}
		st := d.save()
		d.setBitPos(p)
		if _, err := d.block(); err == nil {
			return p
		}
		d.restore(st)
	}
	return -1
}

// completeCodeLengthCode reports whether the code-length code of the
// dynamic block header at bit p has lengths that form a complete prefix
// code (or a single code of length 1).
func completeCodeLengthCode(in []byte, p int64) bool {
	q := p + 13
	n := int(binary.LittleEndian.Uint64(in[q>>3:])>>(q&7)&15) + 4
	q += 4
	w := binary.LittleEndian.Uint64(in[q>>3:]) >> (q & 7) // 57 bits: 19 lengths
	sum, count := 0, 0
	for range n {
		if l := w & 7; l != 0 {
			sum += 128 >> l
			count++
		}
		w >>= 3
	}
	return sum == 128 || sum == 64 && count == 1
}
