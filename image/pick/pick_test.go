package pick

import (
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func TestMatchesRef(t *testing.T) {
	h := v1.Hash{Algorithm: "sha256", Hex: "0123456789012345678901234567890123456789012345678901234567890123"}
	tests := []struct {
		refs []string
		ref  string
		want bool
	}{
		{[]string{"alpine:3.10"}, "", true},
		{[]string{"alpine:3.10"}, "alpine:3.10", true},
		{[]string{"alpine:3.10"}, "docker.io/library/alpine:3.10", true},
		{[]string{"docker.io/library/alpine:3.10"}, "alpine:3.10", true},
		{[]string{"alpine:3.10"}, "alpine:3.11", false},
		{[]string{"alpine:3.10"}, "alpine", false}, // alpine means alpine:latest
		{[]string{"3.10"}, "alpine:3.10", true},    // layout ref.name holds only the tag
		{[]string{"example.com/a:3.10"}, "3.10", true},
		{[]string{"example.com/a:3.10"}, "example.com/b:3.10", false},
		{nil, h.String(), true},
		{nil, "example.com/a@" + h.String(), true},
		{nil, "sha256:" + "f123456789012345678901234567890123456789012345678901234567890123", false},
	}
	for _, tt := range tests {
		c := Candidate{Refs: tt.refs, Digest: h}
		if got := c.MatchesRef(tt.ref); got != tt.want {
			t.Errorf("Candidate%q.MatchesRef(%q) = %v, want %v", tt.refs, tt.ref, got, tt.want)
		}
	}
}

func TestParsePlatform(t *testing.T) {
	for _, tt := range []struct {
		in, want string
		err      bool
	}{
		{"linux/arm64", "linux/arm64", false},
		{"linux/arm/v7", "linux/arm/v7", false},
		{"linux", "", true},
		{"", DefaultPlatform().String(), false},
	} {
		got, err := ParsePlatform(tt.in)
		if (err != nil) != tt.err || (err == nil && got.String() != tt.want) {
			t.Errorf("ParsePlatform(%q) = %v, %v; want %q (error %v)", tt.in, got, err, tt.want, tt.err)
		}
	}
}
