package layerfs

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sync/errgroup"
)

// VerifyDigests checks that each layer of img holds the bytes its digest
// names, by hashing them; a layer that does not is an error naming it. It
// is what ReadImage does for a layer found in the cache when
// Options.TrustDigests is not set, for callers that keep their own
// records of an image's layers (an inventory cache).
func VerifyDigests(ctx context.Context, img v1.Image, parallelism int) error {
	layers, err := img.Layers()
	if err != nil {
		return fmt.Errorf("listing image layers: %w", err)
	}
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(max(parallelism, 1))
	for i, l := range layers {
		g.Go(func() error {
			d, err := l.Digest()
			if err != nil {
				return fmt.Errorf("layer %d: digest: %w", i, err)
			}
			return verifyStored(ctx, layerName(i, l), l, d)
		})
	}
	return g.Wait()
}

// verifyStored checks that the stored (compressed) bytes of the layer
// hash to digest.
func verifyStored(ctx context.Context, name string, l v1.Layer, digest v1.Hash) error {
	if digest.Algorithm != "sha256" {
		return fmt.Errorf("%s: digest %s: only sha256 digests can be checked", name, digest)
	}
	rc, err := l.Compressed()
	if err != nil {
		return fmt.Errorf("%s: opening: %w", name, err)
	}
	defer rc.Close()
	sum := sha256.New()
	if _, err := io.Copy(sum, &ctxReader{ctx: ctx, r: rc}); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%s: reading: %w", name, err)
	}
	if got := hex.EncodeToString(sum.Sum(nil)); got != digest.Hex {
		return fmt.Errorf("%s: the layer's bytes do not match its digest %s (they hash to sha256:%s)", name, digest, got)
	}
	return nil
}

// verifyStoredOnce checks the layer's stored bytes against its digest
// after its stream was read and found to match its diff ID. A layer stored
// uncompressed whose digest is its diff ID needs no second look: its
// stream is its stored bytes, already checked. (Layers are decompressed
// by what their first bytes say, whatever their media type.)
func verifyStoredOnce(ctx context.Context, name string, l v1.Layer, id layerID) error {
	if id.digest == id.diffID {
		compressed, err := isCompressed(l)
		if err != nil {
			return fmt.Errorf("%s: opening: %w", name, err)
		}
		if !compressed {
			return nil
		}
	}
	return verifyStored(ctx, name, l, id.digest)
}

// verifyStoredSum is verifyStoredOnce, but takes the digest of the stored
// bytes from stored when the read computed it.
func verifyStoredSum(ctx context.Context, name string, l v1.Layer, id layerID, stored *storedSum) error {
	got := stored.digest()
	if got == "" || id.digest.Algorithm != "sha256" {
		return verifyStoredOnce(ctx, name, l, id)
	}
	if got != id.digest.Hex {
		return fmt.Errorf("%s: the layer's bytes do not match its digest %s (they hash to sha256:%s)", name, id.digest, got)
	}
	return nil
}

// isCompressed reports whether the layer's stored bytes start with the
// magic number of gzip or zstd.
func isCompressed(l v1.Layer) (bool, error) {
	rc, err := l.Compressed()
	if err != nil {
		return false, err
	}
	defer rc.Close()
	head, err := bufio.NewReaderSize(rc, 16).Peek(4)
	if err != nil && err != io.EOF {
		return false, err
	}
	return bytes.HasPrefix(head, []byte{0x1f, 0x8b}) || bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}), nil
}

// ctxReader fails with the context's error once it is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
