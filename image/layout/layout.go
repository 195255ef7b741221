// Package layout reads an OCI image layout
// (https://github.com/opencontainers/image-spec/blob/main/image-layout.md):
// index.json plus content-addressed blobs under blobs/<alg>/<hex>.
//
// The layout is read from an fs.FS, so the same code serves a layout
// directory (os.DirFS) and an OCI archive, a layout packed in a tar file.
// Blobs are not verified against their digests as they are read.
package layout

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// maxManifestSize bounds the JSON documents (index, manifests, configs) read
// into memory.
const maxManifestSize = 8 << 20

// Index returns the image index that index.json at the root of fsys
// describes.
func Index(fsys fs.FS) (v1.ImageIndex, error) {
	raw, err := ReadSmall(fsys, "index.json")
	if err != nil {
		return nil, err
	}
	return newIndex(fsys, raw)
}

// ReadSmall reads the file name from fsys, refusing files larger than the
// bound on manifests and configs.
func ReadSmall(fsys fs.FS, name string) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxManifestSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(b) > maxManifestSize {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, maxManifestSize)
	}
	return b, nil
}

func blobPath(h v1.Hash) (string, error) {
	if h.Algorithm == "" || !fs.ValidPath(h.Algorithm) || !fs.ValidPath(h.Hex) {
		return "", fmt.Errorf("invalid digest %q", h)
	}
	return path.Join("blobs", h.Algorithm, h.Hex), nil
}

func readBlob(fsys fs.FS, h v1.Hash) ([]byte, error) {
	p, err := blobPath(h)
	if err != nil {
		return nil, err
	}
	b, err := ReadSmall(fsys, p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("blob %s is missing from the layout", h)
	}
	return b, err
}

type index struct {
	fsys     fs.FS
	raw      []byte
	manifest *v1.IndexManifest
}

func newIndex(fsys fs.FS, raw []byte) (*index, error) {
	m, err := v1.ParseIndexManifest(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("parsing image index: %w", err)
	}
	return &index{fsys: fsys, raw: raw, manifest: m}, nil
}

func (i *index) MediaType() (types.MediaType, error) {
	if i.manifest.MediaType != "" {
		return i.manifest.MediaType, nil
	}
	return types.OCIImageIndex, nil
}

func (i *index) Digest() (v1.Hash, error) { return digest(i.raw), nil }
func (i *index) Size() (int64, error)     { return int64(len(i.raw)), nil }

func (i *index) IndexManifest() (*v1.IndexManifest, error) { return i.manifest.DeepCopy(), nil }
func (i *index) RawManifest() ([]byte, error)              { return i.raw, nil }

func (i *index) Image(h v1.Hash) (v1.Image, error) {
	raw, err := readBlob(i.fsys, h)
	if err != nil {
		return nil, err
	}
	m, err := v1.ParseManifest(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("parsing manifest %s: %w", h, err)
	}
	img := &image{fsys: i.fsys, raw: raw, manifest: m}
	if err := img.readConfig(); err != nil {
		return nil, err
	}
	return partial.CompressedToImage(img)
}

func (i *index) ImageIndex(h v1.Hash) (v1.ImageIndex, error) {
	raw, err := readBlob(i.fsys, h)
	if err != nil {
		return nil, err
	}
	return newIndex(i.fsys, raw)
}

func digest(b []byte) v1.Hash {
	sum := sha256.Sum256(b)
	return v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", sum)}
}

// image implements partial.CompressedImageCore over a layout's blobs.
type image struct {
	fsys     fs.FS
	raw      []byte
	manifest *v1.Manifest
	config   []byte
	diffIDs  []v1.Hash
}

func (i *image) MediaType() (types.MediaType, error) {
	if i.manifest.MediaType != "" {
		return i.manifest.MediaType, nil
	}
	return types.OCIManifestSchema1, nil
}

func (i *image) RawManifest() ([]byte, error) { return i.raw, nil }

func (i *image) RawConfigFile() ([]byte, error) { return i.config, nil }

func (i *image) readConfig() error {
	b, err := readBlob(i.fsys, i.manifest.Config.Digest)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	var cfg struct {
		RootFS struct {
			DiffIDs []v1.Hash `json:"diff_ids"`
		} `json:"rootfs"`
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		return fmt.Errorf("parsing config %s: %w", i.manifest.Config.Digest, err)
	}
	i.config, i.diffIDs = b, cfg.RootFS.DiffIDs
	return nil
}

func (i *image) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	if h == i.manifest.Config.Digest {
		return &Blob{FS: i.fsys, Desc: i.manifest.Config}, nil
	}
	for n, d := range i.manifest.Layers {
		if d.Digest != h {
			continue
		}
		b := &Blob{FS: i.fsys, Desc: d}
		if n < len(i.diffIDs) {
			b.Diff = i.diffIDs[n]
		}
		return b, nil
	}
	return nil, fmt.Errorf("layer %s not in manifest", h)
}

// Blob is a layer stored as one file of fs.FS, at Path or else at the
// layout's content-addressed path for Desc.Digest. It implements
// partial.CompressedLayer, whatever its compression, and partial.WithDiffID
// when Diff is set, which spares hashing the uncompressed layer.
type Blob struct {
	FS   fs.FS
	Path string
	Desc v1.Descriptor
	Diff v1.Hash
}

// Digest returns the digest of the stored bytes.
func (b *Blob) Digest() (v1.Hash, error) { return b.Desc.Digest, nil }

// Size returns the size of the stored bytes.
func (b *Blob) Size() (int64, error) { return b.Desc.Size, nil }

// MediaType returns the media type from the manifest.
func (b *Blob) MediaType() (types.MediaType, error) { return b.Desc.MediaType, nil }

// Compressed returns the stored bytes, compressed or not.
func (b *Blob) Compressed() (io.ReadCloser, error) {
	p := b.Path
	if p == "" {
		var err error
		if p, err = blobPath(b.Desc.Digest); err != nil {
			return nil, err
		}
	}
	f, err := b.FS.Open(p)
	if err != nil {
		return nil, fmt.Errorf("layer %s: %w", b.Desc.Digest, err)
	}
	return &bufferedBlob{Reader: bufio.NewReaderSize(f, blobBuffer), Closer: f}, nil
}

// blobBuffer is the read size for layer blobs. go-containerregistry peeks
// at a blob's first bytes through a 4 KiB bufio.Reader unless the blob
// already offers Peek; decompressors then read the file 4 KiB at a time.
const blobBuffer = 256 << 10

// bufferedBlob is a blob file read through a large buffer. Its Peek method
// lets go-containerregistry use the buffer instead of adding a small one.
type bufferedBlob struct {
	*bufio.Reader
	io.Closer
}

// DiffID returns the digest of the uncompressed layer, as the config
// records it.
func (b *Blob) DiffID() (v1.Hash, error) {
	if b.Diff.Hex == "" {
		return v1.Hash{}, fmt.Errorf("layer %s: the config records no diff ID for it", b.Desc.Digest)
	}
	return b.Diff, nil
}
