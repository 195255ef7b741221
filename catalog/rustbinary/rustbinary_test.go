package rustbinary

import (
	"bytes"
	"compress/zlib"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"testing/fstest"

	"github.com/vigil-scanner/vigil/catalog"
	"github.com/vigil-scanner/vigil/catalog/gobinary"
	"github.com/vigil-scanner/vigil/catalog/internal/langtest"
	"github.com/vigil-scanner/vigil/internal/testutil"
	"github.com/vigil-scanner/vigil/inventory"
)

// depJSON is what cargo-auditable would embed for a binary "hello" that
// depends on smallvec (which needs autocfg at build time) and on a local
// workspace crate "util" that depends on itoa.
const depJSON = `{"packages":[
 {"name":"autocfg","version":"1.1.0","source":"crates.io","kind":"build"},
 {"name":"hello","version":"0.1.0","source":"local","dependencies":[2,3,0],"root":true},
 {"name":"smallvec","version":"1.6.0","source":"crates.io","dependencies":[0,5]},
 {"name":"util","version":"0.1.0","source":"local","dependencies":[4]},
 {"name":"itoa","version":"1.0.9","source":"crates.io"},
 {"name":"serde","version":"1.0.190","source":"registry","kind":"runtime","dependencies":[99,-1]}
]}`

func compress(t testing.TB, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := zlib.NewWriter(&b)
	if _, err := w.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestParse(t *testing.T) {
	pkgs, err := Parse(compress(t, depJSON))
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		id, purl  string
		indirect  bool
		dependsOn []string
	}
	var got []row
	for _, p := range pkgs {
		got = append(got, row{p.ID, p.Purl, p.Indirect, p.DependsOn})
	}
	want := []row{
		{"smallvec@1.6.0", "pkg:cargo/smallvec@1.6.0", false, []string{"serde@1.0.190"}},
		{"itoa@1.0.9", "pkg:cargo/itoa@1.0.9", true, nil},
		{"serde@1.0.190", "pkg:cargo/serde@1.0.190", true, nil},
	}
	if !slices.EqualFunc(got, want, func(a, b row) bool {
		return a.id == b.id && a.purl == b.purl && a.indirect == b.indirect && slices.Equal(a.dependsOn, b.dependsOn)
	}) {
		t.Errorf("Parse = %+v\nwant %+v", got, want)
	}
}

func TestParseBad(t *testing.T) {
	bomb := compress(t, `{"packages":[`+string(bytes.Repeat([]byte(" "), maxJSON))+`]}`)
	for name, data := range map[string][]byte{
		"empty":       nil,
		"not zlib":    []byte("hello"),
		"truncated":   compress(t, depJSON)[:40],
		"not json":    compress(t, "nope"),
		"no packages": compress(t, `{"packages":[]}`),
		"too large":   bomb,
	} {
		if _, err := Parse(data); err == nil {
			t.Errorf("%s: no error", name)
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
		{0o755, 1 << 20, true},
		{0o644, 1 << 20, false},
		{0o755, 100, false},
		{0o755 | os.ModeSymlink, 1 << 20, false},
		{0o755, maxSize + 1, false},
	}
	for _, tt := range tests {
		if got := c.Wants("usr/bin/x", tt.mode, tt.size); got != tt.want {
			t.Errorf("Wants(%v, %d) = %v, want %v", tt.mode, tt.size, got, tt.want)
		}
	}
}

// buildAuditable builds a tiny Rust binary and adds the ".dep-v0" section
// cargo-auditable would write, holding depJSON.
func buildAuditable(t *testing.T) []byte {
	t.Helper()
	if testing.Short() {
		t.Skip("builds a Rust binary")
	}
	cargo := testutil.RequireTool(t, "cargo")
	objcopy := testutil.RequireTool(t, "objcopy")
	dir := t.TempDir()
	write := func(name, s string) {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("Cargo.toml", "[package]\nname = \"hello\"\nversion = \"0.1.0\"\nedition = \"2021\"\n")
	write("src/main.rs", "fn main() { println!(\"hello\"); }\n")
	cmd := exec.Command(cargo, "build", "--offline", "--quiet")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CARGO_TARGET_DIR="+filepath.Join(dir, "target"))
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cargo build: %v\n%s", err, b)
	}
	bin := filepath.Join(dir, "target", "debug", "hello")
	sec := filepath.Join(dir, "dep-v0")
	if err := os.WriteFile(sec, compress(t, depJSON), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "hello-auditable")
	if b, err := exec.Command(objcopy, "--add-section", Section+"="+sec, bin, out).CombinedOutput(); err != nil {
		t.Fatalf("objcopy: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ReadSection(bytes.NewReader(plain)); err != ErrNoSection {
		t.Errorf("binary without the section: err = %v, want ErrNoSection", err)
	}
	return b
}

func TestBuiltBinary(t *testing.T) {
	b := buildAuditable(t)
	fsys := fstest.MapFS{
		"usr/local/bin/hello": {Data: b, Mode: 0o755},
		"usr/bin/owned":       {Data: b, Mode: 0o755},
		"usr/bin/notrust":     {Data: append([]byte("\x7fELF"), make([]byte, minSize)...), Mode: 0o755},
		"usr/bin/script":      {Data: append([]byte("#!/bin/sh\n"), make([]byte, minSize)...), Mode: 0o755},
	}
	env := catalog.Env{Owned: func(p string) bool { return p == "usr/bin/owned" }}
	res, logs := langtest.Run(t, New(), fsys, env)
	if len(res) != 1 || res[0].Target != "usr/local/bin/hello" || res[0].Type != Type {
		t.Fatalf("results = %+v (logs %v)", res, logs.Lines())
	}
	if l := logs.Lines(); !slices.ContainsFunc(l, func(s string) bool { return bytes.Contains([]byte(s), []byte("usr/bin/notrust")) }) {
		t.Errorf("no warning about the corrupt ELF file: %v", l)
	}
	langtest.Golden(t, "built", res)

	// The condensed form, alone or joined with the Go binary cataloger's
	// as the layer walk does, gives the same result.
	joined := catalog.JoinCondense(gobinary.New().Condense("", 0, 0), New().Condense("", 0, 0))
	for name, cond := range map[string]catalog.CondenseFunc{"alone": condense, "joined": joined} {
		sum, err := cond("usr/local/bin/hello", bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(sum) > 1024 {
			t.Errorf("%s: condensed to %d bytes", name, len(sum))
		}
		res2, _ := langtest.Run(t, catalogAll{}, fstest.MapFS{"usr/local/bin/hello": {Data: sum, Mode: 0o755}}, catalog.Env{})
		if !resultsEqual(res, res2) {
			t.Errorf("%s: summary results %+v differ from binary results %+v", name, res2, res)
		}
	}
}

// catalogAll wants every file, as the layer walk keeps a condensed copy
// smaller than any binary.
type catalogAll struct{ Cataloger }

func (catalogAll) Wants(string, os.FileMode, int64) bool { return true }

func resultsEqual(a, b []inventory.Result) bool {
	return slices.EqualFunc(a, b, func(x, y inventory.Result) bool {
		return x.Target == y.Target && slices.EqualFunc(x.Packages, y.Packages, func(p, q inventory.Package) bool {
			return p.ID == q.ID && p.Indirect == q.Indirect && slices.Equal(p.DependsOn, q.DependsOn)
		})
	})
}

// TestJoinCondense checks that a Go binary, seen by both binary
// catalogers, keeps the Go summary.
func TestJoinCondense(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go binary")
	}
	gobin := testutil.RequireTool(t, "go")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\n\nfunc main() { println(1) }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/one\n\ngo 1.22\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(gobin, "build", "-o", "one", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=", "CGO_ENABLED=0", "GOTOOLCHAIN=local")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	b, err := os.ReadFile(filepath.Join(dir, "one"))
	if err != nil {
		t.Fatal(err)
	}
	joined := catalog.JoinCondense(gobinary.New().Condense("", 0, 0), New().Condense("", 0, 0))
	sum, err := joined("one", bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(sum, []byte("go\tgo")) || len(sum) >= len(b) {
		t.Errorf("joined summary of a Go binary: %d bytes starting %.20q", len(sum), sum)
	}
}
