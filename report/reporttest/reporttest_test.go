package reporttest

import (
	"testing"

	"github.com/package-url/packageurl-go"
)

// TestPurlsCanonical checks every purl in the samples is written the way
// the purl library writes it.
func TestPurlsCanonical(t *testing.T) {
	for name, r := range Samples() {
		for _, res := range r.Results {
			var purls []string
			for _, p := range res.Packages {
				purls = append(purls, p.Purl)
			}
			for _, f := range res.Vulnerabilities {
				purls = append(purls, f.PkgPurl)
			}
			for _, s := range purls {
				p, err := packageurl.FromString(s)
				if err != nil {
					t.Errorf("%s: %q: %v", name, s, err)
					continue
				}
				if got := p.ToString(); got != s {
					t.Errorf("%s: purl %q is written %q by packageurl-go", name, s, got)
				}
			}
		}
	}
}
