package rust

import (
	"os"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/vigil-scanner/vigil/catalog"
	"github.com/vigil-scanner/vigil/catalog/internal/langtest"
	"github.com/vigil-scanner/vigil/internal/testutil"
)

func TestCatalog(t *testing.T) {
	res, logs := langtest.Run(t, New(), langtest.Dir("app"), catalog.Env{})
	langtest.Golden(t, "cargo", res)
	if len(res) != 1 || res[0].Target != "Cargo.lock" || res[0].Type != Type {
		t.Fatalf("results = %+v", res)
	}
	if l := logs.Lines(); len(l) > 0 {
		t.Errorf("warnings: %v", l)
	}
	var got []string
	for _, p := range res[0].Packages {
		got = append(got, langtest.Line(p))
	}
	// Without Cargo.toml, every dependency of the root is a runtime one.
	want := []string{"app@0.1.0 root", "libc@0.2.147 indirect", "rand@0.7.3 indirect", "rand@0.8.5", "serde@1.0.188"}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if p := langtest.Find(res, "serde"); !slices.Equal(p.DependsOn, []string{"rand@0.7.3"}) {
		t.Errorf("serde depends on %v", p.DependsOn)
	}
	_, logs = langtest.Run(t, New(), langtest.Dir("bad"), catalog.Env{})
	if !logs.Contains("Cargo.lock", "malformed") {
		t.Errorf("no warning for the malformed lockfile: %v", logs.Lines())
	}
}

// TestWorkspace pins the rules on a workspace: each member is a root; a
// dependency only under [dev-dependencies] (target-specific ones too) is
// dev, one also under [dependencies] or [build-dependencies] is not;
// renamed dependencies count by their crate name; git crates and crates
// of another registry than crates.io carry their origin.
func TestWorkspace(t *testing.T) {
	res, logs := langtest.Run(t, New(), langtest.Dir("ws"), catalog.Env{})
	if l := logs.Lines(); len(l) > 0 {
		t.Errorf("warnings: %v", l)
	}
	langtest.CheckGraph(t, res)
	var got []string
	for _, p := range res[0].Packages {
		got = append(got, langtest.Line(p))
	}
	want := []string{
		"assert_cmd@2.0.16 dev",
		"bstr@1.10.0 dev indirect",
		"cc@1.1.31",
		"clap@4.5.20",
		"cli@0.1.0 root",
		"core@0.1.0 root",
		"libc@0.2.161 dev indirect",
		"memchr@2.7.4 indirect",
		"mytool@0.3.0 dev indirect origin=git+https://github.com/o/mytool?rev=v0.3#0123456789abcdef0123456789abcdef01234567",
		"nix@0.29.0 dev",
		"private@1.0.0 origin=https://my-registry.example.com/index",
		"proptest@1.5.0 dev",
		"regex@1.11.0",
		"serde_json@1.0.132",
	}
	if !slices.Equal(got, want) {
		t.Errorf("packages:\n got %q\nwant %q", got, want)
	}
}

// TestReal reads bat (dev-dependencies: assert_cmd 2.2.1 and what only it
// needs are dev) and bitwarden's SDK wrapper (crates reached through git
// dependencies are reported: aes 0.9.1, argon2 0.6.0-rc.8; the git crates
// carry their origin). Counts are the lockfiles' [[package]] entries.
func TestReal(t *testing.T) {
	tests := []struct {
		dir, target     string
		packages, roots int
		want            map[string]string
	}{
		{"bat", "Cargo.lock", 317, 1, map[string]string{
			"bat@0.26.1":        "bat@0.26.1 root",
			"assert_cmd@2.2.1":  "assert_cmd@2.2.1 dev",
			"serial_test@2.0.0": "serial_test@2.0.0 dev",
			"clap@4.6.1":        "clap@4.6.1",
		}},
		{"bitwarden-server", "util/RustSdk/rust/Cargo.lock", 283, 1, map[string]string{
			"aes@0.9.1":         "aes@0.9.1 indirect",
			"argon2@0.6.0-rc.8": "argon2@0.6.0-rc.8 indirect",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			res, logs := langtest.Run(t, New(), os.DirFS(testutil.Shared(t, "data/lockfiles/"+tt.dir)), catalog.Env{})
			if l := logs.Lines(); len(l) > 0 {
				t.Errorf("warnings: %v", l)
			}
			langtest.CheckGraph(t, res)
			if len(res) != 1 || res[0].Target != tt.target {
				t.Fatalf("results: %d", len(res))
			}
			got := map[string]string{}
			roots, origins := 0, 0
			for _, p := range res[0].Packages {
				got[p.ID] = langtest.Line(p)
				if p.Root {
					roots++
				}
				if p.Origin != "" {
					origins++
					if !strings.HasPrefix(p.Origin, "git+https://github.com/bitwarden/sdk-internal.git") {
						t.Errorf("%s: origin %s", p.ID, p.Origin)
					}
				}
			}
			if len(res[0].Packages) != tt.packages || roots != tt.roots {
				t.Errorf("%d packages, %d roots; want %d, %d", len(res[0].Packages), roots, tt.packages, tt.roots)
			}
			for id, want := range tt.want {
				if got[id] != want {
					t.Errorf("%s: %q, want %q", id, got[id], want)
				}
			}
		})
	}
}

func FuzzCargoLock(f *testing.F) {
	ws := fstest.MapFS{
		"cli/Cargo.toml":  {Data: langtest.Read(f, "testdata/ws/cli/Cargo.toml")},
		"core/Cargo.toml": {Data: langtest.Read(f, "testdata/ws/core/Cargo.toml")},
	}
	langtest.FuzzFile(f, New(), "Cargo.lock", ws, "testdata/*/Cargo.lock")
}

func FuzzCargoToml(f *testing.F) {
	lock := fstest.MapFS{"Cargo.lock": {Data: langtest.Read(f, "testdata/ws/Cargo.lock")}}
	langtest.FuzzFile(f, New(), "cli/Cargo.toml", lock, "testdata/ws/*/Cargo.toml")
}
