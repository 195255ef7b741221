package python

import (
	"archive/zip"
	"bufio"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/vigil-scanner/vigil/catalog"
	"github.com/vigil-scanner/vigil/catalog/internal/langpkg"
	"github.com/vigil-scanner/vigil/inventory"
)

// maxEgg bounds a zipped egg: the layer walk keeps it whole.
const maxEgg = 64 << 20

// isEgg reports a zipped egg's name: "six-1.16.0-py3.11.egg".
func isEgg(base string) bool {
	return strings.HasSuffix(base, ".egg") && len(base) > len(".egg")
}

// readEgg returns the distribution of the zipped egg at p: its
// EGG-INFO/PKG-INFO metadata, with the unconditional requirements of
// EGG-INFO/requires.txt (eggs do not write Requires-Dist). Each entry is
// read through a bound, whatever size the zip directory declares.
func readEgg(fsys fs.FS, p string, env catalog.Env) (inventory.Package, []string, bool) {
	zr, err := openZip(fsys, p)
	if err != nil {
		env.Warn(p, "python: cannot read egg", err)
		return inventory.Package{}, nil, false
	}
	var pkgInfo, requires *zip.File
	for _, f := range zr.File {
		switch f.Name {
		case "EGG-INFO/PKG-INFO":
			pkgInfo = f
		case "EGG-INFO/requires.txt":
			requires = f
		}
	}
	if pkgInfo == nil {
		env.Warn(p, "python: egg without EGG-INFO/PKG-INFO", nil)
		return inventory.Package{}, nil, false
	}
	b, err := readZipEntry(pkgInfo, maxMetadata)
	if err != nil {
		env.Warn(p, "python: cannot read egg metadata", err)
		return inventory.Package{}, nil, false
	}
	m := parseMetadata(b)
	if m.name == "" || m.version == "" {
		env.Warn(p, "python: egg metadata without Name or Version", nil)
		return inventory.Package{}, nil, false
	}
	if requires != nil {
		b, err := readZipEntry(requires, maxMetadata)
		if err != nil {
			env.Warn(p, "python: cannot read egg requirements", err)
		} else {
			m.requires = append(m.requires, parseRequiresTxt(b)...)
		}
	}
	pkg := newPackage(m.name, m.version)
	pkg.Licenses = m.licenses()
	pkg.FilePath = p
	return pkg, m.requiredNames(), true
}

// openZip opens the zip archive at p, in place when the file system
// offers random access, else read whole (at most maxEgg bytes).
func openZip(fsys fs.FS, p string) (*zip.Reader, error) {
	f, err := fsys.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > maxEgg {
		return nil, fmt.Errorf("%w (%d bytes, limit %d)", langpkg.ErrTooLarge, st.Size(), maxEgg)
	}
	var ra io.ReaderAt
	if r, ok := f.(io.ReaderAt); ok {
		ra = r
	} else {
		b, err := langpkg.ReadFile(fsys, p, maxEgg)
		if err != nil {
			return nil, err
		}
		ra = bytes.NewReader(b)
	}
	return zip.NewReader(ra, st.Size())
}

// readZipEntry reads f, refusing more than limit uncompressed bytes.
func readZipEntry(f *zip.File, limit int64) ([]byte, error) {
	if f.UncompressedSize64 > uint64(limit) {
		return nil, fmt.Errorf("%s: %w (%d bytes, limit %d)", f.Name, langpkg.ErrTooLarge, f.UncompressedSize64, limit)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: %w (limit %d)", f.Name, langpkg.ErrTooLarge, limit)
	}
	return b, nil
}

// parseRequiresTxt returns the requirements of a requires.txt listed
// before its first "[extra]" or "[:marker]" section: those that always
// apply.
func parseRequiresTxt(b []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4<<10), 64<<10)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "[") {
			break
		}
		if line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	return out // a line too long ends the list
}
