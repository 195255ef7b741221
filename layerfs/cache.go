package layerfs

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"slices"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/klauspost/compress/zstd"
)

// A Cache stores layer records between reads (see Options.Cache).
// Package layerfs/diskcache implements it on a directory.
type Cache interface {
	// Get returns the record stored under key. A missing record is an
	// error satisfying errors.Is(err, fs.ErrNotExist).
	Get(key string) (io.ReadCloser, error)
	// Put stores under key what write writes; when write fails, nothing
	// is stored. Keys are lowercase hex.
	Put(key string, write func(w io.Writer) error) error
}

// recordFormat is the version of the layer record encoding below, and of
// what readTar records of a layer. Bump it when either changes.
const recordFormat = 3

// recordMagic starts every layer record.
const recordMagic = "vigil layer record\n"

// Bounds on a record's fields, so a damaged record fails cleanly.
const (
	maxRecordString = 1 << 20
	maxRecordCount  = 1 << 28
)

func (o *Options) caching() bool { return o.Cache != nil && o.CacheKey != "" }

// cacheKey returns the cache key of the layer id under o, or "" when the
// layer is not to be cached. The key names the digest and the diff ID
// together: a record is stored only once a layer was found to have both,
// so an image that pairs a digest with another layer's diff ID (an
// archive whose config lies) cannot find the other layer's record.
func (o *Options) cacheKey(id layerID) string {
	if !o.caching() || !isSHA256(id.diffID) || !isSHA256(id.digest) {
		return ""
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s%d\x00%s\x00%d\x00%d\x00%s\x00%s", recordMagic, recordFormat, o.CacheKey, o.MaxFileSize, o.MaxLayerSize, id.digest, id.diffID)
	return hex.EncodeToString(h.Sum(nil))
}

func isSHA256(h v1.Hash) bool { return h.Algorithm == "sha256" && len(h.Hex) == 64 }

// loadLayer returns the layer's record from the cache, or nil. The
// warnings recorded with it are logged again, as a read would.
func loadLayer(name, key string, id layerID, opts *Options) *layerData {
	rc, err := opts.Cache.Get(key)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			opts.Logger.Debug("layer cache miss", "layer", name)
		} else {
			opts.Logger.Debug("layer cache: reading", "layer", name, "err", err)
		}
		return nil
	}
	defer rc.Close()
	ld, err := decodeLayer(rc, name, id)
	if err != nil {
		opts.Logger.Debug("layer cache: ignoring an unreadable record", "layer", name, "key", key, "err", err)
		return nil
	}
	for _, w := range ld.warnings {
		opts.Logger.Warn(w.Msg, "layer", name, "path", w.Path)
	}
	opts.Logger.Debug("layer cache hit", "layer", name)
	return ld
}

// encodeLayer writes ld as a zstd-compressed record:
//
//	magic, format, digest, diffID
//	entries: count, then per entry path, kind, mode, size, mtime (s, ns), target, data, truncated
//	whiteouts, opaque dirs: count, then paths
//	dir hashes, other hashes: count, then 8 bytes each
//	warnings: count, then path and message
//	unreadable paths: count, then path and what
//
// Counts, lengths and integers are varints; strings are length-prefixed.
func encodeLayer(w io.Writer, ld *layerData, id layerID) error {
	zw, err := zstd.NewWriter(w, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
	if err != nil {
		return err
	}
	e := &encoder{w: bufio.NewWriterSize(zw, 64<<10)}
	e.string(recordMagic)
	e.uvarint(recordFormat)
	e.string(id.digest.String())
	e.string(id.diffID.String())
	paths := slices.Sorted(maps.Keys(ld.entries))
	e.uvarint(uint64(len(paths)))
	for _, p := range paths {
		en := ld.entries[p]
		e.string(p)
		e.uvarint(uint64(en.kind))
		e.uvarint(uint64(en.mode))
		e.varint(en.size)
		e.varint(en.modTime.Unix())
		e.uvarint(uint64(en.modTime.Nanosecond()))
		e.string(en.target)
		e.bytes(en.data)
		e.bool(en.truncated)
	}
	for _, set := range []map[string]struct{}{ld.whiteouts, ld.opaque} {
		e.uvarint(uint64(len(set)))
		for _, p := range slices.Sorted(maps.Keys(set)) {
			e.string(p)
		}
	}
	for _, hs := range [][]uint64{ld.dirs, ld.others} {
		e.uvarint(uint64(len(hs)))
		for _, h := range hs {
			e.fixed64(h)
		}
	}
	e.uvarint(uint64(len(ld.warnings)))
	for _, wa := range ld.warnings {
		e.string(wa.Path)
		e.string(wa.Msg)
	}
	e.uvarint(uint64(len(ld.unreadable)))
	for _, p := range slices.Sorted(maps.Keys(ld.unreadable)) {
		e.string(p)
		e.string(ld.unreadable[p])
	}
	if e.err == nil {
		e.err = e.w.Flush()
	}
	if cerr := zw.Close(); e.err == nil {
		e.err = cerr
	}
	return e.err
}

type encoder struct {
	w   *bufio.Writer
	buf [binary.MaxVarintLen64]byte
	err error
}

func (e *encoder) write(b []byte) {
	if e.err == nil {
		_, e.err = e.w.Write(b)
	}
}

func (e *encoder) uvarint(v uint64) { e.write(binary.AppendUvarint(e.buf[:0], v)) }
func (e *encoder) varint(v int64)   { e.write(binary.AppendVarint(e.buf[:0], v)) }
func (e *encoder) fixed64(v uint64) { e.write(binary.LittleEndian.AppendUint64(e.buf[:0], v)) }

func (e *encoder) string(s string) {
	e.uvarint(uint64(len(s)))
	if e.err == nil {
		_, e.err = e.w.WriteString(s)
	}
}

func (e *encoder) bool(b bool) {
	if b {
		e.uvarint(1)
	} else {
		e.uvarint(0)
	}
}

func (e *encoder) bytes(b []byte) {
	e.uvarint(uint64(len(b)))
	e.write(b)
}

// decodeLayer reads a record written by encodeLayer for id. Any damage (a
// bad checksum, a truncated stream, another format or layer) is an error.
func decodeLayer(r io.Reader, name string, id layerID) (*layerData, error) {
	zr, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true))
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	d := &decoder{r: bufio.NewReaderSize(zr, 64<<10)}
	if d.string() != recordMagic || d.uvarint() != recordFormat {
		return nil, errors.Join(d.err, errors.New("not a layer record of this version"))
	}
	if got, gotDiff := d.string(), d.string(); d.err == nil && (got != id.digest.String() || gotDiff != id.diffID.String()) {
		return nil, fmt.Errorf("record is of layer %s (%s)", got, gotDiff)
	}
	ld := newLayerData(name)
	for n := d.count(); n > 0 && d.err == nil; n-- {
		p := d.string()
		en := &entry{
			kind:    kind(d.uvarint()),
			mode:    fs.FileMode(d.uvarint()),
			size:    d.varint(),
			modTime: time.Unix(d.varint(), int64(d.uvarint())),
			target:  d.string(),
			data:    d.bytes(),
		}
		switch t := d.uvarint(); t {
		case 0, 1:
			en.truncated = t == 1
		default:
			d.fail(fmt.Errorf("entry %q: bad truncation flag %d", p, t))
		}
		if en.kind > kindHardlink {
			d.fail(fmt.Errorf("entry %q of unknown kind %d", p, en.kind))
		}
		ld.entries[p] = en
	}
	for _, set := range []map[string]struct{}{ld.whiteouts, ld.opaque} {
		for n := d.count(); n > 0 && d.err == nil; n-- {
			set[d.string()] = struct{}{}
		}
	}
	for _, hs := range []*[]uint64{&ld.dirs, &ld.others} {
		n := d.count()
		*hs = make([]uint64, 0, min(n, 1<<16))
		for ; n > 0 && d.err == nil; n-- {
			*hs = append(*hs, d.fixed64())
		}
		if !slices.IsSorted(*hs) {
			d.fail(errors.New("path hashes out of order"))
		}
	}
	for n := d.count(); n > 0 && d.err == nil; n-- {
		ld.warnings = append(ld.warnings, Warning{Layer: name, Path: d.string(), Msg: d.string()})
	}
	for n := d.count(); n > 0 && d.err == nil; n-- {
		p := d.string()
		ld.unreadable[p] = d.string()
	}
	if d.err != nil {
		return nil, d.err
	}
	// Reading on to the end makes the decompressor check the checksum.
	if _, err := d.r.ReadByte(); err != io.EOF {
		return nil, errors.Join(err, errors.New("data after the record"))
	}
	return ld, nil
}

type decoder struct {
	r   *bufio.Reader
	err error
}

func (d *decoder) fail(err error) {
	if d.err == nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		d.err = err
	}
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, err := binary.ReadUvarint(d.r)
	d.fail(err)
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, err := binary.ReadVarint(d.r)
	d.fail(err)
	return v
}

func (d *decoder) fixed64() uint64 {
	var b [8]byte
	if d.err == nil {
		_, err := io.ReadFull(d.r, b[:])
		d.fail(err)
	}
	return binary.LittleEndian.Uint64(b[:])
}

func (d *decoder) count() int {
	n := d.uvarint()
	if n > maxRecordCount {
		d.fail(fmt.Errorf("count %d out of bounds", n))
		return 0
	}
	return int(n)
}

func (d *decoder) string() string {
	n := d.uvarint()
	if n > maxRecordString {
		d.fail(fmt.Errorf("string of %d bytes out of bounds", n))
	}
	if d.err != nil {
		return ""
	}
	b := make([]byte, n)
	_, err := io.ReadFull(d.r, b)
	d.fail(err)
	return string(b)
}

// bytes reads a length-prefixed byte string. A large one is read in
// pieces, so a damaged length fails at the end of the data rather than
// allocating what it claims.
func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if d.err != nil || n == 0 {
		return nil
	}
	if n <= maxRecordString {
		b := make([]byte, n)
		_, err := io.ReadFull(d.r, b)
		d.fail(err)
		return b
	}
	var buf bytes.Buffer
	m, err := io.CopyN(&buf, d.r, int64(min(n, 1<<62)))
	if err == nil && uint64(m) != n {
		err = io.ErrUnexpectedEOF
	}
	d.fail(err)
	return buf.Bytes()
}
