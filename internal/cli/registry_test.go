package cli

import (
	"slices"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/vigil-scanner/vigil/image/daemon"
)

func TestResolveAccess(t *testing.T) {
	env := map[string]string{"VIGIL_USERNAME": "envuser", "VIGIL_PASSWORD": "envpass"}
	getenv := func(k string) string { return env[k] }
	noenv := func(string) string { return "" }
	tests := []struct {
		name         string
		user, pass   string
		getenv       func(string) string
		wantUser     string
		wantKeychain bool
		wantInsecure bool
		insecureFlag bool
	}{
		{name: "flags win", user: "u", pass: "p", getenv: getenv, wantUser: "u"},
		{name: "environment", getenv: getenv, wantUser: "envuser"},
		{name: "docker config", getenv: noenv, wantKeychain: true},
		{name: "insecure", getenv: noenv, wantKeychain: true, insecureFlag: true, wantInsecure: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := resolveAccess(tt.insecureFlag, tt.user, tt.pass, tt.getenv)
			if a.Insecure != tt.wantInsecure {
				t.Errorf("Insecure = %t", a.Insecure)
			}
			if tt.wantKeychain {
				if a.Auth != nil || a.Keychain != authn.DefaultKeychain {
					t.Errorf("want the Docker keychain, got Auth=%v Keychain=%v", a.Auth, a.Keychain)
				}
				return
			}
			cfg, err := a.Auth.Authorization()
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Username != tt.wantUser {
				t.Errorf("user = %q, want %q", cfg.Username, tt.wantUser)
			}
		})
	}
}

// TestDaemonHosts: the daemon sockets come from the flags first, then from
// the environment the CLI was given (never read by package image).
func TestDaemonHosts(t *testing.T) {
	env := map[string]string{"DOCKER_HOST": "tcp://10.0.0.1:2375", "CONTAINER_HOST": "unix:///c.sock", "XDG_RUNTIME_DIR": "/run/user/7"}
	getenv := func(k string) string { return env[k] }
	if got := podmanHosts("", getenv); !slices.Equal(got, []string{"unix:///c.sock", "unix:///run/user/7/podman/podman.sock", daemon.DefaultPodmanHost}) {
		t.Errorf("podmanHosts from the environment = %q", got)
	}
	if got := podmanHosts("/p.sock", getenv); !slices.Equal(got, []string{"/p.sock"}) {
		t.Errorf("podmanHosts with --podman-host = %q", got)
	}
	if got := daemon.DockerHost(getenv); got != "tcp://10.0.0.1:2375" {
		t.Errorf("DockerHost = %q", got)
	}
	if got := daemon.DockerHost(func(string) string { return "" }); got != daemon.DefaultDockerHost {
		t.Errorf("DockerHost without DOCKER_HOST = %q", got)
	}
}
