package layerfs

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/zstd"

	"github.com/vigil-scanner/vigil/internal/inflate"
)

// openUncompressed returns the uncompressed tar stream of l. A layer stored
// compressed is read through its Compressed stream and decompressed here,
// as its first bytes say (gzip, zstd or none), rather than by
// go-containerregistry, so the fastest inflater is used. A layer whose media type says it is
// stored uncompressed is read as it is: asking such a layer for a
// compressed stream may compress it. inf says how gzip is inflated.
//
// A layer read through its Compressed stream also gets the digest of its
// stored bytes computed on the way (storedSum), which spares reading them
// a second time to check the layer's digest.
func openUncompressed(l v1.Layer, inf inflate.Options) (io.ReadCloser, *storedSum, error) {
	mt, err := l.MediaType()
	if err != nil || uncompressedMediaType(mt) {
		rc, err := l.Uncompressed()
		return rc, nil, err
	}
	rc, err := l.Compressed()
	if err != nil {
		return nil, nil, err
	}
	sum := &storedSum{h: newHashPipe(sha256.New()), r: rc}
	br := bufio.NewReaderSize(sum, 256<<10)
	head, err := br.Peek(4)
	if err != nil && len(head) == 0 && err != io.EOF {
		sum.h.finish()
		rc.Close()
		return nil, nil, err
	}
	var r io.ReadCloser
	switch {
	case len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b:
		r, err = inflate.NewReader(br, inf)
	case bytes.Equal(head, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		var zr *zstd.Decoder
		zr, err = zstd.NewReader(br, zstd.WithDecoderConcurrency(1))
		if err == nil {
			r = zr.IOReadCloser()
		}
	default:
		r = io.NopCloser(br)
	}
	if err != nil {
		sum.h.finish()
		rc.Close()
		return nil, nil, err
	}
	return &closeBoth{Reader: r, first: r, second: rc, sum: sum}, sum, nil
}

// storedSum hashes a layer's stored bytes as they are read.
type storedSum struct {
	h   *hashPipe
	r   io.Reader
	eof bool // r was read to its end: h covers every stored byte
}

func (s *storedSum) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.h.Write(p[:n])
	if err == io.EOF {
		s.eof = true
	}
	return n, err
}

// digest returns the stored bytes' sha256 digest in hex, or "" when they
// were not all read.
func (s *storedSum) digest() string {
	if s == nil || !s.eof {
		return ""
	}
	return hex.EncodeToString(s.h.Sum(nil))
}

// minParallelLayer is the compressed size from which a gzip layer may be
// inflated on several cores.
const minParallelLayer = 8 << 20

// inflateOptions returns how each gzip layer of an image is inflated,
// when parallelism layers are read at once. Inflating one stream on
// several cores costs about a third more CPU and some memory, so only a
// large layer that holds more than its share of the image is, the one
// that would otherwise be read alone after the others are done, and only
// on 4 CPUs or more (inflate.DefaultWorkers). Workers take a core only
// when a decoder leaves it idle (Slots).
func inflateOptions(layers []v1.Layer, parallelism int) []inflate.Options {
	n := inflate.DefaultWorkers()
	sizes := make([]int64, len(layers))
	var total int64
	for i, l := range layers {
		sizes[i], _ = l.Size()
		total += sizes[i]
	}
	slots := make(chan struct{}, n)
	opts := make([]inflate.Options, len(layers))
	for i := range layers {
		if n > 1 && sizes[i] >= minParallelLayer && sizes[i]*int64(min(parallelism, len(layers))) > total {
			opts[i] = inflate.Options{Workers: n, Slots: slots}
		}
	}
	return opts
}

func uncompressedMediaType(mt types.MediaType) bool {
	switch mt {
	case types.DockerUncompressedLayer, types.OCIUncompressedLayer, types.OCIUncompressedRestrictedLayer:
		return true
	}
	return false
}

// closeBoth closes a decompressor, then the stream under it, and
// finishes the hash of the stored bytes.
type closeBoth struct {
	io.Reader
	first, second io.Closer
	sum           *storedSum
}

func (c *closeBoth) Close() error {
	c.sum.h.finish()
	err := c.first.Close()
	if err2 := c.second.Close(); err == nil {
		err = err2
	}
	if err != nil {
		return fmt.Errorf("closing layer: %w", err)
	}
	return nil
}
