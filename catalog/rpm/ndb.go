package rpm

import (
	"encoding/binary"
	"fmt"
)

// rpm's native database (ndb, the SUSE default), Packages.db: a 32-byte
// header ("RpmP", version, generation, number of slot pages, …) followed by
// slot pages of 16-byte slots ("Slot", package index, block offset, block
// count), then blobs addressed in 16-byte blocks, each starting with
// "BlbS", package index, generation and length. All little-endian.

const (
	ndbHeaderMagic = 'R' | 'p'<<8 | 'm'<<16 | 'P'<<24
	ndbSlotMagic   = 'S' | 'l'<<8 | 'o'<<16 | 't'<<24
	ndbBlobMagic   = 'B' | 'l'<<8 | 'b'<<16 | 'S'<<24

	ndbHeaderSize = 32
	ndbSlotSize   = 16
	ndbBlockSize  = 16
	ndbPageSize   = 4096
	ndbBlobHeader = 16
)

// readNDB returns the header blobs of an ndb Packages.db held in data. A
// broken slot or blob is reported to warn and skipped.
func readNDB(data []byte, warn warnFunc) ([]record, error) {
	le := binary.LittleEndian
	if len(data) < ndbHeaderSize || le.Uint32(data) != ndbHeaderMagic {
		return nil, fmt.Errorf("%w: not an ndb Packages.db", errBadDB)
	}
	if v := le.Uint32(data[4:]); v != 0 {
		return nil, fmt.Errorf("%w: ndb version %d", errBadDB, v)
	}
	slotPages := uint64(le.Uint32(data[12:]))
	slotsEnd := slotPages * ndbPageSize
	if slotPages == 0 || slotsEnd > uint64(len(data)) {
		return nil, fmt.Errorf("%w: %d slot pages in %d bytes", errBadDB, slotPages, len(data))
	}
	var out []record
	for off := uint64(ndbHeaderSize); off+ndbSlotSize <= slotsEnd; off += ndbSlotSize {
		slot := data[off:]
		if le.Uint32(slot) != ndbSlotMagic {
			warn(0, fmt.Errorf("%w: bad slot magic at offset %d", errBadDB, off))
			continue
		}
		idx := le.Uint32(slot[4:])
		if idx == 0 {
			continue // free slot
		}
		blkoff, blkcnt := uint64(le.Uint32(slot[8:])), uint64(le.Uint32(slot[12:]))
		start, end := blkoff*ndbBlockSize, (blkoff+blkcnt)*ndbBlockSize
		if start < slotsEnd || end > uint64(len(data)) || blkcnt == 0 {
			warn(idx, fmt.Errorf("%w: blocks %d+%d outside the file", errBadDB, blkoff, blkcnt))
			continue
		}
		blob := data[start:end]
		if len(blob) < ndbBlobHeader || le.Uint32(blob) != ndbBlobMagic || le.Uint32(blob[4:]) != idx {
			warn(idx, fmt.Errorf("%w: bad blob header at offset %d", errBadDB, start))
			continue
		}
		n := uint64(le.Uint32(blob[12:]))
		if ndbBlobHeader+n > uint64(len(blob)) {
			warn(idx, fmt.Errorf("%w: blob of %d bytes in %d blocks", errBadDB, n, blkcnt))
			continue
		}
		out = append(out, record{key: idx, blob: blob[ndbBlobHeader : ndbBlobHeader+n]})
	}
	return out, nil
}
