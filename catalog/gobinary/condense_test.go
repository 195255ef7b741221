package gobinary

import (
	"bytes"
	"encoding/binary"
	"maps"
	"os"
	"runtime/debug"
	"testing"
	"testing/fstest"

	"github.com/vigil-scanner/vigil/catalog"
	"github.com/vigil-scanner/vigil/catalog/internal/langtest"
)

func TestNormalizeSymbol(t *testing.T) {
	tests := []struct {
		in, pkg, name string
	}{
		{"golang.org/x/text/language.Parse", "golang.org/x/text/language", "Parse"},
		{"net/http.(*Server).Serve", "net/http", "Server.Serve"},
		{"net/http.Header.Get", "net/http", "Header.Get"},
		{"slices.Sort[...]", "slices", "Sort"},
		{"example.com/m/p.(*List[...]).Push", "example.com/m/p", "List.Push"},
		{"example.com/m/p.Map[go.shape.int,go.shape.string]", "example.com/m/p", "Map"},
		{"net/http.(*Server).Serve.func1", "net/http", "Server.Serve"},
		{"encoding/json.Unmarshal.func2.1", "encoding/json", "Unmarshal"},
		{"net/http.(*conn).serve.gowrap3", "net/http", "conn.serve"},
		{"bytes.(*Buffer).WriteString-fm", "bytes", "Buffer.WriteString"},
		{"gopkg.in/yaml%2ev3.Unmarshal", "gopkg.in/yaml.v3", "Unmarshal"},
		{"crypto/tls.init.0", "crypto/tls", "init"},
		{"main.main", "main", "main"},
		{"type:.eq.net/http.Request", "", ""},
		{"go:buildid", "", ""},
		{"noDot", "", ""},
		{".weird", "", ""},
	}
	for _, tt := range tests {
		pkg, name, ok := normalizeSymbol(tt.in)
		if ok != (tt.pkg != "") || pkg != tt.pkg || name != tt.name {
			t.Errorf("normalizeSymbol(%q) = %q, %q, %v; want %q, %q", tt.in, pkg, name, ok, tt.pkg, tt.name)
		}
	}
}

func TestVulnSymbolsKeepsModulesAndStdlib(t *testing.T) {
	bi := &debug.BuildInfo{Main: debug.Module{Path: "example.com/app"}, Deps: []*debug.Module{
		{Path: "golang.org/x/text", Version: "v0.3.5"},
		{Path: "old.example/lib", Version: "v1.0.0", Replace: &debug.Module{Path: "fork.example/lib", Version: "v1.0.1"}},
	}}
	raw := map[string]bool{
		"golang.org/x/text/language.Parse": true,
		"golang.org/x/textual/p.F":         true, // another module sharing a prefix
		"old.example/lib/sub.(*T).M":       true,
		"net/http.(*Server).Serve":         true,
		"example.com/app/internal/x.Y":     true,
		"main.main":                        true,
		"type:.eq.[2]interface {}":         true,
	}
	want := map[string]bool{
		"golang.org/x/text/language.Parse": true,
		"old.example/lib/sub.T.M":          true,
		"net/http.Server.Serve":            true,
		"example.com/app/internal/x.Y":     true,
	}
	if got := vulnSymbols(raw, bi); !maps.Equal(got, want) {
		t.Errorf("vulnSymbols = %v, want %v", got, want)
	}
	if got := vulnSymbols(map[string]bool{"main.main": true}, bi); got != nil {
		t.Errorf("vulnSymbols with nothing relevant = %v, want nil", got)
	}
}

func TestSummaryMalformedSymbols(t *testing.T) {
	b, err := os.ReadFile("testdata/summary.txt")
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{"usr/bin/tool": {Data: append(b, "sym\tno-tab-here\n"...), Mode: 0o755}}
	res, logs := langtest.Run(t, catalogAll{}, fsys, catalog.Env{})
	if len(res) != 0 || !logs.Contains("usr/bin/tool", "malformed symbol line") {
		t.Errorf("results %+v, logs %v", res, logs.Lines())
	}
}

func TestCondenseNotGo(t *testing.T) {
	for name, data := range map[string][]byte{
		"script": append([]byte("#!/bin/sh\n"), make([]byte, 100)...),
		"elf":    append([]byte("\x7fELF"), make([]byte, 100)...),
		"short":  []byte("MZ"),
	} {
		got, err := condense("bin/x", bytes.NewReader(data), int64(len(data)))
		if err != nil || len(got) != 0 {
			t.Errorf("%s: condense = %q, %v; want empty", name, got, err)
		}
	}
	if _, err := condense("bin/x", bytes.NewReader([]byte("\x7fELF")), 100); err == nil {
		t.Error("truncated stream: no error")
	}
}

func TestFuncNamesMalformed(t *testing.T) {
	le := binary.LittleEndian
	hdr := func(magic uint32, words ...uint64) []byte {
		b := le.AppendUint32(nil, magic)
		b = append(b, 0, 0, 1, 8)
		for _, w := range words {
			b = le.AppendUint64(b, w)
		}
		return b
	}
	good := hdr(magic120, 2, 0, 0, 48, 56) // names right after the 48-byte header
	good = append(good, "a.F\x00b.G\x00"...)
	tests := map[string]struct {
		data []byte
		want int
	}{
		"go1.20 table":  {good, 2},
		"empty":         {nil, 0},
		"unknown magic": {hdr(0xdeadbeef, 0, 0, 0, 72, 82), 0},
		"bad ptr size":  {append(le.AppendUint32(nil, magic120), 0, 0, 1, 3), 0},
		"out of range":  {hdr(magic120, 0, 0, 0, 72, 1<<40), 0},
		"reversed":      {hdr(magic118, 0, 0, 0, 80, 72), 0},
		"truncated hdr": {hdr(magic116, 0), 0},
	}
	for name, tt := range tests {
		if got := funcNames(tt.data, le); len(got) != tt.want {
			t.Errorf("%s: funcNames = %q, want %d names", name, got, tt.want)
		}
	}
}
