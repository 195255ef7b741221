package inflate

import (
	"encoding/binary"
	"errors"
)

// errShort means the input ended inside a block: the block must be
// decoded again from its start once more input is there.
var errShort = errors.New("input ends inside a block")

// errFull means a block's output would pass the decoder's output limit.
var errFull = errors.New("block output exceeds the limit")

// slack is what the output buffer keeps free past the write position:
// the longest match (258) plus the 8 bytes a word copy may write past it.
const slack = 258 + 8

// window is the deflate history size: no distance reaches further back.
const window = 32 << 10

// decoder decodes deflate blocks from an in-memory buffer of compressed
// bytes. It decodes whole blocks: a block that runs past the end of in
// fails with errShort and leaves the decoder as it was before the block,
// so the caller can add input and decode it again.
//
// Output goes either to out (bytes; the history a back-reference may reach
// must be in out before the write position) or, while the history is
// unknown (speculative decoding, see parallel.go), to out16: values below
// 256 are bytes, values with markerBit set stand for the byte at index
// v&^markerBit of the unknown 32 KiB window preceding the output.
type decoder struct {
	in  []byte
	pos int    // next byte of in to load into buf; may pass len(in) (zeros)
	buf uint64 // bits not yet consumed, least significant first
	nb  uint   // number of valid bits in buf

	out   []byte
	o     int // write position in out
	hist  int // out[hist:o] may be referred to: before hist is not history
	limit int // most bytes out may grow to

	// more is set when input may be added to in: huff then stops at a
	// symbol boundary when in runs low, instead of reading past its end.
	more bool

	out16      []uint16
	lastMarker int // index in out16 just past the last marker written

	lit, dist, cl table
	lens          [numLitLen + numDist]uint8
	fixed         bool // lit and dist hold the fixed codes
}

const markerBit = 0x8000

// state is the decoder position saved at a block boundary.
type state struct {
	pos        int
	buf        uint64
	nb         uint
	o          int
	lastMarker int
	n16        int
}

func (d *decoder) save() state {
	return state{d.pos, d.buf, d.nb, d.o, d.lastMarker, len(d.out16)}
}

func (d *decoder) restore(s state) {
	d.pos, d.buf, d.nb, d.o, d.lastMarker = s.pos, s.buf, s.nb, s.o, s.lastMarker
	d.out16 = d.out16[:s.n16]
}

// bitPos is the number of bits of in consumed.
func (d *decoder) bitPos() int64 { return int64(d.pos)*8 - int64(d.nb) }

// setBitPos positions the decoder at bit p of in, which must hold the
// byte of p when p is not at a byte boundary.
func (d *decoder) setBitPos(p int64) {
	d.pos, d.buf, d.nb = int(p>>3), 0, 0
	if r := uint(p & 7); r != 0 {
		d.buf = uint64(d.in[d.pos] >> r)
		d.nb = 8 - r
		d.pos++
	}
}

// overrun reports whether more bits were consumed than in holds.
func (d *decoder) overrun() bool { return d.bitPos() > int64(len(d.in))*8 }

// refill loads bytes until at least 56 bits are buffered. Past the end of
// in it loads zeros; overrun tells afterwards.
func (d *decoder) refill() {
	if d.pos+8 <= len(d.in) {
		d.buf |= binary.LittleEndian.Uint64(d.in[d.pos:]) << d.nb
		d.pos += int(63-d.nb) >> 3
		d.nb |= 56
		return
	}
	for d.nb <= 56 {
		if d.pos < len(d.in) {
			d.buf |= uint64(d.in[d.pos]) << d.nb
		}
		d.pos++
		d.nb += 8
	}
}

// bits consumes and returns the next n (≤ 32) bits.
func (d *decoder) bits(n uint) uint32 {
	if d.nb < n {
		d.refill()
	}
	v := uint32(d.buf & (1<<n - 1))
	d.buf >>= n
	d.nb -= n
	return v
}

// sym decodes one symbol of t with the slow bit reader.
func (d *decoder) sym(t *table) uint32 {
	if d.nb < 32 {
		d.refill()
	}
	e := t.e[d.buf&(1<<t.width-1)]
	if e&kindMask == kindLink {
		d.buf >>= t.width
		d.nb -= t.width
		e = t.e[int(e>>16)+int(d.buf&(1<<((e>>8)&15)-1))]
	}
	n := uint(e & 31)
	d.buf >>= n
	d.nb -= n
	return e
}

// block decodes the next block. It returns whether it was the final one.
// On any error the decoder is as before the call.
func (d *decoder) block() (final bool, err error) {
	s := d.save()
	final, err = d.block1()
	if err == nil && d.overrun() {
		err = errShort
	}
	if err != nil {
		if err != errFull && d.overrun() {
			err = errShort
		}
		d.restore(s)
	}
	return final, err
}

func (d *decoder) block1() (bool, error) {
	h := d.bits(3)
	final := h&1 == 1
	var err error
	switch h >> 1 {
	case 0:
		err = d.stored()
	case 1:
		if !d.fixed {
			d.fixedTables()
		}
		err = d.huff()
	case 2:
		d.fixed = false
		if err = d.header(); err == nil {
			err = d.huff()
		}
	default:
		err = errBtype
	}
	return final, err
}

func (d *decoder) fixedTables() {
	l := d.lens[:numLitLen]
	for i := range l {
		switch {
		case i < 144:
			l[i] = 8
		case i < 256:
			l[i] = 9
		case i < 280:
			l[i] = 7
		default:
			l[i] = 8
		}
	}
	if err := d.lit.build(l, litBits, litEntry, false); err != nil {
		panic(err)
	}
	dl := d.lens[numLitLen : numLitLen+numDist]
	for i := range dl {
		dl[i] = 5
	}
	if err := d.dist.build(dl, distBits, distEntry, false); err != nil {
		panic(err)
	}
	d.fixed = true
}

// header reads a dynamic block's code lengths and builds its tables.
func (d *decoder) header() error {
	nlit := int(d.bits(5)) + 257
	ndist := int(d.bits(5)) + 1
	nclen := int(d.bits(4)) + 4
	if nlit > 286 || ndist > 30 {
		return errHeader
	}
	var cl [numCodeLens]uint8
	for i := range nclen {
		cl[clOrder[i]] = uint8(d.bits(3))
	}
	if err := d.cl.build(cl[:], clBits, func(s int) uint32 { return uint32(s) << 16 }, false); err != nil {
		return errHeader
	}
	lens := d.lens[:nlit+ndist]
	for i := 0; i < len(lens); {
		if d.overrun() {
			return errShort
		}
		e := d.sym(&d.cl)
		s := e >> 16
		if s < 16 {
			lens[i] = uint8(s)
			i++
			continue
		}
		var rep int
		var v uint8
		switch s {
		case 16:
			if i == 0 {
				return errHeader
			}
			v, rep = lens[i-1], 3+int(d.bits(2))
		case 17:
			rep = 3 + int(d.bits(3))
		default:
			rep = 11 + int(d.bits(7))
		}
		if i+rep > len(lens) {
			return errHeader
		}
		for ; rep > 0; rep-- {
			lens[i] = v
			i++
		}
	}
	if lens[256] == 0 {
		return errHeader
	}
	if err := d.lit.build(lens[:nlit], litBits, litEntry, false); err != nil {
		return err
	}
	return d.dist.build(lens[nlit:], distBits, distEntry, true)
}

// stored copies a stored block.
func (d *decoder) stored() error {
	// Drop the bits up to the byte boundary, and give back the whole
	// bytes still buffered.
	d.buf >>= d.nb & 7
	d.nb &^= 7
	d.pos -= int(d.nb >> 3)
	d.buf, d.nb = 0, 0
	if d.pos+4 > len(d.in) {
		d.pos = len(d.in) + 1 // overrun
		return errShort
	}
	n := int(binary.LittleEndian.Uint16(d.in[d.pos:]))
	if uint16(n) != ^binary.LittleEndian.Uint16(d.in[d.pos+2:]) {
		return errStored
	}
	d.pos += 4
	if d.pos+n > len(d.in) {
		d.pos = len(d.in) + 1
		return errShort
	}
	src := d.in[d.pos : d.pos+n]
	d.pos += n
	if d.out16 != nil {
		for _, b := range src {
			d.out16 = append(d.out16, uint16(b))
		}
		return nil
	}
	if err := d.room(n); err != nil {
		return err
	}
	d.o += copy(d.out[d.o:], src)
	return nil
}

// room makes out hold n more bytes past o, plus slack.
func (d *decoder) room(n int) error {
	need := d.o + n + slack
	if need <= len(d.out) {
		return nil
	}
	if need > d.limit+slack {
		return errFull
	}
	size := max(2*len(d.out), need, 64<<10)
	size = min(size, d.limit+slack)
	out := make([]byte, size)
	copy(out, d.out[:d.o])
	d.out = out
	return nil
}

// huff decodes the symbols of a Huffman-coded block with the tables in
// d.lit and d.dist.
func (d *decoder) huff() error {
	if d.out16 != nil {
		return d.huff16()
	}
	in, pos, buf, nb := d.in, d.pos, d.buf, d.nb
	out, o := d.out, d.o
	lt, dt := d.lit.e, d.dist.e
	hist := d.hist
	for {
		if o+slack > len(out) {
			d.o = o
			if err := d.room(1); err != nil {
				d.pos, d.buf, d.nb = pos, buf, nb
				return err
			}
			out = d.out
		}
		if nb < 48 {
			if pos+8 <= len(in) {
				buf |= binary.LittleEndian.Uint64(in[pos:]) << nb
				pos += int(63-nb) >> 3
				nb |= 56
			} else if d.more {
				// Stop at this symbol boundary until input is added.
				d.pos, d.buf, d.nb, d.o = pos, buf, nb, o
				return errShort
			} else {
				d.pos, d.buf, d.nb = pos, buf, nb
				d.refill()
				pos, buf, nb = d.pos, d.buf, d.nb
				if pos > len(in)+16 {
					d.o = o
					return errShort
				}
			}
		}
		e := lt[buf&(1<<litBits-1)]
		if e&kindMask == kindLink {
			buf >>= litBits
			nb -= litBits
			e = lt[int(e>>16)+int(buf&(1<<((e>>8)&15)-1))]
		}
		n := uint(e & 31)
		buf >>= n
		nb -= n
		switch e & kindMask {
		case kindLiteral:
			out[o] = byte(e >> 16)
			o++
			// A second literal needs no refill: 48-15 bits remain.
			e = lt[buf&(1<<litBits-1)]
			if e&kindMask == kindLiteral {
				n = uint(e & 31)
				buf >>= n
				nb -= n
				out[o] = byte(e >> 16)
				o++
			}
			continue
		case kindLength:
		case kindEnd:
			d.pos, d.buf, d.nb, d.o = pos, buf, nb, o
			return nil
		default:
			d.pos, d.buf, d.nb, d.o = pos, buf, nb, o
			return errSymbol
		}
		ex := (e >> 8) & 15
		length := int(e>>16) + int(buf&(1<<ex-1))
		buf >>= ex
		nb -= uint(ex)

		e = dt[buf&(1<<distBits-1)]
		if e&kindMask == kindLink {
			buf >>= distBits
			nb -= distBits
			e = dt[int(e>>16)+int(buf&(1<<((e>>8)&15)-1))]
		}
		if e&kindMask != kindLength {
			d.pos, d.buf, d.nb, d.o = pos, buf, nb, o
			return errNoDists
		}
		n = uint(e & 31)
		buf >>= n
		nb -= n
		ex = (e >> 8) & 15
		dist := int(e>>16) + int(buf&(1<<ex-1))
		buf >>= ex
		nb -= uint(ex)
		if dist > o-hist {
			d.pos, d.buf, d.nb, d.o = pos, buf, nb, o
			return errDist
		}
		src := o - dist
		switch {
		case dist >= 8:
			// Word copies: each reads bytes written before it.
			binary.LittleEndian.PutUint64(out[o:], binary.LittleEndian.Uint64(out[src:]))
			for k := 8; k < length; k += 8 {
				binary.LittleEndian.PutUint64(out[o+k:], binary.LittleEndian.Uint64(out[src+k:]))
			}
		case dist == 1:
			b := out[src]
			s := out[o : o+length]
			for k := range s {
				s[k] = b
			}
		default:
			s := out[src : o+length]
			for k := dist; k < len(s); k++ {
				s[k] = s[k-dist]
			}
		}
		o += length
	}
}

// huff16 is huff for speculative output: a reference before the start of
// out16 becomes a marker for the window byte it names. lastMarker is kept
// as the end of the output that may hold a marker: a copy from before it
// may copy one.
func (d *decoder) huff16() error {
	in, pos, buf, nb := d.in, d.pos, d.buf, d.nb
	lt, dt := d.lit.e, d.dist.e
	out := d.out16
	o := len(out)
	out = out[:cap(out)]
	last := d.lastMarker
	save := func() {
		d.pos, d.buf, d.nb = pos, buf, nb
		d.out16 = out[:o]
		d.lastMarker = last
	}
	for {
		if o+258 > len(out) {
			if o >= d.limit {
				save()
				return errFull
			}
			n := make([]uint16, max(2*len(out), 64<<10))
			copy(n, out[:o])
			out = n
		}
		if nb < 48 {
			if pos+8 <= len(in) {
				buf |= binary.LittleEndian.Uint64(in[pos:]) << nb
				pos += int(63-nb) >> 3
				nb |= 56
			} else {
				d.pos, d.buf, d.nb = pos, buf, nb
				d.refill()
				pos, buf, nb = d.pos, d.buf, d.nb
				if pos > len(in)+16 {
					save()
					return errShort
				}
			}
		}
		e := lt[buf&(1<<litBits-1)]
		if e&kindMask == kindLink {
			buf >>= litBits
			nb -= litBits
			e = lt[int(e>>16)+int(buf&(1<<((e>>8)&15)-1))]
		}
		n := uint(e & 31)
		buf >>= n
		nb -= n
		switch e & kindMask {
		case kindLiteral:
			out[o] = uint16(e >> 16)
			o++
			continue
		case kindLength:
		case kindEnd:
			save()
			return nil
		default:
			save()
			return errSymbol
		}
		ex := (e >> 8) & 15
		length := int(e>>16) + int(buf&(1<<ex-1))
		buf >>= ex
		nb -= uint(ex)
		e = dt[buf&(1<<distBits-1)]
		if e&kindMask == kindLink {
			buf >>= distBits
			nb -= distBits
			e = dt[int(e>>16)+int(buf&(1<<((e>>8)&15)-1))]
		}
		if e&kindMask != kindLength {
			save()
			return errNoDists
		}
		n = uint(e & 31)
		buf >>= n
		nb -= n
		ex = (e >> 8) & 15
		dist := int(e>>16) + int(buf&(1<<ex-1))
		buf >>= ex
		nb -= uint(ex)
		src := o - dist
		dst := out[o : o+length]
		k := 0
		for ; k < length && src+k < 0; k++ {
			dst[k] = markerBit | uint16(window+src+k)
		}
		if k > 0 {
			last = o + k
		}
		if k < length {
			if dist >= length {
				if length-k <= 16 {
					sp := out[src+k : src+length]
					dp := dst[k:]
					dp = dp[:len(sp)]
					for j, v := range sp {
						dp[j] = v
					}
				} else {
					copy(dst[k:], out[src+k:src+length])
				}
			} else {
				for j := k; j < length; j++ {
					out[o+j] = out[src+j]
				}
			}
			if src+k < last {
				// The copy may hold markers: find the last one.
				for j := length - 1; j >= k; j-- {
					if dst[j]&markerBit != 0 {
						last = o + j + 1
						break
					}
				}
			}
		}
		o += length
	}
}
