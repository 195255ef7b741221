package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	ggcr "github.com/google/go-containerregistry/pkg/v1/remote"
	"golang.org/x/sync/errgroup"

	"github.com/vigil-scanner/vigil/registry"
	"github.com/vigil-scanner/vigil/store"
)

type listPayload struct {
	Registry string `json:"registry"`
}

func listJob(host, slot string) store.NewJob {
	return store.NewJob{Kind: store.JobList, Key: "list:" + host + ":" + slot, Payload: jsonOf(listPayload{Registry: host}), Priority: 1}
}

type pushPayload struct {
	Registry   string `json:"registry"`
	Repository string `json:"repository"` // within the registry
	Tag        string `json:"tag,omitempty"`
	Digest     string `json:"digest,omitempty"`
}

type scanPayload struct {
	Registry   string `json:"registry"`
	Repository string `json:"repository"` // full name, host/path
	Digest     string `json:"digest"`     // the platform image's manifest digest
	Platform   string `json:"platform,omitempty"`
	// Previous is the digest the tag named before (a rebuilt tag).
	Previous  string `json:"previous,omitempty"`
	Recatalog bool   `json:"recatalog,omitempty"`
}

type rematchPayload struct {
	Digest string `json:"digest"`
	DB     string `json:"db"`
}

// scanJob is the job scanning p.Digest with the inventory key; a digest
// is scanned once per key however often it is queued.
func scanJob(key string, p scanPayload, priority int) store.NewJob {
	return store.NewJob{Kind: store.JobScan, Key: "scan:" + p.Digest + ":" + shortHash(key), Payload: jsonOf(p), Priority: priority}
}

func jsonOf(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // payloads are plain structs
	}
	return string(b)
}

// found is one tag resolved to an image for one platform.
type found struct {
	store.Tag
	created time.Time
}

// runList lists a registry and queues a scan of every image digest not
// yet scanned. A repository that cannot be listed keeps its known tags.
func (e *Engine) runList(ctx context.Context, j store.Job) error {
	var p listPayload
	if err := json.Unmarshal([]byte(j.Payload), &p); err != nil {
		return fmt.Errorf("%w: %v", errPermanent, err)
	}
	r, c := e.regs[p.Registry], e.clients[p.Registry]
	if r == nil {
		e.log.Warn("listing of a registry no longer configured skipped", "registry", p.Registry)
		return nil
	}
	start := time.Now()
	limited := c.RateLimited()
	repos := r.List
	var listErr error
	if len(repos) == 0 {
		all, err := c.Repositories(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			// Shown in the registry's status; the next listing tries
			// again (a listing is not retried on its own).
			e.recordListing(ctx, r.Host, 0, 0, err, c.RateLimited()-limited)
			e.log.Error("cannot list registry", "registry", r.Host, "err", err)
			return nil
		}
		for _, repo := range all {
			if r.wantRepo(repo) {
				repos = append(repos, repo)
			}
		}
	} else {
		repos = slices.DeleteFunc(slices.Clone(repos), func(s string) bool { return !r.wantRepo(s) })
	}
	known, err := e.st.CurrentTags(ctx, r.Host)
	if err != nil {
		return err
	}

	var mu sync.Mutex
	var tags []found
	listed := map[string]bool{} // repositories whose tags were read
	var errs []error
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for _, repo := range repos {
		g.Go(func() error {
			fs, err := e.listRepo(gctx, r, c, repo, known)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if gctx.Err() != nil {
					return gctx.Err()
				}
				errs = append(errs, err)
				return nil
			}
			listed[c.Host()+"/"+repo] = true
			tags = append(tags, fs...)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	listErr = errors.Join(errs...)

	queued, err := e.recordTags(ctx, r, tags, known, listed)
	if err != nil {
		return err
	}
	e.recordListing(ctx, r.Host, len(repos), len(tags), listErr, c.RateLimited()-limited)
	e.log.Info("registry listed", "registry", r.Host, "repositories", len(repos), "tags", len(tags), "queued", queued,
		"errors", len(errs), "took", time.Since(start).Round(time.Millisecond))
	if queued > 0 {
		e.poke()
	}
	// A listing with unreadable repositories is still done: the next one
	// tries them again; their error is shown in the registry's status.
	return nil
}

func (e *Engine) recordListing(ctx context.Context, host string, repos, tags int, err error, limited int64) {
	rec := store.Registry{URL: host, Repositories: repos, Tags: tags, RateLimited: limited}
	if err != nil {
		rec.LastError = err.Error()
	}
	if err := e.st.RecordListing(ctx, e.opts.Now(), rec); err != nil {
		e.log.Error("could not record listing", "registry", host, "err", err)
	}
}

// listRepo lists one repository's tags and resolves each to an image per
// platform. A tag whose digest is unchanged since the last listing costs
// one HEAD request.
func (e *Engine) listRepo(ctx context.Context, r *Registry, c *registry.Client, repo string, known map[store.TagKey]store.Tag) ([]found, error) {
	tags, err := c.Tags(ctx, repo)
	if err != nil {
		return nil, err
	}
	tags = r.Tags.choose(tags)
	full := c.Host() + "/" + repo
	var out []found
	for _, tag := range tags {
		fs, err := e.resolve(ctx, r, c, repo, tag, known)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			// Keep what was known of the tag.
			e.log.Warn("cannot resolve tag", "image", full+":"+tag, "err", err)
			for k, t := range known {
				if k.Repository == full && k.Tag == tag {
					out = append(out, found{Tag: t})
				}
			}
			continue
		}
		out = append(out, fs...)
	}
	if r.Tags.Newest > 0 && r.Tags.By == ByPushed {
		out = e.newestPushed(ctx, c, repo, out, r.Tags.Newest)
	}
	return out, nil
}

// resolve returns the image of each wanted platform a tag (or digest)
// names.
func (e *Engine) resolve(ctx context.Context, r *Registry, c *registry.Client, repo, ref string, known map[store.TagKey]store.Tag) ([]found, error) {
	desc, err := c.Head(ctx, repo, ref)
	if err != nil {
		return nil, err
	}
	full := c.Host() + "/" + repo
	tag := ref
	if strings.Contains(ref, ":") {
		tag = ""
	}
	d := desc.Digest.String()
	if !desc.MediaType.IsIndex() {
		return []found{{Tag: store.Tag{Registry: r.Host, Repository: full, Tag: tag, Platform: "", Digest: d}}}, nil
	}
	var out []found
	var missing []v1.Platform
	for _, p := range r.Platforms {
		if k, ok := known[store.TagKey{Repository: full, Tag: tag, Platform: p.String()}]; ok && k.IndexDigest == d {
			out = append(out, found{Tag: k})
			continue
		}
		child, ok, err := e.st.IndexChild(ctx, d, p.String())
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, found{Tag: store.Tag{Registry: r.Host, Repository: full, Tag: tag, Platform: p.String(), Digest: child, IndexDigest: d}})
			continue
		}
		missing = append(missing, p)
	}
	if len(missing) > 0 {
		children, err := c.Platforms(ctx, repo, d, missing)
		if err != nil {
			return nil, err
		}
		for _, p := range missing {
			child, ok := children[p.String()]
			if !ok {
				continue // the index has no image for p
			}
			if err := e.st.SetIndexChild(ctx, d, p.String(), child); err != nil {
				return nil, err
			}
			out = append(out, found{Tag: store.Tag{Registry: r.Host, Repository: full, Tag: tag, Platform: p.String(), Digest: child, IndexDigest: d}})
		}
	}
	return out, nil
}

// newestPushed keeps the images of the n most recently created tags.
func (e *Engine) newestPushed(ctx context.Context, c *registry.Client, repo string, fs []found, n int) []found {
	created := map[string]time.Time{}
	for i := range fs {
		d := fs[i].Digest
		if _, ok := created[d]; ok {
			fs[i].created = created[d]
			continue
		}
		ref, err := c.Repository(repo)
		if err == nil {
			img, err := ggcr.Image(ref.Digest(d), c.Access().Options(ctx)...)
			if err == nil {
				if cfg, err := img.ConfigFile(); err == nil {
					created[d] = cfg.Created.Time
				}
			}
		}
		fs[i].created = created[d]
	}
	tagTime := map[string]time.Time{}
	for _, f := range fs {
		if f.created.After(tagTime[f.Tag.Tag]) {
			tagTime[f.Tag.Tag] = f.created
		}
	}
	order := make([]string, 0, len(tagTime))
	for t := range tagTime {
		order = append(order, t)
	}
	sort.Slice(order, func(i, j int) bool {
		if !tagTime[order[i]].Equal(tagTime[order[j]]) {
			return tagTime[order[i]].After(tagTime[order[j]])
		}
		return order[i] < order[j]
	})
	keep := map[string]bool{}
	for _, t := range order[:min(n, len(order))] {
		keep[t] = true
	}
	return slices.DeleteFunc(fs, func(f found) bool { return !keep[f.Tag.Tag] })
}

// recordTags writes tags that are new or moved, removes tags of listed
// repositories that are gone, and queues a scan of every image not yet
// scanned (or whose scan failed). It returns the number of scans queued.
func (e *Engine) recordTags(ctx context.Context, r *Registry, tags []found, known map[store.TagKey]store.Tag, listed map[string]bool) (int, error) {
	now := e.opts.Now()
	seen := map[store.TagKey]bool{}
	digests := map[string]scanPayload{}
	for _, f := range tags {
		k := store.TagKey{Repository: f.Repository, Tag: f.Tag.Tag, Platform: f.Platform}
		seen[k] = true
		prev := known[k]
		p := scanPayload{Registry: r.Host, Repository: f.Repository, Digest: f.Digest, Platform: f.Platform}
		if prev.Digest != f.Digest {
			previous, _, err := e.st.SetTag(ctx, now, f.Tag)
			if err != nil {
				return 0, err
			}
			p.Previous = previous
		}
		if old, ok := digests[f.Digest]; !ok || (old.Previous == "" && p.Previous != "") {
			digests[f.Digest] = p
		}
	}
	for k := range known {
		if listed[k.Repository] && !seen[k] {
			if err := e.st.RemoveTag(ctx, now, k); err != nil {
				return 0, err
			}
		}
	}
	return e.queueScans(ctx, digests, 0)
}

// queueScans queues a scan of each image not scanned with the current
// inventory key; scans that failed before are queued again.
func (e *Engine) queueScans(ctx context.Context, digests map[string]scanPayload, priority int) (int, error) {
	list := make([]string, 0, len(digests))
	for d := range digests {
		list = append(list, d)
	}
	sort.Strings(list)
	done, err := e.st.Scanned(ctx, e.key, list)
	if err != nil {
		return 0, err
	}
	now := e.opts.Now()
	var jobs []store.NewJob
	for _, d := range list {
		if done[d] {
			continue
		}
		j := scanJob(e.key, digests[d], priority)
		jobs = append(jobs, j)
		if err := e.st.Requeue(ctx, j.Key, now, now); err != nil {
			return 0, err
		}
	}
	return e.st.Enqueue(ctx, now, jobs...)
}

// runPush resolves a pushed tag or digest and queues its scan at once.
func (e *Engine) runPush(ctx context.Context, j store.Job) error {
	var p pushPayload
	if err := json.Unmarshal([]byte(j.Payload), &p); err != nil {
		return fmt.Errorf("%w: %v", errPermanent, err)
	}
	r, c := e.regs[p.Registry], e.clients[p.Registry]
	if r == nil {
		return fmt.Errorf("%w: registry %s is not configured", errPermanent, p.Registry)
	}
	// A notification names the digest: resolve that, as the registry may
	// send the event before the tag is readable.
	ref := p.Digest
	if ref == "" {
		ref = p.Tag
	}
	if p.Tag != "" && !r.Tags.keep(p.Tag) || !r.wantRepo(p.Repository) {
		return nil // not watched
	}
	known, err := e.st.CurrentTags(ctx, r.Host)
	if err != nil {
		return err
	}
	fs, err := e.resolve(ctx, r, c, p.Repository, ref, known)
	if err != nil {
		return err
	}
	for i := range fs {
		fs[i].Tag.Tag = p.Tag
	}
	now := e.opts.Now()
	digests := map[string]scanPayload{}
	for _, f := range fs {
		sp := scanPayload{Registry: r.Host, Repository: f.Repository, Digest: f.Digest, Platform: f.Platform}
		if f.Tag.Tag != "" {
			k := store.TagKey{Repository: f.Repository, Tag: f.Tag.Tag, Platform: f.Platform}
			if known[k].Digest != f.Digest {
				prev, _, err := e.st.SetTag(ctx, now, f.Tag)
				if err != nil {
					return err
				}
				sp.Previous = prev
			}
		}
		digests[f.Digest] = sp
	}
	n, err := e.queueScans(ctx, digests, 2)
	if n > 0 {
		e.poke()
	}
	return err
}
