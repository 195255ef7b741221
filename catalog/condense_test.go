package catalog

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestJoinCondense(t *testing.T) {
	fixed := func(s string) CondenseFunc {
		return func(_ string, r io.Reader, _ int64) ([]byte, error) {
			if _, err := io.ReadAll(r); err != nil {
				return nil, err
			}
			return []byte(s), nil
		}
	}
	failing := func(string, io.Reader, int64) ([]byte, error) { return nil, errors.New("boom") }
	const file = "the whole file"
	tests := []struct {
		name    string
		fns     []CondenseFunc
		want    string
		wantErr bool
	}{
		{"none kept", []CondenseFunc{fixed(""), fixed("")}, "", false},
		{"one kept", []CondenseFunc{fixed(""), fixed("go summary")}, "go summary", false},
		{"two kept: whole file", []CondenseFunc{fixed("a"), fixed("b")}, file, false},
		{"failure beside a summary", []CondenseFunc{failing, fixed("b")}, "b", false},
		{"failure alone", []CondenseFunc{failing, fixed("")}, "", true},
	}
	for _, tt := range tests {
		got, err := JoinCondense(tt.fns...)("bin/x", strings.NewReader(file), int64(len(file)))
		if (err != nil) != tt.wantErr || string(got) != tt.want || (err == nil && got == nil) {
			t.Errorf("%s: got %q, %v; want %q (error %v)", tt.name, got, err, tt.want, tt.wantErr)
		}
	}
	if _, err := JoinCondense(fixed("a"))("bin/x", bytes.NewReader([]byte("short")), 100); err == nil {
		t.Error("truncated stream: no error")
	}
	if _, err := JoinCondense(fixed("a"))("bin/x", strings.NewReader(""), maxJoined+1); err == nil {
		t.Error("oversized file: no error")
	}
}
