package vulndb

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	bolt "go.etcd.io/bbolt"
)

// A delta turns one version of a part into the next: the records added or
// changed, and the keys removed. A client holding the old version
// downloads the delta instead of the whole part, applies it, and checks
// that the result has the new version's content digest; any mismatch
// throws the result away.
//
// Format (before compression):
//
//	"vigil-part-delta-v1\n"
//	uvarint len, from content digest
//	uvarint len, to content digest
//	ops, in ascending (bucket, key) order, each:
//	    1 (put) | 2 (delete), uvarint len, bucket, uvarint len, key,
//	    and for a put: uvarint len, value
//	0 (end)

const deltaMagic = "vigil-part-delta-v1\n"

const (
	opEnd    = 0
	opPut    = 1
	opDelete = 2

	maxBucketLen = 64
	maxKeyLen    = 64 << 10
	maxValueLen  = 256 << 20
)

// DeltaInfo describes a delta.
type DeltaInfo struct {
	From, To        string // content digests
	Puts, Deletes   int
	Unchanged, Size int // records kept; bytes of the delta before compression
}

// WriteDelta writes to w the delta from the part file at oldPath to the
// one at newPath.
func WriteDelta(w io.Writer, oldPath, newPath string) (DeltaInfo, error) {
	oldP, err := openPart(oldPath, nil)
	if err != nil {
		return DeltaInfo{}, err
	}
	defer oldP.close()
	newP, err := openPart(newPath, nil)
	if err != nil {
		return DeltaInfo{}, err
	}
	defer newP.close()
	if oldP.info.PartKey != newP.info.PartKey {
		return DeltaInfo{}, fmt.Errorf("vulndb: delta between different parts %s and %s", oldP.info.PartKey, newP.info.PartKey)
	}
	oldRecs, newRecs := make(chan record, 64), make(chan record, 64)
	oldDone, newDone := make(chan struct{}), make(chan struct{})
	oldHash, newHash := newContentHash(), newContentHash()
	oldErr, newErr := make(chan error, 1), make(chan error, 1)
	go func() { oldErr <- streamPart(oldP, oldHash, oldRecs, oldDone) }()
	go func() { newErr <- streamPart(newP, newHash, newRecs, newDone) }()

	var body bytes.Buffer
	var info DeltaInfo
	o, oOK := <-oldRecs
	n, nOK := <-newRecs
	for oOK || nOK {
		switch c := cmpOpt(o, oOK, n, nOK); {
		case c < 0: // only in old
			writeOp(&body, opDelete, o)
			info.Deletes++
			o, oOK = <-oldRecs
		case c > 0: // only in new
			writeOp(&body, opPut, n)
			info.Puts++
			n, nOK = <-newRecs
		default:
			if !bytes.Equal(o.value, n.value) {
				writeOp(&body, opPut, n)
				info.Puts++
			} else {
				info.Unchanged++
			}
			o, oOK = <-oldRecs
			n, nOK = <-newRecs
		}
	}
	close(oldDone)
	close(newDone)
	if err := errors.Join(<-oldErr, <-newErr); err != nil {
		return DeltaInfo{}, err
	}
	info.From, info.To = oldHash.sum(), newHash.sum()
	head := []byte(deltaMagic)
	head = appendBytes(head, []byte(info.From))
	head = appendBytes(head, []byte(info.To))
	body.WriteByte(opEnd)
	info.Size = len(head) + body.Len()
	if _, err := w.Write(head); err != nil {
		return DeltaInfo{}, err
	}
	if _, err := body.WriteTo(w); err != nil {
		return DeltaInfo{}, err
	}
	return info, nil
}

// cmpOpt compares two optional records; a missing one sorts last.
func cmpOpt(a record, aOK bool, b record, bOK bool) int {
	switch {
	case !aOK:
		return 1
	case !bOK:
		return -1
	}
	return compareRecord(a, b)
}

// streamPart sends every record of p, in order, to out (closing it) and
// adds it to h; it stops early when done is closed.
func streamPart(p *part, h *contentHash, out chan<- record, done <-chan struct{}) error {
	defer close(out)
	return p.view(func(tx *bolt.Tx) error {
		return forEachRecord(tx, func(bucket, k, v []byte) error {
			h.add(bucket, k, v)
			select {
			case out <- record{bytes.Clone(bucket), bytes.Clone(k), bytes.Clone(v)}:
				return nil
			case <-done:
				return errors.New("stopped")
			}
		})
	})
}

func writeOp(w io.Writer, op byte, r record) {
	b := []byte{op}
	b = appendBytes(b, r.bucket)
	b = appendBytes(b, r.key)
	if op == opPut {
		b = appendBytes(b, r.value)
	}
	w.Write(b)
}

func appendBytes(b, p []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(p)))
	return append(b, p...)
}

// deltaReader reads a delta's ops, checking lengths and order.
type deltaReader struct {
	r        *bufio.Reader
	from, to string
	last     record
	started  bool
}

func newDeltaReader(r io.Reader) (*deltaReader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	magic := make([]byte, len(deltaMagic))
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != deltaMagic {
		return nil, errors.New("not a vigil part delta")
	}
	d := &deltaReader{r: br}
	from, err := d.bytes(80)
	if err != nil {
		return nil, fmt.Errorf("delta header: %w", err)
	}
	to, err := d.bytes(80)
	if err != nil {
		return nil, fmt.Errorf("delta header: %w", err)
	}
	d.from, d.to = string(from), string(to)
	if !validDigest(d.from) || !validDigest(d.to) {
		return nil, errors.New("delta header: invalid digests")
	}
	return d, nil
}

func (d *deltaReader) bytes(limit uint64) ([]byte, error) {
	n, err := binary.ReadUvarint(d.r)
	if err != nil {
		return nil, unexpected(err)
	}
	if n > limit {
		return nil, fmt.Errorf("length %d over the limit %d", n, limit)
	}
	// Read, not allocated from the declared length: a lying length costs
	// only the bytes that are really there.
	b, err := io.ReadAll(io.LimitReader(d.r, int64(n)))
	if err != nil {
		return nil, err
	}
	if uint64(len(b)) != n {
		return nil, io.ErrUnexpectedEOF
	}
	return b, nil
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// next returns the next op; ok is false at the end marker, after which
// nothing may follow.
func (d *deltaReader) next() (op byte, r record, ok bool, err error) {
	op, err = d.r.ReadByte()
	if err != nil {
		return 0, record{}, false, fmt.Errorf("delta: %w", unexpected(err))
	}
	switch op {
	case opEnd:
		if _, err := d.r.ReadByte(); err != io.EOF {
			return 0, record{}, false, errors.New("delta: data after the end")
		}
		return 0, record{}, false, nil
	case opPut, opDelete:
	default:
		return 0, record{}, false, fmt.Errorf("delta: unknown op %d", op)
	}
	if r.bucket, err = d.bytes(maxBucketLen); err != nil {
		return 0, record{}, false, fmt.Errorf("delta: %w", err)
	}
	if r.key, err = d.bytes(maxKeyLen); err != nil {
		return 0, record{}, false, fmt.Errorf("delta: %w", err)
	}
	if len(r.bucket) == 0 || len(r.key) == 0 {
		return 0, record{}, false, errors.New("delta: empty bucket or key")
	}
	if op == opPut {
		if r.value, err = d.bytes(maxValueLen); err != nil {
			return 0, record{}, false, fmt.Errorf("delta: %w", err)
		}
	}
	if d.started && compareRecord(d.last, r) >= 0 {
		return 0, record{}, false, fmt.Errorf("delta: %s/%q out of order", r.bucket, r.key)
	}
	d.started, d.last = true, record{bucket: r.bucket, key: r.key}
	return op, r, true, nil
}

// ApplyDelta applies the delta read from delta to the part file at
// basePath, writing the result to a new file at outPath. It checks that the
// base has the delta's "from" digest and the result its "to" digest, and
// returns the result's check. On error outPath is removed.
func ApplyDelta(basePath string, delta io.Reader, outPath string) (pf PartFile, err error) {
	d, err := newDeltaReader(delta)
	if err != nil {
		return PartFile{}, err
	}
	base, err := openPart(basePath, nil)
	if err != nil {
		return PartFile{}, err
	}
	defer base.close()
	out, err := createPart(outPath, base.info.PartKey, false)
	if err != nil {
		return PartFile{}, err
	}
	defer func() {
		if err != nil {
			out.abort()
		}
	}()
	recs := make(chan record, 64)
	done := make(chan struct{})
	baseHash, outHash := newContentHash(), newContentHash()
	baseErr := make(chan error, 1)
	go func() { baseErr <- streamPart(base, baseHash, recs, done) }()
	stop := func() error {
		close(done)
		for range recs {
		}
		return <-baseErr
	}
	emit := func(r record) error {
		outHash.add(r.bucket, r.key, r.value)
		if !bytes.Equal(r.bucket, bucketPart) {
			pf.Records++
		}
		return out.put(r.bucket, r.key, r.value)
	}
	b, bOK := <-recs
	op, o, oOK, err := d.next()
	for err == nil && (bOK || oOK) {
		switch c := cmpOpt(b, bOK, o, oOK); {
		case c < 0:
			err = emit(b)
			b, bOK = <-recs
		case c > 0:
			if op == opDelete {
				err = fmt.Errorf("delta deletes %s/%q, which the base does not have", o.bucket, o.key)
				break
			}
			if err = emit(o); err == nil {
				op, o, oOK, err = d.next()
			}
		default:
			if op == opPut {
				err = emit(o)
			}
			b, bOK = <-recs
			if err == nil {
				op, o, oOK, err = d.next()
			}
		}
	}
	if serr := stop(); err == nil {
		err = serr
	}
	if err != nil {
		return PartFile{}, fmt.Errorf("vulndb: apply delta to %s: %w", basePath, err)
	}
	if got := baseHash.sum(); got != d.from {
		return PartFile{}, fmt.Errorf("vulndb: apply delta: the base %s has content %s, the delta is from %s", basePath, got, d.from)
	}
	if err = out.close(); err != nil {
		return PartFile{}, err
	}
	pf.Key, pf.Content = base.info.PartKey, outHash.sum()
	if pf.Content != d.to {
		err = fmt.Errorf("vulndb: apply delta: the result has content %s, the delta promises %s", pf.Content, d.to)
		return PartFile{}, err
	}
	if pf.Size, err = statRegular(outPath); err != nil {
		return PartFile{}, err
	}
	return pf, nil
}
