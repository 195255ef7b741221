package oci

import (
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
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/klauspost/compress/zstd"
	"golang.org/x/sync/errgroup"

	"github.com/vigil-scanner/vigil/vulndb"
)

// Selection says which parts of the database a client needs.
type Selection struct {
	// All asks for every part.
	All bool
	// Ecosystems asks for the parts of these ecosystems ("alpine:3.19",
	// "npm"), as match.Ecosystems lists them for a scan. The EPSS and KEV
	// parts, which every finding reads, are always included, and so are
	// the parts already on disk, which are kept up to date together.
	Ecosystems []string
}

// UpdateOptions configure Update.
type UpdateOptions struct {
	// Dir is the local database directory; see DefaultDir.
	Dir string
	// Repositories are tried in order until one serves a valid database;
	// empty means DefaultRepositories.
	Repositories []string
	Need         Selection
	// Check asks the repository even when the local database is fresh
	// (`vigil db update`): what changed since is downloaded.
	Check bool
	// Force downloads every needed part again, whole.
	Force bool
	// ReplaceBuilt allows replacing a database built locally (`vigil db
	// build`) with a download. Without it such a database is used as it
	// is: a download from the default repository must not silently undo
	// an air-gapped or customised build.
	ReplaceBuilt bool
	Registry
	// LockWait is how long to wait for another process updating the same
	// directory before going on without the lock; 0 means 1 minute.
	LockWait time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Parallel is how many blobs download at once; 0 means 4.
	Parallel int
}

// recheckAfter is how long after a check that found nothing newer the
// repository is left alone, even past the expected next update (a
// publisher running late must not turn every scan into a request).
const recheckAfter = time.Hour

// UpdateResult says what Update did.
type UpdateResult struct {
	// Skipped says why no repository was asked: "fresh" (the local
	// database has what is needed and is not due for an update) or
	// "built locally".
	Skipped string
	// Updated is true when parts were downloaded or a newer version was
	// taken.
	Updated    bool
	Repository string
	Manifest   string // digest of the manifest taken
	// Parts and Deltas count the blobs downloaded; Bytes their size.
	Parts, Deltas int
	Bytes         int64
	Metadata      vulndb.Metadata
}

// Fresh reports whether idx needs no request for need at now: it holds
// every needed part and is before its next update (or was checked within
// the last hour).
func Fresh(idx *vulndb.Index, need Selection, now time.Time) bool {
	if len(Missing(idx, need)) > 0 {
		return false
	}
	return now.Before(idx.Metadata.NextUpdate) || (!idx.CheckedAt.IsZero() && now.Sub(idx.CheckedAt) < recheckAfter && now.After(idx.CheckedAt))
}

// Missing lists the needed parts that idx knows of but does not have on
// disk.
func Missing(idx *vulndb.Index, need Selection) []vulndb.PartKey {
	var out []vulndb.PartKey
	for _, p := range idx.Parts {
		if !p.Local && wanted(p.PartKey, need) {
			out = append(out, p.PartKey)
		}
	}
	return out
}

func wanted(k vulndb.PartKey, need Selection) bool {
	switch {
	case need.All:
		return true
	case k.Kind == vulndb.KindEPSS || k.Kind == vulndb.KindKEV:
		return true
	case k.Kind == vulndb.KindEcosystem:
		return slices.Contains(need.Ecosystems, k.Ecosystem)
	}
	return false
}

// Update brings the local database up to date for need. Without Check it
// makes no request when the local database is Fresh. Otherwise it asks
// each repository in turn for its manifest (one request) and downloads the
// needed parts, and those already on disk, whose content changed — from
// deltas when they are smaller — verifying each blob's digest and each
// part's content digest before it is used; a part that fails is fetched
// again, and then the next repository is tried. The new index is written
// last: a failure or a kill at any point leaves the previous database as
// it was (parts already verified stay on disk and are not downloaded
// again). Updates of one directory take its lock, waiting up to LockWait
// and then going on without it.
func Update(ctx context.Context, opts UpdateOptions) (UpdateResult, error) {
	if opts.Dir == "" {
		return UpdateResult{}, errors.New("oci: update: no database directory")
	}
	log := opts.logger()
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	repos := opts.Repositories
	if len(repos) == 0 {
		repos = DefaultRepositories
	}
	if res, done := opts.skip(now()); done {
		return res, nil
	}
	if err := os.MkdirAll(filepath.Join(opts.Dir, vulndb.PartsDirName), 0o755); err != nil {
		return UpdateResult{}, fmt.Errorf("oci: update: %w", err)
	}
	unlock, err := vulndb.Lock(ctx, opts.Dir, vulndb.LockOptions{Wait: opts.LockWait, Purpose: "update"})
	var locked *vulndb.ErrLocked
	switch {
	case errors.As(err, &locked):
		log.Warn("oci: another update holds the database lock for too long; updating without it", "err", err)
	case err != nil:
		return UpdateResult{}, fmt.Errorf("oci: update: %w", err)
	default:
		defer unlock()
	}
	// Checked again under the lock: another process may have just updated.
	if res, done := opts.skip(now()); done {
		return res, nil
	}
	vulndb.Sweep(opts.Dir)
	var errs []error
	for _, repo := range repos {
		res, err := opts.fromRepository(ctx, repo, now)
		if err == nil {
			return res, nil
		}
		log.Debug("oci: database update failed", "repository", repo, "err", err)
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return UpdateResult{}, fmt.Errorf("oci: update %s: %w", opts.Dir, errors.Join(errs...))
}

// skip says whether the local database needs no request.
func (opts UpdateOptions) skip(now time.Time) (UpdateResult, bool) {
	idx, err := vulndb.ReadIndex(opts.Dir)
	if err != nil {
		return UpdateResult{}, false
	}
	if p := idx.Metadata.Provenance; p != nil && p.Kind == vulndb.ProvenanceBuilt && !opts.ReplaceBuilt {
		return UpdateResult{Skipped: "built locally", Metadata: idx.Metadata}, true
	}
	// A part file gone from under the index (removed by hand, or by a
	// concurrent sweep) makes the database due for a repair.
	if !opts.Check && !opts.Force && Fresh(idx, opts.Need, now) && vulndb.CheckFiles(opts.Dir, idx) == nil {
		return UpdateResult{Skipped: "fresh", Metadata: idx.Metadata}, true
	}
	return UpdateResult{}, false
}

// fromRepository updates from one repository.
func (opts UpdateOptions) fromRepository(ctx context.Context, repo string, now func() time.Time) (UpdateResult, error) {
	r, err := opts.ref(repo)
	if err != nil {
		return UpdateResult{}, err
	}
	puller, err := remote.NewPuller(opts.remote(ctx)...)
	if err != nil {
		return UpdateResult{}, fmt.Errorf("%s: %w", repo, err)
	}
	desc, err := puller.Get(ctx, r)
	if err != nil {
		return UpdateResult{}, fmt.Errorf("%s: %w", repo, err)
	}
	if len(desc.Manifest) > maxManifestSize {
		return UpdateResult{}, fmt.Errorf("%s: manifest of %d bytes, over the %d limit", repo, len(desc.Manifest), maxManifestSize)
	}
	ver, err := parseManifest(desc.Digest, desc.Manifest)
	if err != nil {
		return UpdateResult{}, fmt.Errorf("%s: %w", repo, err)
	}
	cur, _ := vulndb.ReadIndex(opts.Dir)
	res := UpdateResult{Repository: repo, Manifest: desc.Digest.String()}

	// What to have: the needed groups, and those already on disk.
	groups := map[string]bool{}
	curContent := map[vulndb.PartKey]string{}
	replacingBuilt := false
	if cur != nil {
		replacingBuilt = cur.Metadata.Provenance != nil && cur.Metadata.Provenance.Kind == vulndb.ProvenanceBuilt
		for _, p := range cur.Parts {
			if p.Local {
				curContent[p.PartKey] = p.Content
				if !replacingBuilt || opts.Need.All {
					groups[groupOf(p.PartKey)] = true
				}
			}
		}
	}
	keep := func(k vulndb.PartKey) bool { return wanted(k, opts.Need) || groups[groupOf(k)] }
	have := vulndb.PartFiles(opts.Dir)
	var jobs []remotePart
	for _, p := range ver.parts {
		if !keep(p.key) {
			continue
		}
		if _, ok := have[p.content]; ok && !opts.Force {
			continue
		}
		jobs = append(jobs, p)
	}
	sameVersion := cur != nil && cur.Metadata.Provenance != nil && cur.Metadata.Provenance.Kind == vulndb.ProvenancePulled &&
		cur.Metadata.Provenance.Manifest == res.Manifest
	if sameVersion && len(jobs) == 0 {
		// Nothing new: remember the check, so that scans leave the
		// repository alone for a while.
		cur.CheckedAt = now().UTC()
		if err := vulndb.WriteIndex(opts.Dir, cur); err != nil {
			return UpdateResult{}, err
		}
		res.Metadata = cur.Metadata
		return res, nil
	}

	var (
		mu                   sync.Mutex
		parts, deltas        atomic.Int64
		bytes                atomic.Int64
		parallel             = opts.Parallel
		log                  = opts.logger()
		g, gctx              = errgroup.WithContext(ctx)
		downloaded, fromDiff []string
	)
	if parallel <= 0 {
		parallel = 4
	}
	g.SetLimit(parallel)
	for _, p := range jobs {
		g.Go(func() error {
			if base, ok := curContent[p.key]; ok && !opts.Force {
				if _, onDisk := have[base]; onDisk {
					if chain := deltaChain(ver.deltas, p.key, base, p.content); chain != nil && chainSize(chain) < p.blob.Size {
						n, err := applyChain(gctx, puller, r, opts.Dir, base, chain)
						if err == nil {
							deltas.Add(int64(len(chain)))
							bytes.Add(n)
							mu.Lock()
							fromDiff = append(fromDiff, p.key.String())
							mu.Unlock()
							return nil
						}
						if gctx.Err() != nil {
							return gctx.Err()
						}
						log.Warn("oci: delta update of a part failed; downloading it whole", "part", p.key.String(), "err", err)
					}
				}
			}
			n, err := downloadPart(gctx, puller, r, opts.Dir, p, log)
			if err != nil {
				return fmt.Errorf("part %s: %w", p.key, err)
			}
			parts.Add(1)
			bytes.Add(n)
			mu.Lock()
			downloaded = append(downloaded, p.key.String())
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return UpdateResult{}, fmt.Errorf("%s: %w", repo, err)
	}
	meta, err := fetchConfig(ctx, puller, r, ver.config)
	if err != nil {
		return UpdateResult{}, fmt.Errorf("%s: %w", repo, err)
	}
	// Parts on disk may have been swept since PartFiles; Open checks
	// each again.
	have = vulndb.PartFiles(opts.Dir)
	idx, err := ver.index(have)
	if err != nil {
		return UpdateResult{}, fmt.Errorf("%s: %w", repo, err)
	}
	for i, p := range idx.Parts {
		if p.Local && !keep(p.PartKey) {
			// On disk from another version or build, but not asked for:
			// leave it out, so that what the index says is present is
			// exactly what is kept up to date.
			idx.Parts[i].Local, idx.Parts[i].Size = false, 0
		}
	}
	idx.Metadata.Sources = meta.Sources
	idx.Metadata.Provenance = &vulndb.Provenance{Kind: vulndb.ProvenancePulled, Repository: repo, Manifest: res.Manifest, At: now().UTC().Truncate(time.Second)}
	idx.CheckedAt = now().UTC()
	for _, k := range Missing(idx, opts.Need) {
		return UpdateResult{}, fmt.Errorf("%s: part %s is still missing after the download", repo, k)
	}
	if err := vulndb.WriteIndex(opts.Dir, idx); err != nil {
		return UpdateResult{}, err
	}
	vulndb.Sweep(opts.Dir)
	res.Updated = true
	res.Parts, res.Deltas, res.Bytes = int(parts.Load()), int(deltas.Load()), bytes.Load()
	res.Metadata = idx.Metadata
	log.Debug("oci: database updated", "repository", repo, "manifest", res.Manifest, "parts", downloaded, "fromDeltas", fromDiff, "bytes", res.Bytes)
	return res, nil
}

func groupOf(k vulndb.PartKey) string { return k.Kind + "\x00" + k.Ecosystem }

// deltaChain returns the cheapest sequence of deltas of part key leading
// from content from to content to, or nil.
func deltaChain(all []remoteDelta, key vulndb.PartKey, from, to string) []remoteDelta {
	var ds []remoteDelta
	for _, d := range all {
		if d.key == key {
			ds = append(ds, d)
		}
	}
	var best []remoteDelta
	var walk func(at string, path []remoteDelta)
	walk = func(at string, path []remoteDelta) {
		if at == to {
			if best == nil || chainSize(path) < chainSize(best) {
				best = slices.Clone(path)
			}
			return
		}
		if len(path) >= 16 {
			return
		}
		for _, d := range ds {
			if d.from == at && !slices.ContainsFunc(path, func(x remoteDelta) bool { return x.from == d.to }) {
				walk(d.to, append(path, d))
			}
		}
	}
	walk(from, nil)
	return best
}

func chainSize(ds []remoteDelta) int64 {
	var n int64
	for _, d := range ds {
		n += d.blob.Size
	}
	return n
}

// blobReader opens a blob and checks, when it has been read to the end,
// its size and digest.
type blobReader struct {
	rc   io.ReadCloser
	h    hashWriter
	n    int64
	want v1.Descriptor
}

type hashWriter interface {
	io.Writer
	Sum([]byte) []byte
}

func openBlob(ctx context.Context, puller *remote.Puller, r name.Reference, d v1.Descriptor) (*blobReader, error) {
	l, err := puller.Layer(ctx, r.Context().Digest(d.Digest.String()))
	if err != nil {
		return nil, err
	}
	rc, err := l.Compressed()
	if err != nil {
		return nil, err
	}
	return &blobReader{rc: rc, h: sha256.New(), want: d}, nil
}

func (b *blobReader) Read(p []byte) (int, error) {
	if b.n > b.want.Size {
		return 0, fmt.Errorf("blob %s: more than the %d bytes the manifest says", b.want.Digest, b.want.Size)
	}
	n, err := b.rc.Read(p)
	b.n += int64(n)
	b.h.Write(p[:n])
	return n, err
}

// verify reads what is left and checks size and digest.
func (b *blobReader) verify() error {
	if _, err := io.Copy(io.Discard, b); err != nil {
		return blobErr(b.want, b.n, err)
	}
	if b.n != b.want.Size {
		return fmt.Errorf("blob %s: got %d bytes, the manifest says %d", b.want.Digest, b.n, b.want.Size)
	}
	if got := hex.EncodeToString(b.h.Sum(nil)); got != b.want.Digest.Hex {
		return fmt.Errorf("%w: blob %s has sha256:%s (corrupted or tampered with)", errDigest, b.want.Digest, got)
	}
	return nil
}

func (b *blobReader) Close() error { return b.rc.Close() }

var errDigest = errors.New("digest mismatch")

func blobErr(d v1.Descriptor, n int64, err error) error {
	if strings.Contains(err.Error(), "checksum") || strings.Contains(err.Error(), "digest") {
		return fmt.Errorf("%w: blob %s: %w", errDigest, d.Digest, err)
	}
	return fmt.Errorf("blob %s: download failed after %d bytes: %w", d.Digest, n, err)
}

// downloadPart downloads part p whole into dir's parts, checked; a blob
// with a bad digest or content is fetched once more before giving up.
func downloadPart(ctx context.Context, puller *remote.Puller, r name.Reference, dir string, p remotePart, log *slog.Logger) (int64, error) {
	var total int64
	for attempt := 1; ; attempt++ {
		f, err := vulndb.TempFile(filepath.Join(dir, vulndb.PartsDirName), "download-*")
		if err != nil {
			return total, err
		}
		f.Close()
		err = fetchPart(ctx, puller, r, p, f.Name())
		total += p.blob.Size
		if err == nil {
			var e vulndb.PartEntry
			e, err = vulndb.InstallPart(dir, f.Name())
			if err == nil && (e.Content != p.content || e.PartKey != p.key) {
				err = fmt.Errorf("%w: the blob holds part %s with content %s, the manifest says %s with %s", errDigest, e.PartKey, e.Content, p.key, p.content)
			}
		}
		os.Remove(f.Name())
		if err == nil {
			return total, nil
		}
		if !errors.Is(err, errDigest) || attempt >= 2 || ctx.Err() != nil {
			return total, err
		}
		log.Warn("oci: part rejected; downloading it again", "part", p.key.String(), "err", err)
	}
}

// fetchPart downloads part p's blob, decompressed, into the file at path
// and verifies the blob's digest.
func fetchPart(ctx context.Context, puller *remote.Puller, r name.Reference, p remotePart, path string) error {
	br, err := openBlob(ctx, puller, r, p.blob)
	if err != nil {
		return err
	}
	defer br.Close()
	zr, err := newDecoder(br)
	if err != nil {
		return err
	}
	defer zr.Close()
	out, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	n, err := io.Copy(out, io.LimitReader(zr, maxPartSize+1))
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if verr := br.verify(); verr != nil {
		return verr // a bad digest explains any decompression error
	}
	if err != nil {
		return fmt.Errorf("blob %s: %w", p.blob.Digest, err)
	}
	if n > maxPartSize {
		return fmt.Errorf("blob %s: over %d bytes decompressed", p.blob.Digest, int64(maxPartSize))
	}
	return nil
}

// newDecoder decompresses a part or delta blob.
func newDecoder(r io.Reader) (*zstd.Decoder, error) {
	return zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(1<<30))
}

// applyChain applies the deltas of chain to the part with content base
// and installs the result. It returns the bytes downloaded.
func applyChain(ctx context.Context, puller *remote.Puller, r name.Reference, dir, base string, chain []remoteDelta) (int64, error) {
	var total int64
	cur := vulndb.PartPath(dir, base)
	var temps []string
	defer func() {
		for _, t := range temps {
			os.Remove(t)
		}
	}()
	for _, d := range chain {
		f, err := vulndb.TempFile(filepath.Join(dir, vulndb.PartsDirName), "delta-*")
		if err != nil {
			return total, err
		}
		f.Close()
		os.Remove(f.Name()) // ApplyDelta creates it
		temps = append(temps, f.Name())
		br, err := openBlob(ctx, puller, r, d.blob)
		if err != nil {
			return total, err
		}
		zr, err := newDecoder(br)
		if err != nil {
			br.Close()
			return total, err
		}
		pf, err := vulndb.ApplyDelta(cur, io.LimitReader(zr, maxPartSize), f.Name())
		zr.Close()
		verr := br.verify()
		br.Close()
		total += d.blob.Size
		if verr != nil {
			return total, verr
		}
		if err != nil {
			return total, err
		}
		if pf.Content != d.to {
			return total, fmt.Errorf("delta %s: result %s, expected %s", d.blob.Digest, pf.Content, d.to)
		}
		cur = f.Name()
	}
	_, err := vulndb.InstallPart(dir, cur)
	return total, err
}

// fetchConfig reads the version's metadata; a blob with a bad digest is
// fetched once more.
func fetchConfig(ctx context.Context, puller *remote.Puller, r name.Reference, d v1.Descriptor) (vulndb.Metadata, error) {
	m, err := fetchConfigOnce(ctx, puller, r, d)
	if errors.Is(err, errDigest) && ctx.Err() == nil {
		m, err = fetchConfigOnce(ctx, puller, r, d)
	}
	return m, err
}

func fetchConfigOnce(ctx context.Context, puller *remote.Puller, r name.Reference, d v1.Descriptor) (vulndb.Metadata, error) {
	if d.Size > 16<<20 {
		return vulndb.Metadata{}, fmt.Errorf("config blob of %d bytes", d.Size)
	}
	br, err := openBlob(ctx, puller, r, d)
	if err != nil {
		return vulndb.Metadata{}, err
	}
	defer br.Close()
	raw, err := io.ReadAll(io.LimitReader(br, d.Size))
	if err != nil {
		return vulndb.Metadata{}, blobErr(d, int64(len(raw)), err)
	}
	if err := br.verify(); err != nil {
		return vulndb.Metadata{}, err
	}
	var m vulndb.Metadata
	if err := json.Unmarshal(raw, &m); err != nil {
		return vulndb.Metadata{}, fmt.Errorf("config: %w", err)
	}
	return m, nil
}

// EnsureFresh makes sure a usable database with the parts opts.Need asks
// for is in opts.Dir before a scan: with skipUpdate (--offline,
// --skip-db-update) it only checks what is there; otherwise it runs
// Update. It returns the database's metadata.
func EnsureFresh(ctx context.Context, opts UpdateOptions, skipUpdate bool) (vulndb.Metadata, error) {
	if skipUpdate {
		idx, err := vulndb.ReadIndex(opts.Dir)
		if err != nil {
			return vulndb.Metadata{}, fmt.Errorf("oci: database update skipped and no usable database: %w", err)
		}
		if missing := Missing(idx, opts.Need); len(missing) > 0 {
			names := make([]string, len(missing))
			for i, k := range missing {
				names[i] = k.String()
			}
			return vulndb.Metadata{}, fmt.Errorf("oci: database update skipped, and the local database lacks the parts this scan needs (%s): %w", strings.Join(names, ", "), vulndb.ErrMissingPart)
		}
		return idx.Metadata, nil
	}
	res, err := Update(ctx, opts)
	if err != nil {
		return vulndb.Metadata{}, err
	}
	return res.Metadata, nil
}
