// Package rustbinary catalogs the crates compiled into Rust executables
// built with cargo-auditable, which embeds the dependency tree in a
// section named ".dep-v0" (ELF and PE): zlib-compressed JSON of the form
//
//	{"packages":[{"name":"…","version":"…","source":"crates.io",
//	  "kind":"runtime","dependencies":[1,2],"root":true}, …]}
//
// where dependencies are indices into packages (see
// https://github.com/rust-secure-code/cargo-auditable, format "v0").
//
// Each binary is one result, target the binary's path, type "rust-binary",
// purls pkg:cargo/name@version. The root package (the binary's own crate)
// and other local crates are not reported, as with Cargo.lock; the root's
// dependencies are the direct ones, the others are Indirect. Build
// dependencies (kind "build") are not compiled into the binary and are
// left out.
//
// The input may be the executable or its condensed form, which Condense
// (catalog.Condenser) streams: a short header followed by the section's
// compressed bytes.
package rustbinary

import (
	"bytes"
	"compress/zlib"
	"context"
	"debug/elf"
	"debug/pe"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"

	packageurl "github.com/package-url/packageurl-go"

	"github.com/vigil-scanner/vigil/catalog"
	"github.com/vigil-scanner/vigil/catalog/internal/langpkg"
	"github.com/vigil-scanner/vigil/internal/bounded"
	"github.com/vigil-scanner/vigil/inventory"
)

// Type is the result type.
const Type = "rust-binary"

// Section is the name of the section cargo-auditable writes.
const Section = ".dep-v0"

const (
	// minSize is the smallest executable considered.
	minSize = 4 << 10
	// maxSize is the largest executable read into memory whole.
	maxSize = 512 << 20
	// maxSection bounds the compressed section; cargo-auditable's own
	// reader allows 8 MiB of JSON, which compresses far below that.
	maxSection = 8 << 20
	// maxJSON bounds the decompressed JSON.
	maxJSON = 8 << 20
)

// summaryHeader starts a condensed binary; the section's bytes follow.
const summaryHeader = "vigil-rust-dep-v0\n"

// Cataloger finds Rust crates in executables. The zero value is ready.
type Cataloger struct{}

// New returns a Rust binary cataloger.
func New() Cataloger { return Cataloger{} }

// Name implements catalog.Cataloger.
func (Cataloger) Name() string { return "rust-binary" }

// Wants implements catalog.Cataloger: executable regular files between
// 4 KiB and 512 MiB.
func (Cataloger) Wants(_ string, mode fs.FileMode, size int64) bool {
	return mode.IsRegular() && mode&0o111 != 0 && size >= minSize && size <= maxSize
}

// Condense implements catalog.Condenser: every wanted executable is
// reduced, while it streams, to its ".dep-v0" section behind a header, or
// to nothing when it has none.
func (Cataloger) Condense(string, fs.FileMode, int64) catalog.CondenseFunc {
	return condense
}

func condense(_ string, r io.Reader, size int64) ([]byte, error) {
	if size < 0 || size > maxSize {
		return nil, fmt.Errorf("%d bytes, outside the Rust binary size range", size)
	}
	// A reader that holds the whole file (catalog.JoinCondense's
	// *io.SectionReader) is read in place.
	var ra io.ReaderAt
	if sr, ok := r.(interface {
		io.ReaderAt
		Size() int64
	}); ok && sr.Size() == size {
		ra = sr
	} else {
		var head [4]byte
		n, err := io.ReadFull(r, head[:])
		if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
			return nil, err
		}
		if !isExecutable(head[:n]) {
			return []byte{}, nil
		}
		buf, err := bounded.ReadN(io.MultiReader(bytes.NewReader(head[:n]), r), size)
		if err != nil {
			return nil, fmt.Errorf("reading executable: %w", err)
		}
		ra = bytes.NewReader(buf)
	}
	sec, err := ReadSection(io.NewSectionReader(ra, 0, size))
	switch {
	case errors.Is(err, ErrNoSection):
		return []byte{}, nil
	case err != nil:
		return nil, err
	}
	return append([]byte(summaryHeader), sec...), nil
}

// ErrNoSection is returned by ReadSection for files that are no
// executable or have no ".dep-v0" section.
var ErrNoSection = errors.New("no cargo-auditable section")

// ReadSection returns the raw (compressed) contents of the ".dep-v0"
// section of an ELF or PE executable.
func ReadSection(r io.ReaderAt) ([]byte, error) {
	var head [4]byte
	n, _ := r.ReadAt(head[:], 0)
	var sr *io.SectionReader
	switch {
	case bytes.HasPrefix(head[:n], []byte("\x7fELF")):
		f, err := elf.NewFile(r)
		if err != nil {
			return nil, fmt.Errorf("reading ELF: %w", err)
		}
		s := f.Section(Section)
		if s == nil {
			return nil, ErrNoSection
		}
		if s.Type == elf.SHT_NOBITS || s.Flags&elf.SHF_COMPRESSED != 0 {
			return nil, fmt.Errorf("section %s: unexpected type or flags", Section)
		}
		sr = io.NewSectionReader(r, int64(s.Offset), int64(s.FileSize))
	case bytes.HasPrefix(head[:n], []byte("MZ")):
		f, err := pe.NewFile(r)
		if err != nil {
			return nil, ErrNoSection // many "MZ" files are not PE images
		}
		s := f.Section(Section)
		if s == nil {
			return nil, ErrNoSection
		}
		// Size is the raw size, padded with zeros that the zlib
		// stream's end makes harmless.
		sr = io.NewSectionReader(r, int64(s.Offset), int64(s.Size))
	default:
		return nil, ErrNoSection
	}
	if sr.Size() < 0 || sr.Size() > maxSection {
		return nil, fmt.Errorf("section %s: %d bytes, limit %d", Section, sr.Size(), maxSection)
	}
	b, err := bounded.ReadN(sr, sr.Size())
	if err != nil {
		return nil, fmt.Errorf("section %s: %w", Section, err)
	}
	return b, nil
}

func isExecutable(head []byte) bool {
	return bytes.HasPrefix(head, []byte("\x7fELF")) || bytes.HasPrefix(head, []byte("MZ"))
}

// Catalog implements catalog.Cataloger. Executables without the section
// (most of them) are skipped silently; files are recognised by content,
// so a condensed summary stored under the binary's path is read as well.
func (c Cataloger) Catalog(ctx context.Context, fsys fs.FS, env catalog.Env) ([]inventory.Result, error) {
	var results []inventory.Result
	err := langpkg.Walk(ctx, fsys, env, "rust-binary", func(p string) error {
		if env.OwnedByOS(p) {
			return nil
		}
		sec, err := readFile(fsys, p)
		switch {
		case errors.Is(err, ErrNoSection):
			return nil
		case err != nil:
			env.Warn(p, "rust-binary: cannot read", err)
			return nil
		}
		pkgs, err := Parse(sec)
		if err != nil {
			env.Warn(p, "rust-binary: malformed dependency section", err)
			return nil
		}
		for i := range pkgs {
			pkgs[i].FilePath = p
		}
		results = append(results, langpkg.Result(p, Type, pkgs)...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	langpkg.SortResults(results)
	return results, nil
}

// readFile returns the compressed section of the executable or summary at
// p.
func readFile(fsys fs.FS, p string) ([]byte, error) {
	f, err := fsys.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	head := make([]byte, len(summaryHeader))
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	if string(head) == summaryHeader {
		b, err := langpkg.ReadFile(fsys, p, maxSection+int64(len(summaryHeader)))
		if err != nil {
			return nil, err
		}
		return b[len(summaryHeader):], nil
	}
	if !isExecutable(head) {
		return nil, ErrNoSection
	}
	if ra, ok := f.(io.ReaderAt); ok {
		if st, err := f.Stat(); err == nil {
			return ReadSection(io.NewSectionReader(ra, 0, st.Size()))
		}
	}
	b, err := langpkg.ReadFile(fsys, p, maxSize)
	if err != nil {
		return nil, err
	}
	return ReadSection(bytes.NewReader(b))
}

// versionInfo is the JSON that cargo-auditable embeds.
type versionInfo struct {
	Packages []struct {
		Name         string `json:"name"`
		Version      string `json:"version"`
		Source       string `json:"source"`
		Kind         string `json:"kind"`
		Dependencies []int  `json:"dependencies"`
		Root         bool   `json:"root"`
	} `json:"packages"`
}

// Parse returns the crates listed in a ".dep-v0" section's compressed
// contents.
func Parse(section []byte) ([]inventory.Package, error) {
	zr, err := zlib.NewReader(bytes.NewReader(section))
	if err != nil {
		return nil, fmt.Errorf("zlib: %w", err)
	}
	defer zr.Close()
	js, err := io.ReadAll(io.LimitReader(zr, maxJSON+1))
	if err != nil {
		return nil, fmt.Errorf("zlib: %w", err)
	}
	if len(js) > maxJSON {
		return nil, fmt.Errorf("more than %d bytes of JSON", maxJSON)
	}
	var vi versionInfo
	if err := json.Unmarshal(js, &vi); err != nil {
		return nil, fmt.Errorf("JSON: %w", err)
	}
	if len(vi.Packages) == 0 {
		return nil, errors.New("no packages")
	}

	// reported[i] is the index in pkgs of vi.Packages[i], or -1.
	reported := make([]int, len(vi.Packages))
	var pkgs []inventory.Package
	for i, e := range vi.Packages {
		reported[i] = -1
		if e.Root || e.Source == "local" || e.Kind == "build" || e.Name == "" || e.Version == "" {
			continue
		}
		reported[i] = len(pkgs)
		pkgs = append(pkgs, inventory.Package{
			ID:      langpkg.ID(e.Name, e.Version),
			Name:    e.Name,
			Version: e.Version,
			Purl:    langpkg.Purl(packageurl.TypeCargo, "", e.Name, e.Version),
		})
	}
	direct := map[int]bool{}
	hasRoot := false
	for i, e := range vi.Packages {
		for _, d := range e.Dependencies {
			if d < 0 || d >= len(vi.Packages) || reported[d] < 0 {
				continue // out of range, or a crate not reported
			}
			switch {
			case e.Root:
				direct[reported[d]] = true
			case reported[i] >= 0:
				p := &pkgs[reported[i]]
				p.DependsOn = append(p.DependsOn, pkgs[reported[d]].ID)
			}
		}
		hasRoot = hasRoot || e.Root
	}
	if hasRoot {
		for i := range pkgs {
			pkgs[i].Indirect = !direct[i]
		}
	}
	return pkgs, nil
}

// Inputs implements catalog.FileInputs: a binary's packages are read from
// the binary alone.
func (Cataloger) Inputs(filePath string) ([]string, bool) { return []string{filePath}, true }
