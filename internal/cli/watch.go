package cli

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vigil-scanner/vigil/match"
	"github.com/vigil-scanner/vigil/vulndb"
	"github.com/vigil-scanner/vigil/vulndb/oci"
	"github.com/vigil-scanner/vigil/watch"
)

func newWatchCmd(g *globals) *cobra.Command {
	var (
		opts          watch.Options
		db            scanFlags // only its database flags are used
		alertExisting bool
		backend       string
		access        accessFlags
	)
	cmd := &cobra.Command{
		Use:   "watch [flags]",
		Short: "Watch a registry: scan new images, re-match them when the database changes, alert on new findings",
		Long: `Watch lists a registry's repositories (or those given with --repo) and their tags,
pulls and scans each image digest it has not seen, keeps its inventory in --state-dir,
and matches every kept inventory again whenever the vulnerability database changes,
without pulling. Each finding an image did not have at the previous cycle is an
alert, written as a JSON line to standard output and, with --webhook, POSTed as
{"alerts": [...]}. The first time an image is seen all its findings are alerts
with reason "new image" (unless --alert-existing=false); later ones have reason
"database update".`,
		Example: `  vigil watch --registry registry.example.com --interval 1h --severity HIGH,CRITICAL
  vigil watch --repo ghcr.io/acme/api --repo ghcr.io/acme/web --webhook https://hooks.example.com/vigil
  vigil watch --registry localhost:5000 --insecure --alert-existing=false`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Registry == "" && len(opts.Repositories) == 0 {
				return errors.New("name a registry (--registry) or repositories (--repo) to watch")
			}
			for i, s := range opts.Severities {
				opts.Severities[i] = strings.ToUpper(strings.TrimSpace(s))
			}
			if opts.Interval < 0 {
				return errors.New("--interval cannot be negative")
			}
			if opts.StateDir == "" {
				opts.StateDir = filepath.Join(g.cacheDir, "watch")
			}
			c, err := layerCache(g, backend)
			if err != nil {
				return err
			}
			if c != nil {
				opts.Cache = c
			}
			opts.Access = access.access(g)
			opts.SkipExisting = !alertExisting
			opts.Output = g.stdout
			opts.Logger = watchLogger(g)
			db.insecure, db.dbReposGiven = access.insecure, cmd.Flags().Changed("db-repository")
			opts.Database = func(ctx context.Context) (*vulndb.DB, error) { return db.openDB(ctx, g, oci.Selection{All: true}) }
			return watch.Run(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Registry, "registry", "", "registry to watch, HOST[:PORT]: every repository in its catalog, or only --repo")
	fl.StringArrayVar(&opts.Repositories, "repo", nil, "repository to watch; repeatable (a name within --registry, or a full name without it)")
	fl.DurationVar(&opts.Interval, "interval", 0, "run a cycle this often (0: run one cycle and exit)")
	fl.StringVar(&opts.Webhook, "webhook", "", "also POST the alerts to this URL as JSON")
	fl.StringSliceVarP(&opts.Severities, "severity", "s", match.Severities(), "severities to alert on: CRITICAL,HIGH,MEDIUM,LOW,UNKNOWN")
	fl.BoolVar(&opts.IgnoreUnfixed, "ignore-unfixed", false, "alert only on vulnerabilities that have a fixed version")
	fl.BoolVar(&alertExisting, "alert-existing", true, "alert on the findings of an image seen for the first time")
	access.add(cmd)
	fl.StringVar(&opts.Platform, "platform", "", "os/arch[/variant] to pick from multi-platform images (default: the host's)")
	fl.StringVar(&opts.StateDir, "state-dir", "", "where the index, inventories and last findings are kept (default CACHE_DIR/watch)")
	fl.StringVar(&backend, "cache-backend", cacheBackendFS, "where what was read from each layer is kept: fs (CACHE_DIR/layers) or memory (not kept)")
	fl.BoolVar(&db.skipDBUpdate, "skip-db-update", false, "use the local vulnerability database as it is")
	fl.BoolVar(&db.offline, "offline", false, "make no network request for the database (implies --skip-db-update)")
	fl.StringSliceVar(&db.dbRepos, "db-repository", oci.DefaultRepositories, "OCI repositories to refresh the database from, tried in order")
	return cmd
}

// watchLogger reports each cycle and each image scanned at the default
// level: a long-running watch should say what it does. --quiet and
// --debug keep their meaning.
func watchLogger(g *globals) *slog.Logger {
	if g.quiet || g.debug {
		return g.logger
	}
	return slog.New(slog.NewTextHandler(g.stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
}
