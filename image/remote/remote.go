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

// Access says how to reach and authenticate to a registry. It is vigil's
// one registry-options type: image pulls, the registry watch, and database
// pulls and pushes all take it. The command line resolves it (flags,
// VIGIL_USERNAME/VIGIL_PASSWORD, the Docker config) and passes it down;
// nothing below reads the environment.
type Access struct {
	// Insecure allows plain HTTP and registries whose TLS certificate does
	// not verify.
	Insecure bool
	// Auth, when set, is sent to the registry.
	Auth authn.Authenticator
	// Keychain resolves credentials when Auth is nil; nil means anonymous.
	// authn.DefaultKeychain reads the Docker config file and its
	// credential helpers.
	Keychain authn.Keychain
	// Transport is the base HTTP transport; nil means the default one
	// (see RoundTripper).
	Transport http.RoundTripper
}

// Basic returns Access with a user name and password.
func Basic(username, password string) authn.Authenticator {
	return authn.FromConfig(authn.AuthConfig{Username: username, Password: password})
}

// NameOptions are the reference-parsing options for a.
func (a Access) NameOptions() []name.Option {
	if a.Insecure {
		return []name.Option{name.Insecure}
	}
	return nil
}

// Options returns the go-containerregistry options for a request with a —
// context, credentials, transport — for callers that talk to the registry
// themselves (listing repositories and tags, pushing).
func (a Access) Options(ctx context.Context) []ggcr.Option {
	o := []ggcr.Option{ggcr.WithContext(ctx), ggcr.WithUserAgent("vigil")}
	switch {
	case a.Auth != nil:
		o = append(o, ggcr.WithAuth(a.Auth))
	case a.Keychain != nil:
		o = append(o, ggcr.WithAuthFromKeychain(a.Keychain))
	}
	if a.Transport != nil || a.Insecure {
		o = append(o, ggcr.WithTransport(a.RoundTripper()))
	}
	return o
}

// RoundTripper returns the base transport of requests with a: Transport
// when set, else http.DefaultTransport (a clone that does not verify TLS
// certificates when Insecure).
func (a Access) RoundTripper() http.RoundTripper {
	switch {
	case a.Transport != nil:
		return a.Transport
	case a.Insecure:
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
		return t
	}
	return http.DefaultTransport
}

// Options configure a pull.
type Options struct {
	// Platform chooses the image of a multi-platform index.
	Platform v1.Platform
	Access
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
func Get(ctx context.Context, ref string, opts Options, extra ...ggcr.Option) (*Image, error) {
	r, err := name.ParseReference(ref, opts.NameOptions()...)
	if err != nil {
		return nil, err
	}
	desc, err := ggcr.Get(r, append(opts.Options(ctx), extra...)...)
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

// Familiar returns repo as Docker prints it: Docker Hub's registry and
// "library/" left out ("alpine", "grafana/grafana"), others in full.
func Familiar(repo name.Repository) string {
	if repo.RegistryStr() != name.DefaultRegistry {
		return repo.Name()
	}
	return strings.TrimPrefix(repo.RepositoryStr(), "library/")
}
