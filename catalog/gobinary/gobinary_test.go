package gobinary

import (
	"bytes"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"testing/fstest"

	"github.com/vigil-scanner/vigil/catalog"
	"github.com/vigil-scanner/vigil/catalog/internal/langtest"
	"github.com/vigil-scanner/vigil/internal/testutil"
)

func TestStdlibVersion(t *testing.T) {
	tests := map[string]string{
		"go1.22.3":                "v1.22.3",
		"go1.21":                  "v1.21.0",
		"go1.21rc2":               "v1.21.0-rc.2",
		"go1.20beta1":             "v1.20.0-beta.1",
		"go1.22.3 X:boringcrypto": "v1.22.3",
		"go1.23.1-bookworm":       "v1.23.1",
		"devel go1.23-abc":        "",
		"go1":                     "",
		"gox.y":                   "",
		"":                        "",
	}
	for in, want := range tests {
		if got := stdlibVersion(in); got != want {
			t.Errorf("stdlibVersion(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWants(t *testing.T) {
	c := New()
	tests := []struct {
		mode os.FileMode
		size int64
		want bool
	}{
		{0o755, 2 << 20, true},
		{0o644, 2 << 20, false},
		{0o755, 1024, false},
		{0o755 | os.ModeSymlink, 2 << 20, false},
		{0o755, maxSize + 1, false},
	}
	for _, tt := range tests {
		if got := c.Wants("usr/bin/x", tt.mode, tt.size); got != tt.want {
			t.Errorf("Wants(%v, %d) = %v, want %v", tt.mode, tt.size, got, tt.want)
		}
	}
}

func TestSummary(t *testing.T) {
	b, err := os.ReadFile("testdata/summary.txt")
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{"usr/bin/tool": {Data: b, Mode: 0o755}}
	res, logs := langtest.Run(t, catalogAll{}, fsys, catalog.Env{})
	if l := logs.Lines(); len(l) > 0 {
		t.Errorf("warnings: %v", l)
	}
	langtest.Golden(t, "summary", res)
	if len(res) != 1 || res[0].Target != "usr/bin/tool" || res[0].Type != Type {
		t.Fatalf("results = %+v", res)
	}
	var ids []string
	for _, p := range res[0].Packages {
		ids = append(ids, p.ID)
	}
	want := []string{"github.com/BurntSushi/toml@v1.3.2", "github.com/example/tool@v1.4.0", "golang.org/x/net@v0.23.0", "golang.org/x/text@v0.14.0", "stdlib@v1.22.3"}
	if !slices.Equal(ids, want) {
		t.Errorf("packages = %v, want %v", ids, want)
	}
	if p := langtest.Find(res, "github.com/BurntSushi/toml"); p.Purl != "pkg:golang/github.com/burntsushi/toml@v1.3.2" {
		t.Errorf("purl = %q", p.Purl)
	}
	if p := langtest.Find(res, "stdlib"); p.Purl != "pkg:golang/stdlib@v1.22.3" {
		t.Errorf("stdlib purl = %q", p.Purl)
	}
}

// catalogAll wraps the cataloger so that the test file system's summary,
// smaller than a binary, is wanted as the layer walk's condensed copy would
// be.
type catalogAll struct{ Cataloger }

func (catalogAll) Wants(string, os.FileMode, int64) bool { return true }

func buildHello(t *testing.T) string {
	t.Helper()
	gobin := testutil.RequireTool(t, "go")
	dir := t.TempDir()
	src := "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hello\") }\n"
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/hello\n\ngo 1.22\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "hello")
	cmd := exec.Command(gobin, "build", "-trimpath", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=", "CGO_ENABLED=0", "GOTOOLCHAIN=local")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	return out
}

func TestBuiltBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	bin := buildHello(t)
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{
		"app/hello":       {Data: b, Mode: 0o755},
		"bin/notgo":       {Data: append([]byte("\x7fELF"), make([]byte, minSize)...), Mode: 0o755},
		"bin/script":      {Data: append([]byte("#!/bin/sh\n"), make([]byte, minSize)...), Mode: 0o755},
		"bin/owned-hello": {Data: b, Mode: 0o755},
	}
	env := catalog.Env{Owned: func(p string) bool { return p == "bin/owned-hello" }}
	res, logs := langtest.Run(t, New(), fsys, env)
	if len(res) != 1 || res[0].Target != "app/hello" {
		t.Fatalf("results = %+v (logs %v)", res, logs.Lines())
	}
	std := langtest.Find(res, "stdlib")
	if want := stdlibVersion(runtime.Version()); std == nil || std.Version != want {
		t.Errorf("stdlib = %+v, want version %s", std, want)
	}
	if p := langtest.Find(res, "example.com/hello"); p != nil {
		t.Errorf("(devel) main module reported: %+v", p)
	}

	// The condensed form gives the same packages.
	sum, err := Summarize(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	res2, _ := langtest.Run(t, catalogAll{}, fstest.MapFS{"app/hello": {Data: sum, Mode: 0o755}}, catalog.Env{})
	if len(res2) != 1 || !slices.EqualFunc(res[0].Packages, res2[0].Packages, func(a, b2 inventoryPackage) bool { return a.ID == b2.ID }) {
		t.Errorf("summary results %+v differ from binary results %+v", res2, res)
	}

	// Condensing while streaming keeps the symbols, in the vulnerability
	// database's form, that the binary itself yields.
	cond, err := condense("app/hello", bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if len(cond) > len(b)/4 {
		t.Errorf("condensed to %d bytes from %d", len(cond), len(b))
	}
	res3, _ := langtest.Run(t, catalogAll{}, fstest.MapFS{"app/hello": {Data: cond, Mode: 0o755}}, catalog.Env{})
	fromBinary, fromSummary := langtest.Find(res, "stdlib").Symbols, langtest.Find(res3, "stdlib").Symbols
	if !fromBinary["fmt.Fprintln"] || !fromBinary["os.File.Write"] || fromBinary["net/http.Server.Serve"] {
		t.Errorf("binary symbols lack fmt.Fprintln or os.File.Write, or have net/http (%d symbols)", len(fromBinary))
	}
	if !maps.Equal(fromBinary, fromSummary) {
		t.Errorf("summary symbols (%d) differ from binary symbols (%d)", len(fromSummary), len(fromBinary))
	}

	syms, err := Symbols(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"main.main", "fmt.Fprintln", "runtime.main"} {
		if !syms[s] {
			t.Errorf("symbol %s missing (%d symbols)", s, len(syms))
		}
	}
	if syms["net/http.(*Server).Serve"] {
		t.Error("net/http symbol in a binary that does not import it")
	}
}

func TestSymbolsCorrupt(t *testing.T) {
	for name, data := range map[string][]byte{
		"empty":     nil,
		"not elf":   []byte("hello world"),
		"truncated": []byte("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x3e\x00"),
	} {
		if _, err := Symbols(bytes.NewReader(data)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
