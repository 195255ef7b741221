package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/vigil-scanner/vigil/vulndb"
	"github.com/vigil-scanner/vigil/vulndb/oci"
	"github.com/vigil-scanner/vigil/vulndb/sources"
)

func dbDir(g *globals) string { return oci.DefaultDir(g.cacheDir) }

// openDB makes sure the database has the parts a scan of the given
// ecosystems needs, refreshing them when due unless told not to, and opens
// it. When the refresh fails and the local database has those parts, the
// scan goes on with it and says so. A database built locally is refreshed
// only from a repository named with --db-repository.
func (f *scanFlags) openDB(ctx context.Context, g *globals, need oci.Selection) (*vulndb.DB, error) {
	dir := dbDir(g)
	skip := f.skipDBUpdate || f.offline
	opts := oci.UpdateOptions{
		Dir: dir, Repositories: f.dbRepos, Need: need, ReplaceBuilt: f.dbReposGiven,
		Registry: oci.Registry{Access: resolveAccess(f.insecure, "", "", g.getenv), Logger: g.logger},
	}
	_, err := oci.EnsureFresh(ctx, opts, skip)
	if err != nil {
		if skip {
			return nil, fmt.Errorf("%w (build one with `vigil db build` or fetch one with `vigil db update`)", err)
		}
		idx, ierr := vulndb.ReadIndex(dir)
		if ierr != nil || len(oci.Missing(idx, need)) > 0 {
			return nil, fmt.Errorf("no usable vulnerability database: %w", err)
		}
		g.logger.Warn("could not refresh the vulnerability database; scanning with the local copy", "built", idx.Metadata.BuiltAt.Format(time.RFC3339), "err", err)
	}
	return vulndb.Open(dir)
}

func newDBCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "db", Short: "Build, publish, update and inspect the vulnerability database"}
	cmd.AddCommand(newDBBuildCmd(g), newDBUpdateCmd(g), newDBPushCmd(g), newDBStatusCmd(g), newDBShowCmd(g))
	return cmd
}

// withTimeout bounds a command's context by --timeout.
func withTimeout(cmd *cobra.Command, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(cmd.Context(), d)
}

func newDBBuildCmd(g *globals) *cobra.Command {
	var (
		list    string
		mirrors []string
		output  string
		timeout time.Duration
	)
	cmd := &cobra.Command{
		Use:   "build",
		Short: "Build the vulnerability database from the upstream feeds (or mirrors of them)",
		Example: `  vigil db build
  vigil db build --sources alpine,osv:npm --mirror alpine=/srv/mirror/alpine --mirror osv=file:///srv/mirror/osv`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			srcs, err := sources.Parse(list, g.logger)
			if err != nil {
				return err
			}
			m := map[string]string{}
			for _, kv := range mirrors {
				name, url, ok := strings.Cut(kv, "=")
				if !ok || name == "" || url == "" {
					return fmt.Errorf("--mirror %q: want NAME=URL", kv)
				}
				m[name] = url
			}
			dir := output
			if dir == "" {
				dir = dbDir(g)
			}
			ctx, cancel := withTimeout(cmd, timeout)
			defer cancel()
			opts := vulndb.BuildOptions{
				Path: dir, Sources: srcs, Mirrors: m,
				CacheDir: g.cacheDir + "/downloads", Logger: g.logger,
			}
			if !g.quiet && isTerminal(g.stderr) {
				opts.Progress = g.stderr
			}
			rep, err := vulndb.Build(ctx, opts)
			if err != nil {
				return err
			}
			if g.quiet {
				return nil
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SOURCE\tAFFECTED\tVULNERABILITIES\tTIME")
			for _, s := range rep.Metadata.Sources {
				fmt.Fprintf(tw, "%s\t%d\t%d\t%s\n", s.Name, s.Affected, s.Vulnerabilities, s.Duration.Round(time.Millisecond))
			}
			tw.Flush()
			fmt.Fprintf(g.stdout, "Built %s: %d parts, %s, in %s\n", rep.Path, rep.Parts, humanBytes(rep.Size), rep.Duration.Round(time.Millisecond))
			return nil
		},
	}
	cmd.Flags().StringVar(&list, "sources", "all", "comma-separated sources: "+strings.Join(sources.Names(nil), ", ")+", osv:ECOSYSTEM, all")
	cmd.Flags().StringArrayVar(&mirrors, "mirror", nil, "replace a source's base URL: NAME=URL (https://, file:// or a path laid out like upstream); repeatable")
	cmd.Flags().StringVarP(&output, "output", "o", "", "database directory to write (default: the cache directory's)")
	cmd.Flags().DurationVar(&timeout, "timeout", 2*time.Hour, "give up after this long")
	return cmd
}

func newDBUpdateCmd(g *globals) *cobra.Command {
	var (
		repos      []string
		ecosystems []string
		all        bool
		force      bool
		timeout    time.Duration
		reg        accessFlags
	)
	cmd := &cobra.Command{
		Use:   "update",
		Short: "Fetch what changed in the published database (the parts on disk, or those asked for)",
		Long: `Update asks the database repositories for the newest version, whatever the local
copy's next-update time, and downloads the parts that changed: the parts already on
disk, and those of the ecosystems named with --ecosystem (--all: every part). With no
local database and no --ecosystem, every part is fetched. A database built with
'vigil db build' is replaced by the download.`,
		Example: `  vigil db update
  vigil db update --ecosystem alpine:3.19,npm
  vigil db update --db-repository registry.example.com/security/vigil-db:2`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := dbDir(g)
			need := oci.Selection{All: all, Ecosystems: ecosystems}
			idx, err := vulndb.ReadIndex(dir)
			if err != nil || (idx.Metadata.Provenance != nil && idx.Metadata.Provenance.Kind == vulndb.ProvenanceBuilt) {
				need.All = need.All || len(ecosystems) == 0
			}
			ctx, cancel := withTimeout(cmd, timeout)
			defer cancel()
			res, err := oci.Update(ctx, oci.UpdateOptions{
				Dir: dir, Repositories: repos, Need: need, Check: true, Force: force, ReplaceBuilt: true,
				Registry: oci.Registry{Access: reg.access(g), Logger: g.logger},
			})
			if err != nil {
				return err
			}
			if !g.quiet {
				m := res.Metadata
				if res.Updated {
					fmt.Fprintf(g.stdout, "Updated %s from %s (%s): %d parts and %d deltas downloaded, %s; built %s\n",
						dir, res.Repository, res.Manifest, res.Parts, res.Deltas, humanBytes(res.Bytes), m.BuiltAt.Format(time.RFC3339))
				} else {
					fmt.Fprintf(g.stdout, "Database is up to date with %s (built %s, next update %s)\n", res.Repository, m.BuiltAt.Format(time.RFC3339), m.NextUpdate.Format(time.RFC3339))
				}
			}
			return nil
		},
	}
	cmd.Flags().StringSliceVar(&repos, "db-repository", oci.DefaultRepositories, "OCI repositories to pull the database from, tried in order")
	cmd.Flags().StringSliceVar(&ecosystems, "ecosystem", nil, "also fetch the parts of these ecosystems (alpine:3.19, debian:12, npm, PyPI, …)")
	cmd.Flags().BoolVar(&all, "all", false, "fetch every part of the database")
	cmd.Flags().BoolVar(&force, "force", false, "download every part again, whole")
	cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Minute, "give up after this long")
	reg.add(cmd)
	return cmd
}

func newDBPushCmd(g *globals) *cobra.Command {
	var (
		reg     accessFlags
		timeout time.Duration
	)
	cmd := &cobra.Command{
		Use:   "push REF",
		Short: "Publish the local database as an OCI artifact (to host a mirror)",
		Long: `Push publishes the local database, which must have every part on disk (built with
'vigil db build', or fetched with 'vigil db update --all'), as REF. Parts that did not
change since the version already at REF keep their blob, and deltas from that version
are published beside the parts that changed, so clients download only the change.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := withTimeout(cmd, timeout)
			defer cancel()
			res, err := oci.Push(ctx, dbDir(g), args[0], oci.PushOptions{Registry: oci.Registry{Access: reg.access(g), Logger: g.logger}})
			if err != nil {
				return err
			}
			if !g.quiet {
				fmt.Fprintf(g.stdout, "Pushed %s@%s: %d parts uploaded (%s), %d unchanged, %d deltas\n", args[0], res.Digest, res.Uploaded, humanBytes(res.UploadedBytes), res.Reused, res.Deltas)
			}
			return nil
		},
	}
	cmd.Flags().DurationVar(&timeout, "timeout", time.Hour, "give up after this long")
	reg.add(cmd)
	return cmd
}

func newDBStatusCmd(g *globals) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Print the local database's provenance, age, sources and parts",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "table" && format != "json" {
				return fmt.Errorf("--format %q: want table or json", format)
			}
			db, err := vulndb.Open(dbDir(g))
			if err != nil {
				return err
			}
			defer db.Close()
			idx := db.Index()
			meta := db.Metadata()
			ecos, _ := db.Ecosystems()
			if format == "json" {
				enc := json.NewEncoder(g.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(struct {
					Path       string             `json:"path"`
					Metadata   vulndb.Metadata    `json:"metadata"`
					CheckedAt  time.Time          `json:"checkedAt,omitzero"`
					Ecosystems []string           `json:"ecosystems"`
					Parts      []vulndb.PartEntry `json:"parts"`
				}{dbDir(g), meta, idx.CheckedAt, ecos, idx.Parts})
			}
			age := time.Since(meta.BuiltAt).Round(time.Minute)
			fmt.Fprintf(g.stdout, "Path: %s\nSchema: %d\nBuilt: %s (%s ago)\nNext update: %s\n", dbDir(g), meta.SchemaVersion, meta.BuiltAt.Format(time.RFC3339), age, meta.NextUpdate.Format(time.RFC3339))
			if p := meta.Provenance; p != nil {
				switch p.Kind {
				case vulndb.ProvenancePulled:
					fmt.Fprintf(g.stdout, "Origin: pulled from %s (manifest %s) at %s\n", p.Repository, p.Manifest, p.At.Format(time.RFC3339))
				default:
					fmt.Fprintf(g.stdout, "Origin: built locally at %s, from the sources below (not replaced by downloads unless asked: vigil db update, or --db-repository)\n", p.At.Format(time.RFC3339))
				}
			}
			if !idx.CheckedAt.IsZero() {
				fmt.Fprintf(g.stdout, "Last checked: %s\n", idx.CheckedAt.Format(time.RFC3339))
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SOURCE\tAFFECTED\tVULNERABILITIES\tBASE")
			for _, s := range meta.Sources {
				fmt.Fprintf(tw, "%s\t%d\t%d\t%s\n", s.Name, s.Affected, s.Vulnerabilities, s.Base)
			}
			tw.Flush()
			local, size := 0, int64(0)
			for _, p := range idx.Parts {
				if p.Local {
					local++
					size += p.Size
				}
			}
			fmt.Fprintf(g.stdout, "Parts: %d of %d on disk (%s)\n", local, len(idx.Parts), humanBytes(size))
			tw = tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "PART\tRECORDS\tON DISK\tSIZE")
			for _, p := range idx.Parts {
				on, sz := "no", "-"
				if p.Local {
					on, sz = "yes", humanBytes(p.Size)
				}
				fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", p.PartKey, p.Records, on, sz)
			}
			tw.Flush()
			fmt.Fprintf(g.stdout, "Ecosystems (%d): %s\n", len(ecos), strings.Join(ecos, ", "))
			return nil
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "table", "table or json")
	return cmd
}

func newDBShowCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "show ID",
		Short: "Print everything the database knows about one vulnerability, from every source, as JSON",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := vulndb.Open(dbDir(g))
			if err != nil {
				return err
			}
			defer db.Close()
			shown, ok, err := db.Show(args[0])
			if err != nil {
				return err
			}
			if !ok {
				msg := fmt.Sprintf("%s: not in the database", args[0])
				if idx := db.Index(); !idx.Complete() {
					msg += " (only some parts are on disk: `vigil db update --all` fetches the rest)"
				}
				return errors.New(msg)
			}
			enc := json.NewEncoder(g.stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(shown)
		},
	}
}

func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
