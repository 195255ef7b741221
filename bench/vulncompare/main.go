// Command vulncompare compares the vulnerability findings that vigil and
// Trivy reported for one image (their JSON reports) and prints, as
// Markdown, how many each found and every difference: findings only one
// tool reports, and findings both report with another fixed version,
// status or severity.
//
//	vulncompare -vigil v.json -trivy t.json [-truth feeds/truth.tsv]
//
// A finding is keyed by (package name, installed version, vulnerability
// id). With -truth (written by bench/mkfeeds) every difference is also
// counted by the generated case of its vulnerability, which says why the
// tools disagree.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"maps"
	"os"
	"slices"
	"strings"
)

type key struct{ pkg, version, id string }

type finding struct {
	fixed, status, severity string
}

func main() {
	vigil := flag.String("vigil", "", "vigil JSON report (--format json)")
	trivy := flag.String("trivy", "", "Trivy JSON report (--format json)")
	truth := flag.String("truth", "", "truth.tsv written by bench/mkfeeds (optional)")
	examples := flag.Int("examples", 3, "examples shown per difference and case")
	flag.Parse()
	if *vigil == "" || *trivy == "" {
		flag.Usage()
		os.Exit(2)
	}
	v, err := readVigil(*vigil)
	if err != nil {
		log.Fatal(err)
	}
	t, err := readTrivy(*trivy)
	if err != nil {
		log.Fatal(err)
	}
	cases := map[string]string{}
	if *truth != "" {
		if cases, err = readTruth(*truth); err != nil {
			log.Fatal(err)
		}
	}
	report(v, t, cases, *examples)
}

func readVigil(path string) (map[key]finding, error) {
	var doc struct {
		Results []struct {
			Vulnerabilities []struct {
				ID               string `json:"id"`
				PkgName          string `json:"pkgName"`
				InstalledVersion string `json:"installedVersion"`
				FixedVersion     string `json:"fixedVersion"`
				Status           string `json:"status"`
				Severity         string `json:"severity"`
			} `json:"vulnerabilities"`
		} `json:"results"`
	}
	if err := readJSON(path, &doc); err != nil {
		return nil, err
	}
	out := map[key]finding{}
	for _, r := range doc.Results {
		for _, f := range r.Vulnerabilities {
			out[key{f.PkgName, f.InstalledVersion, f.ID}] = finding{f.FixedVersion, f.Status, f.Severity}
		}
	}
	return out, nil
}

func readTrivy(path string) (map[key]finding, error) {
	var doc struct {
		Results []struct {
			Vulnerabilities []struct {
				VulnerabilityID  string
				PkgName          string
				InstalledVersion string
				FixedVersion     string
				Status           string
				Severity         string
			}
		}
	}
	if err := readJSON(path, &doc); err != nil {
		return nil, err
	}
	out := map[key]finding{}
	for _, r := range doc.Results {
		for _, f := range r.Vulnerabilities {
			out[key{f.PkgName, f.InstalledVersion, f.VulnerabilityID}] = finding{f.FixedVersion, f.Status, f.Severity}
		}
	}
	return out, nil
}

func readJSON(path string, v any) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// readTruth maps each id to its generated case(s), "a/b" when the id was
// given to two packages with different cases.
func readTruth(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) < 4 || cols[0] == "id" {
			continue
		}
		id, c := cols[0], cols[3]
		switch prev, ok := out[id]; {
		case !ok:
			out[id] = c
		case !slices.Contains(strings.Split(prev, "/"), c):
			out[id] = prev + "/" + c
		}
	}
	return out, sc.Err()
}

// diff is one kind of difference, its findings counted by case.
type diff struct {
	name     string
	byCase   map[string]int
	examples map[string][]string
	total    int
}

func (d *diff) add(c, example string, max int) {
	if d.byCase == nil {
		d.byCase, d.examples = map[string]int{}, map[string][]string{}
	}
	d.total++
	d.byCase[c]++
	if len(d.examples[c]) < max {
		d.examples[c] = append(d.examples[c], example)
	}
}

func report(v, t map[key]finding, cases map[string]string, max int) {
	both := 0
	for k := range v {
		if _, ok := t[k]; ok {
			both++
		}
	}
	fmt.Printf("| | vigil | trivy | both |\n|---|---:|---:|---:|\n")
	fmt.Printf("| findings (package, version, id) | %d | %d | %d |\n", len(v), len(t), both)
	fmt.Printf("| by status | %s | %s | |\n\n", byStatus(v), byStatus(t))

	caseOf := func(id string) string {
		if c, ok := cases[id]; ok {
			return c
		}
		return "-"
	}
	onlyV := &diff{name: "only vigil"}
	onlyT := &diff{name: "only trivy"}
	fields := map[string]*diff{}
	field := func(name string) *diff {
		if fields[name] == nil {
			fields[name] = &diff{name: name}
		}
		return fields[name]
	}
	for _, k := range slices.SortedFunc(maps.Keys(v), cmpKey) {
		a := v[k]
		b, ok := t[k]
		c := caseOf(k.id)
		if !ok {
			onlyV.add(c, fmt.Sprintf("%s %s %s (%s, fixed %q)", k.id, k.pkg, k.version, a.status, a.fixed), max)
			continue
		}
		if a.fixed != b.fixed {
			field("fixed version").add(c, fmt.Sprintf("%s %s: vigil %q, trivy %q", k.id, k.pkg, a.fixed, b.fixed), max)
		}
		if a.status != b.status {
			field("status "+a.status+" (vigil) vs "+b.status+" (trivy)").add(c, fmt.Sprintf("%s %s", k.id, k.pkg), max)
		}
		if a.severity != b.severity {
			field("severity").add(c, fmt.Sprintf("%s %s: vigil %s, trivy %s", k.id, k.pkg, a.severity, b.severity), max)
		}
	}
	for _, k := range slices.SortedFunc(maps.Keys(t), cmpKey) {
		if _, ok := v[k]; !ok {
			b := t[k]
			onlyT.add(caseOf(k.id), fmt.Sprintf("%s %s %s (%s, fixed %q)", k.id, k.pkg, k.version, b.status, b.fixed), max)
		}
	}
	diffs := []*diff{onlyV, onlyT}
	for _, name := range slices.Sorted(maps.Keys(fields)) {
		diffs = append(diffs, fields[name])
	}
	any := false
	for _, d := range diffs {
		if d.total == 0 {
			continue
		}
		any = true
		fmt.Printf("- **%s**: %d\n", d.name, d.total)
		for _, c := range slices.Sorted(maps.Keys(d.byCase)) {
			fmt.Printf("  - case %s: %d, e.g. %s\n", c, d.byCase[c], strings.Join(d.examples[c], "; "))
		}
	}
	if !any {
		fmt.Println("No differences.")
	}
}

func byStatus(m map[key]finding) string {
	n := map[string]int{}
	for _, f := range m {
		n[f.status]++
	}
	var parts []string
	for _, s := range slices.Sorted(maps.Keys(n)) {
		parts = append(parts, fmt.Sprintf("%s %d", s, n[s]))
	}
	return strings.Join(parts, ", ")
}

func cmpKey(a, b key) int {
	if c := strings.Compare(a.pkg, b.pkg); c != 0 {
		return c
	}
	if c := strings.Compare(a.version, b.version); c != 0 {
		return c
	}
	return strings.Compare(a.id, b.id)
}
