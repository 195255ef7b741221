package main

import (
	_ "github.com/google/go-containerregistry/pkg/v1/remote"
	_ "github.com/google/go-containerregistry/pkg/v1/daemon"
	_ "github.com/google/go-containerregistry/pkg/v1/tarball"
	_ "github.com/google/go-containerregistry/pkg/v1/layout"
	_ "github.com/spf13/cobra"
	_ "go.etcd.io/bbolt"
	_ "github.com/package-url/packageurl-go"
	_ "github.com/CycloneDX/cyclonedx-go"
	_ "github.com/spdx/tools-golang/spdx"
	_ "modernc.org/sqlite"
	_ "go.yaml.in/yaml/v3"
	_ "github.com/BurntSushi/toml"
	_ "golang.org/x/mod/semver"
	_ "golang.org/x/term"
	_ "golang.org/x/sync/errgroup"
	_ "github.com/klauspost/compress/zstd"
)

func main() {}
