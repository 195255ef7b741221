package cli

import (
	"context"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/vigil-scanner/vigil/baseimage"
	"github.com/vigil-scanner/vigil/image/pick"
	"github.com/vigil-scanner/vigil/image/remote"
)

// baseFlags are the image command's base-image flags.
type baseFlags struct {
	images  []string
	updates string
}

// baseImageCacheDir keeps the inventories of base image candidates.
func baseImageCacheDir(g *globals) string { return filepath.Join(g.cacheDir, "base-images") }

func (f *baseFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.updates, "base-updates", "", "look for newer tags of the base image's line that remove findings: a repository (registry/repo) whose tags are read, or a directory of vigil JSON reports of base images")
	fl.StringArrayVar(&f.images, "base-images", nil, "known base images, matched by layers: a directory of vigil JSON reports of images, or a repository whose tags are read (registry/repo); repeatable")
}

// known loads the base images the flags name, for an image of platform
// ("linux/amd64").
func (f *baseFlags) known(ctx context.Context, g *globals, access remote.Access, platform string) (*baseimage.Known, error) {
	if len(f.images) == 0 {
		return nil, nil
	}
	p, err := pick.ParsePlatform(platform)
	if err != nil {
		return nil, err
	}
	k := &baseimage.Known{}
	for _, src := range f.images {
		var imgs []baseimage.KnownImage
		if st, err := os.Stat(src); err == nil && st.IsDir() {
			imgs, err = baseimage.LoadDir(src)
			if err != nil {
				return nil, err
			}
		} else {
			imgs, err = baseimage.FromRegistry(ctx, src, baseimage.RegistryOptions{Access: access, Platform: p, Logger: g.logger})
			if err != nil {
				return nil, err
			}
		}
		k.Add(imgs...)
	}
	return k, nil
}
