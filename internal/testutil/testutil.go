// Package testutil holds helpers shared by vigil's tests.
package testutil

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
)

// RepoRoot returns the directory holding vigil's go.mod.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
}

// Shared returns the path of rel inside the shared data folder that sits
// beside the repository (../shared), or skips the test when it is absent.
func Shared(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(RepoRoot(t), "..", "shared", rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared test data not present: %s", p)
	}
	return p
}

// RequireTool returns the path of the named executable. When it is missing
// the test is skipped, except under CI (CI=true), where .ci/run installs
// every tool the tests need and a missing one is a failure.
func RequireTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not found on PATH; .ci/run should have installed it", name)
		}
		t.Skipf("%s not installed", name)
	}
	return p
}

// RequirePythonModule returns a python3 interpreter that can import module
// (Debian's python3-MODULE packages install into /usr/bin/python3, which
// may not be the python3 first on PATH). When there is none the test is
// skipped, except under CI=true, where it fails.
func RequirePythonModule(t testing.TB, module string) string {
	t.Helper()
	for _, name := range []string{"python3", "/usr/bin/python3"} {
		p, err := exec.LookPath(name)
		if err != nil {
			continue
		}
		if exec.Command(p, "-c", "import "+module).Run() == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("no python3 can import %s; .ci/run should have installed it", module)
	}
	t.Skipf("python3 module %s not installed", module)
	return ""
}

// VigilBuild builds the vigil command once per test binary, for tests that
// run it as a process of its own (to kill it, or to measure it). The zero
// value is ready to use.
type VigilBuild struct {
	once sync.Once
	path string
	err  error
}

// Path returns the vigil binary, built (statically, CGO_ENABLED=0) into
// dir on the first call; later calls return the same binary whatever their
// dir. Without a go command the test is skipped (under CI=true, failed).
func (b *VigilBuild) Path(t testing.TB, dir string) string {
	t.Helper()
	gobin := RequireTool(t, "go")
	b.once.Do(func() {
		b.path = filepath.Join(dir, "vigil")
		cmd := exec.Command(gobin, "build", "-o", b.path, "github.com/vigil-scanner/vigil/cmd/vigil")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

// Unreadable makes the files or directories at paths unreadable to f and
// runs f. As root, whom file modes do not stop, f runs with the effective
// user ID of nobody (65534) on every thread of the process, so the test
// must not run in parallel with others, and whatever f reads must be
// readable by others (directories from t.TempDir are not: see Readable).
func Unreadable(t testing.TB, f func(), paths ...string) {
	t.Helper()
	for _, p := range paths {
		if err := os.Chmod(p, 0); err != nil {
			t.Fatal(err)
		}
		defer os.Chmod(p, 0o755)
	}
	if os.Geteuid() != 0 {
		f()
		return
	}
	if err := syscall.Setresuid(-1, 65534, -1); err != nil {
		t.Skipf("cannot drop privileges: %v", err)
	}
	defer func() {
		if err := syscall.Setresuid(-1, 0, -1); err != nil {
			panic("testutil: cannot restore the effective user ID: " + err.Error())
		}
	}()
	f()
}

// Readable makes dir and each directory above it, up to the system's
// temporary directory, traversable and readable by others (see
// Unreadable).
func Readable(t testing.TB, dir string) {
	t.Helper()
	tmp := filepath.Clean(os.TempDir())
	for d := filepath.Clean(dir); d != tmp && d != filepath.Dir(d); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}
