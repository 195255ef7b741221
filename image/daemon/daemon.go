// Package daemon reads images from a container engine through the Docker
// Engine API: Docker itself, or Podman's Docker-compatible service.
//
// Only three endpoints are used: GET /_ping, GET /images/{name}/json
// (inspect) and GET /images/{name}/get (the image as a docker-save archive).
// The archive stream cannot be read at random, so it is spooled to one
// temporary file, which is unlinked at once and freed when the image is
// closed.
package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/vigil-scanner/vigil/image/archive"
	"github.com/vigil-scanner/vigil/image/internal/tarfs"
	"github.com/vigil-scanner/vigil/image/pick"
)

// DefaultDockerHost is where Docker listens unless told otherwise.
const DefaultDockerHost = "unix:///var/run/docker.sock"

// DefaultPodmanHost is rootful Podman's API socket.
const DefaultPodmanHost = "unix:///run/podman/podman.sock"

// DockerHost returns where Docker listens: $DOCKER_HOST, or else
// DefaultDockerHost. getenv looks the variable up (os.Getenv in the CLI,
// the only caller that reads the environment).
func DockerHost(getenv func(string) string) string {
	if h := getenv("DOCKER_HOST"); h != "" {
		return h
	}
	return DefaultDockerHost
}

// PodmanHosts returns where Podman's service may listen, most specific
// first: $CONTAINER_HOST, the rootless socket under $XDG_RUNTIME_DIR and
// DefaultPodmanHost. getenv looks the variables up.
func PodmanHosts(getenv func(string) string) []string {
	var hosts []string
	if h := getenv("CONTAINER_HOST"); strings.HasPrefix(h, "unix://") {
		hosts = append(hosts, h)
	}
	if d := getenv("XDG_RUNTIME_DIR"); d != "" {
		hosts = append(hosts, "unix://"+filepath.Join(d, "podman", "podman.sock"))
	}
	return append(hosts, DefaultPodmanHost)
}

// Client speaks the Docker Engine API.
type Client struct {
	host string // as given, for messages
	base string // URL prefix for requests
	http *http.Client
}

// NewClient returns a client for host: "unix:///path/to.sock", a bare socket
// path, "tcp://host:port" or "http://host:port". TLS to a tcp daemon is not
// supported.
func NewClient(host string) (*Client, error) {
	c := &Client{host: host}
	tr := &http.Transport{ResponseHeaderTimeout: time.Minute}
	switch {
	case strings.HasPrefix(host, "unix://") || strings.HasPrefix(host, "/"):
		sock := strings.TrimPrefix(host, "unix://")
		c.host = "socket " + sock
		c.base = "http://daemon"
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		}
	case strings.HasPrefix(host, "tcp://"), strings.HasPrefix(host, "http://"):
		c.base = "http://" + strings.TrimPrefix(strings.TrimPrefix(host, "tcp://"), "http://")
	default:
		return nil, fmt.Errorf("daemon host %q: want unix://, tcp:// or http://", host)
	}
	c.http = &http.Client{Transport: tr}
	return c, nil
}

// Ping checks that the daemon answers.
func (c *Client) Ping(ctx context.Context) error {
	resp, err := c.get(ctx, "/_ping")
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// Inspect is the part of GET /images/{name}/json that vigil uses.
type Inspect struct {
	ID           string `json:"Id"`
	RepoTags     []string
	RepoDigests  []string
	Os           string
	Architecture string
	Variant      string
}

// Inspect returns what the daemon knows of the image ref names.
func (c *Client) Inspect(ctx context.Context, ref string) (*Inspect, error) {
	resp, err := c.get(ctx, "/images/"+ref+"/json")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var in Inspect
	if err := json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(&in); err != nil {
		return nil, fmt.Errorf("%s: decoding image inspect: %w", c.host, err)
	}
	return &in, nil
}

// Export returns the image ref names as a docker-save tar stream.
func (c *Client) Export(ctx context.Context, ref string) (io.ReadCloser, error) {
	resp, err := c.get(ctx, "/images/"+ref+"/get")
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

func (c *Client) get(ctx context.Context, p string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base, nil)
	if err != nil {
		return nil, err
	}
	req.URL.Path = p
	resp, err := c.http.Do(req)
	if err != nil {
		var errno syscall.Errno
		if errors.As(err, &errno) {
			return nil, fmt.Errorf("%s: %w", c.host, errno)
		}
		return nil, fmt.Errorf("%s: %w", c.host, err)
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		var msg struct{ Message string }
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if json.Unmarshal(body, &msg) != nil || msg.Message == "" {
			msg.Message = strings.TrimSpace(string(body))
		}
		return nil, fmt.Errorf("%s: GET %s: %s: %s", c.host, p, resp.Status, msg.Message)
	}
	return resp, nil
}

// Image is an image read from a daemon. Close frees its spooled archive.
type Image struct {
	v1.Image
	Inspect
	fsys *tarfs.FS
}

// Close releases the temporary archive.
func (img *Image) Close() error { return img.fsys.Close() }

var imageID = regexp.MustCompile(`^(sha256:)?[a-f0-9]{12,64}$`)

// Image returns the image ref names ("alpine:3.19", an image ID). When the
// export holds several images, platform chooses.
func (c *Client) Image(ctx context.Context, ref string, platform v1.Platform) (*Image, error) {
	if _, err := name.ParseReference(ref); err != nil && !imageID.MatchString(ref) {
		return nil, fmt.Errorf("%q is neither an image reference nor an image ID", ref)
	}
	if strings.ContainsAny(ref, "?#") || strings.Contains(ref, "..") {
		return nil, fmt.Errorf("invalid image reference %q", ref)
	}
	in, err := c.Inspect(ctx, ref)
	if err != nil {
		return nil, err
	}
	rc, err := c.Export(ctx, ref)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	fsys, err := spool(rc)
	if err != nil {
		return nil, fmt.Errorf("%s: exporting %s: %w", c.host, ref, err)
	}
	img, _, err := archive.Read(fsys, pick.Want{Platform: platform})
	if err != nil {
		fsys.Close()
		return nil, fmt.Errorf("%s: exported %s: %w", c.host, ref, err)
	}
	return &Image{Image: img, Inspect: *in, fsys: fsys}, nil
}

// spool copies r to a temporary file, opens it as a tar archive and unlinks
// it as soon as it is open.
func spool(r io.Reader) (*tarfs.FS, error) {
	f, err := os.CreateTemp("", "vigil-image-*.tar")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	_, err = io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	return tarfs.Open(f.Name())
}
