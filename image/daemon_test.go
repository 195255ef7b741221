package image_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-scanner/vigil/image"
	"github.com/vigil-scanner/vigil/image/daemon"
	"github.com/vigil-scanner/vigil/internal/testutil"
)

// startPodman runs Podman's Docker-compatible API service with its storage
// in a temporary directory, loads archive into it, and returns the path of
// the service's socket, which lies at podman/podman.sock under the returned
// runtime directory.
func startPodman(t *testing.T, archive string) (sock, runtimeDir string) {
	t.Helper()
	bin := testutil.RequireTool(t, "podman")
	if os.Geteuid() != 0 {
		t.Skip("the podman test runs the service as root")
	}
	dir := t.TempDir()
	runtimeDir = filepath.Join(dir, "xdg")
	sock = filepath.Join(runtimeDir, "podman", "podman.sock")
	if err := os.MkdirAll(filepath.Dir(sock), 0o700); err != nil {
		t.Fatal(err)
	}
	podman := func(args ...string) *exec.Cmd {
		base := []string{
			"--root", filepath.Join(dir, "root"), "--runroot", filepath.Join(dir, "run"),
			"--tmpdir", filepath.Join(dir, "tmp"), "--storage-driver", "vfs",
			"--cgroup-manager", "cgroupfs", "--events-backend", "file",
		}
		cmd := exec.Command(bin, append(base, args...)...)
		cmd.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+runtimeDir, "XDG_CONFIG_HOME="+filepath.Join(dir, "config"))
		return cmd
	}
	if out, err := podman("load", "-i", archive).CombinedOutput(); err != nil {
		t.Fatalf("podman load: %v\n%s", err, out)
	}
	svc := podman("system", "service", "--time=0", "unix://"+sock)
	logf, err := os.Create(filepath.Join(dir, "service.log"))
	if err != nil {
		t.Fatal(err)
	}
	svc.Stdout, svc.Stderr = logf, logf
	svc.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := svc.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// The service may start helpers (conmon, catatonit); end its group.
		syscall.Kill(-svc.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { svc.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			syscall.Kill(-svc.Process.Pid, syscall.SIGKILL)
			<-done
		}
		logf.Close()
	})
	client := &http.Client{Transport: &http.Transport{DialContext: unixDialer(sock)}}
	for deadline := time.Now().Add(30 * time.Second); ; {
		resp, err := client.Get("http://podman/_ping")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logf.Name())
			t.Fatalf("podman service did not start: %v\n%s", err, log)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return sock, runtimeDir
}

func TestOpenPodman(t *testing.T) {
	img := newImage(t, "linux/amd64", gz, "podman")
	archive := filepath.Join(t.TempDir(), "a.tar")
	writeDockerSave(t, archive, false, saved{[]string{"vigil.test/podman:1"}, img})
	sock, runtimeDir := startPodman(t, archive)

	check := func(t *testing.T, got *image.Image, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		defer got.Close()
		if s := osRelease(t, got); s != "ID=podman\n" {
			t.Errorf("os-release = %q", s)
		}
		if !slices.Contains(got.RepoTags, "vigil.test/podman:1") {
			t.Errorf("RepoTags = %q, want vigil.test/podman:1 among them", got.RepoTags)
		}
		if got.Name != "vigil.test/podman:1" || got.Platform != "linux/amd64" {
			t.Errorf("Name, Platform = %q, %q", got.Name, got.Platform)
		}
		sameImage(t, got, img)
	}
	ctx := context.Background()
	t.Run("docker host option", func(t *testing.T) {
		got, err := image.Open(ctx, "vigil.test/podman:1", image.Options{Sources: []string{"docker"}, DockerHost: "unix://" + sock})
		check(t, got, err)
	})
	t.Run("podman socket option", func(t *testing.T) {
		got, err := image.Open(ctx, "vigil.test/podman:1", image.Options{Sources: []string{"podman"}, PodmanHosts: []string{"unix://" + sock}})
		check(t, got, err)
	})
	t.Run("podman rootless socket from the environment", func(t *testing.T) {
		env := map[string]string{"XDG_RUNTIME_DIR": runtimeDir}
		hosts := daemon.PodmanHosts(func(k string) string { return env[k] })
		got, err := image.Open(ctx, "vigil.test/podman:1", image.Options{Sources: []string{"podman"}, PodmanHosts: hosts})
		check(t, got, err)
	})
	t.Run("by image ID", func(t *testing.T) {
		id, err := img.ConfigName()
		if err != nil {
			t.Fatal(err)
		}
		got, err := image.Open(ctx, id.String(), image.Options{Sources: []string{"podman"}, PodmanHosts: []string{sock}})
		if err != nil {
			t.Fatal(err)
		}
		defer got.Close()
		sameImage(t, got, img)
	})
	t.Run("missing image", func(t *testing.T) {
		_, err := image.Open(ctx, "vigil.test/none:1", image.Options{Sources: []string{"docker", "podman"}, DockerHost: "unix://" + sock, PodmanHosts: []string{sock}})
		var nf *image.NotFoundError
		if !errors.As(err, &nf) || len(nf.Sources) != 2 {
			t.Fatalf("error = %v, want a NotFoundError from two sources", err)
		}
		for _, s := range nf.Sources {
			if !strings.Contains(s.Error(), "404") {
				t.Errorf("%s answered %q, want a 404", s.Source, s.Err)
			}
		}
	})
}

// TestOpenSourceErrors checks that when no source has the image the error
// says what each one answered.
func TestOpenSourceErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := image.Open(context.Background(), "127.0.0.1:1/x:1", image.Options{DockerHost: "unix://" + filepath.Join(dir, "docker.sock"), PodmanHosts: []string{filepath.Join(dir, "podman.sock")}})
	if err == nil {
		t.Fatal("Open succeeded")
	}
	for _, want := range []string{
		"image 127.0.0.1:1/x:1 not found: ",
		"docker: socket " + filepath.Join(dir, "docker.sock") + ": no such file or directory; ",
		"podman: socket " + filepath.Join(dir, "podman.sock") + ": no such file or directory; ",
		"remote: ",
		"connection refused",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}
