package rpm

import (
	"encoding/binary"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// tv is one tag of a header built by buildHeader: value is a string,
// []string or []int32.
type tv struct {
	tag   uint32
	value any
}

// buildHeader writes a header blob in rpm's database layout: intro, index
// entries sorted by tag, data with int32 values aligned to 4 bytes.
func buildHeader(tags ...tv) []byte {
	slices.SortFunc(tags, func(a, b tv) int { return int(a.tag) - int(b.tag) })
	var index, data []byte
	be := binary.BigEndian
	for _, t := range tags {
		var typ, count uint32
		switch v := t.value.(type) {
		case string:
			typ, count = typeString, 1
			index = be.AppendUint32(index, t.tag)
			index = be.AppendUint32(index, typ)
			index = be.AppendUint32(index, uint32(len(data)))
			index = be.AppendUint32(index, count)
			data = append(append(data, v...), 0)
		case []string:
			typ, count = typeStringArray, uint32(len(v))
			index = be.AppendUint32(index, t.tag)
			index = be.AppendUint32(index, typ)
			index = be.AppendUint32(index, uint32(len(data)))
			index = be.AppendUint32(index, count)
			for _, s := range v {
				data = append(append(data, s...), 0)
			}
		case []int32:
			for len(data)%4 != 0 {
				data = append(data, 0)
			}
			typ, count = typeInt32, uint32(len(v))
			index = be.AppendUint32(index, t.tag)
			index = be.AppendUint32(index, typ)
			index = be.AppendUint32(index, uint32(len(data)))
			index = be.AppendUint32(index, count)
			for _, n := range v {
				data = be.AppendUint32(data, uint32(n))
			}
		default:
			panic("buildHeader: unsupported value")
		}
	}
	blob := be.AppendUint32(nil, uint32(len(tags)))
	blob = be.AppendUint32(blob, uint32(len(data)))
	return append(append(blob, index...), data...)
}

func opensslHeader() []byte {
	return buildHeader(
		tv{tagName, "openssl-libs"},
		tv{tagVersion, "3.0.7"},
		tv{tagRelease, "18.el9_2"},
		tv{tagEpoch, []int32{1}},
		tv{tagArch, "x86_64"},
		tv{tagSourceRPM, "openssl-3.0.7-18.el9_2.src.rpm"},
		tv{tagLicense, "ASL 2.0"},
		tv{tagVendor, "Red Hat, Inc."},
		tv{tagSize, []int32{6_000_000}},
		tv{tagDirnames, []string{"/usr/lib64/", "/etc/pki/tls/"}},
		tv{tagBasenames, []string{"libcrypto.so.3", "libssl.so.3", "openssl.cnf"}},
		tv{tagDirIndexes, []int32{0, 0, 1}},
	)
}

func TestParseHeader(t *testing.T) {
	h, err := ParseHeader(opensslHeader())
	if err != nil {
		t.Fatal(err)
	}
	want := Header{
		Name: "openssl-libs", Version: "3.0.7", Release: "18.el9_2", Epoch: 1, HasEpoch: true,
		Arch: "x86_64", SourceRPM: "openssl-3.0.7-18.el9_2.src.rpm", License: "ASL 2.0",
		Vendor: "Red Hat, Inc.", Size: 6_000_000,
		Files: []string{"/usr/lib64/libcrypto.so.3", "/usr/lib64/libssl.so.3", "/etc/pki/tls/openssl.cnf"},
	}
	if !equalHeader(*h, want) {
		t.Errorf("got %+v\nwant %+v", *h, want)
	}
	p := toPackage(h)
	if p.Version != "1:3.0.7-18.el9_2" || p.Epoch != 1 || p.SourceName != "openssl" || p.SourceVersion != "1:3.0.7-18.el9_2" {
		t.Errorf("package %+v", p)
	}
	if p.InstalledFiles[2] != "etc/pki/tls/openssl.cnf" {
		t.Errorf("files %v", p.InstalledFiles)
	}
}

func equalHeader(a, b Header) bool {
	return reflect.DeepEqual(a, b)
}

func TestParseHeaderOldFilenames(t *testing.T) {
	h, err := ParseHeader(buildHeader(tv{tagName, "old"}, tv{tagOldFilenames, []string{"/bin/a", "/bin/b"}}))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(h.Files, []string{"/bin/a", "/bin/b"}) || h.HasEpoch {
		t.Errorf("got %+v", h)
	}
}

// corrupt returns a copy of blob changed by f.
func corrupt(blob []byte, f func(b []byte) []byte) []byte {
	return f(slices.Clone(blob))
}

// entryAt returns the byte offset of index entry i.
func entryAt(i int) int { return 8 + 16*i }

func TestParseHeaderCorrupt(t *testing.T) {
	good := opensslHeader()
	be := binary.BigEndian
	dl := int(be.Uint32(good[4:]))
	for _, tc := range []struct {
		name string
		blob []byte
		msg  string
	}{
		{"empty", nil, "shorter than the intro"},
		{"intro only", good[:8], "do not fit"},
		{"truncated data", good[:len(good)-1], "do not fit"},
		{"truncated index", good[:20], "do not fit"},
		{"zero entries", corrupt(good, func(b []byte) []byte { be.PutUint32(b, 0); return b }), "0 index entries"},
		{"huge index count", corrupt(good, func(b []byte) []byte { be.PutUint32(b, 0xffffffff); return b }), "index entries"},
		{"huge data length", corrupt(good, func(b []byte) []byte { be.PutUint32(b[4:], 0x7fffffff); return b }), "data bytes"},
		{"string offset out of range", corrupt(good, func(b []byte) []byte {
			be.PutUint32(b[entryAt(0)+8:], uint32(dl)+100) // NAME is entry 0
			return b
		}), "beyond"},
		{"unterminated string", corrupt(good, func(b []byte) []byte {
			for i := len(b) - dl; i < len(b); i++ {
				if b[i] == 0 {
					b[i] = 'x'
				}
			}
			return b
		}), "unterminated"},
		{"huge string array count", corrupt(good, func(b []byte) []byte {
			be.PutUint32(b[entryAt(11)+12:], 0xfffffff0) // DIRNAMES is entry 11
			return b
		}), "strings in"},
		{"huge int32 count", corrupt(good, func(b []byte) []byte {
			be.PutUint32(b[entryAt(3)+12:], 0x40000000) // EPOCH is entry 3
			return b
		}), "int32"},
		{"wrong type", corrupt(good, func(b []byte) []byte { be.PutUint32(b[entryAt(0)+4:], typeInt32); return b }), "want a string"},
		{"dir index out of range", buildHeader(tv{tagName, "x"}, tv{tagDirnames, []string{"/a/"}},
			tv{tagBasenames, []string{"b"}}, tv{tagDirIndexes, []int32{7}}), "dir index 7"},
		{"negative dir index", buildHeader(tv{tagName, "x"}, tv{tagDirnames, []string{"/a/"}},
			tv{tagBasenames, []string{"b"}}, tv{tagDirIndexes, []int32{-1}}), "dir index -1"},
		{"dir index count mismatch", buildHeader(tv{tagName, "x"}, tv{tagDirnames, []string{"/a/"}},
			tv{tagBasenames, []string{"b", "c"}}, tv{tagDirIndexes, []int32{0}}), "2 basenames"},
		{"no name", buildHeader(tv{tagVersion, "1"}), "no name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseHeader(tc.blob)
			if !errors.Is(err, errCorrupt) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("err = %v, want errCorrupt mentioning %q", err, tc.msg)
			}
		})
	}
}

func TestSplitSourceRPM(t *testing.T) {
	for _, tc := range []struct {
		in, name, version, release string
		ok                         bool
	}{
		{"openssl-3.0.7-18.el9_2.src.rpm", "openssl", "3.0.7", "18.el9_2", true},
		{"python3.11-3.11.2-2.el9.nosrc.rpm", "python3.11", "3.11.2", "2.el9", true},
		{"glibc-2.34-60.el9.src.rpm", "glibc", "2.34", "60.el9", true},
		{"a-b-c-1-2.src.rpm", "a-b-c", "1", "2", true},
		{"", "", "", "", false},
		{"noversion.src.rpm", "", "", "", false},
		{"x-1.src.rpm", "", "", "", false},
		{"-1-2.src.rpm", "", "", "", false},
	} {
		n, v, r, ok := splitSourceRPM(tc.in)
		if n != tc.name || v != tc.version || r != tc.release || ok != tc.ok {
			t.Errorf("splitSourceRPM(%q) = %q %q %q %v", tc.in, n, v, r, ok)
		}
	}
}

func FuzzParseHeader(f *testing.F) {
	f.Add(opensslHeader())
	f.Add(buildHeader(tv{tagName, "x"}, tv{tagOldFilenames, []string{"/a"}}))
	f.Add([]byte{0, 0, 0, 1, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, blob []byte) {
		h, err := ParseHeader(blob)
		if err == nil && h.Name == "" {
			t.Fatal("header without a name accepted")
		}
		if err != nil && !errors.Is(err, errCorrupt) {
			t.Fatalf("error %v does not wrap errCorrupt", err)
		}
	})
}

// TestHeaderStringBound: a string array of more entries than a package
// has files is corrupt, whatever its data holds.
func TestHeaderStringBound(t *testing.T) {
	many := make([]string, maxStrings+1)
	blob := buildHeader(tv{tagName, "x"}, tv{tagVersion, "1"}, tv{tagRelease, "1"}, tv{tagOldFilenames, many})
	if _, err := ParseHeader(blob); !errors.Is(err, errCorrupt) {
		t.Errorf("err = %v, want errCorrupt", err)
	}
}
