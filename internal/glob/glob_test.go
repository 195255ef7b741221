package glob

import "testing"

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"*", "alpine", true},
		{"*", "team/app", false},
		{"team/*", "team/app", true},
		{"team/*", "team/a/b", false},
		{"team/**", "team", true},
		{"team/**", "team/a/b", true},
		{"**", "a/b/c", true},
		{"**/app", "app", true},
		{"**/app", "x/y/app", true},
		{"**/app", "x/y/apps", false},
		{"a/**/c", "a/b/b/c", true},
		{"a/**/c", "a/c", true},
		{"a/**/c", "a/b/d", false},
		{"[", "[", false}, // malformed: matches nothing
	}
	for _, tt := range tests {
		if got := Match(tt.pattern, tt.name); got != tt.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tt.pattern, tt.name, got, tt.want)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, p := range []string{"*", "team/**", "a/[bc]/d"} {
		if err := Validate(p); err != nil {
			t.Errorf("Validate(%q) = %v", p, err)
		}
	}
	for _, p := range []string{"[", "a/[b", `a\`} {
		if err := Validate(p); err == nil {
			t.Errorf("Validate(%q) = nil, want an error", p)
		}
	}
}
