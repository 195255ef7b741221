package dashboard

import (
	"fmt"
	"html/template"
	"net/url"
	"strings"
	"time"

	"github.com/vigil-scanner/vigil/store"
)

// chart is the trend of open findings as stacked bars, one per day, drawn
// as inline SVG on the server.
type chart struct {
	Width, Height     int
	Left, Top, Bottom float64 // plot area edges
	Right, PlotHeight float64
	Days              []chartDay
	Ticks             []tick
	XLabels           []tick
	Latest            chartDay
	Reconstructed     int // days reconstructed rather than recorded
	Empty             bool
}

type chartDay struct {
	Date     string
	X, W     float64
	Counts   store.Counts
	Total    int
	Images   int
	Recorded bool
	Bars     []bar
}

type bar struct {
	Y, H  float64
	Class string
}

type tick struct {
	Pos    float64
	Label  string
	Anchor string // text-anchor
}

func newChart(days []store.Day) chart {
	c := chart{Width: 720, Height: 240, Left: 52, Right: 708, Top: 12, Bottom: 208, PlotHeight: 196}
	if len(days) == 0 {
		c.Empty = true
		return c
	}
	top := 0
	for _, d := range days {
		top = max(top, d.Counts.Total())
	}
	top = niceCeil(top)
	step := (c.Right - c.Left) / float64(len(days))
	scale := (c.Bottom - c.Top) / float64(top)
	for i, d := range days {
		cd := chartDay{Date: d.Day.Format(time.DateOnly), X: c.Left + float64(i)*step + step*0.1, W: step * 0.8,
			Counts: d.Counts, Total: d.Counts.Total(), Images: d.Images, Recorded: d.Recorded}
		y := c.Bottom
		for _, s := range []struct {
			n     int
			class string
		}{{d.Counts.Critical, "critical"}, {d.Counts.High, "high"}, {d.Counts.Medium, "medium"}, {d.Counts.Low, "low"}, {d.Counts.Unknown, "unknown"}} {
			if s.n == 0 {
				continue
			}
			h := float64(s.n) * scale
			y -= h
			cd.Bars = append(cd.Bars, bar{Y: y, H: h, Class: s.class})
		}
		if !d.Recorded {
			c.Reconstructed++
		}
		c.Days = append(c.Days, cd)
	}
	c.Latest = c.Days[len(c.Days)-1]
	for _, v := range []int{0, top / 2, top} {
		c.Ticks = append(c.Ticks, tick{Pos: c.Bottom - float64(v)*scale, Label: fmt.Sprint(v)})
	}
	c.XLabels = append(c.XLabels, tick{Pos: c.Left, Label: c.Days[0].Date, Anchor: "start"})
	if n := len(c.Days); n > 1 {
		c.XLabels = append(c.XLabels, tick{Pos: c.Right, Label: c.Days[n-1].Date, Anchor: "end"})
	}
	return c
}

// niceCeil rounds n up to 1, 2 or 5 times a power of ten, at least 4.
func niceCeil(n int) int {
	if n <= 4 {
		return 4
	}
	for p := 1; ; p *= 10 {
		for _, m := range []int{1, 2, 5} {
			if m*p >= n {
				return m * p
			}
		}
	}
}

// funcs are the templates' helpers.
var funcs = template.FuncMap{
	"short":     shortDigest,
	"imageURL":  func(digest string) string { return "/images/" + digest },
	"repoURL":   repoURL,
	"regURL":    func(host string) string { return "/registries/" + url.PathEscape(host) },
	"vulnURL":   func(id string) string { return "/vulnerabilities/" + url.PathEscape(id) },
	"time":      fmtTime,
	"iso":       func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"sevClass":  func(s string) string { return "sev-" + strings.ToLower(s) },
	"f1":        func(v float64) string { return fmt.Sprintf("%.1f", v) },
	"pct":       func(v float64) string { return fmt.Sprintf("%.1f%%", v*100) },
	"lower":     strings.ToLower,
	"join":      strings.Join,
	"add":       func(a, b int) int { return a + b },
	"repoOf":    func(repoTag string) string { return repoTag[:max(strings.LastIndex(repoTag, ":"), 0)] },
	"firstLine": firstLine,
	"shortRef":  shortRef,
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	},
}

func shortDigest(d string) string {
	algo, hex, ok := strings.Cut(d, ":")
	if !ok || len(hex) <= 12 {
		return d
	}
	return algo + ":" + hex[:12]
}

// shortRef shortens the digest of "repository:tag@sha256:…".
func shortRef(ref string) string {
	name, digest, ok := strings.Cut(ref, "@")
	if !ok {
		return ref
	}
	return name + "@" + shortDigest(digest)
}

// repoURL is the page of a repository, its path elements escaped one by
// one.
func repoURL(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return "/repositories/" + strings.Join(parts, "/")
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
