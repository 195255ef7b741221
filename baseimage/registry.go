package baseimage

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	ggcr "github.com/google/go-containerregistry/pkg/v1/remote"
	"golang.org/x/sync/errgroup"

	"github.com/vigil-scanner/vigil/image/remote"
)

// RegistryOptions say how to read a repository's tags.
type RegistryOptions struct {
	// Access reaches the registry.
	Access remote.Access
	// Platform chooses the image of multi-platform tags.
	Platform v1.Platform
	// Tags, when not nil, chooses the tags to read among those listed;
	// nil reads every tag.
	Tags func(tags []string) []string
	// Logger receives a warning for each tag that cannot be read; nil
	// discards them.
	Logger *slog.Logger
}

// registryConcurrency bounds the tags read at once.
const registryConcurrency = 4

// FromRegistry returns the images tagged in repository repo
// ("registry.example.com/library/debian"), named "repo:tag" as Docker
// prints it (remote.Familiar). It reads each tag's manifest and config, not
// its layers. A tag that cannot be read (another platform only, a broken
// manifest) is logged and left out; a repository that cannot be listed is
// an error.
func FromRegistry(ctx context.Context, repo string, opts RegistryOptions) ([]KnownImage, error) {
	r, err := name.NewRepository(repo, opts.Access.NameOptions()...)
	if err != nil {
		return nil, fmt.Errorf("base images: %q: %w", repo, err)
	}
	tags, err := ggcr.List(r, opts.Access.Options(ctx)...)
	if err != nil {
		return nil, fmt.Errorf("base images: listing the tags of %s: %w", r, err)
	}
	slices.Sort(tags)
	if opts.Tags != nil {
		tags = opts.Tags(tags)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var mu sync.Mutex
	out := make([]KnownImage, 0, len(tags))
	eg, ctx := errgroup.WithContext(ctx)
	eg.SetLimit(registryConcurrency)
	for _, tag := range tags {
		eg.Go(func() error {
			img, err := tagImage(ctx, r, tag, opts)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				log.Warn("base images: tag left out", "tag", r.Tag(tag).String(), "err", err)
				return nil
			}
			mu.Lock()
			out = append(out, img)
			mu.Unlock()
			return nil
		})
	}
	if err := eg.Wait(); err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b KnownImage) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// tagImage reads one tag's manifest and config.
func tagImage(ctx context.Context, repo name.Repository, tag string, opts RegistryOptions) (KnownImage, error) {
	ref := repo.Tag(tag)
	img, err := remote.Get(ctx, ref.String(), remote.Options{Platform: opts.Platform, Access: opts.Access})
	if err != nil {
		return KnownImage{}, err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return KnownImage{}, err
	}
	k := KnownImage{Name: remote.Familiar(repo) + ":" + tag, Digests: []string{img.Digest.String()}}
	if d, err := img.Image.Digest(); err == nil && d != img.Digest {
		k.Digests = append(k.Digests, d.String())
	}
	for _, d := range cfg.RootFS.DiffIDs {
		k.DiffIDs = append(k.DiffIDs, d.String())
	}
	return k, nil
}
