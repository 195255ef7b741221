// Package archive reads images in the format `docker save` and `podman save`
// write: a manifest.json listing, for each image, its config file, its layer
// files (base layer first) and the tags it was saved with.
//
// The files are read from an fs.FS: a tar archive (see image/internal/tarfs)
// or an unpacked directory. Layer files may be uncompressed tars or gzip or
// zstd streams.
//
// The archive holds no registry manifest, so the image's manifest is
// synthesized from the files as stored: an uncompressed layer's digest is its
// diff ID; a compressed layer's digest is taken from its content-addressed
// name (blobs/sha256/<hex> as Docker writes, <hex>.tar.gz or <hex>.tar.zst
// as go-containerregistry's tarball package, crane and ko write) or else
// computed by reading it once.
package archive

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/vigil-scanner/vigil/image/layout"
	"github.com/vigil-scanner/vigil/image/pick"
)

// ManifestFile is the name of the file that marks a docker-save archive.
const ManifestFile = "manifest.json"

type entry struct {
	Config   string
	RepoTags []string
	Layers   []string
}

// Read returns the image in fsys that w selects, with the tags it was saved
// with. Among several images, w.Ref is matched against the tags and
// w.Platform against each config's platform.
func Read(fsys fs.FS, w pick.Want) (v1.Image, []string, error) {
	raw, err := layout.ReadSmall(fsys, ManifestFile)
	if err != nil {
		return nil, nil, err
	}
	var entries []entry
	if err := json.Unmarshal(raw, &entries); err != nil {
		return nil, nil, fmt.Errorf("parsing %s: %w", ManifestFile, err)
	}
	configs := make([]*v1.ConfigFile, len(entries))
	cands := make([]pick.Candidate, len(entries))
	raws := make([][]byte, len(entries))
	for i, e := range entries {
		if raws[i], err = layout.ReadSmall(fsys, e.Config); err != nil {
			return nil, nil, fmt.Errorf("config of image %d: %w", i, err)
		}
		if configs[i], err = v1.ParseConfigFile(bytes.NewReader(raws[i])); err != nil {
			return nil, nil, fmt.Errorf("parsing config %s: %w", e.Config, err)
		}
		cands[i] = pick.Candidate{Refs: e.RepoTags, Digest: digest(raws[i]), Platform: configs[i].Platform()}
	}
	i, err := pick.Choose(cands, w)
	if err != nil {
		return nil, nil, err
	}
	img, err := newImage(fsys, entries[i], raws[i], configs[i])
	if err != nil {
		return nil, nil, err
	}
	return img, entries[i].RepoTags, nil
}

func digest(b []byte) v1.Hash {
	sum := sha256.Sum256(b)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}
}

// image implements partial.CompressedImageCore.
type image struct {
	config   []byte
	manifest []byte
	layers   map[v1.Hash]*layout.Blob
}

var contentAddressed = regexp.MustCompile(`^(?:blobs/sha256/([a-f0-9]{64})|([a-f0-9]{64})\.tar\.(?:gz|zst))$`)

func newImage(fsys fs.FS, e entry, config []byte, cfg *v1.ConfigFile) (v1.Image, error) {
	diffIDs := cfg.RootFS.DiffIDs
	if len(diffIDs) != len(e.Layers) {
		return nil, fmt.Errorf("%s lists %d layers but config %s has %d diff IDs", ManifestFile, len(e.Layers), e.Config, len(diffIDs))
	}
	img := &image{config: config, layers: make(map[v1.Hash]*layout.Blob)}
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.DockerManifestSchema2,
		Config:        v1.Descriptor{MediaType: types.DockerConfigJSON, Size: int64(len(config)), Digest: digest(config)},
	}
	for n, name := range e.Layers {
		name = path.Clean(name)
		b, err := describe(fsys, name, diffIDs[n])
		if err != nil {
			return nil, err
		}
		img.layers[b.Desc.Digest] = b
		m.Layers = append(m.Layers, b.Desc)
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	img.manifest = raw
	return partial.CompressedToImage(img)
}

// describe returns the layer stored in the file name.
func describe(fsys fs.FS, name string, diffID v1.Hash) (*layout.Blob, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, fmt.Errorf("layer: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("layer %s: %w", name, err)
	}
	var head [4]byte
	n, _ := io.ReadFull(f, head[:])
	b := &layout.Blob{FS: fsys, Path: name, Diff: diffID, Desc: v1.Descriptor{Size: st.Size()}}
	switch {
	case n >= 2 && head[0] == 0x1f && head[1] == 0x8b:
		b.Desc.MediaType = types.DockerLayer
	case n == 4 && bytes.Equal(head[:], []byte{0x28, 0xb5, 0x2f, 0xfd}):
		b.Desc.MediaType = types.OCILayerZStd
	default:
		b.Desc.MediaType = types.DockerUncompressedLayer
		b.Desc.Digest = diffID
		return b, nil
	}
	if m := contentAddressed.FindStringSubmatch(name); m != nil {
		b.Desc.Digest = v1.Hash{Algorithm: "sha256", Hex: m[1] + m[2]}
		return b, nil
	}
	h := sha256.New()
	if _, err := h.Write(head[:n]); err != nil {
		return nil, err
	}
	if _, err := io.Copy(h, f); err != nil {
		return nil, fmt.Errorf("layer %s: %w", name, err)
	}
	b.Desc.Digest = v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h.Sum(nil))}
	return b, nil
}

func (i *image) MediaType() (types.MediaType, error) { return types.DockerManifestSchema2, nil }
func (i *image) RawManifest() ([]byte, error)        { return i.manifest, nil }
func (i *image) RawConfigFile() ([]byte, error)      { return i.config, nil }

func (i *image) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	if b, ok := i.layers[h]; ok {
		return b, nil
	}
	return nil, fmt.Errorf("layer %s not in archive", h)
}
