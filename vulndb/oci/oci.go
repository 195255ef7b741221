// Package oci publishes vigil's vulnerability database as an OCI artifact
// and keeps a local copy up to date from one.
//
// The artifact is an OCI image manifest whose config has media type
// ConfigMediaType (the artifact type) and whose single layer, of media type
// LayerMediaType, is a zstd-compressed tar holding the database file
// (DBFileName) and metadata.json (vulndb.Metadata). Manifest annotations
// carry the schema version and build time.
package oci

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/zstd"

	vimage "github.com/vigil-scanner/vigil/image/remote"
	"github.com/vigil-scanner/vigil/vulndb"
)

const (
	// DefaultRepository is where vigil's published database lives; the
	// tag is the schema version.
	DefaultRepository = "ghcr.io/vigil-scanner/vigil-db:1"
	// ConfigMediaType is the artifact type of the database artifact.
	ConfigMediaType types.MediaType = "application/vnd.vigil.db.config.v1+json"
	// LayerMediaType is the media type of the database layer.
	LayerMediaType types.MediaType = "application/vnd.vigil.db.layer.v1.tar+zstd"
	// DBFileName is the database file's name in the layer and on disk.
	DBFileName = "vigil.db"
	// MetadataFileName is the metadata file's name in the layer.
	MetadataFileName = "metadata.json"

	annotationSchema     = "dev.vigil.db.schema"
	annotationNextUpdate = "dev.vigil.db.next-update"
	annotationCreated    = "org.opencontainers.image.created"

	maxDBSize = 16 << 30 // bound on the decompressed database
)

// ref parses s as a reference reachable with access.
func ref(access vimage.Access, s string) (name.Reference, error) {
	r, err := name.ParseReference(s, access.NameOptions()...)
	if err != nil {
		return nil, fmt.Errorf("oci: reference %q: %w", s, err)
	}
	return r, nil
}

// Push packs the database at dbPath and publishes it as ref. It returns
// the manifest digest.
func Push(ctx context.Context, dbPath, dest string, access vimage.Access) (v1.Hash, error) {
	r, err := ref(access, dest)
	if err != nil {
		return v1.Hash{}, err
	}
	db, err := vulndb.Open(dbPath)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("oci: push: %w", err)
	}
	meta := db.Metadata()
	db.Close()
	archive, err := os.CreateTemp(filepath.Dir(dbPath), ".vigil-db-push-*.tar.zst")
	if err != nil {
		return v1.Hash{}, fmt.Errorf("oci: push: %w", err)
	}
	defer os.Remove(archive.Name())
	err = pack(archive, dbPath, meta)
	if cerr := archive.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return v1.Hash{}, fmt.Errorf("oci: push: pack %s: %w", dbPath, err)
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return os.Open(archive.Name()) },
		tarball.WithMediaType(LayerMediaType))
	if err != nil {
		return v1.Hash{}, fmt.Errorf("oci: push: %w", err)
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, ConfigMediaType)
	img, err = mutate.Append(img, mutate.Addendum{
		Layer:       layer,
		MediaType:   LayerMediaType,
		Annotations: map[string]string{"org.opencontainers.image.title": DBFileName + ".tar.zst"},
	})
	if err != nil {
		return v1.Hash{}, fmt.Errorf("oci: push: %w", err)
	}
	img = mutate.Annotations(img, map[string]string{
		annotationSchema:     strconv.Itoa(meta.SchemaVersion),
		annotationCreated:    meta.BuiltAt.UTC().Format(time.RFC3339),
		annotationNextUpdate: meta.NextUpdate.UTC().Format(time.RFC3339),
	}).(v1.Image)
	if err := remote.Write(r, img, access.Options(ctx)...); err != nil {
		return v1.Hash{}, fmt.Errorf("oci: push %s: %w", dest, err)
	}
	return img.Digest()
}

// pack writes a zstd-compressed tar of the database and its metadata.
func pack(w io.Writer, dbPath string, meta vulndb.Metadata) error {
	zw, err := zstd.NewWriter(w, zstd.WithEncoderLevel(zstd.SpeedBetterCompression))
	if err != nil {
		return err
	}
	tw := tar.NewWriter(zw)
	rawMeta, err := json.MarshalIndent(meta, "", "  ")
	if err != nil {
		return err
	}
	mtime := meta.BuiltAt
	if err := tw.WriteHeader(&tar.Header{Name: MetadataFileName, Mode: 0o644, Size: int64(len(rawMeta)), ModTime: mtime}); err != nil {
		return err
	}
	if _, err := tw.Write(rawMeta); err != nil {
		return err
	}
	f, err := os.Open(dbPath)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: DBFileName, Mode: 0o644, Size: fi.Size(), ModTime: mtime}); err != nil {
		return err
	}
	if _, err := io.Copy(tw, f); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return zw.Close()
}

// UpdateOptions configures Update.
type UpdateOptions struct {
	// Path is the local database file; see DefaultPath.
	Path string
	// Repositories are tried in order until one serves a valid database;
	// empty means DefaultRepository.
	Repositories []string
	// Force downloads even when the local database is fresh.
	Force bool
	// Registry says how to reach the repositories.
	Registry vimage.Access
	Logger   *slog.Logger
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// DefaultPath is where vigil keeps its database under a cache directory.
func DefaultPath(cacheDir string) string { return filepath.Join(cacheDir, "db", DBFileName) }

// UpdateResult says what Update did.
type UpdateResult struct {
	// Updated is false when the local database was fresh.
	Updated    bool
	Repository string
	Digest     string // layer digest of the downloaded database
	Metadata   vulndb.Metadata
}

// Update replaces the local database with the published one unless the
// local one is fresh: readable, of this schema version and before its
// NextUpdate. The download is verified against the layer digest,
// decompressed beside the target, opened to check it, and renamed over the
// target; any failure leaves the old database in place. A lock file beside
// the database serialises concurrent updates.
func Update(ctx context.Context, opts UpdateOptions) (UpdateResult, error) {
	if opts.Path == "" {
		return UpdateResult{}, errors.New("oci: update: no database path")
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	repos := opts.Repositories
	if len(repos) == 0 {
		repos = []string{DefaultRepository}
	}
	dir := filepath.Dir(opts.Path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return UpdateResult{}, fmt.Errorf("oci: update: %w", err)
	}
	unlock, err := lockFile(opts.Path + ".lock")
	if err != nil {
		return UpdateResult{}, fmt.Errorf("oci: update: %w", err)
	}
	defer unlock()
	// Checked under the lock: another process may have just updated.
	if meta, ok := fresh(opts.Path, now()); ok && !opts.Force {
		logger.Debug("oci: database is fresh", "path", opts.Path, "nextUpdate", meta.NextUpdate)
		return UpdateResult{Metadata: meta}, nil
	}
	var errs []error
	for _, repo := range repos {
		res, err := download(ctx, repo, opts, logger)
		if err == nil {
			return res, nil
		}
		logger.Debug("oci: database download failed", "repository", repo, "err", err)
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return UpdateResult{}, fmt.Errorf("oci: update %s: %w", opts.Path, errors.Join(errs...))
}

// fresh reports whether the database at path needs no update.
func fresh(path string, now time.Time) (vulndb.Metadata, bool) {
	db, err := vulndb.Open(path)
	if err != nil {
		return vulndb.Metadata{}, false
	}
	defer db.Close()
	meta := db.Metadata()
	return meta, now.Before(meta.NextUpdate)
}

func download(ctx context.Context, repo string, opts UpdateOptions, logger *slog.Logger) (UpdateResult, error) {
	r, err := ref(opts.Registry, repo)
	if err != nil {
		return UpdateResult{}, err
	}
	img, err := remote.Image(r, opts.Registry.Options(ctx)...)
	if err != nil {
		return UpdateResult{}, fmt.Errorf("%s: %w", repo, err)
	}
	manifest, err := img.Manifest()
	if err != nil {
		return UpdateResult{}, fmt.Errorf("%s: manifest: %w", repo, err)
	}
	var desc *v1.Descriptor
	for i, l := range manifest.Layers {
		if l.MediaType == LayerMediaType {
			desc = &manifest.Layers[i]
			break
		}
	}
	if desc == nil {
		return UpdateResult{}, fmt.Errorf("%s: no layer of media type %s: not a vigil database artifact", repo, LayerMediaType)
	}
	if s := manifest.Annotations[annotationSchema]; s != "" && s != strconv.Itoa(vulndb.SchemaVersion) {
		return UpdateResult{}, fmt.Errorf("%s: database schema %s, this vigil reads %d", repo, s, vulndb.SchemaVersion)
	}
	layer, err := img.LayerByDigest(desc.Digest)
	if err != nil {
		return UpdateResult{}, fmt.Errorf("%s: layer %s: %w", repo, desc.Digest, err)
	}
	logger.Info("oci: downloading database", "repository", repo, "digest", desc.Digest, "size", desc.Size)
	dir := filepath.Dir(opts.Path)
	blob, err := os.CreateTemp(dir, ".vigil-db-download-*")
	if err != nil {
		return UpdateResult{}, err
	}
	defer os.Remove(blob.Name())
	defer blob.Close()
	if err := fetchBlob(layer, desc, blob); err != nil {
		return UpdateResult{}, fmt.Errorf("%s: %w", repo, err)
	}
	tmpDB, err := unpack(blob, dir)
	if err != nil {
		return UpdateResult{}, fmt.Errorf("%s: layer %s: %w", repo, desc.Digest, err)
	}
	defer os.Remove(tmpDB) // no-op after the rename
	db, err := vulndb.Open(tmpDB)
	if err != nil {
		return UpdateResult{}, fmt.Errorf("%s: downloaded database is not usable: %w", repo, err)
	}
	meta := db.Metadata()
	db.Close()
	if err := os.Rename(tmpDB, opts.Path); err != nil {
		return UpdateResult{}, fmt.Errorf("replace %s: %w", opts.Path, err)
	}
	return UpdateResult{Updated: true, Repository: repo, Digest: desc.Digest.String(), Metadata: meta}, nil
}

// fetchBlob copies the compressed layer into w and checks its size and
// sha256 against the manifest descriptor.
func fetchBlob(layer v1.Layer, desc *v1.Descriptor, w io.Writer) error {
	rc, err := layer.Compressed()
	if err != nil {
		return fmt.Errorf("layer %s: %w", desc.Digest, err)
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(w, h), io.LimitReader(rc, desc.Size+1))
	if err != nil {
		return fmt.Errorf("layer %s: download failed after %d bytes (interrupted, or blob corrupted or tampered): %w", desc.Digest, n, err)
	}
	if n != desc.Size {
		return fmt.Errorf("layer %s: got %d bytes, manifest says %d", desc.Digest, n, desc.Size)
	}
	if got := hex.EncodeToString(h.Sum(nil)); desc.Digest.Algorithm != "sha256" || got != desc.Digest.Hex {
		return fmt.Errorf("layer %s: digest mismatch (downloaded sha256:%s): blob corrupted or tampered", desc.Digest, got)
	}
	return nil
}

// unpack extracts DBFileName from the tar+zstd in f into a temporary file
// in dir and returns its path.
func unpack(f *os.File, dir string) (string, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	zr, err := zstd.NewReader(f, zstd.WithDecoderConcurrency(1))
	if err != nil {
		return "", fmt.Errorf("zstd: %w", err)
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return "", fmt.Errorf("no %s in the archive", DBFileName)
		}
		if err != nil {
			return "", fmt.Errorf("read archive: %w", err)
		}
		if hdr.Name != DBFileName || hdr.Typeflag != tar.TypeReg {
			continue
		}
		if hdr.Size > maxDBSize {
			return "", fmt.Errorf("%s is %d bytes, over the %d limit", DBFileName, hdr.Size, int64(maxDBSize))
		}
		out, err := os.CreateTemp(dir, ".vigil-db-new-*")
		if err != nil {
			return "", err
		}
		if _, err := io.Copy(out, tr); err != nil {
			out.Close()
			os.Remove(out.Name())
			return "", fmt.Errorf("extract %s: %w", DBFileName, err)
		}
		if err := out.Close(); err != nil {
			os.Remove(out.Name())
			return "", err
		}
		return out.Name(), nil
	}
}

// EnsureFresh makes sure a usable database is at opts.Path before a scan:
// with skipUpdate (offline, --skip-db-update) it only checks the existing
// file; otherwise it runs Update. It returns the database's metadata.
func EnsureFresh(ctx context.Context, opts UpdateOptions, skipUpdate bool) (vulndb.Metadata, error) {
	if skipUpdate {
		db, err := vulndb.Open(opts.Path)
		if err != nil {
			return vulndb.Metadata{}, fmt.Errorf("oci: database update skipped and no usable database: %w", err)
		}
		defer db.Close()
		return db.Metadata(), nil
	}
	res, err := Update(ctx, opts)
	if err != nil {
		return vulndb.Metadata{}, err
	}
	return res.Metadata, nil
}
