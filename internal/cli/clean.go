package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/vigil-scanner/vigil/layerfs/diskcache"
)

// Values of --cache-backend, as Trivy names them.
const (
	cacheBackendFS     = "fs"
	cacheBackendMemory = "memory"
)

// layerCacheDir is where image scans keep what they took from each layer.
func layerCacheDir(g *globals) string { return filepath.Join(g.cacheDir, "layers") }

// layerCache returns the layer cache that --cache-backend asks for, or nil.
func layerCache(g *globals, backend string) (*diskcache.Dir, error) {
	switch backend {
	case cacheBackendFS:
		return diskcache.New(layerCacheDir(g), diskcache.DefaultMaxSize), nil
	case cacheBackendMemory:
		return nil, nil // a scan reads each layer once: nothing to keep
	default:
		return nil, fmt.Errorf("--cache-backend %q: want %s or %s", backend, cacheBackendFS, cacheBackendMemory)
	}
}

func newCleanCmd(g *globals) *cobra.Command {
	var scanCache, vulnDB, all bool
	cmd := &cobra.Command{
		Use:   "clean",
		Short: "Remove cached files: the layer cache, the vulnerability database, or all",
		Example: `  vigil clean --scan-cache
  vigil clean --all`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var dirs []string
			if scanCache || all {
				dirs = append(dirs, layerCacheDir(g), baseImageCacheDir(g))
			}
			if vulnDB || all {
				dirs = append(dirs, dbDir(g))
			}
			if all {
				dirs = append(dirs, filepath.Join(g.cacheDir, "downloads"))
			}
			if len(dirs) == 0 {
				return errors.New("say what to remove: --scan-cache, --vuln-db or --all")
			}
			for _, d := range dirs {
				if err := os.RemoveAll(d); err != nil {
					return err
				}
				if !g.quiet {
					fmt.Fprintf(g.stderr, "removed %s\n", d)
				}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&scanCache, "scan-cache", false, "remove the layer cache (CACHE_DIR/layers) and the base image candidates' inventories (CACHE_DIR/base-images)")
	fl.BoolVar(&vulnDB, "vuln-db", false, "remove the vulnerability database (CACHE_DIR/db)")
	fl.BoolVarP(&all, "all", "a", false, "remove the layer cache, the database and feed downloads")
	return cmd
}
