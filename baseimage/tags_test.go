package baseimage

import (
	"slices"
	"testing"
)

func TestCandidates(t *testing.T) {
	debian := []string{"11", "11.9", "11.9-slim", "12", "12-slim", "12.5", "12.5-slim", "12.6", "12.6-slim", "12.7", "12.8",
		"12.8-slim", "12.10", "12.11", "12.11-slim", "13.0", "bookworm", "bookworm-20240612", "bookworm-20241016",
		"bookworm-20241016-slim", "bookworm-slim", "latest", "trixie-20241016"}
	python := []string{"3.12.1-slim-bookworm", "3.12.4-slim-bookworm", "3.12.4-bookworm", "3.12.4-slim-trixie", "3.13.0-slim-bookworm", "3.12.4-alpine3.20"}
	tests := []struct {
		current string
		tags    []string
		want    []string
	}{
		// The newest three of each variant of the 12 line; 13.0 is
		// another release, 12.10 sorts as ten.
		{"12.8", debian, []string{"12.11", "12.11-slim", "12.10", "12.8-slim"}},
		{"12.8-slim", debian, []string{"12.11", "12.11-slim", "12.10", "12.8"}},
		// 12.5-slim is left out: the newest three slim tags are newer.
		{"12.5", debian, []string{"12.11", "12.11-slim", "12.10", "12.8", "12.8-slim", "12.6-slim"}},
		// A one-number tag is its own line: only its variants.
		{"12", debian, []string{"12-slim"}},
		{"bookworm-20240612", debian, []string{"bookworm-20241016", "bookworm-20241016-slim"}},
		// The distribution release in the suffix stays: trixie is another
		// line, and so is alpine3.20.
		{"3.12.1-slim-bookworm", python, []string{"3.12.4-bookworm", "3.12.4-slim-bookworm"}},
		{"latest", debian, nil},
		{"bookworm", debian, nil},
	}
	for _, tt := range tests {
		if got := Candidates(tt.current, tt.tags); !slices.Equal(got, tt.want) {
			t.Errorf("Candidates(%q) = %q, want %q", tt.current, got, tt.want)
		}
	}
}

func TestSplitTag(t *testing.T) {
	for _, tt := range []struct{ ref, repo, tag string }{
		{"docker.io/library/debian:12.8", "docker.io/library/debian", "12.8"},
		{"127.0.0.1:5000/library/debian:12@sha256:abc", "127.0.0.1:5000/library/debian", "12"},
		{"127.0.0.1:5000/library/debian", "127.0.0.1:5000/library/debian", ""},
	} {
		repo, tag, _ := SplitTag(tt.ref)
		if repo != tt.repo || tag != tt.tag {
			t.Errorf("SplitTag(%q) = %q, %q", tt.ref, repo, tag)
		}
	}
}

// FuzzCandidates: tags come from registries; any of them must parse or be
// skipped, and a candidate is always one of the tags given, never the
// current one.
func FuzzCandidates(f *testing.F) {
	f.Add("12.8", "12.11-slim")
	f.Add("bookworm-20240612", "bookworm-99999999-slim")
	f.Add("v1.2.3", "v1.2.99999999999999999999")
	f.Fuzz(func(t *testing.T, current, other string) {
		tags := []string{other, current + "-slim", "12.9", other + ".1"}
		for _, c := range Candidates(current, tags) {
			if c == current || !slices.Contains(tags, c) {
				t.Fatalf("candidate %q of %q from %q", c, current, tags)
			}
		}
	})
}
