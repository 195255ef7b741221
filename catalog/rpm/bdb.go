package rpm

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Berkeley DB hash database, as rpm up to 4.15 wrote var/lib/rpm/Packages:
// page 0 is the hash metadata page; P_HASH pages hold key/data item pairs;
// items too large for a page live on chains of overflow pages. All
// integers are in the byte order of the machine that wrote the file, told
// by the magic number.

const (
	bdbHashMagic = 0x061561

	bdbPageHeader = 26 // lsn, pgno, prev, next, entries, hf_offset, level, type

	pageOverflow   = 7
	pageHashMeta   = 8
	pageHash       = 13
	pageHashUnsort = 2

	itemKeyData = 1 // data follows the type byte
	itemOffPage = 3 // type, 3 unused bytes, pgno, total length
)

// record is one stored header blob and where it came from.
type record struct {
	key  uint32 // header number
	blob []byte
}

var errBadDB = errors.New("corrupt rpm database")

// warnFunc receives a problem with one record (key 0 when unknown); the
// reader skips that record and goes on.
type warnFunc func(key uint32, err error)

// readBDB returns the values of a Berkeley DB hash database held in data,
// keyed by their 4-byte header numbers. The key 0 record (rpm's counter)
// is skipped. A broken page or item is reported to warn and skipped.
func readBDB(data []byte, warn warnFunc) ([]record, error) {
	if len(data) < 512 {
		return nil, fmt.Errorf("%w: %d bytes, too short for a Berkeley DB", errBadDB, len(data))
	}
	var bo binary.ByteOrder
	switch {
	case binary.LittleEndian.Uint32(data[12:]) == bdbHashMagic:
		bo = binary.LittleEndian
	case binary.BigEndian.Uint32(data[12:]) == bdbHashMagic:
		bo = binary.BigEndian
	default:
		return nil, fmt.Errorf("%w: not a Berkeley DB hash database", errBadDB)
	}
	if data[25] != pageHashMeta {
		return nil, fmt.Errorf("%w: page 0 has type %d, want hash metadata", errBadDB, data[25])
	}
	if data[24] != 0 {
		return nil, fmt.Errorf("%w: encrypted databases are not supported", errBadDB)
	}
	if data[26]&1 != 0 {
		return nil, fmt.Errorf("%w: databases with page checksums are not supported", errBadDB)
	}
	pageSize := int(bo.Uint32(data[20:]))
	if pageSize < 512 || pageSize > 64*1024 || pageSize&(pageSize-1) != 0 {
		return nil, fmt.Errorf("%w: page size %d", errBadDB, pageSize)
	}
	db := &bdb{data: data, bo: bo, pageSize: pageSize, pages: len(data) / pageSize}
	// The metadata page records the last page: a file that ends before
	// it was cut short, and what its missing pages held is lost.
	if last := uint64(bo.Uint32(data[32:])); last+1 > uint64(db.pages) {
		warn(0, fmt.Errorf("%w: truncated: %d pages, the database has %d", errBadDB, db.pages, last+1))
	}

	var out []record
	for pg := 1; pg < db.pages; pg++ {
		page := db.page(pg)
		if t := page[25]; t != pageHash && t != pageHashUnsort {
			continue
		}
		n := int(bo.Uint16(page[20:]))
		if bdbPageHeader+2*n > pageSize {
			warn(0, fmt.Errorf("%w: page %d claims %d entries", errBadDB, pg, n))
			continue
		}
		for i := 0; i+1 < n; i += 2 {
			key, err := db.item(page, pg, i)
			if err != nil {
				warn(0, err)
				continue
			}
			if len(key) != 4 {
				continue
			}
			k := bo.Uint32(key)
			if k == 0 {
				continue
			}
			val, err := db.item(page, pg, i+1)
			if err != nil {
				warn(k, err)
				continue
			}
			out = append(out, record{key: k, blob: val})
		}
	}
	return out, nil
}

type bdb struct {
	data     []byte
	bo       binary.ByteOrder
	pageSize int
	pages    int
}

func (db *bdb) page(n int) []byte {
	return db.data[n*db.pageSize : (n+1)*db.pageSize]
}

// item returns item i of a hash page, following overflow chains.
func (db *bdb) item(page []byte, pg, i int) ([]byte, error) {
	off := int(db.bo.Uint16(page[bdbPageHeader+2*i:]))
	end := db.pageSize
	if i > 0 {
		end = int(db.bo.Uint16(page[bdbPageHeader+2*(i-1):]))
	}
	if off < bdbPageHeader || off >= end || end > db.pageSize {
		return nil, fmt.Errorf("%w: page %d item %d at bad offset %d", errBadDB, pg, i, off)
	}
	switch page[off] {
	case itemKeyData:
		return page[off+1 : end], nil
	case itemOffPage:
		if off+12 > end {
			return nil, fmt.Errorf("%w: page %d item %d: short overflow reference", errBadDB, pg, i)
		}
		return db.overflow(int(db.bo.Uint32(page[off+4:])), int(db.bo.Uint32(page[off+8:])))
	default:
		// Duplicates do not occur in rpm's Packages database.
		return nil, fmt.Errorf("%w: page %d item %d has unsupported type %d", errBadDB, pg, i, page[off])
	}
}

// overflow reads total bytes from the overflow chain starting at page pg.
func (db *bdb) overflow(pg, total int) ([]byte, error) {
	if total < 0 || total > len(db.data) {
		return nil, fmt.Errorf("%w: overflow item of %d bytes", errBadDB, total)
	}
	out := make([]byte, 0, total)
	for steps := 0; len(out) < total; steps++ {
		if pg <= 0 || pg >= db.pages || steps >= db.pages {
			return nil, fmt.Errorf("%w: overflow chain reaches page %d", errBadDB, pg)
		}
		page := db.page(pg)
		if page[25] != pageOverflow {
			return nil, fmt.Errorf("%w: page %d has type %d, want overflow", errBadDB, pg, page[25])
		}
		n := int(db.bo.Uint16(page[22:]))
		if bdbPageHeader+n > db.pageSize || n > total-len(out) {
			return nil, fmt.Errorf("%w: overflow page %d holds %d bytes", errBadDB, pg, n)
		}
		out = append(out, page[bdbPageHeader:bdbPageHeader+n]...)
		pg = int(db.bo.Uint32(page[16:]))
	}
	return out, nil
}
