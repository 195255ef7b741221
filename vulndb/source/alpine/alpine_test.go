package alpine

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-scanner/vigil/internal/testutil"
	"github.com/vigil-scanner/vigil/vulndb"
	"github.com/vigil-scanner/vigil/vulndb/vulndbtest"
)

func load(t *testing.T, opts Options, f vulndb.Fetcher) (*vulndbtest.Sink, *vulndbtest.Log, error) {
	t.Helper()
	var log vulndbtest.Log
	opts.Logger = log.Logger()
	sink := &vulndbtest.Sink{}
	err := New(opts).Load(context.Background(), f, sink)
	return sink, &log, err
}

func one(t *testing.T, sink *vulndbtest.Sink, eco, pkg, id string) vulndb.Affected {
	t.Helper()
	got := sink.FindAffected(eco, pkg, id)
	if len(got) != 1 {
		t.Fatalf("%s %s %s: %d records, want 1", eco, pkg, id, len(got))
	}
	return got[0]
}

func TestLoadMirror(t *testing.T) {
	sink, log, err := load(t, Options{}, vulndbtest.Dir("testdata/mirror"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		eco, pkg, id string
		status       vulndb.Status
		fixed        []string
	}{
		{"alpine:3.19", "openssl", "CVE-2023-5678", vulndb.StatusFixed, []string{"3.1.4-r1"}},
		// The comment words are dropped; the id named under two keys
		// keeps both, lowest first.
		{"alpine:3.19", "openssl", "CVE-2023-3817", vulndb.StatusFixed, []string{"3.1.2-r0", "3.1.10-r0"}},
		{"alpine:3.19", "openssl", "CVE-2022-1473", vulndb.StatusNotAffected, nil},
		{"alpine:3.19", "sdl2_image", "CVE-2019-5060", vulndb.StatusFixed, []string{"2.0.5-r0"}},
		{"alpine:3.19", "zlib", "CVE-2023-45853", vulndb.StatusFixed, []string{"1.3.1-r0"}},
		{"alpine:edge", "curl", "CVE-2017-2629", vulndb.StatusFixed, []string{"7.53.0"}},
		// A YAML key that looks like a float keeps its text.
		{"alpine:edge", "curl", "CVE-2000-0001", vulndb.StatusFixed, []string{"1.10"}},
	}
	for _, tt := range tests {
		a := one(t, sink, tt.eco, tt.pkg, tt.id)
		if a.Status != tt.status || !slices.Equal(a.Fixed, tt.fixed) || a.Source != "alpine" {
			t.Errorf("%s %s: got %+v", tt.pkg, tt.id, a)
		}
		if tt.status == vulndb.StatusFixed {
			if len(a.Ranges) != len(tt.fixed) || a.Ranges[0].Scheme != vulndb.SchemeAPK ||
				a.Ranges[0].Events[0].Introduced != "0" || a.Ranges[0].Events[1].Fixed != tt.fixed[0] {
				t.Errorf("%s %s: ranges %+v", tt.pkg, tt.id, a.Ranges)
			}
		} else if len(a.Ranges) != 0 {
			t.Errorf("%s %s: not-affected record has ranges", tt.pkg, tt.id)
		}
	}
	if n := len(sink.Affected); n != 7 { // the CVE–TALOS pair is one record
		t.Errorf("%d records, want 7", n)
	}
	// Two malformed JSON packages, one malformed YAML package, and the
	// missing community repositories of both releases.
	warn := strings.Join(log.Warnings(), "\n")
	for _, want := range []string{`\"name\": \"broken\"`, "index=3 record", "line=12", "has no name", "repo=community"} {
		if !strings.Contains(warn, want) {
			t.Errorf("warnings lack %q:\n%s", want, warn)
		}
	}
	if n := len(log.Warnings()); n != 5 {
		t.Errorf("%d warnings, want 5:\n%s", n, warn)
	}
}

func TestLoadErrors(t *testing.T) {
	_, _, err := load(t, Options{Releases: []string{"3.19"}, Repos: []string{"main"}}, vulndbtest.Dir("testdata/truncated"))
	if err == nil || !strings.Contains(err.Error(), "v3.19/main.json") {
		t.Errorf("truncated file: err = %v", err)
	}
	_, _, err = load(t, Options{}, vulndbtest.Files{"": "<html>nothing here</html>"})
	if err == nil || !strings.Contains(err.Error(), "no release") {
		t.Errorf("empty index: err = %v", err)
	}
	_, _, err = load(t, Options{}, vulndbtest.ErrFetcher{})
	if err == nil {
		t.Error("failing fetcher: no error")
	}
}

func TestNormalise(t *testing.T) {
	for in, want := range map[string][2]string{
		"v3.19": {"v3.19", "alpine:3.19"}, "3.19": {"v3.19", "alpine:3.19"},
		"edge": {"edge", "alpine:edge"}, "v3.2/": {"v3.2", "alpine:3.2"},
	} {
		if d, e := normalise(in); d != want[0] || e != want[1] {
			t.Errorf("normalise(%q) = %q, %q", in, d, e)
		}
	}
}

// TestSharedSamples reads the archived alpine-secdb YAML files and the JSON
// subset. Expectations were read from the files: v3.10/main.yaml lines
// 1629-1632 (sdl2_image 2.0.5-r0: "CVE-2019-5060 TALOS-2019-0844"),
// v3.11/main.yaml lines 256-298 (curl "7.53.0": CVE-2017-2629), and
// json-subset/v3.10/community.json (chicken "4.12.0-r3": CVE-2017-6949).
func TestSharedSamples(t *testing.T) {
	dir := testutil.Shared(t, "data/feeds/alpine-secdb")
	sink, log, err := load(t, Options{Releases: []string{"v3.10", "v3.11"}}, vulndbtest.Dir(dir))
	if err != nil {
		t.Fatal(err)
	}
	// Upstream typos, read as what they mean with a warning each (per
	// release): v3.10/community.yaml line 556 and v3.11/community.yaml
	// line 674 (openjdk7 "CVE_2019-2426"), v3.11/community.yaml line 78
	// (dia "CVE-2019-19451.patch"), v3.10 and v3.11 main.yaml (rsync
	// "CVE-2017-17434-1", "CVE-2017-17434-2": two patches of one CVE).
	warned := map[string]int{}
	for _, w := range log.Warnings() {
		for _, typo := range []string{"CVE_2019-2426", "CVE-2019-19451.patch", "CVE-2017-17434-1", "CVE-2017-17434-2"} {
			if strings.Contains(w, "written="+typo+" ") {
				warned[typo]++
			}
		}
	}
	if want := map[string]int{"CVE_2019-2426": 2, "CVE-2019-19451.patch": 1, "CVE-2017-17434-1": 2, "CVE-2017-17434-2": 2}; !maps.Equal(warned, want) || len(log.Warnings()) != 7 {
		t.Errorf("typo warnings %v, want %v; all warnings:\n%s", warned, want, strings.Join(log.Warnings(), "\n"))
	}
	for _, tt := range []struct{ eco, pkg, id, fixed string }{
		{"alpine:3.10", "sdl2_image", "CVE-2019-5060", "2.0.5-r0"},
		{"alpine:3.11", "curl", "CVE-2017-2629", "7.53.0"},
		{"alpine:3.10", "ansible", "CVE-2019-10206", "2.8.4-r0"},
		{"alpine:3.10", "openjdk7", "CVE-2019-2426", "7.211.2.6.17-r0"},
		{"alpine:3.11", "openjdk7", "CVE-2019-2426", "7.211.2.6.17-r0"},
		{"alpine:3.11", "dia", "CVE-2019-19451", "0.97.3-r1"},
		{"alpine:3.10", "rsync", "CVE-2017-17434", "3.1.2-r7"},
	} {
		a := one(t, sink, tt.eco, tt.pkg, tt.id)
		if !slices.Equal(a.Fixed, []string{tt.fixed}) || a.Status != vulndb.StatusFixed {
			t.Errorf("%+v: got %+v", tt, a)
		}
	}

	sink, _, err = load(t, Options{Releases: []string{"3.10"}, Repos: []string{"community"}}, vulndbtest.Dir(dir+"/json-subset"))
	if err != nil {
		t.Fatal(err)
	}
	a := one(t, sink, "alpine:3.10", "chicken", "CVE-2017-6949")
	if !slices.Equal(a.Fixed, []string{"4.12.0-r3"}) {
		t.Errorf("chicken: %+v", a)
	}
	// botan 4 + cfengine 1 + chicken 4 ids.
	if n := len(sink.Affected); n != 9 {
		t.Errorf("%d records, want 9", n)
	}
}

// TestPairedIDs: an entry naming one vulnerability by two ids ("CVE-2019-5060
// TALOS-2019-0844") is filed under the CVE, with the other id as its alias,
// so it is reported once.
func TestPairedIDs(t *testing.T) {
	sink, _, err := load(t, Options{}, vulndbtest.Dir("testdata/mirror"))
	if err != nil {
		t.Fatal(err)
	}
	if got := sink.FindAffected("alpine:3.19", "sdl2_image", "TALOS-2019-0844"); len(got) != 0 {
		t.Errorf("records under the TALOS id: %+v", got)
	}
	vs := sink.FindVulnerability("CVE-2019-5060")
	if len(vs) != 1 || !slices.Equal(vs[0].Aliases, []string{"TALOS-2019-0844"}) || !slices.Equal(vs[0].Sources, []string{"alpine"}) {
		t.Errorf("CVE-2019-5060: %+v, want one record aliasing TALOS-2019-0844", vs)
	}
}
