// Package cli implements vigil's command line: it parses flags into the
// option structs of the packages below and calls them. It holds no scanning
// logic of its own.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/vigil-scanner/vigil/inventory"
)

// Exit codes. ExitError is used for every failure to scan; a policy
// violation exits with the code given by --exit-code or --exit-on-eol,
// which may not be ExitError.
const (
	ExitOK    = 0
	ExitError = 2
)

// Build information, set by the linker:
//
//	-ldflags "-X github.com/vigil-scanner/vigil/internal/cli.version=v1.2.3 -X …cli.commit=abc123"
var (
	version = "dev"
	commit  = "unknown"
)

// exitError carries a non-zero exit code that is not a failure (a policy
// gate that tripped).
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// globals are the flags every command shares.
type globals struct {
	cacheDir string
	quiet    bool
	debug    bool
	stdin    io.Reader
	stdout   io.Writer
	stderr   io.Writer
	logger   *slog.Logger
	// getenv reads the environment; the command line is the one place
	// vigil does.
	getenv func(string) string
}

// Main runs vigil with args and returns the process exit code.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	g := &globals{stdin: stdin, stdout: stdout, stderr: stderr, getenv: os.Getenv}
	root := newRoot(g)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var ee exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	fmt.Fprintf(stderr, "vigil: %v\n", err)
	return ExitError
}

func newRoot(g *globals) *cobra.Command {
	root := &cobra.Command{
		Use:           "vigil",
		Short:         "Find known vulnerabilities in container images, filesystems, repositories and SBOMs",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			level := slog.LevelWarn
			switch {
			case g.debug:
				level = slog.LevelDebug
			case g.quiet:
				level = slog.LevelError
			}
			g.logger = slog.New(slog.NewTextHandler(g.stderr, &slog.HandlerOptions{
				Level: level,
				// Timestamps add nothing to a command's messages.
				ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
					if len(groups) == 0 && a.Key == slog.TimeKey {
						return slog.Attr{}
					}
					return a
				},
			}))
			return nil
		},
	}
	pf := root.PersistentFlags()
	pf.StringVar(&g.cacheDir, "cache-dir", defaultCacheDir(g.getenv), "directory for the vulnerability database, downloads and the layer cache")
	pf.BoolVarP(&g.quiet, "quiet", "q", false, "print no progress and only errors")
	pf.BoolVarP(&g.debug, "debug", "d", false, "print debug logs")

	root.AddCommand(
		newImageCmd(g),
		newDirCmd(g, "fs", "Scan a project directory: lockfiles and manifests", inventory.TypeFilesystem),
		newDirCmd(g, "rootfs", "Scan an unpacked root filesystem: installed packages, as in an image", inventory.TypeRootfs),
		newRepoCmd(g),
		newSBOMCmd(g),
		newWatchCmd(g),
		newServerCmd(g),
		newDBCmd(g),
		newCleanCmd(g),
		newVersionCmd(g),
	)
	return root
}

// defaultCacheDir is $VIGIL_CACHE_DIR, else the user cache dir + /vigil.
func defaultCacheDir(getenv func(string) string) string {
	if d := getenv("VIGIL_CACHE_DIR"); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "vigil")
	}
	return filepath.Join(os.TempDir(), "vigil-cache")
}
