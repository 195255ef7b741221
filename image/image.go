// Package image opens container images from wherever they are: a file or
// directory given with --input (docker-save archive, OCI layout, OCI
// archive), a local Docker or Podman daemon, or a registry.
//
// Every source yields a go-containerregistry v1.Image — layers base first,
// config with history, manifest — so nothing downstream knows where an image
// came from. The sources live in subpackages: archive (docker-save format),
// layout (OCI layouts), daemon (Docker Engine API) and remote (registries);
// pick chooses among several images.
package image

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/vigil-scanner/vigil/image/archive"
	"github.com/vigil-scanner/vigil/image/daemon"
	"github.com/vigil-scanner/vigil/image/internal/tarfs"
	"github.com/vigil-scanner/vigil/image/layout"
	"github.com/vigil-scanner/vigil/image/pick"
	"github.com/vigil-scanner/vigil/image/remote"
)

// Image is an opened image and what is known of its names.
type Image struct {
	v1.Image
	Name        string   // what the user asked for (ref or path)
	RepoDigests []string // "registry/repo@sha256:…" when known
	RepoTags    []string
	Platform    string // "linux/amd64", from the config
	// DigestsVerified is set when the source checks each layer's bytes
	// against the digest the manifest gives, as it delivers them: a
	// registry (go-containerregistry verifies every blob it downloads).
	// The layers of archives, layouts and daemon exports are files whose
	// digests the image's own manifest claims.
	DigestsVerified bool

	closer io.Closer
}

// Close releases files the image holds open (an --input archive, a daemon
// export spooled to a temporary file). The image must not be read after.
func (img *Image) Close() error {
	if img.closer == nil {
		return nil
	}
	return img.closer.Close()
}

// Source names, the values of Options.Sources.
const (
	SourceDocker = "docker"
	SourcePodman = "podman"
	SourceRemote = "remote"
)

// DefaultSources is the order sources are tried in when Options.Sources is
// empty.
var DefaultSources = []string{SourceDocker, SourcePodman, SourceRemote}

// Options say where and how to look for an image.
type Options struct {
	// Input is a path to read instead of resolving a reference: a
	// docker-save tar (plain or gzip-compressed), an OCI layout directory,
	// or an OCI archive (a layout in a tar, plain or gzip-compressed).
	// The reference, if given, then chooses among several images in it.
	Input string
	// Sources is the order in which a reference is looked for; values are
	// "docker", "podman" and "remote". Empty means DefaultSources.
	Sources []string
	// Platform is "os/arch[/variant]"; it chooses within multi-platform
	// indexes and archives. Empty means linux on the host's architecture.
	Platform string
	// Registry says how to reach and authenticate to registries.
	Registry remote.Access
	// DockerHost is the Docker daemon to ask ("unix:///var/run/docker.sock",
	// "tcp://host:2375"); empty means daemon.DefaultDockerHost. The CLI
	// fills it from --docker-host or $DOCKER_HOST (daemon.DockerHost):
	// this package reads no environment.
	DockerHost string
	// PodmanHosts are Podman API sockets to try in order; empty means
	// daemon.DefaultPodmanHost. The CLI fills them from --podman-host or
	// the environment (daemon.PodmanHosts).
	PodmanHosts []string
	// Logger receives warnings and which source answered; nil discards.
	Logger *slog.Logger
}

// Open returns the image ref names, or the one in opts.Input. Without
// Input, the sources in opts.Sources are tried in order and the first that
// has the image wins; when none has it, the error says what each answered.
func Open(ctx context.Context, ref string, opts Options) (*Image, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	platform, err := pick.ParsePlatform(opts.Platform)
	if err != nil {
		return nil, err
	}
	for _, src := range opts.Sources {
		if !slices.Contains(DefaultSources, src) {
			return nil, fmt.Errorf("unknown image source %q (want %s)", src, strings.Join(DefaultSources, ", "))
		}
	}
	var img *Image
	if opts.Input != "" {
		img, err = openInput(opts.Input, pick.Want{Ref: ref, Platform: platform})
	} else {
		img, err = openRef(ctx, ref, opts, platform, log)
	}
	if err != nil {
		return nil, err
	}
	if err := img.describe(); err != nil {
		img.Close()
		return nil, fmt.Errorf("%s: %w", img.Name, err)
	}
	if opts.Platform != "" && img.Platform != "" {
		if p, err := v1.ParsePlatform(img.Platform); err == nil && !p.Satisfies(platform) {
			log.Warn("image platform differs from the one asked for", "image", img.Name, "platform", img.Platform, "want", platform.String())
		}
	}
	return img, nil
}

// describe fills in the platform from the config.
func (img *Image) describe() error {
	cfg, err := img.ConfigFile()
	if err != nil {
		return err
	}
	if p := cfg.Platform(); p != nil {
		img.Platform = p.String()
	}
	return nil
}

func openInput(path string, w pick.Want) (*Image, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	img := &Image{Name: path}
	var fsys fs.FS
	if st.IsDir() {
		fsys = os.DirFS(path)
	} else {
		t, err := tarfs.Open(path)
		if err != nil {
			return nil, err
		}
		fsys, img.closer = t, t
	}
	if err := img.read(fsys, w); err != nil {
		img.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return img, nil
}

// read takes the image w selects from a docker-save archive or an OCI
// layout held in fsys.
func (img *Image) read(fsys fs.FS, w pick.Want) error {
	var err error
	switch {
	case exists(fsys, archive.ManifestFile):
		img.Image, img.RepoTags, err = archive.Read(fsys, w)
		return err
	case exists(fsys, "index.json"):
		idx, err := layout.Index(fsys)
		if err != nil {
			return err
		}
		var desc v1.Descriptor
		if img.Image, desc, err = pick.FromIndex(idx, w); err != nil {
			return err
		}
		img.RepoTags = pick.Tags(desc)
		return nil
	}
	return errors.New("neither a docker-save archive (no manifest.json) nor an OCI layout (no index.json)")
}

func exists(fsys fs.FS, name string) bool {
	_, err := fs.Stat(fsys, name)
	return err == nil
}

// SourceError is what one source answered when asked for an image.
type SourceError struct {
	Source string
	Err    error
}

func (e *SourceError) Error() string { return e.Source + ": " + e.Err.Error() }
func (e *SourceError) Unwrap() error { return e.Err }

// NotFoundError is returned when no source has the image.
type NotFoundError struct {
	Ref     string
	Sources []*SourceError
}

func (e *NotFoundError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "image %s not found: ", e.Ref)
	for i, s := range e.Sources {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(s.Error())
	}
	return b.String()
}

// Unwrap returns each source's error.
func (e *NotFoundError) Unwrap() []error {
	errs := make([]error, len(e.Sources))
	for i, s := range e.Sources {
		errs[i] = s
	}
	return errs
}

func openRef(ctx context.Context, ref string, opts Options, platform v1.Platform, log *slog.Logger) (*Image, error) {
	if ref == "" {
		return nil, errors.New("no image reference or input given")
	}
	sources := opts.Sources
	if len(sources) == 0 {
		sources = DefaultSources
	}
	notFound := &NotFoundError{Ref: ref}
	for _, src := range sources {
		var img *Image
		var err error
		switch src {
		case SourceDocker:
			host := cmp.Or(opts.DockerHost, daemon.DefaultDockerHost)
			img, err = fromDaemon(ctx, ref, []string{host}, platform)
		case SourcePodman:
			hosts := opts.PodmanHosts
			if len(hosts) == 0 {
				hosts = []string{daemon.DefaultPodmanHost}
			}
			img, err = fromDaemon(ctx, ref, hosts, platform)
		case SourceRemote:
			img, err = fromRemote(ctx, ref, opts, platform)
		default:
			return nil, fmt.Errorf("unknown image source %q (want %s)", src, strings.Join(DefaultSources, ", "))
		}
		if err == nil {
			log.Debug("image found", "ref", ref, "source", src)
			return img, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		log.Debug("image not found", "ref", ref, "source", src, "err", err)
		notFound.Sources = append(notFound.Sources, &SourceError{Source: src, Err: err})
	}
	return nil, notFound
}

// fromDaemon asks the first of hosts that answers a ping.
func fromDaemon(ctx context.Context, ref string, hosts []string, platform v1.Platform) (*Image, error) {
	var errs []error
	for _, host := range hosts {
		c, err := daemon.NewClient(host)
		if err == nil {
			err = c.Ping(ctx)
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		d, err := c.Image(ctx, ref, platform)
		if err != nil {
			return nil, err
		}
		return &Image{
			Image:       d.Image,
			Name:        ref,
			RepoDigests: d.RepoDigests,
			RepoTags:    d.RepoTags,
			closer:      d,
		}, nil
	}
	return nil, joinErrors(errs)
}

func joinErrors(errs []error) error {
	if len(errs) == 1 {
		return errs[0]
	}
	msgs := make([]string, len(errs))
	for i, err := range errs {
		msgs[i] = err.Error()
	}
	return errors.New(strings.Join(msgs, ", "))
}

func fromRemote(ctx context.Context, ref string, opts Options, platform v1.Platform) (*Image, error) {
	r, err := remote.Get(ctx, ref, remote.Options{Platform: platform, Access: opts.Registry})
	if err != nil {
		return nil, err
	}
	repo := remote.Familiar(r.Ref.Context())
	img := &Image{
		Image:           r.Image,
		Name:            ref,
		RepoDigests:     []string{repo + "@" + r.Digest.String()},
		DigestsVerified: true,
	}
	if t, ok := r.Ref.(name.Tag); ok {
		img.RepoTags = []string{repo + ":" + t.TagStr()}
	}
	return img, nil
}
