package acceptance_test

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// buildVigil builds the vigil command once per test binary.
var buildVigil = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "vigil-acceptance-")
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, "vigil")
	cmd := exec.Command("go", "build", "-o", out, "github.com/vigil-scanner/vigil/cmd/vigil")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, b)
	}
	return out, nil
})

func TestMain(m *testing.M) {
	code := m.Run()
	if bin, err := buildVigil(); err == nil {
		os.RemoveAll(filepath.Dir(bin))
	}
	os.Exit(code)
}

func vigilBinary(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command to build vigil with")
	}
	bin, err := buildVigil()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// env is the environment vigil runs in: home is a scratch directory, so
// no Docker configuration or VIGIL_ variable of the machine is read.
func env(home string) []string {
	os.MkdirAll(filepath.Join(home, "tmp"), 0o755)
	return []string{"HOME=" + home, "TMPDIR=" + filepath.Join(home, "tmp"), "PATH=" + os.Getenv("PATH")}
}

// vigil runs the vigil command to its end and returns its standard
// output; a non-zero exit fails the test.
func vigil(t *testing.T, home string, args ...string) string {
	t.Helper()
	cmd := exec.Command(vigilBinary(t), args...)
	cmd.Dir, cmd.Env = home, env(home)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("vigil %s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// process is a vigil command running in the background.
type process struct {
	cmd  *exec.Cmd
	logs syncBuffer
	done chan error
}

// start runs the vigil command until stop or the end of the test. Its
// output is shown when the test fails.
func start(t *testing.T, home string, args ...string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(vigilBinary(t), args...), done: make(chan error, 1)}
	p.cmd.Dir, p.cmd.Env = home, env(home)
	p.cmd.Stdout, p.cmd.Stderr = &p.logs, &p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		p.stop(t)
		if t.Failed() {
			t.Logf("vigil %s:\n%s", strings.Join(args, " "), p.logs.String())
		}
	})
	return p
}

// stop ends the process as a service manager does (SIGTERM) and waits for
// it; it may be called more than once.
func (p *process) stop(t *testing.T) {
	t.Helper()
	if p.cmd.ProcessState != nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		if err != nil {
			t.Errorf("vigil exited with %v after SIGTERM", err)
		}
	case <-time.After(20 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
		t.Error("vigil did not stop within 20s of SIGTERM")
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// waitFor polls cond until it holds, failing the test after d. It returns
// how long it took.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		if cond() {
			return time.Since(start)
		}
		if time.Since(start) > d {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// get requests base+path with the bearer token, when given, and returns
// the status, the Content-Type and the body.
func get(t *testing.T, url, token string) (int, string, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
}
