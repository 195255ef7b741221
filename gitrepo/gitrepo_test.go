package gitrepo

import (
	"context"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/vigil-scanner/vigil/internal/testutil"
	"github.com/vigil-scanner/vigil/inventory"
	"github.com/vigil-scanner/vigil/scan"
)

// lockfile is a minimal npm lockfile (v3) locking lodash at version.
func lockfile(version string) string {
	return `{"name": "app", "version": "1.0.0", "lockfileVersion": 3, "requires": true, "packages": {
  "": {"name": "app", "version": "1.0.0", "dependencies": {"lodash": "^4.17.0"}},
  "node_modules/lodash": {"version": "` + version + `", "resolved": "https://registry.npmjs.org/lodash/-/lodash-` + version + `.tgz"}
}}
`
}

// fixture is a repository with
//
//	main:    c1 (lodash 4.17.15, tagged v1.0.0) → c2 (4.17.20)
//	upgrade: c1 → c3 (4.17.21)
type fixture struct {
	dir        string
	c1, c2, c3 plumbing.Hash
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	dir := t.TempDir()
	repo, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{
		InitOptions: git.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName("main")},
	})
	if err != nil {
		t.Fatal(err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	sig := &object.Signature{Name: "Test", Email: "test@example.com", When: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)}
	commit := func(version string) plumbing.Hash {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, "package-lock.json"), []byte(lockfile(version)), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := wt.Add("package-lock.json"); err != nil {
			t.Fatal(err)
		}
		h, err := wt.Commit("lodash "+version, &git.CommitOptions{Author: sig})
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	f := fixture{dir: dir}
	f.c1 = commit("4.17.15")
	if _, err := repo.CreateTag("v1.0.0", f.c1, &git.CreateTagOptions{Tagger: sig, Message: "v1.0.0"}); err != nil {
		t.Fatal(err)
	}
	if err := wt.Checkout(&git.CheckoutOptions{Branch: plumbing.NewBranchReferenceName("upgrade"), Create: true}); err != nil {
		t.Fatal(err)
	}
	f.c3 = commit("4.17.21")
	if err := wt.Checkout(&git.CheckoutOptions{Branch: plumbing.NewBranchReferenceName("main")}); err != nil {
		t.Fatal(err)
	}
	f.c2 = commit("4.17.20")
	// An uncommitted change is not part of any checkout.
	if err := os.WriteFile(filepath.Join(dir, "package-lock.json"), []byte(lockfile("4.0.0")), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

// lodash clones src and returns the commit and the lodash version found.
func lodash(t *testing.T, src string, opts Options) (commit, version string) {
	t.Helper()
	co, err := Clone(context.Background(), src, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer co.Close()
	inv, err := scan.Dir(context.Background(), co.Dir, inventory.TypeRepository, scan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, res := range inv.Results {
		for _, p := range res.Packages {
			if p.Name == "lodash" {
				return co.Commit, p.Version
			}
		}
	}
	t.Fatalf("no lodash in %+v", inv.Results)
	return "", ""
}

func checkRevisions(t *testing.T, f fixture, src string, opts Options) {
	tests := []struct {
		name        string
		opts        Options
		commit      plumbing.Hash
		wantVersion string
	}{
		{"default", Options{}, f.c2, "4.17.20"},
		{"branch", Options{Branch: "upgrade"}, f.c3, "4.17.21"},
		{"tag", Options{Tag: "v1.0.0"}, f.c1, "4.17.15"},
		{"commit", Options{Commit: f.c3.String()}, f.c3, "4.17.21"},
		{"short commit", Options{Commit: f.c1.String()[:10]}, f.c1, "4.17.15"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.opts
			o.Username, o.Password = opts.Username, opts.Password
			commit, version := lodash(t, src, o)
			if commit != tt.commit.String() || version != tt.wantVersion {
				t.Errorf("got commit %s lodash %s, want %s %s", commit, version, tt.commit, tt.wantVersion)
			}
		})
	}
}

func TestLocal(t *testing.T) {
	f := newFixture(t)
	t.Run("path", func(t *testing.T) { checkRevisions(t, f, f.dir, Options{}) })
	t.Run("file URL", func(t *testing.T) { checkRevisions(t, f, "file://"+f.dir, Options{}) })
}

// TestHTTP clones over smart HTTP from git http-backend behind basic
// authentication.
func TestHTTP(t *testing.T) {
	testutil.RequireTool(t, "git")
	f := newFixture(t)
	out, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		t.Skipf("git --exec-path: %v", err)
	}
	backend := &cgi.Handler{
		Path: filepath.Join(strings.TrimSpace(string(out)), "git-http-backend"),
		Env:  []string{"GIT_PROJECT_ROOT=" + f.dir, "GIT_HTTP_EXPORT_ALL=1"},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "ci" || p != "s3cret" {
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		backend.ServeHTTP(w, r)
	}))
	defer srv.Close()
	url := srv.URL + "/.git"
	checkRevisions(t, f, url, Options{Username: "ci", Password: "s3cret"})

	_, err = Clone(context.Background(), url, Options{Username: "ci", Password: "wrong"})
	if err == nil || !strings.Contains(err.Error(), "VIGIL_GIT_TOKEN") {
		t.Errorf("clone with a wrong password: %v, want an authentication error", err)
	}
}

func TestCloneErrors(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		src  string
		opts Options
		want string
	}{
		{f.dir, Options{Branch: "a", Tag: "b"}, "at most one"},
		{f.dir, Options{Branch: "nope"}, `branch "nope"`},
		{f.dir, Options{Tag: "nope"}, `tag "nope"`},
		{f.dir, Options{Commit: "0123456789"}, `commit "0123456789"`},
		{t.TempDir(), Options{}, "opening repository"},
	}
	for _, tt := range tests {
		_, err := Clone(context.Background(), tt.src, tt.opts)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Clone(%s, %+v) = %v, want %q", tt.src, tt.opts, err, tt.want)
		}
	}
}

func TestCredentialsFromEnv(t *testing.T) {
	env := map[string]string{"GITHUB_TOKEN": "gh", "GITLAB_TOKEN": "gl"}
	getenv := func(k string) string { return env[k] }
	tests := []struct{ src, user, token string }{
		{"https://github.com/o/r", "x-access-token", "gh"},
		{"https://gitlab.com/o/r.git", "oauth2", "gl"},
		{"https://git.example.com/o/r", "", ""}, // never send a GitHub token elsewhere
		{"git@github.com:o/r.git", "", ""},
	}
	for _, tt := range tests {
		if u, tok := CredentialsFromEnv(tt.src, getenv); u != tt.user || tok != tt.token {
			t.Errorf("%s: got %q %q, want %q %q", tt.src, u, tok, tt.user, tt.token)
		}
	}
	env["VIGIL_GIT_TOKEN"], env["VIGIL_GIT_USERNAME"] = "v", "me"
	if u, tok := CredentialsFromEnv("https://git.example.com/o/r", getenv); u != "me" || tok != "v" {
		t.Errorf("VIGIL_GIT_*: got %q %q", u, tok)
	}
	if got := Redact("https://me:tok@github.com/o/r"); got != "https://github.com/o/r" {
		t.Errorf("Redact = %q", got)
	}
}
