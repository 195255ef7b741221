package feed

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestNaturalLess(t *testing.T) {
	got := []string{"1.10.0-r0", "1.9.2-r1", "1.9.2-r0", "0", "1.9.10", "2.0"}
	slices.SortFunc(got, func(a, b string) int {
		if NaturalLess(a, b) {
			return -1
		}
		if NaturalLess(b, a) {
			return 1
		}
		return 0
	})
	want := []string{"0", "1.9.2-r0", "1.9.2-r1", "1.9.10", "1.10.0-r0", "2.0"}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestObjectArray(t *testing.T) {
	dec := json.NewDecoder(strings.NewReader(`{"a":[1,2,3],"b":{"x":1},"c":"s"}`))
	var keys []string
	var sum int
	err := Object(dec, func(key string) error {
		keys = append(keys, key)
		if key == "a" {
			return Array(dec, func() error {
				var n int
				err := dec.Decode(&n)
				sum += n
				return err
			})
		}
		return Skip(dec)
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(keys, []string{"a", "b", "c"}) || sum != 6 {
		t.Errorf("keys %v sum %d", keys, sum)
	}
}

func TestObjectTruncated(t *testing.T) {
	for _, doc := range []string{``, `{"a":[1,2`, `{"a":1`, `[1]`} {
		dec := json.NewDecoder(strings.NewReader(doc))
		err := Object(dec, func(string) error { return Skip(dec) })
		if err == nil {
			t.Errorf("%q: no error", doc)
		}
	}
}

func TestReadAll(t *testing.T) {
	if _, err := ReadAll(strings.NewReader("12345"), 4); !errors.Is(err, ErrTooLarge) {
		t.Errorf("err = %v, want ErrTooLarge", err)
	}
	if b, err := ReadAll(strings.NewReader("1234"), 4); err != nil || string(b) != "1234" {
		t.Errorf("got %q, %v", b, err)
	}
}

func TestNormalizeID(t *testing.T) {
	for in, want := range map[string]string{
		"CVE-2019-2426":           "CVE-2019-2426",
		"CVE_2019-2426":           "CVE-2019-2426",
		"cve-2019-2426":           "CVE-2019-2426",
		"CVE2019-2426":            "CVE-2019-2426",
		"CVE\u20102019\u20132426": "CVE-2019-2426",
		"CVE-2019-19451.patch":    "CVE-2019-19451",
		"CVE-2017-17434-1":        "CVE-2017-17434",
		"CVE-2021-1234567":        "CVE-2021-1234567",
		// Not CVE ids, or not certainly: left alone.
		"CVE-????-?????":               "CVE-????-?????",
		"TALOS-2019-0844":              "TALOS-2019-0844",
		"XSA-295":                      "XSA-295",
		"CVE-2021-44228-apache-log4j2": "CVE-2021-44228-apache-log4j2",
		"CVE-2019-123":                 "CVE-2019-123",
		"UBUNTU-CVE-2021-3782":         "UBUNTU-CVE-2021-3782",
		"CVE-2017-17434-123":           "CVE-2017-17434-123",
	} {
		got, changed := NormalizeID(in)
		if got != want || changed != (in != want) {
			t.Errorf("NormalizeID(%q) = %q, %v; want %q", in, got, changed, want)
		}
	}
}

func FuzzNormalizeID(f *testing.F) {
	for _, s := range []string{"CVE_2019-2426", "CVE-2017-17434-1", "cve-2019-1.patch", "XSA-1", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, changed := NormalizeID(s)
		if !changed && id != s {
			t.Fatalf("%q: changed=false but %q", s, id)
		}
		if again, ch := NormalizeID(id); changed && (ch || again != id) {
			t.Fatalf("%q → %q → %q: not idempotent", s, id, again)
		}
	})
}
