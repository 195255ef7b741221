package chainguard

import (
	"context"
	"slices"
	"testing"

	"github.com/vigil-scanner/vigil/internal/testutil"
	"github.com/vigil-scanner/vigil/vulndb"
	"github.com/vigil-scanner/vigil/vulndb/vulndbtest"
)

// TestSharedSample checks chainguard-secdb/security.json: git lists
// CVE-2023-22743 under "0" next to three fixed versions, openssl lists
// CVE-2022-3996 under "3.0.7-r1"; 197 distinct (package, id) pairs
// (counted with a short script splitting every entry on whitespace).
func TestSharedSample(t *testing.T) {
	dir := testutil.Shared(t, "data/feeds/chainguard-secdb")
	var log vulndbtest.Log
	sink := &vulndbtest.Sink{}
	if err := New(Options{Logger: log.Logger()}).Load(context.Background(), vulndbtest.Dir(dir), sink); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		pkg, id string
		status  vulndb.Status
		fixed   []string
	}{
		{"git", "CVE-2023-22743", vulndb.StatusNotAffected, nil},
		{"git", "CVE-2023-23946", vulndb.StatusFixed, []string{"2.39.2-r0"}},
		{"openssl", "CVE-2022-3996", vulndb.StatusFixed, []string{"3.0.7-r1"}},
	} {
		got := sink.FindAffected("chainguard", tt.pkg, tt.id)
		if len(got) != 1 || got[0].Status != tt.status || !slices.Equal(got[0].Fixed, tt.fixed) || got[0].Source != "chainguard" {
			t.Errorf("%s %s: got %+v", tt.pkg, tt.id, got)
		}
	}
	if n := len(sink.Affected); n != 197 {
		t.Errorf("%d records, want 197", n)
	}
	if w := log.Warnings(); len(w) != 0 {
		t.Errorf("warnings: %v", w)
	}
}
