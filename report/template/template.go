// Package template writes a report through a Go text/template
// (https://pkg.go.dev/text/template) given with --template; "@FILE" reads
// the template from FILE. The template's dot is the *report.Report (see
// docs/json-schema.md for its fields, under their Go names: .Artifact.Name,
// .Results, .Vulnerabilities, .PkgName, …; .Warnings lists what an
// incomplete scan could not read, each printing as "layer: \"path\":
// message"). Example templates live in contrib/templates/ (HTML, GitLab
// container scanning, Markdown); each says when the scan was incomplete.
//
// Functions available besides text/template's own:
//
//	toJSON v          v as JSON (a string, safe inside a JSON document)
//	escapeXML s       s with XML/HTML special characters escaped
//	lower s, upper s  case mapping
//	join sep list     strings.Join
//	trunc n s         s cut to n runes, with "…" when cut
//	severityCount r   map of severity → number of unsuppressed findings
//	fixedOnly list    the findings of list that have a fixed version
//	now               the report's CreatedAt, in RFC 3339
//	date layout       the report's CreatedAt in a Go time layout
package template

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/template"

	"github.com/vigil-scanner/vigil/match"
	"github.com/vigil-scanner/vigil/report"
)

// Load returns the template text of a --template flag: "@FILE" reads FILE,
// anything else is the template itself.
func Load(flag string) (string, error) {
	name, ok := strings.CutPrefix(flag, "@")
	if !ok {
		return flag, nil
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return "", fmt.Errorf("template: %w", err)
	}
	return string(b), nil
}

// Write executes opts.Template with r as dot and writes the result to w.
func Write(w io.Writer, r *report.Report, opts report.Options) error {
	if opts.Template == "" {
		return errors.New("template format needs --template (a template, or @FILE)")
	}
	t, err := template.New("report").Option("missingkey=error").Funcs(funcs(r)).Parse(opts.Template)
	if err != nil {
		return fmt.Errorf("template: %w", err)
	}
	// Execute into a buffer so a failing template writes nothing partial.
	var buf bytes.Buffer
	if err := t.Execute(&buf, r); err != nil {
		return fmt.Errorf("template: %w", err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("writing template output: %w", err)
	}
	return nil
}

func funcs(r *report.Report) template.FuncMap {
	return template.FuncMap{
		"toJSON": func(v any) (string, error) {
			b, err := json.Marshal(v)
			return string(b), err
		},
		"escapeXML": func(s string) (string, error) {
			var b strings.Builder
			err := xml.EscapeText(&b, []byte(s))
			return b.String(), err
		},
		"lower": strings.ToLower,
		"upper": strings.ToUpper,
		"join":  func(sep string, xs []string) string { return strings.Join(xs, sep) },
		"trunc": func(n int, s string) string {
			rs := []rune(s)
			if len(rs) <= n {
				return s
			}
			return string(rs[:max(n-1, 0)]) + "…"
		},
		"severityCount": func(rep *report.Report) map[string]int {
			out := map[string]int{}
			for _, s := range match.Severities() {
				out[s] = 0
			}
			for _, res := range rep.Results {
				for _, f := range res.Vulnerabilities {
					if f.Suppressed == nil {
						out[f.Severity]++
					}
				}
			}
			return out
		},
		"fixedOnly": func(fs []match.Finding) []match.Finding {
			var out []match.Finding
			for _, f := range fs {
				if f.FixedVersion != "" {
					out = append(out, f)
				}
			}
			return out
		},
		"now":  func() string { return r.CreatedAt.UTC().Format("2006-01-02T15:04:05Z07:00") },
		"date": func(layout string) string { return r.CreatedAt.UTC().Format(layout) },
	}
}
