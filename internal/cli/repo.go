package cli

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/vigil-scanner/vigil/gitrepo"
	"github.com/vigil-scanner/vigil/inventory"
	"github.com/vigil-scanner/vigil/scan"
)

func newRepoCmd(g *globals) *cobra.Command {
	var (
		f    scanFlags
		opts gitrepo.Options
	)
	cmd := &cobra.Command{
		Use:   "repo [flags] URL|PATH",
		Short: "Scan a git repository's lockfiles at a branch, tag or commit: a remote URL, or a local repository's committed tree",
		Example: `  vigil repo https://github.com/example/app
  vigil repo --tag v1.2.0 --exit-code 1 https://gitlab.com/example/app.git
  vigil repo --commit 3f2a9c1 .`,
		Args: cobra.ExactArgs(1),
		RunE: f.runE(g, func(ctx context.Context, args []string) (*inventory.Inventory, error) {
			src := args[0]
			o := opts
			o.Username, o.Password = gitrepo.CredentialsFromEnv(src, g.getenv)
			co, err := gitrepo.Clone(ctx, src, o)
			if err != nil {
				return nil, err
			}
			defer co.Close()
			inv, err := scan.Dir(ctx, co.Dir, inventory.TypeRepository, scan.Options{Logger: g.logger, Skip: f.filter.Skips(), Catalog: f.catalogOptions(), Classes: f.filter.Classes()})
			if err != nil {
				return nil, err
			}
			inv.Artifact.Name = gitrepo.Redact(src)
			inv.Artifact.Commit = co.Commit
			return inv, nil
		}),
	}
	f.add(cmd)
	fl := cmd.Flags()
	fl.StringVar(&opts.Branch, "branch", "", "branch to scan (default: the remote's default branch, or HEAD)")
	fl.StringVar(&opts.Tag, "tag", "", "tag to scan")
	fl.StringVar(&opts.Commit, "commit", "", "commit to scan, full or abbreviated hash (clones the whole history)")
	cmd.MarkFlagsMutuallyExclusive("branch", "tag", "commit")
	return cmd
}
