package gobinary

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/vigil-scanner/vigil/catalog"
	"github.com/vigil-scanner/vigil/internal/bounded"
)

// symPrefix starts a summary line listing the symbols of one package:
// "sym\t<package path>\t<name> <name> …\n".
const symPrefix = "sym\t"

// Condense implements catalog.Condenser: every wanted executable is
// reduced, while it streams, to the summary Summarize returns. Files that
// are no Go executable are reduced to nothing.
func (Cataloger) Condense(string, fs.FileMode, int64) catalog.CondenseFunc {
	return condense
}

// condense buffers one executable (at most maxSize bytes, as Wants
// allows), summarises it and lets the buffer go. A reader that holds the
// whole file (catalog.JoinCondense's *io.SectionReader) is read in place.
func condense(p string, r io.Reader, size int64) ([]byte, error) {
	if size < 0 || size > maxSize {
		return nil, fmt.Errorf("%d bytes, outside the Go binary size range", size)
	}
	if ra, ok := r.(sizedReaderAt); ok && ra.Size() == size {
		return summarizeExecutable(ra)
	}
	var head [8]byte
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
	return summarizeExecutable(bytes.NewReader(buf))
}

// sizedReaderAt is a reader with random access to its size bytes, such
// as *bytes.Reader or *io.SectionReader.
type sizedReaderAt interface {
	io.ReaderAt
	Size() int64
}

// summarizeExecutable returns Summarize's summary of r, or an empty one
// when r is no Go executable.
func summarizeExecutable(r io.ReaderAt) ([]byte, error) {
	var head [8]byte
	n, _ := r.ReadAt(head[:], 0)
	if !isExecutable(head[:n]) {
		return []byte{}, nil
	}
	s, err := Summarize(r)
	switch {
	case err == errNotGo:
		return []byte{}, nil
	case err != nil:
		return nil, err
	}
	return s, nil
}

// Summarize returns the condensed form of a Go executable, which Catalog
// reads in place of the binary: its build information as BuildInfo.String
// writes it, followed, when the symbol table can be read, by one line per
// package of the binary's modules and of the standard library,
// "sym\t<package path>\t<names>", the names in the Go vulnerability
// database's form ("Parse", "Tag.String") separated by spaces. Symbols
// are left out when they would make the summary larger than 16 MiB. It
// returns an error wrapping "not a Go executable" for other files.
func Summarize(r io.ReaderAt) ([]byte, error) {
	bi, err := readInfo(r)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString(bi.String())
	if raw, err := Symbols(r); err == nil {
		syms := vulnSymbols(raw, bi)
		byPkg := map[string][]string{}
		for s := range syms {
			pkg, name := splitSymbol(s)
			byPkg[pkg] = append(byPkg[pkg], name)
		}
		var lines bytes.Buffer
		for _, pkg := range slices.Sorted(maps.Keys(byPkg)) {
			names := byPkg[pkg]
			slices.Sort(names)
			lines.WriteString(symPrefix + pkg + "\t" + strings.Join(names, " ") + "\n")
		}
		if b.Len()+lines.Len() <= maxSummary {
			b.Write(lines.Bytes())
		}
	}
	return b.Bytes(), nil
}

// splitSymbol splits "pkg/path.Name" or "pkg/path.Type.Method" at the dot
// that ends the package path.
func splitSymbol(s string) (pkg, name string) {
	slash := strings.LastIndexByte(s, '/') + 1
	dot := strings.IndexByte(s[slash:], '.')
	if dot < 0 {
		return s, ""
	}
	return s[:slash+dot], s[slash+dot+1:]
}

// parseSummary reads a summary: the text of BuildInfo.String (whose "go"
// line debug.ParseBuildInfo skips, so the toolchain version is taken
// here) and the symbol lines. syms is nil when the summary lists none.
func parseSummary(s string) (bi *debug.BuildInfo, syms map[string]bool, err error) {
	var info strings.Builder
	for line := range strings.Lines(s) {
		rest, ok := strings.CutPrefix(line, symPrefix)
		if !ok {
			info.WriteString(line)
			continue
		}
		pkg, names, ok := strings.Cut(strings.TrimSuffix(rest, "\n"), "\t")
		if !ok || pkg == "" {
			return nil, nil, fmt.Errorf("condensed build info: malformed symbol line %.40q", line)
		}
		if syms == nil {
			syms = map[string]bool{}
		}
		for _, n := range strings.Fields(names) {
			syms[pkg+"."+n] = true
		}
	}
	text := info.String()
	bi, err = debug.ParseBuildInfo(text)
	if err != nil {
		return nil, nil, fmt.Errorf("condensed build info: %w", err)
	}
	if bi.GoVersion == "" {
		if rest, ok := strings.CutPrefix(text, "go\t"); ok {
			bi.GoVersion, _, _ = strings.Cut(rest, "\n")
		}
	}
	return bi, syms, nil
}

// vulnSymbols turns the function names of a binary ("net/http.(*Server).Serve",
// "slices.Sort[...]", "pkg.F.func1") into the Go vulnerability database's
// symbol form ("net/http.Server.Serve", "slices.Sort", "pkg.F"), keeping
// those of the standard library and of the binary's modules. It returns
// nil when none is left.
func vulnSymbols(raw map[string]bool, bi *debug.BuildInfo) map[string]bool {
	var mods []string
	if bi.Main.Path != "" {
		mods = append(mods, bi.Main.Path)
	}
	for _, d := range bi.Deps {
		mods = append(mods, d.Path)
		if d.Replace != nil && d.Replace.Path != d.Path {
			mods = append(mods, d.Replace.Path)
		}
	}
	relevant := map[string]bool{}
	out := map[string]bool{}
	for fn := range raw {
		pkg, name, ok := normalizeSymbol(fn)
		if !ok {
			continue
		}
		keep, seen := relevant[pkg]
		if !seen {
			keep = isStdlib(pkg) || slices.ContainsFunc(mods, func(m string) bool {
				return pkg == m || strings.HasPrefix(pkg, m+"/")
			})
			relevant[pkg] = keep
		}
		if keep {
			out[pkg+"."+name] = true
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// isStdlib reports whether pkg is a standard-library package: its first
// path element has no dot ("net/http", "vendor/golang.org/x/net/…").
func isStdlib(pkg string) bool {
	first, _, _ := strings.Cut(pkg, "/")
	return pkg != "main" && !strings.Contains(first, ".")
}

// normalizeSymbol splits a function name from the Go symbol table into
// its package path and its name as the vulnerability database writes it:
// type parameters ("[...]"), pointer receivers ("(*T)"), method-value
// wrappers ("-fm") and closure suffixes (".func1", ".gowrap2") are
// removed, so a closure counts as its enclosing function. Linker and
// compiler generated names ("type:.eq.T", "go:buildid") are rejected.
func normalizeSymbol(fn string) (pkg, name string, ok bool) {
	fn = stripBrackets(fn)
	if strings.ContainsAny(fn, ": ") {
		return "", "", false
	}
	slash := strings.LastIndexByte(fn, '/') + 1
	dot := strings.IndexByte(fn[slash:], '.')
	if dot <= 0 {
		return "", "", false
	}
	// The linker escapes dots in the last path element ("yaml%2ev3").
	pkg = fn[:slash+dot]
	if strings.Contains(pkg[slash:], "%2e") {
		pkg = fn[:slash] + strings.ReplaceAll(pkg[slash:], "%2e", ".")
	}
	rest := strings.TrimSuffix(fn[slash+dot+1:], "-fm")
	// Two passes that allocate nothing when there is nothing to replace:
	// a strings.Replacer would be built for every symbol of every binary.
	rest = strings.ReplaceAll(strings.ReplaceAll(rest, "(*", ""), ")", "")
	// The name is the first one or two dot-separated parts of rest, up to
	// an empty part or a closure's: a prefix of rest, taken without
	// allocating (this runs for every function of every binary).
	end := 0
	for i := range 2 {
		seg := rest
		if i > 0 {
			if end >= len(rest) {
				break
			}
			seg = rest[end+1:]
		}
		part, _, _ := strings.Cut(seg, ".")
		if part == "" || isClosure(part) {
			break
		}
		if i == 0 {
			end = len(part)
		} else {
			end += 1 + len(part)
		}
	}
	if end == 0 {
		return "", "", false
	}
	return pkg, rest[:end], true
}

// isClosure reports the compiler's names for function literals and
// go/defer wrappers: func1, gowrap2, deferwrap3, and the digits of
// "init.0".
func isClosure(s string) bool {
	for _, p := range []string{"func", "gowrap", "deferwrap", ""} {
		if d, ok := strings.CutPrefix(s, p); ok && d != "" && strings.Trim(d, "0123456789") == "" {
			return true
		}
	}
	return false
}

// stripBrackets removes balanced "[…]" groups (type arguments).
func stripBrackets(s string) string {
	if !strings.Contains(s, "[") {
		return s
	}
	var b strings.Builder
	depth := 0
	for _, r := range s {
		switch {
		case r == '[':
			depth++
		case r == ']' && depth > 0:
			depth--
		case depth == 0:
			b.WriteRune(r)
		}
	}
	return b.String()
}
