// Command compare reads the package inventories that vigil, Trivy and Syft
// wrote for one image (their JSON outputs) and prints, as Markdown, how many
// packages each found per ecosystem and where the name@version sets differ.
//
//	compare -vigil v.json -trivy t.json -syft s.json
//
// Any input may be left out. Packages are compared as "name@version" within
// an ecosystem (os, npm, python, go, java, rust, php, other); copies of the
// same package at several paths count once in the sets and in full in the
// "all" column. Spelling conventions are normalized first (see normalize).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"slices"
	"strconv"
	"strings"
)

// pkgs is one tool's inventory: ecosystem → name@version → copies.
type pkgs map[string]map[string]int

func (p pkgs) add(eco, name, version string) {
	name, version = normalize(eco, name, version)
	if p[eco] == nil {
		p[eco] = map[string]int{}
	}
	p[eco][name+"@"+version]++
}

type tool struct {
	name string
	pkgs pkgs
}

func main() {
	vigil := flag.String("vigil", "", "vigil JSON report (--list-all-pkgs --format json)")
	trivy := flag.String("trivy", "", "Trivy JSON report (--list-all-pkgs --format json)")
	syft := flag.String("syft", "", "Syft JSON (-o json)")
	examples := flag.Int("examples", 5, "examples shown per difference")
	flag.Parse()
	var tools []tool
	for _, in := range []struct {
		name, path string
		read       func([]byte) (pkgs, error)
	}{{"vigil", *vigil, readVigil}, {"trivy", *trivy, readTrivy}, {"syft", *syft, readSyft}} {
		if in.path == "" {
			continue
		}
		raw, err := os.ReadFile(in.path)
		if err != nil {
			log.Fatal(err)
		}
		p, err := in.read(raw)
		if err != nil {
			log.Fatalf("%s: %v", in.path, err)
		}
		tools = append(tools, tool{in.name, p})
	}
	if len(tools) == 0 {
		flag.Usage()
		os.Exit(2)
	}
	printCounts(tools)
	for _, peer := range tools[1:] {
		printDiff(tools[0], peer, *examples)
	}
}

func printCounts(tools []tool) {
	ecos := map[string]bool{}
	for _, t := range tools {
		for e := range t.pkgs {
			ecos[e] = true
		}
	}
	fmt.Print("| ecosystem |")
	for _, t := range tools {
		fmt.Printf(" %s unique | %s all |", t.name, t.name)
	}
	fmt.Print("\n|---|")
	fmt.Print(strings.Repeat("---:|---:|", len(tools)))
	fmt.Println()
	for _, e := range slices.Sorted(mapKeys(ecos)) {
		fmt.Printf("| %s |", e)
		for _, t := range tools {
			all := 0
			for _, n := range t.pkgs[e] {
				all += n
			}
			fmt.Printf(" %d | %d |", len(t.pkgs[e]), all)
		}
		fmt.Println()
	}
	fmt.Println()
}

// printDiff prints, per ecosystem, the name@version pairs only a or only b
// found.
func printDiff(a, b tool, examples int) {
	fmt.Printf("%s vs %s (name@version sets):\n\n", a.name, b.name)
	fmt.Printf("| ecosystem | common | only %s | only %s | examples only %s | examples only %s |\n|---|---:|---:|---:|---|---|\n", a.name, b.name, a.name, b.name)
	ecos := map[string]bool{}
	for e := range a.pkgs {
		ecos[e] = true
	}
	for e := range b.pkgs {
		ecos[e] = true
	}
	for _, e := range slices.Sorted(mapKeys(ecos)) {
		onlyA, common := minus(a.pkgs[e], b.pkgs[e])
		onlyB, _ := minus(b.pkgs[e], a.pkgs[e])
		fmt.Printf("| %s | %d | %d | %d | %s | %s |\n", e, common, len(onlyA), len(onlyB), sample(onlyA, examples), sample(onlyB, examples))
	}
	fmt.Println()
}

func minus(a, b map[string]int) (only []string, common int) {
	for k := range a {
		if _, ok := b[k]; ok {
			common++
		} else {
			only = append(only, k)
		}
	}
	slices.Sort(only)
	return only, common
}

func sample(s []string, n int) string {
	if len(s) == 0 {
		return "–"
	}
	if len(s) > n {
		s = append(s[:n:n], "…")
	}
	return "`" + strings.Join(s, "` `") + "`"
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// normalize removes differences of spelling that are not differences of
// inventory: Python names are compared as PEP 503 normalizes them (Syft
// lowercases them, the others keep the METADATA spelling), and Go versions
// without their "v" or "go" prefix (Syft writes the toolchain "go1.22.1").
func normalize(eco, name, version string) (string, string) {
	switch eco {
	case "python":
		name = strings.ToLower(name)
		name = strings.Join(strings.FieldsFunc(name, func(r rune) bool { return r == '-' || r == '_' || r == '.' }), "-")
	case "go":
		if v, ok := strings.CutPrefix(version, "go"); ok {
			version = v
		}
		version = strings.TrimPrefix(version, "v")
	}
	return name, version
}

// ecosystem maps the package or result types the three tools use onto a
// few shared names.
func ecosystem(typ string) string {
	switch typ {
	case "debian", "ubuntu", "alpine", "redhat", "centos", "rocky", "alma", "amazon", "oracle",
		"photon", "suse", "wolfi", "chainguard", "azurelinux", "cbl-mariner", "fedora",
		"deb", "apk", "rpm":
		return "os"
	case "node-pkg", "npm", "yarn", "pnpm":
		return "npm"
	case "python-pkg", "python", "pip", "pipenv", "poetry", "uv":
		return "python"
	case "gobinary", "gomod", "go-module":
		return "go"
	case "jar", "pom", "gradle", "java-archive", "sbt":
		return "java"
	case "cargo", "rustbinary", "rust-crate":
		return "rust"
	case "composer", "composer-vendor", "php-composer":
		return "php"
	}
	return "other:" + typ
}

func readVigil(raw []byte) (pkgs, error) {
	var r struct {
		Results []struct {
			Type     string
			Packages []struct{ Name, Version string }
		}
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, err
	}
	p := pkgs{}
	for _, res := range r.Results {
		for _, pk := range res.Packages {
			p.add(ecosystem(res.Type), pk.Name, pk.Version)
		}
	}
	return p, nil
}

// readTrivy reads Trivy's JSON report. OS packages carry the version split
// in Epoch, Version and Release; they are joined the way dpkg and rpm
// write them.
func readTrivy(raw []byte) (pkgs, error) {
	var r struct {
		Results []struct {
			Type     string
			Packages []struct {
				Name, Version, Release string
				Epoch                  int
			}
		}
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, err
	}
	p := pkgs{}
	for _, res := range r.Results {
		for _, pk := range res.Packages {
			v := pk.Version
			if pk.Release != "" {
				v += "-" + pk.Release
			}
			if pk.Epoch != 0 {
				v = strconv.Itoa(pk.Epoch) + ":" + v
			}
			p.add(ecosystem(res.Type), pk.Name, v)
		}
	}
	return p, nil
}

func readSyft(raw []byte) (pkgs, error) {
	var r struct {
		Artifacts []struct{ Name, Version, Type string }
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, err
	}
	p := pkgs{}
	for _, a := range r.Artifacts {
		p.add(ecosystem(a.Type), a.Name, a.Version)
	}
	return p, nil
}
