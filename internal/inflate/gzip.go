package inflate

import (
	"errors"
)

// gzip member framing (RFC 1952).
const (
	gzipID1     = 0x1f
	gzipID2     = 0x8b
	gzipDeflate = 8

	flagText    = 1 << 0
	flagHCRC    = 1 << 1
	flagExtra   = 1 << 2
	flagName    = 1 << 3
	flagComment = 1 << 4
)

var (
	errNotGzip   = errors.New("not a gzip stream")
	errGzipShort = errors.New("gzip header is truncated")
)

// gzipHeaderLen returns the length of the gzip member header at the start
// of b, errGzipShort when b ends inside it.
func gzipHeaderLen(b []byte) (int, error) {
	if len(b) < 10 {
		if len(b) >= 1 && b[0] != gzipID1 || len(b) >= 2 && b[1] != gzipID2 || len(b) >= 3 && b[2] != gzipDeflate {
			return 0, errNotGzip
		}
		return 0, errGzipShort
	}
	if b[0] != gzipID1 || b[1] != gzipID2 || b[2] != gzipDeflate {
		return 0, errNotGzip
	}
	flg := b[3]
	if flg&0xe0 != 0 {
		return 0, errors.New("gzip header has reserved flags set")
	}
	n := 10
	if flg&flagExtra != 0 {
		if len(b) < n+2 {
			return 0, errGzipShort
		}
		n += 2 + int(b[n]) | int(b[n+1])<<8
	}
	for _, f := range []byte{flagName, flagComment} {
		if flg&f == 0 {
			continue
		}
		for {
			if n >= len(b) {
				return 0, errGzipShort
			}
			n++
			if b[n-1] == 0 {
				break
			}
		}
	}
	if flg&flagHCRC != 0 {
		n += 2
	}
	if n > len(b) {
		return 0, errGzipShort
	}
	return n, nil
}

var errClosed = errors.New("gzip: read after Close")
