// Package oci publishes vigil's vulnerability database as an OCI artifact
// and keeps a local copy up to date from one, downloading only the parts a
// scan needs and only those that changed.
//
// The artifact is an OCI image manifest (artifact type ArtifactType) whose
// config blob is the database's vulndb.Metadata and whose layers are:
//   - one blob per part (PartMediaType): a part file (see package vulndb)
//     compressed with zstd, annotated with the part's key and content
//     digest;
//   - deltas (DeltaMediaType): the change of one part from an earlier
//     version's content to a later one's, annotated with both digests. A
//     client holding the earlier content downloads the deltas instead of
//     the part when they are smaller.
//
// Manifest annotations carry the schema version, the build time and the
// time of the next expected build, so that checking for an update is one
// manifest request.
package oci

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	vimage "github.com/vigil-scanner/vigil/image/remote"
	"github.com/vigil-scanner/vigil/internal/httpx"
	"github.com/vigil-scanner/vigil/vulndb"
)

// DefaultRepositories are where vigil's published database lives, tried in
// order: the same artifact is pushed to each (.github/workflows/db.yml), so
// one registry's rate limit or outage does not stop a pipeline. The tag is
// the schema version.
var DefaultRepositories = []string{
	"ghcr.io/vigil-scanner/vigil-db:" + strconv.Itoa(vulndb.SchemaVersion),
	"public.ecr.aws/vigil-scanner/vigil-db:" + strconv.Itoa(vulndb.SchemaVersion),
}

const (
	// ArtifactType is the artifact type, and the config media type, of the
	// database artifact.
	ArtifactType types.MediaType = "application/vnd.vigil.db.v2+json"
	// PartMediaType is the media type of a part blob.
	PartMediaType types.MediaType = "application/vnd.vigil.db.part.v2+zstd"
	// DeltaMediaType is the media type of a delta blob.
	DeltaMediaType types.MediaType = "application/vnd.vigil.db.delta.v2+zstd"

	annotationSchema     = "dev.vigil.db.schema"
	annotationNextUpdate = "dev.vigil.db.next-update"
	annotationCreated    = "org.opencontainers.image.created"
	annotationTitle      = "org.opencontainers.image.title"
	annotationKind       = "dev.vigil.db.part.kind"
	annotationEcosystem  = "dev.vigil.db.part.ecosystem"
	annotationShard      = "dev.vigil.db.part.shard" // "i/n", from 0
	annotationContent    = "dev.vigil.db.part.content"
	annotationRecords    = "dev.vigil.db.part.records"
	annotationFrom       = "dev.vigil.db.delta.from"
	annotationTo         = "dev.vigil.db.delta.to"

	// maxPartSize bounds a decompressed part or delta.
	maxPartSize = 8 << 30
	// maxManifestSize bounds the manifest read.
	maxManifestSize = 4 << 20
)

// Registry says how to reach the database repositories: the one registry
// access type (credentials resolved by the command line), and how long to
// wait for them.
type Registry struct {
	vimage.Access
	// RateLimitWait is the longest Retry-After a 429 answer is waited for
	// before the registry is given up for a mirror; 0 means 30 s.
	RateLimitWait time.Duration
	// StallTimeout cuts a transfer that delivers nothing for this long;
	// 0 means httpx.StallTimeout.
	StallTimeout time.Duration
	// Logger receives warnings (waiting out a rate limit); nil discards.
	Logger *slog.Logger
}

func (o Registry) logger() *slog.Logger {
	if o.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Logger
}

func (o Registry) ref(s string) (name.Reference, error) {
	r, err := name.ParseReference(s, o.NameOptions()...)
	if err != nil {
		return nil, fmt.Errorf("oci: reference %q: %w", s, err)
	}
	return r, nil
}

// remote returns the options of one operation. One call per operation:
// its transport remembers the registries that rate-limited it. Every
// phase of each request has a timeout (package httpx), and 429 answers
// are handled with their Retry-After.
func (o Registry) remote(ctx context.Context) []remote.Option {
	base := o.Transport
	if base == nil {
		base = httpx.NewTransport(o.Insecure)
	}
	t := &httpx.Transport{Base: base, MaxWait: o.RateLimitWait, Logger: o.Logger, Stall: o.StallTimeout}
	return append(o.Options(ctx),
		remote.WithTransport(t),
		// 429 is handled below, by httpx.Transport.
		remote.WithRetryStatusCodes(http.StatusRequestTimeout, http.StatusInternalServerError,
			http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout))
}

// DefaultDir is where vigil keeps its database under a cache directory.
func DefaultDir(cacheDir string) string { return filepath.Join(cacheDir, "db") }

// version is a published database version, read from its manifest.
type version struct {
	digest     v1.Hash
	builtAt    time.Time
	nextUpdate time.Time
	config     v1.Descriptor
	parts      []remotePart
	deltas     []remoteDelta
}

type remotePart struct {
	key     vulndb.PartKey
	content string
	records int
	blob    v1.Descriptor
}

type remoteDelta struct {
	key      vulndb.PartKey
	from, to string
	blob     v1.Descriptor
}

// parseManifest reads a database manifest.
func parseManifest(digest v1.Hash, raw []byte) (*version, error) {
	m, err := v1.ParseManifest(strings.NewReader(string(raw)))
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	if m.Config.MediaType != ArtifactType {
		if strings.HasPrefix(string(m.Config.MediaType), "application/vnd.vigil.db.") {
			return nil, fmt.Errorf("database artifact of another schema (%s); this vigil reads schema %d", m.Config.MediaType, vulndb.SchemaVersion)
		}
		return nil, fmt.Errorf("config media type %q: not a vigil database artifact", m.Config.MediaType)
	}
	if s := m.Annotations[annotationSchema]; s != strconv.Itoa(vulndb.SchemaVersion) {
		return nil, fmt.Errorf("database schema %q, this vigil reads %d", s, vulndb.SchemaVersion)
	}
	v := &version{digest: digest, config: m.Config}
	if v.builtAt, err = time.Parse(time.RFC3339, m.Annotations[annotationCreated]); err != nil {
		return nil, fmt.Errorf("manifest: annotation %s: %w", annotationCreated, err)
	}
	if v.nextUpdate, err = time.Parse(time.RFC3339, m.Annotations[annotationNextUpdate]); err != nil {
		return nil, fmt.Errorf("manifest: annotation %s: %w", annotationNextUpdate, err)
	}
	for _, l := range m.Layers {
		if l.Digest.Algorithm != "sha256" || l.Size < 0 {
			return nil, fmt.Errorf("layer %s: unsupported digest or size", l.Digest)
		}
		key, err := partKey(l.Annotations)
		if err != nil {
			return nil, fmt.Errorf("layer %s: %w", l.Digest, err)
		}
		switch l.MediaType {
		case PartMediaType:
			p := remotePart{key: key, content: l.Annotations[annotationContent], blob: l}
			p.records, _ = strconv.Atoi(l.Annotations[annotationRecords])
			v.parts = append(v.parts, p)
		case DeltaMediaType:
			v.deltas = append(v.deltas, remoteDelta{key: key, from: l.Annotations[annotationFrom], to: l.Annotations[annotationTo], blob: l})
		default:
			// Layers of other types are left for newer clients.
		}
	}
	// The index check validates keys, digests and shard groups.
	if _, err := v.index(nil); err != nil {
		return nil, err
	}
	return v, nil
}

func partKey(a map[string]string) (vulndb.PartKey, error) {
	k := vulndb.PartKey{Kind: a[annotationKind], Ecosystem: a[annotationEcosystem]}
	i, n, ok := strings.Cut(a[annotationShard], "/")
	var err1, err2 error
	k.Shard, err1 = strconv.Atoi(i)
	k.Shards, err2 = strconv.Atoi(n)
	if !ok || err1 != nil || err2 != nil {
		return k, fmt.Errorf("annotation %s %q: want i/n", annotationShard, a[annotationShard])
	}
	return k, nil
}

func partAnnotations(key vulndb.PartKey) map[string]string {
	a := map[string]string{
		annotationKind:  key.Kind,
		annotationShard: fmt.Sprintf("%d/%d", key.Shard, key.Shards),
	}
	if key.Ecosystem != "" {
		a[annotationEcosystem] = key.Ecosystem
	}
	return a
}

// index returns the local index of this version, with the parts whose
// content local holds marked present (local maps content digest to file
// size).
func (v *version) index(local map[string]int64) (*vulndb.Index, error) {
	idx := &vulndb.Index{
		SchemaVersion: vulndb.SchemaVersion,
		Metadata:      vulndb.Metadata{SchemaVersion: vulndb.SchemaVersion, BuiltAt: v.builtAt, NextUpdate: v.nextUpdate},
	}
	for _, p := range v.parts {
		e := vulndb.PartEntry{PartKey: p.key, Content: p.content, Records: p.records,
			Blob: &vulndb.Blob{Digest: p.blob.Digest.String(), Size: p.blob.Size}}
		if size, ok := local[p.content]; ok {
			e.Local, e.Size = true, size
		}
		idx.Parts = append(idx.Parts, e)
	}
	if err := vulndb.CheckIndex(idx); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	return idx, nil
}
