// Package gitrepo checks out a git repository into a temporary directory
// for scanning, with go-git (no git binary needed).
//
// A remote repository (https://, http://, ssh://, git@host:path) is cloned:
// shallowly (depth 1, one branch) at the default branch, Options.Branch or
// Options.Tag; fully when Options.Commit is asked for, since a commit cannot
// be fetched by hash alone from every server. Submodules are not fetched.
//
// A local repository (a path, or a file:// URL) is never cloned: its
// committed tree at HEAD, or at the requested branch, tag or commit, is
// written to a temporary directory. Uncommitted changes are therefore not
// scanned; scan the working tree itself as a filesystem for that.
package gitrepo

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
)

// Options choose the revision to check out and the credentials to use.
type Options struct {
	// Branch, Tag and Commit name the revision; at most one may be set.
	// None means the remote's default branch, or HEAD of a local
	// repository. Commit is a full or abbreviated hash.
	Branch, Tag, Commit string
	// Username and Password are sent as HTTP basic authentication to an
	// http(s) remote when Password is set (a token goes in Password). See
	// CredentialsFromEnv.
	Username, Password string
}

// Checkout is a repository written to a temporary directory.
type Checkout struct {
	// Dir is the directory holding the checked-out files.
	Dir string
	// Commit is the full hash of the checked-out commit.
	Commit string
}

// Close removes the checked-out files.
func (c *Checkout) Close() error { return os.RemoveAll(c.Dir) }

// Clone checks out the repository src, a URL or a local path, into a new
// temporary directory. The caller must Close the result.
func Clone(ctx context.Context, src string, opts Options) (*Checkout, error) {
	n := 0
	for _, s := range []string{opts.Branch, opts.Tag, opts.Commit} {
		if s != "" {
			n++
		}
	}
	if n > 1 {
		return nil, errors.New("give at most one of branch, tag and commit")
	}
	dir, err := os.MkdirTemp("", "vigil-repo-")
	if err != nil {
		return nil, err
	}
	co := &Checkout{Dir: dir}
	if local, ok := localPath(src); ok {
		err = co.export(ctx, local, opts)
	} else {
		err = co.clone(ctx, src, opts)
	}
	if err != nil {
		co.Close()
		return nil, fmt.Errorf("%s: %w", Redact(src), err)
	}
	return co, nil
}

// localPath returns the directory src names when it is a file:// URL or an
// existing directory.
func localPath(src string) (string, bool) {
	if rest, ok := strings.CutPrefix(src, "file://"); ok {
		return rest, true
	}
	if fi, err := os.Stat(src); err == nil && fi.IsDir() {
		return src, true
	}
	return "", false
}

func (c *Checkout) clone(ctx context.Context, src string, opts Options) error {
	co := &git.CloneOptions{URL: src, Tags: git.NoTags}
	if opts.Password != "" && isHTTP(src) {
		co.Auth = &githttp.BasicAuth{Username: opts.Username, Password: opts.Password}
	}
	switch {
	case opts.Branch != "":
		co.ReferenceName = plumbing.NewBranchReferenceName(opts.Branch)
	case opts.Tag != "":
		co.ReferenceName = plumbing.NewTagReferenceName(opts.Tag)
	}
	if opts.Commit == "" {
		co.Depth, co.SingleBranch = 1, true
	} else {
		co.NoCheckout = true
	}
	repo, err := git.PlainCloneContext(ctx, c.Dir, false, co)
	if err != nil {
		if errors.Is(err, transport.ErrAuthenticationRequired) || errors.Is(err, transport.ErrAuthorizationFailed) {
			return fmt.Errorf("cloning: %w (set VIGIL_GIT_USERNAME and VIGIL_GIT_TOKEN)", err)
		}
		return fmt.Errorf("cloning: %w", err)
	}
	if opts.Commit != "" {
		hash, err := resolveCommit(repo, opts.Commit)
		if err != nil {
			return err
		}
		wt, err := repo.Worktree()
		if err != nil {
			return err
		}
		if err := wt.Checkout(&git.CheckoutOptions{Hash: hash, Force: true}); err != nil {
			return fmt.Errorf("checking out %s: %w", hash, err)
		}
		c.Commit = hash.String()
		return nil
	}
	head, err := repo.Head()
	if err != nil {
		return fmt.Errorf("reading HEAD: %w", err)
	}
	c.Commit = head.Hash().String()
	return nil
}

// export writes the tree of the requested commit of the local repository
// at path to c.Dir.
func (c *Checkout) export(ctx context.Context, path string, opts Options) error {
	repo, err := git.PlainOpenWithOptions(path, &git.PlainOpenOptions{DetectDotGit: true})
	if err != nil {
		return fmt.Errorf("opening repository: %w", err)
	}
	var hash plumbing.Hash
	switch {
	case opts.Branch != "":
		ref, err := repo.Reference(plumbing.NewBranchReferenceName(opts.Branch), true)
		if err != nil {
			return fmt.Errorf("branch %q: %w", opts.Branch, err)
		}
		hash = ref.Hash()
	case opts.Tag != "":
		ref, err := repo.Reference(plumbing.NewTagReferenceName(opts.Tag), true)
		if err != nil {
			return fmt.Errorf("tag %q: %w", opts.Tag, err)
		}
		hash = ref.Hash()
		if tag, err := repo.TagObject(hash); err == nil { // annotated
			cm, err := tag.Commit()
			if err != nil {
				return fmt.Errorf("tag %q: %w", opts.Tag, err)
			}
			hash = cm.Hash
		}
	case opts.Commit != "":
		if hash, err = resolveCommit(repo, opts.Commit); err != nil {
			return err
		}
	default:
		head, err := repo.Head()
		if err != nil {
			return fmt.Errorf("reading HEAD: %w", err)
		}
		hash = head.Hash()
	}
	commit, err := repo.CommitObject(hash)
	if err != nil {
		return fmt.Errorf("reading commit %s: %w", hash, err)
	}
	tree, err := commit.Tree()
	if err != nil {
		return fmt.Errorf("reading the tree of %s: %w", hash, err)
	}
	c.Commit = hash.String()
	return tree.Files().ForEach(func(f *object.File) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return c.writeFile(f)
	})
}

// writeFile writes one blob of the tree under c.Dir. Symbolic links are
// written as links (the scan resolves them inside the directory); entries
// whose names would escape the directory are refused.
func (c *Checkout) writeFile(f *object.File) error {
	if !filepath.IsLocal(f.Name) {
		return fmt.Errorf("tree entry %q: not a local path", f.Name)
	}
	dst := filepath.Join(c.Dir, filepath.FromSlash(f.Name))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	r, err := f.Reader()
	if err != nil {
		return fmt.Errorf("reading %s: %w", f.Name, err)
	}
	defer r.Close()
	if f.Mode == filemode.Symlink {
		target, err := io.ReadAll(io.LimitReader(r, 4096))
		if err != nil {
			return fmt.Errorf("reading %s: %w", f.Name, err)
		}
		return os.Symlink(string(target), dst)
	}
	perm := os.FileMode(0o644)
	if f.Mode == filemode.Executable {
		perm = 0o755
	}
	w, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, perm)
	if err != nil {
		return err
	}
	_, err = io.Copy(w, r)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", f.Name, err)
	}
	return nil
}

// resolveCommit resolves a full or abbreviated commit hash.
func resolveCommit(repo *git.Repository, rev string) (plumbing.Hash, error) {
	h, err := repo.ResolveRevision(plumbing.Revision(rev))
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("commit %q: %w", rev, err)
	}
	return *h, nil
}

func isHTTP(src string) bool {
	return strings.HasPrefix(src, "https://") || strings.HasPrefix(src, "http://")
}

// Redact returns src without the user information of an http(s) URL,
// which may hold a token, for display.
func Redact(src string) string {
	if !isHTTP(src) {
		return src
	}
	u, err := url.Parse(src)
	if err != nil || u.User == nil {
		return src
	}
	u.User = nil
	return u.String()
}

// CredentialsFromEnv returns the HTTP credentials for the remote src from
// the environment, looked up with getenv (os.Getenv in the CLI):
// VIGIL_GIT_USERNAME and VIGIL_GIT_TOKEN for any http(s) host, else
// GITHUB_TOKEN for github.com and GITLAB_TOKEN for gitlab.com only, so a
// token is never sent to another host. It returns empty strings when there
// is no token, or src is not an http(s) URL.
func CredentialsFromEnv(src string, getenv func(string) string) (username, token string) {
	if !isHTTP(src) {
		return "", ""
	}
	u, err := url.Parse(src)
	if err != nil {
		return "", ""
	}
	host := strings.ToLower(u.Hostname())
	if t := getenv("VIGIL_GIT_TOKEN"); t != "" {
		return cmp.Or(getenv("VIGIL_GIT_USERNAME"), defaultUser(host)), t
	}
	switch host {
	case "github.com":
		if t := getenv("GITHUB_TOKEN"); t != "" {
			return defaultUser(host), t
		}
	case "gitlab.com":
		if t := getenv("GITLAB_TOKEN"); t != "" {
			return defaultUser(host), t
		}
	}
	return "", ""
}

// defaultUser is the user name sent with a token when none is given: any
// non-empty name works for GitHub and GitLab tokens.
func defaultUser(host string) string {
	switch host {
	case "github.com":
		return "x-access-token"
	case "gitlab.com":
		return "oauth2"
	}
	return "git"
}
