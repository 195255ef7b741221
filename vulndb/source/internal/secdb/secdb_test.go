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

func TestEntry(t *testing.T) {
	for _, tt := range []struct {
		in      string
		id      string
		aliases []string
		ok      bool
	}{
		{"CVE-2019-5060 TALOS-2019-0844", "CVE-2019-5060", []string{"TALOS-2019-0844"}, true},
		{"TALOS-2019-0844 CVE-2019-5060", "CVE-2019-5060", []string{"TALOS-2019-0844"}, true},
		{"CVE-2017-2616 (+ regression fix)", "CVE-2017-2616", nil, true},
		{"XSA-123", "XSA-123", nil, true},
		{"no id here", "", nil, false},
	} {
		id, aliases, ok := Entry(tt.in)
		if id != tt.id || !slices.Equal(aliases, tt.aliases) || ok != tt.ok {
			t.Errorf("Entry(%q) = %q, %q, %v; want %q, %q, %v", tt.in, id, aliases, ok, tt.id, tt.aliases, tt.ok)
		}
	}
}
