// Package remote pulls images from a container registry (the OCI
// distribution API, as served by Docker Hub, GHCR, ECR, Harbor, registry:2…).
//
// Authentication is anonymous, basic or bearer token; the token exchange is
// go-containerregistry's. Layers are fetched only when read.
package remote

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	ggcr "github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/vigil-scanner/vigil/image/pick"
)

// Options configure a pull.
type Options struct {
	// Platform chooses the image of a multi-platform index.
	Platform v1.Platform
	// Insecure allows plain HTTP and registries whose TLS certificate does
	// not verify.
	Insecure bool
	// Username and Password, when Username is set, are sent to the
	// registry; otherwise credentials come from the Docker config file
	// ($DOCKER_CONFIG/config.json or ~/.docker/config.json, credential
	// helpers included), and else the pull is anonymous.
	Username, Password string
}

// Image is a pulled image.
type Image struct {
	v1.Image
	// Ref is the reference pulled, in canonical form.
	Ref name.Reference
	// Digest is the digest Ref resolved to in the registry: that of the
	// multi-platform index when there is one, as `docker pull` records it.
	Digest v1.Hash
}

// Get resolves ref ("alpine:3.19", "ghcr.io/o/r@sha256:…") in its registry
// and returns its image for opts.Platform.
func Get(ctx context.Context, ref string, opts Options) (*Image, error) {
	var nameOpts []name.Option
	if opts.Insecure {
		nameOpts = append(nameOpts, name.Insecure)
	}
	r, err := name.ParseReference(ref, nameOpts...)
	if err != nil {
		return nil, err
	}
	desc, err := ggcr.Get(r, RegistryOptions(ctx, opts)...)
	if err != nil {
		return nil, err
	}
	var img v1.Image
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		if err != nil {
			return nil, err
		}
		if img, _, err = pick.FromIndex(idx, pick.Want{Platform: opts.Platform}); err != nil {
			return nil, fmt.Errorf("%s: %w", r, err)
		}
	} else if img, err = desc.Image(); err != nil {
		return nil, err
	}
	return &Image{Image: img, Ref: r, Digest: desc.Digest}, nil
}

// RegistryOptions returns the go-containerregistry options a pull with
// opts uses — context, credentials, transport — for callers that talk to
// the registry themselves (listing repositories and tags).
func RegistryOptions(ctx context.Context, opts Options) []ggcr.Option {
	o := []ggcr.Option{ggcr.WithContext(ctx), ggcr.WithUserAgent("vigil")}
	if opts.Username != "" {
		o = append(o, ggcr.WithAuth(&authn.Basic{Username: opts.Username, Password: opts.Password}))
	} else {
		o = append(o, ggcr.WithAuthFromKeychain(authn.DefaultKeychain))
	}
	if opts.Insecure {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
		o = append(o, ggcr.WithTransport(t))
	}
	return o
}

// Familiar returns repo as Docker prints it: Docker Hub's registry and
// "library/" left out ("alpine", "grafana/grafana"), others in full.
func Familiar(repo name.Repository) string {
	if repo.RegistryStr() != name.DefaultRegistry {
		return repo.Name()
	}
	return strings.TrimPrefix(repo.RepositoryStr(), "library/")
}
