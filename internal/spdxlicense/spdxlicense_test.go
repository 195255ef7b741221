package spdxlicense

import (
	"strings"
	"testing"
)

func TestExpression(t *testing.T) {
	tests := []struct {
		in   string
		want string // "" means invalid
	}{
		{"MIT", "MIT"},
		{"mit", "MIT"},
		{"Apache-2.0", "Apache-2.0"},
		{"GPL-2.0+", "GPL-2.0+"},
		{"GPL-2.0-or-later WITH Classpath-exception-2.0", "GPL-2.0-or-later WITH Classpath-exception-2.0"},
		{"(MIT OR Apache-2.0) AND BSD-3-Clause", "(MIT OR Apache-2.0) AND BSD-3-Clause"},
		{"  MIT   OR\tZlib ", "MIT OR Zlib"},
		{"LicenseRef-vigil-custom.1", "LicenseRef-vigil-custom.1"},
		{"", ""},
		{"ASL 2.0", ""},
		{"zlib and Boost", ""},
		{"MIT or Apache-2.0", ""},
		{"public-domain", ""},
		{"MIT AND", ""},
		{"(MIT", ""},
		{"MIT)", ""},
		{"MIT WITH", ""},
		{"MIT WITH Nonexistent-exception", ""},
		{"LicenseRef-", ""},
		{"LicenseRef-a_b", ""},
		{strings.Repeat("(", 100) + "MIT" + strings.Repeat(")", 100), ""},
	}
	for _, tc := range tests {
		got, ok := Expression(tc.in)
		if ok != (tc.want != "") || got != tc.want {
			t.Errorf("Expression(%q) = %q, %v; want %q", tc.in, got, ok, tc.want)
		}
	}
}

func TestID(t *testing.T) {
	if id, ok := ID("bsd-3-clause"); !ok || id != "BSD-3-Clause" {
		t.Errorf("ID(bsd-3-clause) = %q, %v", id, ok)
	}
	if _, ok := ID("# SPDX license list"); ok {
		t.Error("the comment line is an identifier")
	}
	if !IsCompound("MIT OR Zlib") || IsCompound("GPL-2.0+") {
		t.Error("IsCompound is wrong")
	}
}
