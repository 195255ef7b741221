package exetest

import (
	"bytes"
	"debug/buildinfo"
	"debug/elf"
	"testing"
)

func TestELF(t *testing.T) {
	exe := ELF(Section{".text", []byte{0xc3}}, Section{".go.buildinfo", BuildInfo("go1.22.3", "path\texample.com/app\nmod\texample.com/app\t(devel)\t\ndep\tgolang.org/x/text\tv0.3.5\th1:x=\n")})
	f, err := elf.NewFile(bytes.NewReader(exe))
	if err != nil {
		t.Fatal(err)
	}
	if s := f.Section(".text"); s == nil {
		t.Fatal("no .text")
	}
	bi, err := buildinfo.Read(bytes.NewReader(exe))
	if err != nil {
		t.Fatal(err)
	}
	if bi.GoVersion != "go1.22.3" || len(bi.Deps) != 1 || bi.Deps[0].Version != "v0.3.5" {
		t.Fatalf("build info %+v", bi)
	}
}
