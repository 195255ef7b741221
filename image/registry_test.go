package image_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	ggcrremote "github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/vigil-scanner/vigil/image"
	"github.com/vigil-scanner/vigil/image/remote"
	"github.com/vigil-scanner/vigil/internal/testutil/regtest"
)

func push(t *testing.T, ref string, img v1.Image, auth authn.Authenticator) {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := ggcrremote.Write(r, img, ggcrremote.WithAuth(auth)); err != nil {
		t.Fatal(err)
	}
}

func TestOpenRegistry(t *testing.T) {
	reg := regtest.Start(t, regtest.Options{}).Host
	img := newImage(t, "linux/amd64", gz, "pushed")
	push(t, reg+"/test/a:1", img, authn.Anonymous)
	digest := digestOf(t, img)

	amd, arm := newImage(t, "linux/amd64", zst, "amd"), newImage(t, "linux/arm64", gz, "arm")
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: amd, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}}},
	)
	multi, _ := name.ParseReference(reg + "/test/multi:2")
	if err := ggcrremote.WriteIndex(multi, idx); err != nil {
		t.Fatal(err)
	}
	idxDigest, _ := idx.Digest()

	tests := []struct {
		name, ref, platform string
		wantOS              string
		wantDigests         []string
		wantTags            []string
		wantErr             string
	}{
		{name: "by tag", ref: reg + "/test/a:1", wantOS: "ID=pushed\n",
			wantDigests: []string{reg + "/test/a@" + digest}, wantTags: []string{reg + "/test/a:1"}},
		{name: "by digest", ref: reg + "/test/a@" + digest, wantOS: "ID=pushed\n",
			wantDigests: []string{reg + "/test/a@" + digest}},
		{name: "index arm64", ref: reg + "/test/multi:2", platform: "linux/arm64", wantOS: "ID=arm\n",
			wantDigests: []string{reg + "/test/multi@" + idxDigest.String()}, wantTags: []string{reg + "/test/multi:2"}},
		{name: "index amd64", ref: reg + "/test/multi:2", platform: "linux/amd64", wantOS: "ID=amd\n",
			wantDigests: []string{reg + "/test/multi@" + idxDigest.String()}, wantTags: []string{reg + "/test/multi:2"}},
		{name: "index missing platform", ref: reg + "/test/multi:2", platform: "linux/ppc64le",
			wantErr: "no matching image for platform linux/ppc64le; found: " + digestOf(t, amd) + " [linux/amd64]; " + digestOf(t, arm) + " [linux/arm64/v8]"},
		{name: "unknown tag", ref: reg + "/test/a:nope", wantErr: "MANIFEST_UNKNOWN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := image.Open(context.Background(), tt.ref, image.Options{Sources: []string{"remote"}, Platform: tt.platform})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "remote: ") {
					t.Fatalf("error = %v, want one from remote containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer got.Close()
			if s := osRelease(t, got); s != tt.wantOS {
				t.Errorf("os-release = %q, want %q", s, tt.wantOS)
			}
			if !slices.Equal(got.RepoDigests, tt.wantDigests) || !slices.Equal(got.RepoTags, tt.wantTags) {
				t.Errorf("RepoDigests, RepoTags = %q, %q; want %q, %q", got.RepoDigests, got.RepoTags, tt.wantDigests, tt.wantTags)
			}
		})
	}
}

func TestOpenRegistryAuth(t *testing.T) {
	reg := regtest.Start(t, regtest.Options{User: "vigil", Password: "s3cret"}).Host
	img := newImage(t, "linux/amd64", gz, "private")
	push(t, reg+"/private/a:1", img, &authn.Basic{Username: "vigil", Password: "s3cret"})
	ref := reg + "/private/a:1"

	// No Docker config of the user's may leak into the test.
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("DOCKER_CONFIG", filepath.Join(home, "nonexistent"))
	t.Setenv("XDG_RUNTIME_DIR", home)
	t.Setenv("VIGIL_USERNAME", "")
	t.Setenv("VIGIL_PASSWORD", "")

	open := func(t *testing.T, opts image.Options) (*image.Image, error) {
		opts.Sources = []string{"remote"}
		return image.Open(context.Background(), ref, opts)
	}
	ok := func(t *testing.T, img *image.Image, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		defer img.Close()
		if s := osRelease(t, img); s != "ID=private\n" {
			t.Errorf("os-release = %q", s)
		}
	}
	t.Run("anonymous", func(t *testing.T) {
		_, err := open(t, image.Options{})
		if err == nil || !strings.Contains(err.Error(), "UNAUTHORIZED") {
			t.Fatalf("error = %v, want UNAUTHORIZED", err)
		}
	})
	t.Run("options", func(t *testing.T) {
		img, err := open(t, image.Options{Registry: remote.Access{Auth: remote.Basic("vigil", "s3cret")}})
		ok(t, img, err)
	})
	t.Run("environment is not read", func(t *testing.T) {
		// Credentials are resolved by the command line; the library
		// reads no environment variables.
		t.Setenv("VIGIL_USERNAME", "vigil")
		t.Setenv("VIGIL_PASSWORD", "s3cret")
		_, err := open(t, image.Options{})
		if err == nil || !strings.Contains(err.Error(), "UNAUTHORIZED") {
			t.Fatalf("error = %v, want UNAUTHORIZED", err)
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		_, err := open(t, image.Options{Registry: remote.Access{Auth: remote.Basic("vigil", "wrong")}})
		if err == nil || !strings.Contains(err.Error(), "UNAUTHORIZED") {
			t.Fatalf("error = %v, want UNAUTHORIZED", err)
		}
	})
	t.Run("docker config", func(t *testing.T) {
		dir := t.TempDir()
		auth := base64.StdEncoding.EncodeToString([]byte("vigil:s3cret"))
		writeFile(t, filepath.Join(dir, "config.json"), fmt.Appendf(nil, `{"auths":{%q:{"auth":%q}}}`, reg, auth))
		t.Setenv("DOCKER_CONFIG", dir)
		img, err := open(t, image.Options{Registry: remote.Access{Keychain: authn.DefaultKeychain}})
		ok(t, img, err)
	})
}
