// Package watch keeps watch over a container registry: on a schedule it
// lists the registry's repositories and tags, pulls and scans each image it
// has not seen (by digest), keeps every image's inventory, matches the
// inventories again whenever the vulnerability database changes, and alerts
// on findings an image did not have before.
//
// An image is pulled once per digest; a database update re-matches the
// stored inventories without pulling anything. The first time a digest is
// seen, all of its findings are alerts with reason "new image" (unless
// Options.SkipExisting); afterwards only findings not seen at the previous
// cycle are, with reason "database update".
//
// Alerts are delivered at least once: the state is saved only after every
// sink took the cycle's alerts, so a cycle whose webhook fails sends its
// alerts again at the next one.
package watch

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	ggcr "github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/vigil-scanner/vigil/image"
	"github.com/vigil-scanner/vigil/image/remote"
	"github.com/vigil-scanner/vigil/layerfs"
	"github.com/vigil-scanner/vigil/match"
	"github.com/vigil-scanner/vigil/policy"
	"github.com/vigil-scanner/vigil/report"
	"github.com/vigil-scanner/vigil/scan"
	"github.com/vigil-scanner/vigil/vulndb"
)

// Options configure a watch.
type Options struct {
	// Registry is the registry to watch, "host[:port]". With it set, every
	// repository in its catalog is watched, or only Repositories when
	// given, which are then names within it ("team/app").
	Registry string
	// Repositories are the repositories to watch. Without Registry they
	// are full names ("registry.example.com/team/app", "alpine").
	Repositories []string
	// Insecure allows plain HTTP and unverified TLS to the registry.
	Insecure bool
	// Username and Password are registry credentials. When Username is
	// empty, VIGIL_USERNAME and VIGIL_PASSWORD are used, and else the
	// Docker config file and its credential helpers (as image.Open).
	Username, Password string
	// Platform is "os/arch[/variant]", chosen in multi-platform images;
	// empty means linux on the host's architecture.
	Platform string

	// StateDir holds the index, the inventories and the findings of the
	// previous cycle. Required.
	StateDir string
	// Database returns the vulnerability database to match with; it is
	// called once per cycle (so it may refresh the database first) and
	// the database is closed when the cycle ends. Required.
	Database func(ctx context.Context) (*vulndb.DB, error)
	// Cache keeps what was read from each layer, so layers shared between
	// images are read once (scan.Options.Read.Cache). Optional.
	Cache layerfs.Cache

	// Interval is the pause between the starts of two cycles of Run; zero
	// runs one cycle.
	Interval time.Duration
	// Severities keeps only findings of these severities; empty keeps all.
	Severities []string
	// IgnoreUnfixed drops findings that have no fixed version.
	IgnoreUnfixed bool
	// SkipExisting records the findings of an image seen for the first
	// time without alerting on them.
	SkipExisting bool

	// Output receives the alerts as JSON lines; nil means os.Stdout.
	Output io.Writer
	// Webhook, when set, is a URL the alerts are POSTed to as JSON:
	// {"alerts": [...]}.
	Webhook string
	// HTTPClient sends the webhook requests; nil means http.DefaultClient.
	// Each request is bounded by its own timeout regardless.
	HTTPClient *http.Client
	// Logger receives progress and per-image errors; nil discards them.
	Logger *slog.Logger
	// Now returns the current time; nil means time.Now.
	Now func() time.Time

	// retryPause is the pause before the first webhook retry (tests).
	retryPause time.Duration
}

// Summary says what one cycle did.
type Summary struct {
	Repositories int // repositories listed
	Tags         int // tags resolved to a digest
	Images       int // distinct digests among them
	Pulled       int // images pulled and scanned this cycle
	Matched      int // inventories matched this cycle
	Alerts       int
	Failed       int // repositories, tags or images that could not be read
	DBBuiltAt    time.Time
}

func (o Options) withDefaults() (Options, error) {
	if o.StateDir == "" {
		return o, errors.New("watch: no state directory")
	}
	if o.Database == nil {
		return o, errors.New("watch: no vulnerability database")
	}
	if o.Registry == "" && len(o.Repositories) == 0 {
		return o, errors.New("watch: name a registry or repositories to watch")
	}
	if o.Username == "" {
		o.Username, o.Password = os.Getenv("VIGIL_USERNAME"), os.Getenv("VIGIL_PASSWORD")
	}
	if o.Output == nil {
		o.Output = os.Stdout
	}
	if o.HTTPClient == nil {
		o.HTTPClient = http.DefaultClient
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.retryPause == 0 {
		o.retryPause = time.Second
	}
	return o, nil
}

// filters describes the policy filters, to notice when they change.
func (o Options) filters() string {
	s := slices.Sorted(slices.Values(o.Severities))
	return fmt.Sprintf("severities=%s ignore-unfixed=%t", strings.Join(s, ","), o.IgnoreUnfixed)
}

// Run runs a cycle, then another every Interval, until ctx is done. A
// failed cycle is logged and the next one runs on schedule. With a zero
// Interval it runs one cycle and returns its error.
func Run(ctx context.Context, opts Options) error {
	if opts.Interval <= 0 {
		_, err := Once(ctx, opts)
		return err
	}
	// A bad configuration fails at once rather than at every cycle.
	if _, err := opts.withDefaults(); err != nil {
		return err
	}
	if _, err := policy.Load(policy.Options{Severities: opts.Severities}); err != nil {
		return err
	}
	log := cmp.Or(opts.Logger, slog.New(slog.DiscardHandler))
	tick := time.NewTicker(opts.Interval)
	defer tick.Stop()
	for {
		sum, err := Once(ctx, opts)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			log.Error("watch cycle failed", "err", err)
		default:
			log.Info("watch cycle done", "repositories", sum.Repositories, "tags", sum.Tags, "images", sum.Images,
				"pulled", sum.Pulled, "matched", sum.Matched, "alerts", sum.Alerts, "failed", sum.Failed)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// Once runs one cycle: list, pull what is new, match, alert, save.
func Once(ctx context.Context, opts Options) (Summary, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return Summary{}, err
	}
	pol, err := policy.Load(policy.Options{Severities: opts.Severities, IgnoreUnfixed: opts.IgnoreUnfixed})
	if err != nil {
		return Summary{}, err
	}
	st, err := loadState(opts.StateDir)
	if err != nil {
		return Summary{}, err
	}
	db, err := opts.Database(ctx)
	if err != nil {
		return Summary{}, err
	}
	defer db.Close()
	built := db.Metadata().BuiltAt
	sum := Summary{DBBuiltAt: built}

	tags := list(ctx, opts, st, &sum)
	byDigest := map[string][]string{} // digest → its tags, sorted
	for _, tag := range slices.Sorted(maps.Keys(tags)) {
		byDigest[tags[tag]] = append(byDigest[tags[tag]], tag)
	}
	sum.Tags, sum.Images = len(tags), len(byDigest)

	for _, digest := range slices.Sorted(maps.Keys(byDigest)) {
		if hasInventory(opts.StateDir, digest) {
			continue
		}
		if err := pull(ctx, opts, digest, byDigest[digest]); err != nil {
			if ctx.Err() != nil {
				return sum, ctx.Err()
			}
			opts.Logger.Error("image not scanned", "image", imageName(byDigest[digest], digest), "err", err)
			sum.Failed++
			continue
		}
		sum.Pulled++
	}

	matcher := match.New(db, match.Options{Logger: opts.Logger})
	dbChanged := !st.DBBuiltAt.Equal(built) || st.Filters != opts.filters()
	now := opts.Now().UTC()
	next := &state{Version: stateVersion, DBBuiltAt: built, Filters: opts.filters(), Tags: tags, Seen: map[string][]findingKey{}}
	var alerts []Alert
	for _, digest := range slices.Sorted(maps.Keys(byDigest)) {
		old, known := st.Seen[digest]
		if known && !dbChanged {
			next.Seen[digest] = old
			continue
		}
		if !hasInventory(opts.StateDir, digest) {
			continue // not pulled: new again at the next cycle
		}
		findings, err := findingsOf(ctx, opts.StateDir, digest, matcher, pol)
		if err != nil {
			return sum, err
		}
		sum.Matched++
		reason := ReasonDatabaseUpdate
		if !known {
			reason = ReasonNewImage
		}
		alerts = append(alerts, newFindings(findings, old, now, imageName(byDigest[digest], digest), reason, !known && opts.SkipExisting)...)
		next.Seen[digest] = keysOf(findings)
	}

	if err := deliver(ctx, opts, alerts); err != nil {
		return sum, err
	}
	sum.Alerts = len(alerts)
	if err := next.save(opts.StateDir); err != nil {
		return sum, err
	}
	if err := pruneInventories(opts.StateDir, keysSet(byDigest)); err != nil {
		opts.Logger.Warn("could not remove inventories of images no longer tagged", "err", err)
	}
	return sum, nil
}

// list returns every watched "repository:tag" and its digest. A
// repository or tag that cannot be read keeps what the previous state
// recorded for it, so a registry hiccup does not forget images.
func list(ctx context.Context, opts Options, st *state, sum *Summary) map[string]string {
	ropts := remote.RegistryOptions(ctx, remote.Options{Insecure: opts.Insecure, Username: opts.Username, Password: opts.Password})
	var nameOpts []name.Option
	if opts.Insecure {
		nameOpts = append(nameOpts, name.Insecure)
	}
	tags := map[string]string{}
	keepOld := func(prefix string) {
		for tag, digest := range st.Tags {
			if strings.HasPrefix(tag, prefix) {
				tags[tag] = digest
			}
		}
	}
	repos, err := repositories(ctx, opts, nameOpts, ropts)
	if err != nil {
		opts.Logger.Error("cannot list the registry's repositories", "registry", opts.Registry, "err", err)
		sum.Failed++
		maps.Copy(tags, st.Tags)
		return tags
	}
	sum.Repositories = len(repos)
	for _, repo := range repos {
		names, err := ggcr.List(repo, ropts...)
		if err != nil {
			if ctx.Err() != nil {
				return tags
			}
			opts.Logger.Error("cannot list tags", "repository", repo.Name(), "err", err)
			sum.Failed++
			keepOld(repo.Name() + ":")
			continue
		}
		for _, t := range names {
			key := repo.Name() + ":" + t
			desc, err := ggcr.Head(repo.Tag(t), ropts...)
			if err != nil {
				if ctx.Err() != nil {
					return tags
				}
				opts.Logger.Error("cannot resolve tag", "image", key, "err", err)
				sum.Failed++
				if d, ok := st.Tags[key]; ok {
					tags[key] = d
				}
				continue
			}
			tags[key] = desc.Digest.String()
		}
	}
	return tags
}

// repositories are Options.Repositories, or the registry's catalog.
func repositories(ctx context.Context, opts Options, nameOpts []name.Option, ropts []ggcr.Option) ([]name.Repository, error) {
	names := opts.Repositories
	if len(names) == 0 {
		reg, err := name.NewRegistry(opts.Registry, nameOpts...)
		if err != nil {
			return nil, err
		}
		if names, err = ggcr.Catalog(ctx, reg, ropts...); err != nil {
			return nil, err
		}
	}
	repos := make([]name.Repository, 0, len(names))
	for _, n := range names {
		if opts.Registry != "" {
			n = opts.Registry + "/" + n
		}
		r, err := name.NewRepository(n, nameOpts...)
		if err != nil {
			return nil, fmt.Errorf("repository %q: %w", n, err)
		}
		repos = append(repos, r)
	}
	return repos, nil
}

// pull scans the image digest from the repository of its first tag and
// stores its inventory.
func pull(ctx context.Context, opts Options, digest string, tags []string) error {
	// tags[0] is "host[:port]/name:tag": the tag follows the last colon.
	ref := tags[0][:strings.LastIndex(tags[0], ":")] + "@" + digest
	img, err := image.Open(ctx, ref, image.Options{
		Sources: []string{image.SourceRemote}, Platform: opts.Platform, Insecure: opts.Insecure,
		Username: opts.Username, Password: opts.Password, Logger: opts.Logger,
	})
	if err != nil {
		return err
	}
	defer img.Close()
	opts.Logger.Info("scanning", "image", ref)
	inv, err := scan.Image(ctx, img, scan.ImageMeta{Name: imageName(tags, digest), RepoDigests: img.RepoDigests, RepoTags: tags},
		scan.Options{Logger: opts.Logger, Read: layerfs.Options{Cache: opts.Cache}, NoInventoryCache: true})
	if err != nil {
		return err
	}
	inv.Artifact.Platform = img.Platform
	return storeInventory(opts.StateDir, digest, inv, opts.Now())
}

// findingsOf matches the stored inventory of digest and returns its
// findings that pass the policy filters.
func findingsOf(ctx context.Context, dir, digest string, m *match.Matcher, pol *policy.Policy) ([]match.Finding, error) {
	inv, err := loadInventory(dir, digest)
	if err != nil {
		return nil, err
	}
	res, err := m.Match(ctx, inv)
	if err != nil {
		return nil, fmt.Errorf("matching %s: %w", digest, err)
	}
	rep := report.FromInventory(inv)
	for i := range rep.Results {
		rep.Results[i].Vulnerabilities = res.Findings[i]
	}
	pol.Apply(rep)
	var out []match.Finding
	for _, r := range rep.Results {
		out = append(out, r.Vulnerabilities...)
	}
	return out, nil
}

func keyOf(f *match.Finding) findingKey {
	return findingKey{Package: f.PkgName, Version: f.InstalledVersion, ID: f.ID}
}

// keysOf returns the distinct keys of findings, sorted.
func keysOf(findings []match.Finding) []findingKey {
	keys := make([]findingKey, 0, len(findings))
	for i := range findings {
		keys = append(keys, keyOf(&findings[i]))
	}
	slices.SortFunc(keys, func(a, b findingKey) int {
		return cmp.Or(cmp.Compare(a.Package, b.Package), cmp.Compare(a.Version, b.Version), cmp.Compare(a.ID, b.ID))
	})
	return slices.Compact(keys)
}

// newFindings returns an alert for each finding whose key is not in old,
// once per key; none when silent.
func newFindings(findings []match.Finding, old []findingKey, now time.Time, image, reason string, silent bool) []Alert {
	if silent {
		return nil
	}
	seen := map[findingKey]bool{}
	for _, k := range old {
		seen[k] = true
	}
	var alerts []Alert
	for i := range findings {
		f := &findings[i]
		k := keyOf(f)
		if seen[k] {
			continue
		}
		seen[k] = true
		alerts = append(alerts, Alert{
			Time: now, Image: image, ID: f.ID, Package: f.PkgName, InstalledVersion: f.InstalledVersion,
			FixedVersion: f.FixedVersion, Severity: f.Severity, Status: f.Status, Reason: reason,
		})
	}
	return alerts
}

// deliver hands alerts to every sink.
func deliver(ctx context.Context, opts Options, alerts []Alert) error {
	if len(alerts) == 0 {
		return nil
	}
	if err := writeLines(opts.Output, alerts); err != nil {
		return err
	}
	if opts.Webhook != "" {
		return postWebhook(ctx, opts.HTTPClient, opts.Webhook, alerts, opts.retryPause)
	}
	return nil
}

// imageName is "repository:tag@digest" for the first of tags, in the
// familiar form (Docker Hub's host and library/ left out).
func imageName(tags []string, digest string) string {
	return familiar(tags[0]) + "@" + digest
}

func familiar(tag string) string {
	t, err := name.NewTag(tag, name.WeakValidation)
	if err != nil {
		return tag
	}
	return remote.Familiar(t.Context()) + ":" + t.TagStr()
}

func keysSet[V any](m map[string]V) map[string]bool {
	set := make(map[string]bool, len(m))
	for k := range m {
		set[k] = true
	}
	return set
}
