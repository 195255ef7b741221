package gomod

import (
	"slices"
	"testing"

	"github.com/vigil-scanner/vigil/catalog"
	"github.com/vigil-scanner/vigil/catalog/internal/langtest"
)

func TestWants(t *testing.T) {
	c := New()
	for p, want := range map[string]bool{
		"src/app/go.mod":                    true,
		"go.mod":                            true,
		"root/go/pkg/mod/x.com/y@v1/go.mod": false,
		"src/app/vendor/x.com/y/go.mod":     false,
		"src/app/go.sum":                    false,
	} {
		if got := c.Wants(p, 0o644, 100); got != want {
			t.Errorf("Wants(%q) = %v, want %v", p, got, want)
		}
	}
}

func TestCatalog(t *testing.T) {
	res, logs := langtest.Run(t, New(), langtest.Dir(""), catalog.Env{})
	langtest.Golden(t, "gomod", res)
	if len(res) != 1 || res[0].Target != "app/go.mod" {
		t.Fatalf("results = %+v", res)
	}
	var got []string
	for _, p := range res[0].Packages {
		s := p.ID
		if p.Indirect {
			s += " indirect"
		}
		got = append(got, s)
	}
	want := []string{"github.com/BurntSushi/toml@v1.3.2", "golang.org/x/net@v0.23.0", "golang.org/x/text@v0.14.0 indirect"}
	if !slices.Equal(got, want) {
		t.Errorf("packages = %v, want %v", got, want)
	}
	if !logs.Contains("bad/go.mod") {
		t.Errorf("no warning for the malformed go.mod: %v", logs.Lines())
	}
}
