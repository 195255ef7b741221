// Command mkfeeds writes one synthetic set of Debian security advisories in
// two layouts, so vigil and Trivy can be timed and compared on the same
// data without network access:
//
//   - OUT/debian/json: the security tracker's JSON export
//     (https://security-tracker.debian.org/tracker/data/json), which
//     `vigil db build --sources debian --mirror debian=OUT/debian` reads;
//   - OUT/vuln-list/vuln-list-debian/tracker/: the tree that trivy-db's
//     debian source reads (distributions.json, source/<codename>/main/…
//     package versions and one CVE/<id>.json per issue, written as the
//     tracker's list file is parsed), for
//     `trivy-db build --only-update debian --cache-dir OUT/vuln-list`;
//   - OUT/truth.tsv: what was generated, one line per (issue, package):
//     id, source package, installed source version, case, fixed version,
//     urgency.
//
// The packages are the source packages of a dpkg status file: the one in
// the docker-save archive given with -image (the newest layer holding
// var/lib/dpkg/status), or the file given with -status (by default this
// machine's, from which bench/mkimage builds the debian image). Each
// issue is given to one source package (a tenth of them to two) and one
// case for the release, drawn with fixed weights from a seeded generator:
// fixed below or above the installed version, fixed in sid only (inherited
// by the release or still pending there), open, no-dsa, ignored,
// postponed, not affected in the release or anywhere, end-of-life and
// undetermined. Versions "above" are the installed source version plus
// "+deb12u1", and the release's archive version (source/…) is raised to
// it, as a security update would; versions "below" put "~bench1" into the
// upstream part. Nothing NVD-derived ("**" urgencies) is written: the
// vuln-list tree would need an NVD tree to match it.
//
//	mkfeeds -image bench/.work/debian.tar -o bench/.work/feeds -n 2000
package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// srcPkg is one installed source package.
type srcPkg struct {
	name, version string
	archive       string // the release's newest version, ≥ version
}

// caseKind is what the release says about one (issue, package).
type caseKind string

const (
	fixedBelow       caseKind = "fixed-below"       // [rel] fixed at a version below the installed one
	fixedAbove       caseKind = "fixed-above"       // [rel] fixed at a security update above it
	sidFixedBelow    caseKind = "sid-fixed-below"   // fixed in sid below the release's version: inherited
	sidFixedPending  caseKind = "sid-fixed-pending" // fixed in sid above the release's version: open there
	unfixed          caseKind = "unfixed"           // open everywhere
	noDSA            caseKind = "no-dsa"            // [rel] <no-dsa> (Minor issue)
	ignored          caseKind = "ignored"           // [rel] <ignored>
	postponed        caseKind = "postponed"         // [rel] <postponed>
	notAffectedRel   caseKind = "not-affected-rel"  // [rel] <not-affected>, affected in sid
	notAffectedAll   caseKind = "not-affected-all"  // <not-affected> in sid and so everywhere
	endOfLife        caseKind = "end-of-life"       // [rel] <end-of-life>
	undeterminedKind caseKind = "undetermined"      // <undetermined> in sid
)

// choice is one weighted option of pick.
type choice[T any] struct {
	value  T
	weight int
}

var weights = []choice[caseKind]{
	{fixedBelow, 30}, {fixedAbove, 14}, {sidFixedBelow, 8}, {sidFixedPending, 5},
	{unfixed, 14}, {noDSA, 9}, {ignored, 5}, {postponed, 5},
	{notAffectedRel, 4}, {notAffectedAll, 2}, {endOfLife, 2}, {undeterminedKind, 2},
}

var urgencies = []choice[string]{
	{"unimportant", 15}, {"low", 30}, {"medium", 30}, {"high", 12}, {"not yet assigned", 13},
}

// entry is one generated (issue, package).
type entry struct {
	id      string
	pkg     *srcPkg
	kind    caseKind
	fixed   string // the release's fixed version, or sid's for sid cases
	urgency string
}

func main() {
	status := flag.String("status", "/var/lib/dpkg/status", "dpkg status file listing the installed packages")
	image := flag.String("image", "", "docker-save archive to read var/lib/dpkg/status from (instead of -status)")
	out := flag.String("o", "", "output directory (required)")
	n := flag.Int("n", 2000, "number of issues")
	seed := flag.Uint64("seed", 1, "random seed")
	codename := flag.String("release", "bookworm", "Debian release codename")
	major := flag.String("major", "12", "the release's major version")
	flag.Parse()
	if *out == "" {
		flag.Usage()
		os.Exit(2)
	}
	var raw []byte
	var err error
	src := *status
	if *image != "" {
		src = *image + ":/var/lib/dpkg/status"
		raw, err = statusFromImage(*image)
	} else {
		raw, err = os.ReadFile(*status)
	}
	if err != nil {
		log.Fatal(err)
	}
	pkgs := readStatus(raw)
	if len(pkgs) == 0 {
		log.Fatalf("%s: no installed packages", src)
	}
	rng := rand.New(rand.NewPCG(*seed, 0x6d6b6665656473))
	entries := generate(rng, pkgs, *n, *major)
	if err := writeTracker(filepath.Join(*out, "debian", "json"), entries, *codename); err != nil {
		log.Fatal(err)
	}
	if err := writeVulnList(filepath.Join(*out, "vuln-list", "vuln-list-debian", "tracker"), entries, pkgs, *codename, *major); err != nil {
		log.Fatal(err)
	}
	if err := writeTruth(filepath.Join(*out, "truth.tsv"), entries); err != nil {
		log.Fatal(err)
	}
	log.Printf("%d issues, %d (issue, package) entries over %d source packages in %s", *n, len(entries), len(pkgs), *out)
}

// statusFromImage returns var/lib/dpkg/status from the newest layer of a
// docker-save archive that holds it.
func statusFromImage(path string) ([]byte, error) {
	img, err := tarball.ImageFromPath(path, nil)
	if err != nil {
		return nil, err
	}
	layers, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for _, l := range slices.Backward(layers) {
		raw, err := fileFromLayer(l, "var/lib/dpkg/status")
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if raw != nil {
			return raw, nil
		}
	}
	return nil, fmt.Errorf("%s: no var/lib/dpkg/status", path)
}

// fileFromLayer returns a file's content, or nil when the layer does not
// hold it.
func fileFromLayer(l v1.Layer, name string) ([]byte, error) {
	rc, err := l.Uncompressed()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if path.Clean(strings.TrimPrefix(h.Name, "/")) == name && h.Typeflag == tar.TypeReg {
			return io.ReadAll(io.LimitReader(tr, 256<<20))
		}
	}
}

// readStatus returns the installed source packages of a dpkg status file,
// sorted by name; a source installed at several versions keeps the newest
// by string order (rare: a partial upgrade).
func readStatus(raw []byte) []*srcPkg {
	byName := map[string]*srcPkg{}
	for para := range strings.SplitSeq(string(raw), "\n\n") {
		f := fields(para)
		if f["Package"] == "" || f["Version"] == "" || !strings.HasSuffix(f["Status"], " installed") {
			continue
		}
		name, version := f["Package"], f["Version"]
		if s := f["Source"]; s != "" {
			n, v, ok := strings.Cut(s, " (")
			name = n
			if ok {
				version = strings.TrimSuffix(v, ")")
			}
		}
		if p, ok := byName[name]; !ok || p.version < version {
			byName[name] = &srcPkg{name: name, version: version, archive: version}
		}
	}
	var pkgs []*srcPkg
	for _, p := range byName {
		pkgs = append(pkgs, p)
	}
	slices.SortFunc(pkgs, func(a, b *srcPkg) int { return strings.Compare(a.name, b.name) })
	return pkgs
}

func fields(para string) map[string]string {
	f := map[string]string{}
	for line := range strings.SplitSeq(para, "\n") {
		if line == "" || line[0] == ' ' || line[0] == '\t' {
			continue
		}
		if k, v, ok := strings.Cut(line, ":"); ok {
			f[k] = strings.TrimSpace(v)
		}
	}
	return f
}

func generate(rng *rand.Rand, pkgs []*srcPkg, n int, major string) []entry {
	var entries []entry
	for i := range n {
		id := fmt.Sprintf("CVE-%d-%05d", 2019+i%6, 10000+i)
		targets := []*srcPkg{pkgs[rng.IntN(len(pkgs))]}
		if rng.IntN(10) == 0 {
			if p := pkgs[rng.IntN(len(pkgs))]; p != targets[0] {
				targets = append(targets, p)
			}
		}
		for _, p := range targets {
			e := entry{id: id, pkg: p, kind: pick(rng, weights), urgency: pick(rng, urgencies)}
			switch e.kind {
			case fixedBelow, sidFixedBelow:
				e.fixed = below(p.version)
			case fixedAbove:
				e.fixed = p.version + "+deb" + major + "u1"
				p.archive = e.fixed
			case sidFixedPending:
				e.fixed = "" // set once every archive version is known
			}
			entries = append(entries, e)
		}
	}
	// A fix pending in sid is above whatever the release has.
	for i := range entries {
		if entries[i].kind == sidFixedPending {
			entries[i].fixed = entries[i].pkg.archive + "+sid1"
		}
	}
	return entries
}

func pick[T any](rng *rand.Rand, choices []choice[T]) T {
	total := 0
	for _, c := range choices {
		total += c.weight
	}
	r := rng.IntN(total)
	for _, c := range choices {
		if r < c.weight {
			return c.value
		}
		r -= c.weight
	}
	return choices[len(choices)-1].value
}

// below returns a Debian version that sorts before v: "~bench1" appended
// to the upstream part.
func below(v string) string {
	epoch, rest := "", v
	if e, r, ok := strings.Cut(v, ":"); ok {
		epoch, rest = e+":", r
	}
	if i := strings.LastIndexByte(rest, '-'); i >= 0 {
		return epoch + rest[:i] + "~bench1" + rest[i:]
	}
	return epoch + rest + "~bench1"
}

// trackerRelease is one release of an issue in the tracker's JSON.
type trackerRelease struct {
	Status       string            `json:"status"`
	Repositories map[string]string `json:"repositories"`
	FixedVersion string            `json:"fixed_version,omitempty"`
	Urgency      string            `json:"urgency"`
	NoDSA        string            `json:"nodsa,omitempty"`
	NoDSAReason  string            `json:"nodsa_reason,omitempty"`
}

type trackerIssue struct {
	Description string                    `json:"description"`
	Releases    map[string]trackerRelease `json:"releases"`
}

// tracker maps one entry to the release's and sid's states as the tracker
// exports them.
func tracker(e entry, codename string) trackerIssue {
	repos := map[string]string{codename: e.pkg.version}
	if e.pkg.archive != e.pkg.version {
		repos[codename+"-security"] = e.pkg.archive
	}
	rel := trackerRelease{Status: "open", Repositories: repos, Urgency: e.urgency}
	sid := trackerRelease{Status: "open", Repositories: map[string]string{"sid": e.pkg.archive}, Urgency: e.urgency}
	switch e.kind {
	case fixedBelow, fixedAbove, sidFixedBelow:
		rel.Status, rel.FixedVersion = "resolved", e.fixed
		sid.Status, sid.FixedVersion = "resolved", e.fixed
	case sidFixedPending:
		sid.Status, sid.FixedVersion = "resolved", e.fixed
	case noDSA:
		rel.NoDSA = "Minor issue"
	case ignored:
		rel.NoDSA, rel.NoDSAReason = "Minor issue", "ignored"
	case postponed:
		rel.NoDSA, rel.NoDSAReason = "Revisit when fixed upstream", "postponed"
	case notAffectedRel:
		rel.Status, rel.FixedVersion = "resolved", "0"
	case notAffectedAll:
		rel.Status, rel.FixedVersion = "resolved", "0"
		sid.Status, sid.FixedVersion = "resolved", "0"
	case endOfLife:
		rel.Urgency = "end-of-life"
	case undeterminedKind:
		rel.Status, sid.Status = "undetermined", "undetermined"
	}
	return trackerIssue{
		Description: description(e),
		Releases:    map[string]trackerRelease{codename: rel, "sid": sid},
	}
}

func description(e entry) string {
	return fmt.Sprintf("Synthetic issue in %s (%s) for the vigil benchmark", e.pkg.name, e.kind)
}

func writeTracker(path string, entries []entry, codename string) error {
	doc := map[string]map[string]trackerIssue{}
	for _, e := range entries {
		if doc[e.pkg.name] == nil {
			doc[e.pkg.name] = map[string]trackerIssue{}
		}
		doc[e.pkg.name][e.id] = tracker(e, codename)
	}
	return writeJSON(path, doc)
}

// annotation is one parsed line of the tracker's list file, as vuln-list
// stores it.
type annotation struct {
	Original    string
	Line        int
	Type        string
	Release     string `json:",omitempty"`
	Package     string
	Kind        string
	Version     string `json:",omitempty"`
	Description string `json:",omitempty"`
	Severity    string `json:",omitempty"`
}

type bug struct {
	Header struct {
		Original    string
		Line        int
		ID          string
		Description string
	}
	Annotations []annotation
}

// annotations returns the list-file lines of one entry: sid's line first
// (it carries the severity), then the release's when it has its own.
func annotations(e entry, codename string) []annotation {
	sid := annotation{Type: "package", Package: e.pkg.name}
	if e.urgency != "not yet assigned" {
		sid.Severity = e.urgency
	}
	var rel *annotation
	relAnn := func(kind, version, desc string) {
		rel = &annotation{Type: "package", Release: codename, Package: e.pkg.name, Kind: kind, Version: version, Description: desc}
	}
	switch e.kind {
	case fixedBelow, fixedAbove:
		sid.Kind, sid.Version = "fixed", e.fixed
		relAnn("fixed", e.fixed, "")
	case sidFixedBelow, sidFixedPending:
		sid.Kind, sid.Version = "fixed", e.fixed
	case unfixed:
		sid.Kind = "unfixed"
	case noDSA:
		sid.Kind = "unfixed"
		relAnn("no-dsa", "", "Minor issue")
	case ignored:
		sid.Kind = "unfixed"
		relAnn("ignored", "", "Minor issue")
	case postponed:
		sid.Kind = "unfixed"
		relAnn("postponed", "", "Revisit when fixed upstream")
	case notAffectedRel:
		sid.Kind = "unfixed"
		relAnn("not-affected", "", "Vulnerable code introduced later")
	case notAffectedAll:
		sid.Kind, sid.Severity = "not-affected", ""
		sid.Description = "Vulnerable code not present"
	case endOfLife:
		sid.Kind = "unfixed"
		relAnn("end-of-life", "", "Not supported in "+codename)
	case undeterminedKind:
		sid.Kind, sid.Severity = "undetermined", ""
	}
	out := []annotation{sid}
	if rel != nil {
		out = append(out, *rel)
	}
	for i := range out {
		out[i].Original = original(out[i])
	}
	return out
}

// original renders an annotation as its list-file line.
func original(a annotation) string {
	var b strings.Builder
	if a.Release != "" {
		fmt.Fprintf(&b, "[%s] ", a.Release)
	}
	fmt.Fprintf(&b, "- %s", a.Package)
	switch {
	case a.Version != "":
		fmt.Fprintf(&b, " %s", a.Version)
	case a.Kind != "fixed":
		fmt.Fprintf(&b, " <%s>", a.Kind)
	}
	switch {
	case a.Severity != "":
		fmt.Fprintf(&b, " (%s)", a.Severity)
	case a.Description != "":
		fmt.Fprintf(&b, " (%s)", a.Description)
	}
	return b.String()
}

func writeVulnList(root string, entries []entry, pkgs []*srcPkg, codename, major string) error {
	dists := map[string]map[string]string{
		codename: {"major-version": major, "support": "security", "contact": "team@security.debian.org"},
		"sid":    {"major-version": "", "support": "none", "contact": ""},
	}
	if err := writeJSON(filepath.Join(root, "distributions.json"), dists); err != nil {
		return err
	}
	// trivy-db walks these and fails when they are missing; no DSA or DLA
	// advisories are generated (the tracker's JSON does not carry them).
	for _, dir := range []string{"DLA", "DSA"} {
		if err := os.MkdirAll(filepath.Join(root, dir), 0o755); err != nil {
			return err
		}
	}
	for _, p := range pkgs {
		// The release's newest version of each source package, as its
		// Sources index says.
		path := filepath.Join(root, "source", codename, "main", p.name[:1], p.name+".json")
		src := map[string][]string{"Package": {p.name}, "Version": {p.archive}}
		if err := writeJSON(path, src); err != nil {
			return err
		}
	}
	bugs := map[string]*bug{}
	var order []string
	line := 1
	for _, e := range entries {
		b, ok := bugs[e.id]
		if !ok {
			b = &bug{}
			b.Header.ID = e.id
			b.Header.Description = "(" + description(e) + ")"
			b.Header.Original = e.id + " " + b.Header.Description
			b.Header.Line = line
			line++
			bugs[e.id] = b
			order = append(order, e.id)
		}
		for _, a := range annotations(e, codename) {
			a.Line = line
			line++
			b.Annotations = append(b.Annotations, a)
		}
	}
	for _, id := range order {
		if err := writeJSON(filepath.Join(root, "CVE", id+".json"), bugs[id]); err != nil {
			return err
		}
	}
	return nil
}

func writeTruth(path string, entries []entry) error {
	var b bytes.Buffer
	b.WriteString("id\tpackage\tinstalled\tcase\tfixed\turgency\n")
	for _, e := range entries {
		fmt.Fprintf(&b, "%s\t%s\t%s\t%s\t%s\t%s\n", e.id, e.pkg.name, e.pkg.version, e.kind, e.fixed, e.urgency)
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

func writeJSON(path string, v any) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	if err := enc.Encode(v); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Close()
}
