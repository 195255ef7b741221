package match

import (
	"testing"

	"github.com/vigil-scanner/vigil/inventory"
	"github.com/vigil-scanner/vigil/vulndb"
)

func TestReachability(t *testing.T) {
	goRec := func(id string, syms ...string) vulndb.Affected {
		return vulndb.Affected{VulnID: id, Source: "osv:Go", Ecosystem: "Go", Package: "golang.org/x/text",
			Ranges: fixedRange(vulndb.SchemeGo, "v0.3.7"), Fixed: []string{"v0.3.7"}, Status: vulndb.StatusFixed, Symbols: syms}
	}
	ghsa := vulndb.Affected{VulnID: "GHSA-ppp9-7jff-5vj2", Source: "ghsa", Ecosystem: "Go", Package: "golang.org/x/text",
		Ranges: fixedRange(vulndb.SchemeGo, "v0.3.7"), Fixed: []string{"v0.3.7"}, Status: vulndb.StatusFixed}
	store := newMemStore([]vulndb.Affected{
		goRec("GO-2021-0113", "golang.org/x/text/language.Parse", "golang.org/x/text/language.MatchStrings"),
		goRec("GO-2020-0015", "golang.org/x/text/encoding/unicode.utf16Decoder.Transform"),
		goRec("GO-2099-0001"), // no symbols listed
		ghsa,
	}, vulndb.Vulnerability{ID: "GO-2021-0113", Aliases: []string{"CVE-2021-38561", "GHSA-ppp9-7jff-5vj2"}},
		vulndb.Vulnerability{ID: "GHSA-ppp9-7jff-5vj2", Aliases: []string{"CVE-2021-38561", "GO-2021-0113"}})

	tests := []struct {
		name string
		syms map[string]bool
		want map[string]string // finding id → reachability
	}{
		{"calls Parse", map[string]bool{"golang.org/x/text/language.Parse": true, "fmt.Println": true},
			map[string]string{"CVE-2021-38561": "", "GO-2020-0015": Unreachable, "GO-2099-0001": ""}},
		{"calls neither", map[string]bool{"golang.org/x/text/cases.Fold": true},
			map[string]string{"CVE-2021-38561": Unreachable, "GO-2020-0015": Unreachable, "GO-2099-0001": ""}},
		{"no symbol table", nil,
			map[string]string{"CVE-2021-38561": "", "GO-2020-0015": "", "GO-2099-0001": ""}},
	}
	for _, tt := range tests {
		inv := &inventory.Inventory{Results: []inventory.Result{{Target: "app", Class: inventory.ClassLangPkgs, Type: "gobinary",
			Packages: []inventory.Package{{Name: "golang.org/x/text", Version: "v0.3.5", Purl: "pkg:golang/golang.org/x/text@v0.3.5", Symbols: tt.syms}}}}}
		res := matchOne(t, store, inv)
		got := map[string]string{}
		for _, f := range res.Findings[0] {
			// The GHSA record and GO-2021-0113 merge under their CVE; the
			// Go record's symbols decide.
			got[f.ID] = f.Reachability
		}
		if len(got) != len(tt.want) {
			t.Errorf("%s: findings %v, want %v", tt.name, got, tt.want)
			continue
		}
		for id, w := range tt.want {
			if r, ok := got[id]; !ok || r != w {
				t.Errorf("%s: %s reachability = %q (present %v), want %q", tt.name, id, r, ok, w)
			}
		}
	}
}
