package cli

import (
	"fmt"
	"io"
	"time"
)

// progress shows what a scan is doing on one rewritten status line of
// stderr, only when stderr is a terminal and --quiet is off.
type progress struct {
	w     io.Writer // nil: silent
	start time.Time
}

func newProgress(g *globals) *progress {
	if g.quiet || !isTerminal(g.stderr) {
		return &progress{}
	}
	return &progress{w: g.stderr, start: time.Now()}
}

// step replaces the status line.
func (p *progress) step(format string, args ...any) {
	if p.w == nil {
		return
	}
	fmt.Fprintf(p.w, "\r\x1b[K%5.1fs  %s", time.Since(p.start).Seconds(), fmt.Sprintf(format, args...))
}

// done clears the status line.
func (p *progress) done() {
	if p.w == nil {
		return
	}
	fmt.Fprint(p.w, "\r\x1b[K")
}
