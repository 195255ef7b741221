package rust

import (
	"slices"
	"testing"

	"github.com/vigil-scanner/vigil/catalog"
	"github.com/vigil-scanner/vigil/catalog/internal/langtest"
)

func TestCatalog(t *testing.T) {
	res, logs := langtest.Run(t, New(), langtest.Dir(""), catalog.Env{})
	langtest.Golden(t, "cargo", res)
	if !logs.Contains("bad/Cargo.lock") {
		t.Errorf("no warning for the malformed lockfile: %v", logs.Lines())
	}
	if len(res) != 1 || res[0].Target != "app/Cargo.lock" || res[0].Type != Type {
		t.Fatalf("results = %+v", res)
	}
	var got []string
	for _, p := range res[0].Packages {
		s := p.Purl
		if p.Indirect {
			s += " indirect"
		}
		got = append(got, s)
	}
	want := []string{"pkg:cargo/libc@0.2.147 indirect", "pkg:cargo/rand@0.7.3 indirect", "pkg:cargo/rand@0.8.5", "pkg:cargo/serde@1.0.188"}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if p := langtest.Find(res, "serde"); !slices.Equal(p.DependsOn, []string{"rand@0.7.3"}) {
		t.Errorf("serde depends on %v", p.DependsOn)
	}
}
