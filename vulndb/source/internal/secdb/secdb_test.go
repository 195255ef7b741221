package secdb

import (
	"slices"
	"testing"
)

func TestSplitIDs(t *testing.T) {
	for in, want := range map[string][]string{
		"CVE-2019-5060 TALOS-2019-0844":      {"CVE-2019-5060", "TALOS-2019-0844"},
		"CVE-2017-2616 (+ regression fix)":   {"CVE-2017-2616"},
		"  GHSA-abcd-efgh-ijkl ":             {"GHSA-abcd-efgh-ijkl"},
		"XSA-123":                            {"XSA-123"},
		"not an id":                          nil,
		"CVE-2020-1234\tCVE-2020-5678 (see)": {"CVE-2020-1234", "CVE-2020-5678"},
	} {
		if got := SplitIDs(in); !slices.Equal(got, want) {
			t.Errorf("SplitIDs(%q) = %q, want %q", in, got, want)
		}
	}
}
