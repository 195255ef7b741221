package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/spf13/cobra"

	"github.com/vigil-scanner/vigil/alert"
	"github.com/vigil-scanner/vigil/engine"
	"github.com/vigil-scanner/vigil/image/pick"
	"github.com/vigil-scanner/vigil/image/remote"
	"github.com/vigil-scanner/vigil/match"
	"github.com/vigil-scanner/vigil/policy"
	"github.com/vigil-scanner/vigil/store"
	"github.com/vigil-scanner/vigil/vulndb/oci"
)

func newWatchCmd(g *globals) *cobra.Command {
	var (
		registry      string
		repos         []string
		interval      time.Duration
		webhook       string
		severities    []string
		ignoreUnfixed bool
		alertExisting bool
		platform      string
		storeDSN      string
		backend       string
		access        accessFlags
		db            scanFlags // only its database flags are used
	)
	cmd := &cobra.Command{
		Use:   "watch [flags]",
		Short: "Watch a registry: one cycle of the server's engine — scan new images, re-match on database change, alert once per finding",
		Long: `Watch runs one cycle of the same engine as vigil server, over the same kind of store: it
lists a registry's repositories (or those given with --repo) and their tags, scans each
image digest it has not seen, re-matches every stored inventory when the vulnerability
database changed (by content), and delivers each finding new to an image once: as a JSON
line on standard output and, with --webhook, POSTed as {"alerts": [...]}. With --interval
it runs a cycle that often. The store (--store, default a SQLite file in the cache
directory) keeps tags, inventories, findings and the alert outbox, so a cycle killed part
way loses nothing and sends nothing twice.`,
		Example: `  vigil watch --registry registry.example.com --interval 1h --severity HIGH,CRITICAL
  vigil watch --repo ghcr.io/acme/api --repo ghcr.io/acme/web --webhook https://hooks.example.com/vigil
  vigil watch --registry localhost:5000 --insecure --alert-existing=false`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if registry == "" && len(repos) == 0 {
				return errors.New("name a registry (--registry) or repositories (--repo) to watch")
			}
			if interval < 0 {
				return errors.New("--interval cannot be negative")
			}
			for i, s := range severities {
				severities[i] = strings.ToUpper(strings.TrimSpace(s))
			}
			pol, err := policy.Load(policy.Options{Filter: policy.Filter{Severities: severities, IgnoreUnfixed: ignoreUnfixed}})
			if err != nil {
				return err
			}
			db.insecure, db.dbReposGiven = access.insecure, cmd.Flags().Changed("db-repository")
			regs, err := watchRegistries(registry, repos, access.access(g), platform)
			if err != nil {
				return err
			}
			routes := []engine.Route{{Name: "stdout", Sender: lineSender{g.stdout}}}
			if webhook != "" {
				r := alert.Route{Type: alert.TypeWebhook, URL: webhook}
				if err := r.Validate(); err != nil {
					return fmt.Errorf("--webhook: %w", err)
				}
				s, err := alert.NewSender(r, alert.Options{Version: version})
				if err != nil {
					return err
				}
				routes = append(routes, engine.Route{Name: "webhook-" + webhook, Route: r, Sender: s})
			}
			if !alertExisting {
				for i := range routes {
					routes[i].Route.Filter.Reasons = []string{alert.ReasonNewAdvisory, alert.ReasonRebuiltTag}
				}
			}
			if storeDSN == "" {
				storeDSN = "sqlite://" + filepath.Join(g.cacheDir, "watch", "vigil.db")
			}
			ctx := cmd.Context()
			st, err := store.Open(ctx, storeDSN)
			if err != nil {
				return err
			}
			defer st.Close()
			cache, err := layerCache(g, backend)
			if err != nil {
				return err
			}
			opts := engine.Options{Store: st, Registries: regs, Routes: routes, DBPath: oci.DefaultDir(g.cacheDir), Policy: pol, Logger: watchLogger(g)}
			if cache != nil {
				opts.Cache = cache
			}
			for {
				d, err := db.openDB(ctx, g, oci.Selection{All: true}) // refreshes the database unless told not to
				if err != nil {
					return err
				}
				d.Close()
				e, err := engine.New(opts)
				if err != nil {
					return err
				}
				sum, err := e.Once(ctx)
				if err != nil {
					return err
				}
				opts.Logger.Info("watch cycle done", "jobs", sum.Jobs, "failed", sum.Failed, "alerts", sum.AlertsSent, "alertsFailed", sum.AlertsFailed)
				for _, le := range sum.ListingErrors {
					opts.Logger.Error("registry listing failed", "err", le)
				}
				if interval == 0 {
					if sum.AlertsFailed > 0 {
						return fmt.Errorf("%d alerts could not be delivered; they are kept and sent at the next run", sum.AlertsFailed)
					}
					return nil
				}
				select {
				case <-ctx.Done():
					return nil
				case <-time.After(interval):
				}
			}
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&registry, "registry", "", "registry to watch, HOST[:PORT]: every repository in its catalog, or only --repo")
	fl.StringArrayVar(&repos, "repo", nil, "repository to watch; repeatable (a name within --registry, or a full name without it)")
	fl.DurationVar(&interval, "interval", 0, "run a cycle this often (0: run one cycle and exit)")
	fl.StringVar(&webhook, "webhook", "", "also POST the alerts to this URL as JSON")
	fl.StringSliceVarP(&severities, "severity", "s", match.Severities(), "severities to alert on: CRITICAL,HIGH,MEDIUM,LOW,UNKNOWN")
	fl.BoolVar(&ignoreUnfixed, "ignore-unfixed", false, "alert only on vulnerabilities that have a fixed version")
	fl.BoolVar(&alertExisting, "alert-existing", true, "alert on the findings of images seen for the first time (false: only new advisories and rebuilt tags)")
	fl.StringVar(&platform, "platform", "", "os/arch[/variant] to scan in multi-platform images (default linux/amd64)")
	fl.StringVar(&storeDSN, "store", "", "store: sqlite:///PATH or postgres://… (default CACHE_DIR/watch/vigil.db)")
	fl.StringVar(&backend, "cache-backend", cacheBackendFS, "where what was read from each layer is kept: fs (CACHE_DIR/layers) or memory (not kept)")
	access.add(cmd)
	fl.BoolVar(&db.skipDBUpdate, "skip-db-update", false, "use the local vulnerability database as it is")
	fl.BoolVar(&db.offline, "offline", false, "make no network request for the database (implies --skip-db-update)")
	fl.StringSliceVar(&db.dbRepos, "db-repository", oci.DefaultRepositories, "OCI repositories to refresh the database from, tried in order")
	return cmd
}

// watchRegistries turns --registry and --repo into the engine's
// registries: one per host.
func watchRegistries(registry string, repos []string, access remote.Access, platform string) ([]engine.Registry, error) {
	var platforms []v1.Platform
	if platform != "" {
		p, err := pick.ParsePlatform(platform)
		if err != nil {
			return nil, err
		}
		platforms = []v1.Platform{p}
	}
	if registry != "" {
		return []engine.Registry{{Host: registry, Access: access, List: repos, Platforms: platforms}}, nil
	}
	index := map[string]int{}
	var out []engine.Registry
	for _, r := range repos {
		ref, err := name.NewRepository(r, access.NameOptions()...)
		if err != nil {
			return nil, fmt.Errorf("--repo %q: %w", r, err)
		}
		h := ref.RegistryStr()
		i, ok := index[h]
		if !ok {
			i = len(out)
			index[h] = i
			out = append(out, engine.Registry{Host: h, Access: access, Platforms: platforms})
		}
		out[i].List = append(out[i].List, ref.RepositoryStr())
	}
	return out, nil
}

// lineSender writes alerts as JSON lines.
type lineSender struct{ w io.Writer }

func (s lineSender) Send(_ context.Context, alerts []alert.Alert) error {
	enc := json.NewEncoder(s.w)
	enc.SetEscapeHTML(false)
	for i := range alerts {
		if err := enc.Encode(&alerts[i]); err != nil {
			return fmt.Errorf("writing alerts: %w", err)
		}
	}
	return nil
}

// watchLogger reports each cycle and each image scanned at the default
// level: a long-running watch should say what it does. --quiet and
// --debug keep their meaning.
func watchLogger(g *globals) *slog.Logger { return serverLogger(g) }
