package amazon

import (
	"html"
	"strings"

	"github.com/vigil-scanner/vigil/version/rpm"
)

// page is what vigil reads from an advisory page.
type page struct {
	id       string // the <h1> heading: "ALAS2023-2023-126"
	severity string // "Critical"
	cves     []string
	overview string
	packages []pkg
	// truncated is set when the page does not end with </html>.
	truncated bool
}

// pkg is one "New Packages" line.
type pkg struct{ name, evr, arch string }

// parsePage extracts the advisory's parts from its HTML by the ids of the
// elements holding them. Missing parts stay empty.
func parsePage(doc string) *page {
	p := &page{
		id:       strings.TrimSpace(text(element(doc, "h1", ""))),
		severity: strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(text(element(doc, "", "severity"))), "Severity:")),
		cves:     cves(element(doc, "", "references")),
		overview: strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(text(element(doc, "", "issue_overview"))), "Issue Overview:")),
	}
	p.truncated = !strings.Contains(strings.ToLower(doc[max(0, len(doc)-512):]), "</html>")
	if f := strings.Fields(p.id); len(f) > 0 {
		p.id = f[0]
	}
	if f := strings.Fields(p.severity); len(f) > 0 {
		p.severity = f[0]
	}
	p.packages = newPackages(text(element(element(doc, "", "new_packages"), "pre", "")))
	return p
}

// element returns the inner HTML of the first element with the given tag
// (any when "") and id attribute (any when ""), up to its matching end tag.
func element(doc, tag, id string) string {
	start := -1
	var name string
	for i := 0; i < len(doc); {
		lt := strings.IndexByte(doc[i:], '<')
		if lt < 0 {
			return ""
		}
		lt += i
		gt := strings.IndexByte(doc[lt:], '>')
		if gt < 0 {
			return ""
		}
		gt += lt
		n, attrs := splitTag(doc[lt+1 : gt])
		if n != "" && (tag == "" || n == tag) && (id == "" || attr(attrs, "id") == id) {
			start, name = gt+1, n
			break
		}
		i = gt + 1
	}
	if start < 0 {
		return ""
	}
	// Find the matching end tag, counting nested elements of the same name.
	depth := 1
	for i := start; i < len(doc); {
		lt := strings.IndexByte(doc[i:], '<')
		if lt < 0 {
			break
		}
		lt += i
		gt := strings.IndexByte(doc[lt:], '>')
		if gt < 0 {
			break
		}
		gt += lt
		inner := doc[lt+1 : gt]
		switch {
		case strings.HasPrefix(inner, "/"):
			if strings.EqualFold(strings.TrimSpace(inner[1:]), name) {
				depth--
				if depth == 0 {
					return doc[start:lt]
				}
			}
		case !strings.HasSuffix(inner, "/"):
			if n, _ := splitTag(inner); n == name {
				depth++
			}
		}
		i = gt + 1
	}
	return doc[start:] // unclosed: the rest of the document
}

// splitTag splits the inside of a start tag into its lower-case name and
// attribute text. Comments, end tags and declarations have no name.
func splitTag(s string) (name, attrs string) {
	if s == "" || s[0] == '/' || s[0] == '!' || s[0] == '?' {
		return "", ""
	}
	end := strings.IndexAny(s, " \t\r\n/")
	if end < 0 {
		return strings.ToLower(s), ""
	}
	return strings.ToLower(s[:end]), s[end:]
}

// attr returns the value of a quoted attribute (single or double quotes).
func attr(attrs, key string) string {
	for rest := attrs; ; {
		i := strings.Index(rest, key+"=")
		if i < 0 {
			return ""
		}
		if i > 0 && !strings.ContainsRune(" \t\r\n", rune(rest[i-1])) {
			rest = rest[i+len(key)+1:]
			continue
		}
		v := rest[i+len(key)+1:]
		if v == "" {
			return ""
		}
		q := v[0]
		if q != '\'' && q != '"' {
			if end := strings.IndexAny(v, " \t\r\n"); end >= 0 {
				return v[:end]
			}
			return v
		}
		if end := strings.IndexByte(v[1:], q); end >= 0 {
			return v[1 : end+1]
		}
		return ""
	}
}

// text turns an HTML fragment into text: <br> and block ends become line
// breaks, other tags vanish, entities are decoded and non-breaking spaces
// become spaces.
func text(frag string) string {
	var b strings.Builder
	for i := 0; i < len(frag); {
		lt := strings.IndexByte(frag[i:], '<')
		if lt < 0 {
			b.WriteString(frag[i:])
			break
		}
		b.WriteString(frag[i : i+lt])
		gt := strings.IndexByte(frag[i+lt:], '>')
		if gt < 0 {
			break
		}
		n, _ := splitTag(frag[i+lt+1 : i+lt+gt])
		if n == "br" || strings.HasPrefix(frag[i+lt+1:], "/p") {
			b.WriteByte('\n')
		}
		i += lt + gt + 1
	}
	return strings.ReplaceAll(html.UnescapeString(b.String()), "\u00a0", " ")
}

// newPackages parses the "New Packages" block:
//
//	x86_64:
//	    kernel-4.9.76-38.79.amzn2.x86_64
func newPackages(block string) []pkg {
	var out []pkg
	arch := ""
	for _, line := range strings.Split(block, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if a, ok := strings.CutSuffix(line, ":"); ok && !strings.ContainsAny(a, " -.") {
			arch = a
			continue
		}
		if arch == "" {
			continue
		}
		if p, ok := parseNEVRA(line, arch); ok {
			out = append(out, p)
		}
	}
	return out
}

// parseNEVRA parses "name-[epoch:]version-release.arch" or
// "epoch:name-version-release.arch".
func parseNEVRA(s, arch string) (pkg, bool) {
	if strings.ContainsAny(s, " \t") {
		return pkg{}, false
	}
	nvr, ok := strings.CutSuffix(s, "."+arch)
	if !ok {
		return pkg{}, false
	}
	epoch := ""
	if i := strings.IndexByte(nvr, ':'); i > 0 && isDigits(nvr[:i]) && strings.Count(nvr, ":") == 1 && strings.IndexByte(nvr, '-') > i {
		epoch, nvr = nvr[:i], nvr[i+1:]
	}
	r := strings.LastIndexByte(nvr, '-')
	if r <= 0 {
		return pkg{}, false
	}
	v := strings.LastIndexByte(nvr[:r], '-')
	if v <= 0 {
		return pkg{}, false
	}
	name, evr := nvr[:v], nvr[v+1:]
	if epoch != "" {
		evr = epoch + ":" + evr
	}
	if _, err := rpm.Parse(evr); err != nil || strings.Contains(name, ":") {
		return pkg{}, false
	}
	return pkg{name: name, evr: evr, arch: arch}, true
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}
