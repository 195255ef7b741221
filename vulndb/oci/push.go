package oci

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/zstd"

	"github.com/vigil-scanner/vigil/vulndb"
)

// PushOptions configure Push.
type PushOptions struct {
	Registry
	// MaxDeltas bounds the deltas published per part: a client up to this
	// many versions behind updates the part from deltas. 0 means 7.
	MaxDeltas int
}

// PushResult says what Push did.
type PushResult struct {
	Digest v1.Hash
	// Uploaded and Reused count part blobs: new ones, and ones whose
	// content the previous version at the reference already had.
	Uploaded, Reused int
	// Deltas counts the delta blobs made for this version.
	Deltas        int
	UploadedBytes int64
}

// Push publishes the database in dir, which must have every part on disk
// (built, or pulled whole), as ref. When ref already holds a version,
// parts whose content did not change keep their blob, and for each part
// that changed a delta from the previous content is published beside the
// new blob (with the deltas of earlier versions, up to MaxDeltas), so that
// clients download only what changed.
func Push(ctx context.Context, dir, ref string, opts PushOptions) (PushResult, error) {
	var res PushResult
	r, err := opts.ref(ref)
	if err != nil {
		return res, err
	}
	idx, err := vulndb.ReadIndex(dir)
	if err != nil {
		return res, fmt.Errorf("oci: push: %w", err)
	}
	if missing := Missing(idx, Selection{All: true}); len(missing) > 0 {
		return res, fmt.Errorf("oci: push: the database in %s lacks %d of its %d parts (it was downloaded for scans); run `vigil db update --all` first", dir, len(missing), len(idx.Parts))
	}
	maxDeltas := opts.MaxDeltas
	if maxDeltas <= 0 {
		maxDeltas = 7
	}
	ropts := opts.remote(ctx)
	puller, err := remote.NewPuller(ropts...)
	if err != nil {
		return res, fmt.Errorf("oci: push: %w", err)
	}
	pusher, err := remote.NewPusher(ropts...)
	if err != nil {
		return res, fmt.Errorf("oci: push: %w", err)
	}
	prev, err := previousVersion(ctx, puller, r)
	if err != nil {
		opts.logger().Warn("oci: push: the version at the reference is not readable; publishing without deltas", "ref", ref, "err", err)
		prev = nil
	}
	p := &publisher{ctx: ctx, dir: dir, repo: r, opts: opts, puller: puller, pusher: pusher, prev: prev, maxDeltas: maxDeltas, res: &res}
	defer p.cleanup()
	var layers []v1.Descriptor
	for _, e := range idx.Parts {
		ls, err := p.part(e)
		if err != nil {
			return res, fmt.Errorf("oci: push %s: part %s: %w", ref, e.PartKey, err)
		}
		layers = append(layers, ls...)
	}
	meta := idx.Metadata
	meta.Provenance = nil
	meta.SchemaVersion = vulndb.SchemaVersion
	rawMeta, err := json.Marshal(meta)
	if err != nil {
		return res, err
	}
	cfg, err := p.upload(rawMeta, ArtifactType)
	if err != nil {
		return res, fmt.Errorf("oci: push %s: config: %w", ref, err)
	}
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		ArtifactType:  string(ArtifactType),
		Config:        cfg,
		Layers:        layers,
		Annotations: map[string]string{
			annotationSchema:     strconv.Itoa(vulndb.SchemaVersion),
			annotationCreated:    meta.BuiltAt.UTC().Format(time.RFC3339),
			annotationNextUpdate: meta.NextUpdate.UTC().Format(time.RFC3339),
		},
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return res, err
	}
	if err := pusher.Put(ctx, r, rawManifest{raw: raw, mediaType: types.OCIManifestSchema1}); err != nil {
		return res, fmt.Errorf("oci: push %s: %w", ref, err)
	}
	h, _, err := v1.SHA256(bytes.NewReader(raw))
	if err != nil {
		return res, err
	}
	res.Digest = h
	return res, nil
}

// previousVersion reads the version at r, or nil when there is none.
func previousVersion(ctx context.Context, puller *remote.Puller, r name.Reference) (*version, error) {
	desc, err := puller.Get(ctx, r)
	if err != nil {
		var te *transport.Error
		if errors.As(err, &te) && te.StatusCode == http.StatusNotFound {
			return nil, nil
		}
		return nil, err
	}
	return parseManifest(desc.Digest, desc.Manifest)
}

type publisher struct {
	ctx       context.Context
	dir       string
	repo      name.Reference
	opts      PushOptions
	puller    *remote.Puller
	pusher    *remote.Pusher
	prev      *version
	maxDeltas int
	res       *PushResult
	temps     []string
}

func (p *publisher) cleanup() {
	for _, t := range p.temps {
		os.Remove(t)
	}
}

func (p *publisher) temp(pattern string) (*os.File, error) {
	f, err := vulndb.TempFile(p.dir, pattern)
	if err == nil {
		p.temps = append(p.temps, f.Name())
	}
	return f, err
}

// part returns the layers of one part: its blob, then its deltas.
func (p *publisher) part(e vulndb.PartEntry) ([]v1.Descriptor, error) {
	var prevPart *remotePart
	var prevDeltas []remoteDelta
	if p.prev != nil {
		for i := range p.prev.parts {
			if p.prev.parts[i].key == e.PartKey {
				prevPart = &p.prev.parts[i]
			}
		}
		for _, d := range p.prev.deltas {
			if d.key == e.PartKey {
				prevDeltas = append(prevDeltas, d)
			}
		}
	}
	var blob v1.Descriptor
	if prevPart != nil && prevPart.content == e.Content {
		blob = prevPart.blob
		p.res.Reused++
	} else {
		zst, err := p.compressed(vulndb.PartPath(p.dir, e.Content), "push-part-*")
		if err != nil {
			return nil, err
		}
		ann := partAnnotations(e.PartKey)
		ann[annotationContent] = e.Content
		ann[annotationRecords] = strconv.Itoa(e.Records)
		ann[annotationTitle] = partTitle(e.PartKey) + ".db.zst"
		if blob, err = p.uploadFile(zst, PartMediaType, ann); err != nil {
			return nil, err
		}
		p.res.Uploaded++
	}
	out := []v1.Descriptor{blob}
	var deltas []v1.Descriptor
	if prevPart != nil && prevPart.content != e.Content {
		d, err := p.delta(e, prevPart, blob.Size)
		if err != nil {
			p.opts.logger().Warn("oci: push: no delta for part", "part", e.PartKey.String(), "err", err)
		} else if d != nil {
			deltas = append(deltas, *d)
			p.res.Deltas++
		}
	}
	// Earlier deltas still lead to this content through the previous one
	// (or directly, when the part did not change). A chain costlier than
	// the part itself is never taken by a client, so it is not kept.
	var total int64
	for _, d := range deltas {
		total += d.Size
	}
	for _, d := range prevDeltas {
		if len(deltas) >= p.maxDeltas || total+d.blob.Size > blob.Size || d.from == e.Content {
			break
		}
		deltas = append(deltas, d.blob)
		total += d.blob.Size
	}
	return append(out, deltas...), nil
}

// delta makes and uploads the delta from the previous version's content of
// e's part to e's, when it is smaller than half the part's blob.
func (p *publisher) delta(e vulndb.PartEntry, prev *remotePart, blobSize int64) (*v1.Descriptor, error) {
	oldPath := vulndb.PartPath(p.dir, prev.content)
	if _, err := os.Stat(oldPath); err != nil {
		// Not kept here: fetch it from the repository.
		f, err := p.temp("push-prev-*")
		if err != nil {
			return nil, err
		}
		f.Close()
		if err := fetchPart(p.ctx, p.puller, p.repo, *prev, f.Name()); err != nil {
			return nil, err
		}
		oldPath = f.Name()
	}
	raw, err := p.temp("push-delta-raw-*")
	if err != nil {
		return nil, err
	}
	info, err := vulndb.WriteDelta(raw, oldPath, vulndb.PartPath(p.dir, e.Content))
	if cerr := raw.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	if info.From != prev.content || info.To != e.Content {
		return nil, fmt.Errorf("delta digests %s → %s, expected %s → %s", info.From, info.To, prev.content, e.Content)
	}
	zst, err := p.compressed(raw.Name(), "push-delta-*")
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(zst)
	if err != nil {
		return nil, err
	}
	if fi.Size()*2 > blobSize {
		return nil, nil
	}
	ann := partAnnotations(e.PartKey)
	ann[annotationFrom] = info.From
	ann[annotationTo] = info.To
	ann[annotationTitle] = partTitle(e.PartKey) + ".delta.zst"
	d, err := p.uploadFile(zst, DeltaMediaType, ann)
	if err != nil {
		return nil, err
	}
	return &d, nil
}

func partTitle(k vulndb.PartKey) string {
	s := k.Kind
	if k.Ecosystem != "" {
		s += "-" + k.Ecosystem
	}
	return fmt.Sprintf("%s-%d-of-%d", s, k.Shard+1, k.Shards)
}

// compressed writes the file at path compressed with zstd to a new
// temporary file (named by pattern) and returns that file's path.
func (p *publisher) compressed(path, pattern string) (string, error) {
	f, err := p.temp(pattern)
	if err != nil {
		return "", err
	}
	src, err := os.Open(path)
	if err != nil {
		f.Close()
		return "", err
	}
	err = compress(f, src)
	src.Close()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return f.Name(), err
}

// compress writes src compressed with zstd to w.
func compress(w io.Writer, src io.Reader) error {
	zw, err := zstd.NewWriter(w, zstd.WithEncoderLevel(zstd.SpeedBetterCompression), zstd.WithEncoderConcurrency(1))
	if err != nil {
		return err
	}
	if _, err := io.Copy(zw, src); err != nil {
		zw.Close()
		return err
	}
	return zw.Close()
}

// uploadFile uploads the blob in the file at path and returns its
// descriptor.
func (p *publisher) uploadFile(path string, mt types.MediaType, ann map[string]string) (v1.Descriptor, error) {
	f, err := os.Open(path)
	if err != nil {
		return v1.Descriptor{}, err
	}
	h := sha256.New()
	n, err := io.Copy(h, f)
	f.Close()
	if err != nil {
		return v1.Descriptor{}, err
	}
	digest := v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h.Sum(nil))}
	l, err := partial.CompressedToLayer(&fileBlob{path: path, digest: digest, size: n, mediaType: mt})
	if err != nil {
		return v1.Descriptor{}, err
	}
	if err := p.pusher.Upload(p.ctx, p.repo.Context(), l); err != nil {
		return v1.Descriptor{}, err
	}
	p.res.UploadedBytes += n
	return v1.Descriptor{MediaType: mt, Size: n, Digest: digest, Annotations: ann}, nil
}

// upload uploads a small blob held in memory.
func (p *publisher) upload(data []byte, mt types.MediaType) (v1.Descriptor, error) {
	f, err := p.temp("push-blob-*")
	if err != nil {
		return v1.Descriptor{}, err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return v1.Descriptor{}, err
	}
	d, err := p.uploadFile(f.Name(), mt, nil)
	d.Annotations = nil
	return d, err
}

// fileBlob is a blob in a file, for partial.CompressedToLayer.
type fileBlob struct {
	path      string
	digest    v1.Hash
	size      int64
	mediaType types.MediaType
}

func (b *fileBlob) Digest() (v1.Hash, error)             { return b.digest, nil }
func (b *fileBlob) Size() (int64, error)                 { return b.size, nil }
func (b *fileBlob) MediaType() (types.MediaType, error)  { return b.mediaType, nil }
func (b *fileBlob) Compressed() (io.ReadCloser, error)   { return os.Open(b.path) }
func (b *fileBlob) DiffID() (v1.Hash, error)             { return b.digest, nil }
func (b *fileBlob) Uncompressed() (io.ReadCloser, error) { return os.Open(b.path) }
func (b *fileBlob) String() string                       { return filepath.Base(b.path) }

// rawManifest is a manifest to put as is.
type rawManifest struct {
	raw       []byte
	mediaType types.MediaType
}

func (m rawManifest) RawManifest() ([]byte, error)        { return m.raw, nil }
func (m rawManifest) MediaType() (types.MediaType, error) { return m.mediaType, nil }
