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

	lit     [litTableSize]uint32
	dist    [distTableSize]uint32
	cl      [clTableSize]uint32
	lens    [numLitLen + numDist]uint8
	fixed   bool // lit and dist hold the fixed codes
	noDists bool // dist holds no code: the block has literals only
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

// clSym decodes one code-length symbol with the slow bit reader.
func (d *decoder) clSym() uint32 {
	if d.nb < 32 {
		d.refill()
	}
	e := d.cl[d.buf&(clTableSize-1)]
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
	if err := build(d.lit[:], l, litBits, alphaLitLen, false); err != nil {
		panic(err)
	}
	dl := d.lens[numLitLen : numLitLen+numDist]
	for i := range dl {
		dl[i] = 5
	}
	if err := build(d.dist[:], dl, distBits, alphaDist, false); err != nil {
		panic(err)
	}
	d.fixed, d.noDists = true, false
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
	if err := build(d.cl[:], cl[:], clBits, alphaCodeLen, false); err != nil {
		return errHeader
	}
	lens := d.lens[:nlit+ndist]
	for i := 0; i < len(lens); {
		if d.overrun() {
			return errShort
		}
		e := d.clSym()
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
	if err := build(d.lit[:], lens[:nlit], litBits, alphaLitLen, false); err != nil {
		return err
	}
	d.noDists = true
	for _, l := range lens[nlit:] {
		if l != 0 {
			d.noDists = false
			break
		}
	}
	return build(d.dist[:], lens[nlit:], distBits, alphaDist, true)
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
// d.lit and d.dist: most of them in fast, the rest (near the ends of in
// and out) one by one, with the checks fast does without.
func (d *decoder) huff() error {
	if d.out16 != nil {
		return d.huff16()
	}
	for {
		if done, err := d.fast(); done {
			return err
		}
		in, pos, buf, nb := d.in, d.pos, d.buf, d.nb
		out, o := d.out, d.o

		// One symbol with the checks the fast loop does without.
		if o+slack > len(out) {
			d.o = o
			if err := d.room(1); err != nil {
				d.pos, d.buf, d.nb = pos, buf, nb
				return err
			}
			out = d.out
			continue
		}
		if nb < 48 {
			if pos+8 <= len(in) {
				buf |= binary.LittleEndian.Uint64(in[pos:]) << (nb & 63)
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
		e := d.lit[buf&(1<<litBits-1)]
		if e&entryLink != 0 {
			buf >>= litBits
			nb -= litBits
			e = d.lit[(e>>16+uint32(buf)&(1<<((e>>8)&15)-1))&(litTableSize-1)]
		}
		if int32(e) < 0 {
			buf >>= e & 31
			nb -= uint(e & 31)
			out[o] = byte(e >> 16)
			d.pos, d.buf, d.nb, d.o = pos, buf, nb, o+1
			continue
		}
		if e&entryExceptional != 0 {
			if e&entryEnd != 0 {
				buf >>= e & 31
				nb -= uint(e & 31)
				d.pos, d.buf, d.nb, d.o = pos, buf, nb, o
				return nil
			}
			d.pos, d.buf, d.nb, d.o = pos, buf, nb, o
			return errSymbol
		}
		saved := buf
		buf >>= e & 31
		nb -= uint(e & 31)
		length := int(e>>16) + int(saved&(1<<(e&31)-1)>>((e>>8)&15))
		e = d.dist[buf&(1<<distBits-1)]
		if e&entryLink != 0 {
			buf >>= distBits
			nb -= distBits
			e = d.dist[(e>>16+uint32(buf)&(1<<((e>>8)&15)-1))&(distTableSize-1)]
		}
		if e&entryExceptional != 0 {
			d.pos, d.buf, d.nb, d.o = pos, buf, nb, o
			return d.badDist()
		}
		saved = buf
		buf >>= e & 31
		nb -= uint(e & 31)
		dist := int(e>>16) + int(saved&(1<<(e&31)-1)>>((e>>8)&15))
		if dist > o-d.hist {
			d.pos, d.buf, d.nb, d.o = pos, buf, nb, o
			return errDist
		}
		s := out[o-dist : o+length]
		for k := dist; k < len(s); k++ {
			s[k] = s[k-dist]
		}
		d.pos, d.buf, d.nb, d.o = pos, buf, nb, o+length
	}
}

// fastIn and fastOut are the input bytes and output room fast needs at
// the start of an iteration: two refills of 8 bytes loaded each, the
// second at most 7 bytes on from the first; and the longest match (258)
// with the overrun of its word copies, which are indexed modulo 512 so
// that the compiler can drop their bounds checks.
const (
	fastIn  = 7 + 8 + 8
	fastOut = 512 + 8
)

// fast decodes symbols of a Huffman-coded block while fastIn bytes of
// input and fastOut bytes of output room remain, so that a symbol needs no
// checks of its own. It reports whether the block ended, or was found
// corrupt (err); else it stopped near the end of in or out.
//
// Only the low 6 bits of nb are kept right (entries are subtracted whole,
// their low byte being the bits they consume), as libdeflate does.
//
// It refills the bit buffer without a branch (one unaligned load: at least
// 56 bits are then buffered, enough for a length and a distance with their
// extra bits), decodes up to three literals per refill, and looks up the
// next symbol's entry before the match copy that precedes it.
func (d *decoder) fast() (done bool, err error) {
	in, pos, buf, nb := d.in, d.pos, d.buf, d.nb
	out, o := d.out, d.o
	if !(pos >= 0 && pos <= len(in)-fastIn && o >= 0 && o <= len(out)-fastOut) {
		return false, nil
	}
	buf |= binary.LittleEndian.Uint64(in[pos:pos+8]) << (nb & 63)
	pos += 7 - int(nb>>3&7)
	nb |= 56
	e := d.lit[buf&(1<<litBits-1)]
	// The loop's condition is what lets the compiler prove the accesses
	// to in and out below in bounds: keep it as it is.
	for pos >= 0 && pos <= len(in)-fastIn && o >= 0 && o <= len(out)-fastOut {
		// Refill: at least 56 bits buffered. Only bits above nb change,
		// so e, looked up before, stays valid.
		win := (*[fastIn]byte)(in[pos : pos+fastIn])
		buf |= binary.LittleEndian.Uint64(win[0:8]) << (nb & 63)
		adv := 7 - int(nb>>3&7)
		pos += adv
		nb |= 56

		if int32(e) < 0 {
			// Literals: up to three per refill (15+11+11 bits), and the
			// next entry (11 bits) still valid after them.
			buf >>= e & 63
			nb -= uint(e)
			out[o] = byte(e >> 16)
			e = d.lit[buf&(1<<litBits-1)]
			if int32(e) >= 0 {
				o++
				continue
			}
			buf >>= e & 63
			nb -= uint(e)
			out[o+1] = byte(e >> 16)
			e = d.lit[buf&(1<<litBits-1)]
			if int32(e) >= 0 {
				o += 2
				continue
			}
			buf >>= e & 63
			nb -= uint(e)
			out[o+2] = byte(e >> 16)
			e = d.lit[buf&(1<<litBits-1)]
			o += 3
			continue
		}
		if e&entryExceptional != 0 {
			if e&entryLink != 0 {
				buf >>= litBits
				nb -= litBits
				e = d.lit[(e>>16+uint32(buf)&(1<<((e>>8)&15)-1))&(litTableSize-1)]
				if int32(e) < 0 {
					buf >>= e & 63
					nb -= uint(e)
					out[o] = byte(e >> 16)
					o++
					e = d.lit[buf&(1<<litBits-1)]
					continue
				}
			}
			if e&entryExceptional != 0 {
				if e&entryEnd != 0 {
					buf >>= e & 63
					nb -= uint(e)
					d.pos, d.buf, d.nb, d.o = pos, buf, nb&63, o
					return true, nil
				}
				d.pos, d.buf, d.nb, d.o = pos, buf, nb&63, o
				return true, errSymbol
			}
		}
		// A length (at most 15+5 bits), then a distance (at most 15+13
		// bits): both fit in the 56 bits of the refill.
		saved := buf
		buf >>= e & 63
		nb -= uint(e)
		length := int(e>>16) + int(saved&(1<<(e&63)-1)>>((e>>8)&63))
		e = d.dist[buf&(1<<distBits-1)]
		if e&entryExceptional != 0 {
			if e&entryLink != 0 {
				buf >>= distBits
				nb -= distBits
				e = d.dist[(e>>16+uint32(buf)&(1<<((e>>8)&15)-1))&(distTableSize-1)]
			}
			if e&entryExceptional != 0 {
				d.pos, d.buf, d.nb, d.o = pos, buf, nb&63, o
				return true, d.badDist()
			}
		}
		saved = buf
		buf >>= e & 63
		nb -= uint(e)
		dist := int(e>>16) + int(saved&(1<<(e&63)-1)>>((e>>8)&63))
		if dist > o-d.hist {
			d.pos, d.buf, d.nb, d.o = pos, buf, nb&63, o
			return true, errDist
		}
		// Refill and look up the next symbol before copying.
		buf |= binary.LittleEndian.Uint64(win[adv:adv+8]) << (nb & 63)
		pos += 7 - int(nb>>3&7)
		nb |= 56
		e = d.lit[buf&(1<<litBits-1)]

		src := (*[fastOut]byte)(out[o-dist : o-dist+fastOut])
		dst := (*[fastOut]byte)(out[o : o+fastOut])
		switch {
		case dist >= 8:
			// Word copies: each reads bytes written before it. They may
			// write up to 7 bytes past the match, which later output
			// overwrites.
			binary.LittleEndian.PutUint64(dst[0:8], binary.LittleEndian.Uint64(src[0:8]))
			binary.LittleEndian.PutUint64(dst[8:16], binary.LittleEndian.Uint64(src[8:16]))
			for k := 16; k < length; k += 8 {
				i := k & 511
				binary.LittleEndian.PutUint64(dst[i:i+8], binary.LittleEndian.Uint64(src[i:i+8]))
			}
		case dist == 1:
			v := uint64(src[0]) * 0x0101010101010101
			for k := 0; k < length; k += 8 {
				i := k & 511
				binary.LittleEndian.PutUint64(dst[i:i+8], v)
			}
		default:
			// Overlapping: each word copy makes dist more bytes right,
			// reading the dist before them.
			for k := 0; k < length; k += dist {
				i := k & 511
				binary.LittleEndian.PutUint64(dst[i:i+8], binary.LittleEndian.Uint64(src[i:i+8]))
			}
		}
		o += length
	}
	d.pos, d.buf, d.nb, d.o = pos, buf, nb&63, o
	return false, nil
}

// badDist is the error of a distance code that decodes to no distance.
func (d *decoder) badDist() error {
	if d.noDists {
		return errNoDists
	}
	return errSymbol
}

// huff16 is huff for speculative output: a reference before the start of
// out16 becomes a marker for the window byte it names. lastMarker is kept
// as the end of the output that may hold a marker: a copy from before it
// may copy one.
func (d *decoder) huff16() error {
	in, pos, buf, nb := d.in, d.pos, d.buf, d.nb
	lt, dt := &d.lit, &d.dist
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
				buf |= binary.LittleEndian.Uint64(in[pos:]) << (nb & 63)
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
		if e&entryLink != 0 {
			buf >>= litBits
			nb -= litBits
			e = lt[(e>>16+uint32(buf)&(1<<((e>>8)&15)-1))&(litTableSize-1)]
		}
		if int32(e) < 0 {
			buf >>= e & 31
			nb -= uint(e & 31)
			out[o] = uint16(byte(e >> 16))
			o++
			continue
		}
		if e&entryExceptional != 0 {
			if e&entryEnd != 0 {
				buf >>= e & 31
				nb -= uint(e & 31)
				save()
				return nil
			}
			save()
			return errSymbol
		}
		saved := buf
		buf >>= e & 31
		nb -= uint(e & 31)
		length := int(e>>16) + int(saved&(1<<(e&31)-1)>>((e>>8)&15))
		e = dt[buf&(1<<distBits-1)]
		if e&entryLink != 0 {
			buf >>= distBits
			nb -= distBits
			e = dt[(e>>16+uint32(buf)&(1<<((e>>8)&15)-1))&(distTableSize-1)]
		}
		if e&entryExceptional != 0 {
			save()
			return d.badDist()
		}
		saved = buf
		buf >>= e & 31
		nb -= uint(e & 31)
		dist := int(e>>16) + int(saved&(1<<(e&31)-1)>>((e>>8)&15))
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
