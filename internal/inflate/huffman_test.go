package inflate

import (
	"math/bits"
	"math/rand/v2"
	"testing"
)

// randomCode returns the code lengths of a random complete prefix code of
// n symbols of alphabet size (n ≥ 2), no code longer than maxBits: leaves
// of a binary tree are split at random, and the leaves given to random
// symbols.
func randomCode(r *rand.Rand, size, n int, deep bool) []uint8 {
	leaves := []uint8{0}
	for len(leaves) < n {
		i := r.IntN(len(leaves))
		if deep {
			// Split the deepest leaves most often: long codes.
			for range 3 {
				if j := r.IntN(len(leaves)); leaves[j] > leaves[i] {
					i = j
				}
			}
		}
		if leaves[i] == maxBits {
			continue
		}
		leaves[i]++
		leaves = append(leaves, leaves[i])
	}
	lengths := make([]uint8, size)
	for i, s := range r.Perm(size)[:n] {
		lengths[s] = leaves[i]
	}
	return lengths
}

// lookup decodes the code in the low bits of v with table t of root bits,
// as the decoder does: it returns the entry and the bits of the code.
func lookup(t []uint32, root uint, v uint64) (uint32, uint) {
	e := t[v&(1<<root-1)]
	if e&entryLink == 0 {
		return e, uint(e>>8) & 15
	}
	sub := t[e>>16+uint32(v>>root)&(1<<((e>>8)&15)-1)]
	return sub, root + uint(sub>>8)&15
}

// TestBuild checks the tables of random complete codes, with many codes
// longer than the root width: every symbol's canonical code (RFC 1951
// 3.2.2) decodes to that symbol with its length, and the tables fit.
func TestBuild(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	alphabets := []struct {
		alphabet, size int
		root           uint
		t              []uint32
	}{
		{alphaLitLen, 286, litBits, make([]uint32, litTableSize)},
		{alphaDist, 30, distBits, make([]uint32, distTableSize)},
	}
	for _, a := range alphabets {
		for i := range 3000 {
			n := 2 + r.IntN(a.size-1)
			lengths := randomCode(r, a.size, n, i%2 == 0)
			if err := build(a.t, lengths, a.root, a.alphabet, false); err != nil {
				t.Fatalf("alphabet %d, lengths %v: %v", a.alphabet, lengths, err)
			}
			var count, next [maxBits + 2]int
			for _, l := range lengths {
				count[l]++
			}
			count[0] = 0
			code := 0
			for l := 1; l <= maxBits; l++ {
				code = (code + count[l-1]) << 1
				next[l] = code
			}
			for s, l := range lengths {
				if l == 0 {
					continue
				}
				c := next[l]
				next[l]++
				rev := uint64(bits.Reverse16(uint16(c)) >> (16 - l))
				v := rev | r.Uint64()<<l // the bits that follow are noise
				e, got := lookup(a.t, a.root, v)
				want := symbolEntry(a.alphabet, s)
				here := uint(e>>8) & 15 // the code's bits in the table it was found in
				if got != uint(l) || e&^0xfff != want&^0xfff || e&31 != want&31+uint32(here) {
					t.Fatalf("alphabet %d symbol %d (length %d): entry %#x of %d bits, want %#x", a.alphabet, s, l, e, got, want)
				}
			}
		}
	}
}

// TestBuildRejects checks the codes build refuses, as compress/flate does.
func TestBuildRejects(t *testing.T) {
	tab := make([]uint32, litTableSize)
	over := make([]uint8, 286)
	over[0], over[1], over[2] = 1, 1, 1
	incomplete := make([]uint8, 286)
	incomplete[0], incomplete[1] = 1, 2
	one := make([]uint8, 286)
	one[5] = 1
	tests := []struct {
		name    string
		lengths []uint8
		empty   bool
		ok      bool
	}{
		{"over-subscribed", over, false, false},
		{"incomplete", incomplete, false, false},
		{"empty", make([]uint8, 286), false, false},
		{"empty allowed", make([]uint8, 286), true, true},
		{"one code of length 1", one, false, true},
	}
	for _, tc := range tests {
		err := build(tab, tc.lengths, litBits, alphaLitLen, tc.empty)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err = %v", tc.name, err)
		}
	}
	// The one code of length 1 decodes its symbol from a 0 bit; a 1 bit
	// is an invalid symbol.
	if err := build(tab, one, litBits, alphaLitLen, false); err != nil {
		t.Fatal(err)
	}
	if e := tab[0]; e != symbolEntry(alphaLitLen, 5)|1|1<<8 {
		t.Errorf("entry for bit 0: %#x", e)
	}
	if e := tab[1]; e != entryInvalid {
		t.Errorf("entry for bit 1: %#x, want invalid", e)
	}
}
