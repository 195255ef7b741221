package php

import (
	"slices"
	"testing"

	"github.com/vigil-scanner/vigil/catalog"
	"github.com/vigil-scanner/vigil/catalog/internal/langtest"
)

func TestWants(t *testing.T) {
	c := New()
	for p, want := range map[string]bool{
		"app/composer.lock":                         true,
		"app/vendor/x/y/composer.lock":              false,
		"app/vendor/composer/installed.json":        true,
		"vendor/composer/installed.json":            true,
		"app/vendor/composer/installed.php":         false,
		"app/notvendor/composer/installed.json.bak": false,
	} {
		if got := c.Wants(p, 0o644, 10); got != want {
			t.Errorf("Wants(%q) = %v, want %v", p, got, want)
		}
	}
}

func TestCatalog(t *testing.T) {
	res, logs := langtest.Run(t, New(), langtest.Dir(""), catalog.Env{})
	langtest.Golden(t, "composer", res)
	if !logs.Contains("bad/composer.lock") {
		t.Errorf("no warning for the malformed lockfile: %v", logs.Lines())
	}
	got := map[string][]string{}
	for _, r := range res {
		for _, p := range r.Packages {
			s := p.Purl
			if p.Dev {
				s += " dev"
			}
			got[r.Target+" "+r.Type] = append(got[r.Target+" "+r.Type], s)
		}
	}
	want := map[string][]string{
		"app/composer.lock composer":                         {"pkg:composer/guzzlehttp/guzzle@7.8.0", "pkg:composer/guzzlehttp/psr7@2.6.1", "pkg:composer/phpunit/phpunit@10.3.2 dev"},
		"app/vendor/composer/installed.json composer-vendor": {"pkg:composer/guzzlehttp/guzzle@7.8.0", "pkg:composer/guzzlehttp/psr7@2.6.1", "pkg:composer/phpunit/phpunit@10.3.2 dev"},
		"v1/vendor/composer/installed.json composer-vendor":  {"pkg:composer/monolog/monolog@1.27.1"},
	}
	for k, w := range want {
		if !slices.Equal(got[k], w) {
			t.Errorf("%s: got %v, want %v", k, got[k], w)
		}
	}
	if p := langtest.Find(res, "guzzlehttp/guzzle"); !slices.Equal(p.DependsOn, []string{"guzzlehttp/psr7@2.6.1"}) {
		t.Errorf("guzzle depends on %v", p.DependsOn)
	}
}
