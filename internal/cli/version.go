package cli

import (
	"fmt"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-scanner/vigil/vulndb"
)

func newVersionCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print vigil's version, commit and vulnerability database age",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fmt.Fprintf(g.stdout, "Version: %s\nCommit: %s\nGo: %s %s/%s\n", version, commit, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			db, err := vulndb.Open(dbDir(g))
			if err != nil {
				fmt.Fprintf(g.stdout, "Vulnerability DB: none at %s\n", dbDir(g))
				return nil
			}
			defer db.Close()
			m := db.Metadata()
			fmt.Fprintf(g.stdout, "Vulnerability DB:\n  Schema: %d\n  Built: %s (%s ago)\n  Next update: %s\n",
				m.SchemaVersion, m.BuiltAt.Format(time.RFC3339), time.Since(m.BuiltAt).Round(time.Minute), m.NextUpdate.Format(time.RFC3339))
			if p := m.Provenance; p != nil && p.Kind == vulndb.ProvenancePulled {
				fmt.Fprintf(g.stdout, "  Origin: %s (%s)\n", p.Repository, p.Manifest)
			} else if p != nil {
				fmt.Fprintf(g.stdout, "  Origin: built locally\n")
			}
			return nil
		},
	}
}
