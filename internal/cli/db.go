package cli

import (
	"encoding/json"
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

func dbPath(g *globals) string { return oci.DefaultPath(g.cacheDir) }

func newDBCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "db", Short: "Build, publish, update and inspect the vulnerability database"}
	cmd.AddCommand(newDBBuildCmd(g), newDBUpdateCmd(g), newDBPushCmd(g), newDBStatusCmd(g), newDBShowCmd(g))
	return cmd
}

func newDBBuildCmd(g *globals) *cobra.Command {
	var (
		list    string
		mirrors []string
		output  string
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
			path := output
			if path == "" {
				path = dbPath(g)
			}
			if err := os.MkdirAll(dirOf(path), 0o755); err != nil {
				return err
			}
			opts := vulndb.BuildOptions{
				Path: path, Sources: srcs, Mirrors: m,
				CacheDir: g.cacheDir + "/downloads", Logger: g.logger,
			}
			if !g.quiet && isTerminal(g.stderr) {
				opts.Progress = g.stderr
			}
			rep, err := vulndb.Build(cmd.Context(), opts)
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
			fmt.Fprintf(g.stdout, "Built %s (%s) in %s\n", rep.Path, humanBytes(rep.Size), rep.Duration.Round(time.Millisecond))
			return nil
		},
	}
	cmd.Flags().StringVar(&list, "sources", "all", "comma-separated sources: "+strings.Join(sources.Names(nil), ", ")+", osv:ECOSYSTEM, all")
	cmd.Flags().StringArrayVar(&mirrors, "mirror", nil, "replace a source's base URL: NAME=URL (https://, file:// or a path laid out like upstream); repeatable")
	cmd.Flags().StringVarP(&output, "output", "o", "", "database file to write (default: the cache directory's)")
	return cmd
}

func newDBUpdateCmd(g *globals) *cobra.Command {
	var (
		repos []string
		force bool
		reg   accessFlags
	)
	cmd := &cobra.Command{
		Use:   "update",
		Short: "Download the prebuilt database from an OCI registry unless the local copy is fresh",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			res, err := oci.Update(cmd.Context(), oci.UpdateOptions{
				Path: dbPath(g), Repositories: repos, Force: force, Registry: reg.access(g), Logger: g.logger,
			})
			if err != nil {
				return err
			}
			if !g.quiet {
				if res.Updated {
					fmt.Fprintf(g.stdout, "Updated %s from %s (%s), built %s\n", dbPath(g), res.Repository, res.Digest, res.Metadata.BuiltAt.Format(time.RFC3339))
				} else {
					fmt.Fprintf(g.stdout, "Database is fresh (built %s, next update %s)\n", res.Metadata.BuiltAt.Format(time.RFC3339), res.Metadata.NextUpdate.Format(time.RFC3339))
				}
			}
			return nil
		},
	}
	cmd.Flags().StringSliceVar(&repos, "db-repository", []string{oci.DefaultRepository}, "OCI repositories to pull the database from, tried in order")
	cmd.Flags().BoolVar(&force, "force", false, "download even when the local database is fresh")
	reg.add(cmd)
	return cmd
}

func newDBPushCmd(g *globals) *cobra.Command {
	var reg accessFlags
	cmd := &cobra.Command{
		Use:   "push REF",
		Short: "Publish the local database as an OCI artifact (to host a mirror)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := vulndb.Open(dbPath(g))
			if err != nil {
				return err
			}
			db.Close()
			digest, err := oci.Push(cmd.Context(), dbPath(g), args[0], reg.access(g))
			if err != nil {
				return err
			}
			if !g.quiet {
				fmt.Fprintf(g.stdout, "Pushed %s@%s\n", args[0], digest)
			}
			return nil
		},
	}
	reg.add(cmd)
	return cmd
}

func newDBStatusCmd(g *globals) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Print the local database's age, schema, sources and counts",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "table" && format != "json" {
				return fmt.Errorf("--format %q: want table or json", format)
			}
			db, err := vulndb.Open(dbPath(g))
			if err != nil {
				return err
			}
			defer db.Close()
			meta := db.Metadata()
			ecos, err := db.Ecosystems()
			if err != nil {
				return err
			}
			if format == "json" {
				enc := json.NewEncoder(g.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(struct {
					Path       string          `json:"path"`
					Metadata   vulndb.Metadata `json:"metadata"`
					Ecosystems []string        `json:"ecosystems"`
				}{dbPath(g), meta, ecos})
			}
			age := time.Since(meta.BuiltAt).Round(time.Minute)
			fmt.Fprintf(g.stdout, "Path: %s\nSchema: %d\nBuilt: %s (%s ago)\nNext update: %s\n", dbPath(g), meta.SchemaVersion, meta.BuiltAt.Format(time.RFC3339), age, meta.NextUpdate.Format(time.RFC3339))
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SOURCE\tAFFECTED\tVULNERABILITIES\tBASE")
			for _, s := range meta.Sources {
				fmt.Fprintf(tw, "%s\t%d\t%d\t%s\n", s.Name, s.Affected, s.Vulnerabilities, s.Base)
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
			db, err := vulndb.Open(dbPath(g))
			if err != nil {
				return err
			}
			defer db.Close()
			shown, ok, err := db.Show(args[0])
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("%s: not in the database", args[0])
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

func dirOf(path string) string {
	if i := strings.LastIndexByte(path, '/'); i > 0 {
		return path[:i]
	}
	return "."
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
