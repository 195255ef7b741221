package cli

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/vigil-scanner/vigil/server"
)

func newServerCmd(g *globals) *cobra.Command {
	var config string
	cmd := &cobra.Command{
		Use:   "server --config FILE",
		Short: "Run the vigil server: watch registries, keep findings, alert once per finding, serve the API",
		Long: `vigil server watches the registries in its configuration continuously: it lists them on a
schedule and on push notifications, scans each new image digest once, keeps every inventory
and finding in its store (SQLite by default, PostgreSQL to run several servers), re-matches
every stored inventory when the vulnerability database changes, delivers each new finding
once per alert route, and serves a JSON API (docs/server.md, docs/openapi.yaml).`,
		Example: `  vigil server --config /etc/vigil/vigil.yaml
  vigil server token --name ci --scope admin`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if config == "" {
				return fmt.Errorf("--config is required")
			}
			cfg, err := server.LoadConfig(config)
			if err != nil {
				return err
			}
			s, err := server.New(cmd.Context(), cfg, server.Options{LookupEnv: os.LookupEnv, CacheDir: g.cacheDir, Logger: serverLogger(g), Version: version})
			if err != nil {
				return err
			}
			defer s.Close()
			return s.Run(cmd.Context())
		},
	}
	cmd.Flags().StringVarP(&config, "config", "c", "", "configuration file (YAML; docs/server.md)")
	cmd.AddCommand(newServerTokenCmd(g), newServerCheckCmd(g))
	return cmd
}

func newServerCheckCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "check FILE",
		Short: "Check a server configuration file and exit",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := server.LoadConfig(args[0]); err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "%s: ok\n", args[0])
			return nil
		},
	}
}

func newServerTokenCmd(g *globals) *cobra.Command {
	var name, scope, hashFile string
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Make an API token: prints the token once, and the hash for the configuration",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if scope != server.ScopeRead && scope != server.ScopeAdmin {
				return fmt.Errorf("--scope %q: want read or admin", scope)
			}
			b := make([]byte, 32)
			rand.Read(b)
			tok := "vgl_" + base64.RawURLEncoding.EncodeToString(b)
			hash := server.HashToken(tok)
			if hashFile != "" {
				if err := os.WriteFile(hashFile, []byte(hash+"\n"), 0o600); err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "token: %s\n# configuration:\ntokens:\n  - {name: %s, scope: %s, hashFile: %s}\n", tok, name, scope, hashFile)
				return nil
			}
			fmt.Fprintf(g.stdout, "token: %s\n# configuration:\ntokens:\n  - {name: %s, scope: %s, hash: %q}\n", tok, name, scope, hash)
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "ci", "the token's name, shown in logs")
	cmd.Flags().StringVar(&scope, "scope", server.ScopeRead, "read (queries) or admin (also scans and notifications)")
	cmd.Flags().StringVar(&hashFile, "hash-file", "", "write the hash to this file (mode 0600) for hashFile:")
	return cmd
}

// serverLogger logs at info level unless --quiet or --debug.
func serverLogger(g *globals) *slog.Logger {
	if g.quiet || g.debug {
		return g.logger
	}
	return slog.New(slog.NewTextHandler(g.stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
}
