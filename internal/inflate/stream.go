package inflate

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
)

// Stages of a stream.
const (
	stHeader  = iota // at a gzip member header
	stBlock          // at a deflate block boundary
	stHuff           // inside a Huffman-coded block
	stStored         // inside a stored block
	stTrailer        // after a member's final block
	stDone           // the input ended after a whole member
)

// outChunk is how much output a stream gathers before it stops to let the
// caller take it.
const outChunk = 1 << 20

// stream decodes a gzip stream sequentially. Input is added with feed;
// run decodes until it needs more input, has outChunk bytes of output to
// take, or reaches a block boundary at or past a target position. Output
// is taken with take. Every member's CRC-32 and size are checked.
type stream struct {
	d     decoder
	base  int64 // position in the whole stream of d.in[0]
	eof   bool  // no input will be added
	stage int
	final bool // the block being decoded is the member's last
	left  int  // bytes of the stored block still to copy

	emitted int // out[emitted:o] is output not yet taken
	crcPos  int // out[crcPos:o] is not yet in crc
	crc     uint32
	size    uint32
	members int

	// unverified is set when decoding resumed inside a member (from a
	// Checkpoint): that member's CRC and size cannot be checked.
	unverified bool

	summed int64 // output bytes summed so far, over all members

	// every, when positive, asks for a checkpoint at the first block
	// boundary after each such many bytes of output, given to onCheckpoint.
	every        int64
	lastCP       int64
	onCheckpoint func(Checkpoint)
}

// A Checkpoint is a place inside a gzip stream from which it can be
// decoded again without the bytes before it: a deflate block boundary,
// with the 32 KiB of output before it.
type Checkpoint struct {
	In     int64  // bit position in the compressed stream
	Out    int64  // offset in the decompressed stream
	Window []byte // the member's output before Out, at most 32 KiB
}

func newStream() *stream {
	s := &stream{}
	s.d.more = true
	s.d.limit = window + outChunk
	return s
}

// feed adds input. Bytes already consumed are dropped from the buffer.
func (s *stream) feed(b []byte) {
	d := &s.d
	// Keep the bytes whose bits are still buffered: a stored block or a
	// trailer gives them back.
	if drop := d.pos - int(d.nb>>3); drop > 0 && d.pos <= len(d.in) {
		s.base += int64(drop)
		n := copy(d.in, d.in[drop:])
		d.in = d.in[:n]
		d.pos -= drop
	}
	d.in = append(d.in, b...)
}

// end says that no more input will be added.
func (s *stream) end() {
	s.eof = true
	s.d.more = false
}

// bitPos is the stream position, in bits from its start.
func (s *stream) bitPos() int64 { return s.base*8 + s.d.bitPos() }

// atBoundary reports whether the stream is at a block boundary of a member
// with blocks to come, or between members.
func (s *stream) atBoundary() bool { return s.stage == stBlock && !s.final }

// take returns the output decoded since the last take. It stays valid
// until the next call of run.
func (s *stream) take() []byte {
	s.sum()
	b := s.d.out[s.emitted:s.d.o]
	s.emitted = s.d.o
	return b
}

// sum adds the output not yet summed to the member's CRC and size.
func (s *stream) sum() {
	b := s.d.out[s.crcPos:s.d.o]
	s.crc = crc32.Update(s.crc, crc32.IEEETable, b)
	s.size += uint32(len(b))
	s.summed += int64(len(b))
	s.crcPos = s.d.o
}

// slide drops taken output but the last window bytes, the history that
// back-references may reach.
func (s *stream) slide() {
	d := &s.d
	if s.emitted < d.o || d.o <= window {
		return
	}
	drop := d.o - window
	copy(d.out, d.out[drop:d.o])
	d.o -= drop
	d.hist = max(0, d.hist-drop)
	s.emitted -= drop
	s.crcPos -= drop
}

// reposition makes the stream continue at bit pos of the whole stream,
// inside a member whose output so far ends with win (at most window
// bytes, all of it when the member is shorter), with in holding the
// stream's bytes from byte base on; final says whether pos follows the
// member's final block. The member's CRC and size are the caller's.
func (s *stream) reposition(pos int64, win []byte, final bool, in []byte, base int64) {
	d := &s.d
	d.in = append(d.in[:0], in...)
	s.base = base
	d.setBitPos(pos - base*8)
	if len(d.out) < len(win)+slack {
		d.out = make([]byte, window+outChunk+slack)
	}
	d.o = copy(d.out, win)
	d.hist = 0
	s.emitted, s.crcPos = d.o, d.o
	if final {
		s.stage = stTrailer
	} else {
		s.stage = stBlock
	}
	s.final = false
	s.left = 0
	s.eof = false
	d.more = true
}

var errTruncated = fmt.Errorf("gzip: %w", io.ErrUnexpectedEOF)

// run decodes until the stream needs input (errShort), has output to take
// (errFull), is at a block boundary at or past target (nil), or has ended
// (io.EOF). Corrupt input is any other error.
func (s *stream) run(target int64) error {
	d := &s.d
	for {
		if d.o-s.emitted >= outChunk {
			return errFull
		}
		if s.emitted == d.o {
			s.slide()
		}
		switch s.stage {
		case stHeader:
			rest := d.in[d.pos:]
			if len(rest) == 0 && s.eof {
				if s.members == 0 {
					return errTruncated
				}
				s.stage = stDone
				continue
			}
			n, err := gzipHeaderLen(rest)
			if err == errGzipShort {
				if s.eof {
					return errTruncated
				}
				return errShort
			}
			if err != nil {
				if s.members > 0 {
					return fmt.Errorf("gzip: data after member %d: %w", s.members, err)
				}
				return fmt.Errorf("gzip: %w", err)
			}
			d.pos += n
			s.stage = stBlock
			s.final = false
			s.crc, s.size = 0, 0
			d.hist = d.o
		case stBlock:
			if s.final {
				s.stage = stTrailer
				continue
			}
			if s.bitPos() >= target {
				return nil
			}
			if s.every > 0 {
				s.sum()
				if s.summed >= s.lastCP+s.every {
					s.lastCP = s.summed
					d := &s.d
					s.onCheckpoint(Checkpoint{In: s.bitPos(), Out: s.summed, Window: bytes.Clone(d.out[max(d.hist, d.o-window):d.o])})
				}
			}
			if err := s.blockHeader(); err != nil {
				return err
			}
		case stHuff:
			switch err := d.huff(); err {
			case nil:
				s.stage = stBlock
			case errShort:
				if s.eof {
					return errTruncated
				}
				return errShort
			case errFull:
				// Only when the caller has not taken the output.
				return errFull
			default:
				if d.overrun() {
					return errTruncated
				}
				return s.corrupt(err)
			}
		case stStored:
			if err := s.copyStored(); err != nil {
				return err
			}
		case stTrailer:
			d.buf >>= d.nb & 7
			d.nb &^= 7
			d.pos -= int(d.nb >> 3)
			d.buf, d.nb = 0, 0
			if len(d.in)-d.pos < 8 {
				if s.eof {
					return errTruncated
				}
				return errShort
			}
			s.sum()
			crc := binary.LittleEndian.Uint32(d.in[d.pos:])
			size := binary.LittleEndian.Uint32(d.in[d.pos+4:])
			switch {
			case s.unverified:
				s.unverified = false
			case crc != s.crc:
				return fmt.Errorf("gzip: member %d: checksum mismatch (CRC-32 %08x, trailer says %08x)", s.members+1, s.crc, crc)
			case size != s.size:
				return fmt.Errorf("gzip: member %d: size mismatch (%d bytes mod 2^32, trailer says %d)", s.members+1, s.size, size)
			}
			d.pos += 8
			s.members++
			s.stage = stHeader
		case stDone:
			return io.EOF
		}
	}
}

func (s *stream) corrupt(err error) error {
	return fmt.Errorf("gzip: corrupt deflate data near byte %d: %w", s.bitPos()/8, err)
}

// blockHeader reads a block's header, entering stHuff or stStored.
func (s *stream) blockHeader() error {
	d := &s.d
	if d.more && len(d.in)-d.pos < 2048 {
		return errShort // a header with its code lengths fits in far less
	}
	st := d.save()
	more := d.more
	d.more = false
	h := d.bits(3)
	s.final = h&1 == 1
	var err error
	switch h >> 1 {
	case 0:
		d.buf >>= d.nb & 7
		d.nb &^= 7
		d.pos -= int(d.nb >> 3)
		d.buf, d.nb = 0, 0
		if d.pos+4 > len(d.in) {
			err = errShort
			break
		}
		n := binary.LittleEndian.Uint16(d.in[d.pos:])
		if n != ^binary.LittleEndian.Uint16(d.in[d.pos+2:]) {
			err = errStored
			break
		}
		d.pos += 4
		s.left = int(n)
		s.stage = stStored
	case 1:
		if !d.fixed {
			d.fixedTables()
		}
		s.stage = stHuff
	case 2:
		d.fixed = false
		err = d.header()
		s.stage = stHuff
	default:
		err = errBtype
	}
	d.more = more
	if err == nil && d.overrun() {
		err = errShort
	}
	if err != nil {
		d.restore(st)
		s.stage = stBlock
		s.final = false
		if err == errShort {
			if s.eof {
				return errTruncated
			}
			return errShort
		}
		return s.corrupt(err)
	}
	return nil
}

func (s *stream) copyStored() error {
	d := &s.d
	for s.left > 0 {
		n := min(s.left, len(d.in)-d.pos, outChunk)
		if n == 0 {
			if s.eof {
				return errTruncated
			}
			return errShort
		}
		if err := d.room(n); err != nil {
			return errFull
		}
		d.o += copy(d.out[d.o:], d.in[d.pos:d.pos+n])
		d.pos += n
		s.left -= n
		if d.o-s.emitted >= outChunk {
			break
		}
	}
	if s.left == 0 {
		s.stage = stBlock
	}
	return nil
}
