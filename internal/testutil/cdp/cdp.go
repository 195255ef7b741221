// Package cdp drives headless Chromium (Debian's chromium) from tests over
// the Chrome DevTools Protocol on --remote-debugging-pipe: JSON messages
// ended by a NUL byte, written to the browser's file descriptor 3 and read
// from its descriptor 4. It covers what the dashboard's tests need —
// navigate, evaluate, type, press keys, screenshot, console errors — and
// nothing more.
package cdp

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-scanner/vigil/internal/testutil"
)

// Browser is a running headless Chromium.
type Browser struct {
	cmd     *exec.Cmd
	w       *os.File
	wmu     sync.Mutex // serialises writes
	mu      sync.Mutex // guards the fields below
	next    int
	pending map[int]chan message
	pages   map[string]*Page
	done    chan struct{}
	err     error
}

type message struct {
	ID        int             `json:"id,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Method    string          `json:"method,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

// Start runs Chromium until the test ends. It skips the test when
// chromium is not installed, except under CI=true.
func Start(t testing.TB) *Browser {
	t.Helper()
	bin := testutil.RequireTool(t, "chromium")
	toBrowser, fromUs, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	toUs, fromBrowser, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	// The flags keep the browser off the network: the machine refuses
	// background connections, and the tests want none.
	cmd := exec.Command(bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions",
		"--disable-dev-shm-usage", "--remote-debugging-pipe", "--window-size=1280,900", "--user-data-dir="+t.TempDir(), "about:blank")
	cmd.ExtraFiles = []*os.File{toBrowser, fromBrowser}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	toBrowser.Close()
	fromBrowser.Close()
	b := &Browser{cmd: cmd, w: fromUs, pending: map[int]chan message{}, pages: map[string]*Page{}, done: make(chan struct{})}
	go b.read(toUs)
	t.Cleanup(func() {
		b.call("", "Browser.close", nil, nil)
		select {
		case <-b.done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
		}
		cmd.Wait()
		fromUs.Close()
		if t.Failed() && stderr.Len() > 0 {
			t.Logf("chromium: %.2000s", stderr.String())
		}
	})
	return b
}

func (b *Browser) read(r *os.File) {
	defer close(b.done)
	br := bufio.NewReader(r)
	for {
		data, err := br.ReadBytes(0)
		if err != nil {
			b.mu.Lock()
			b.err = fmt.Errorf("chromium closed the pipe: %w", err)
			for id, ch := range b.pending {
				close(ch)
				delete(b.pending, id)
			}
			b.mu.Unlock()
			return
		}
		var m message
		if err := json.Unmarshal(data[:len(data)-1], &m); err != nil {
			continue
		}
		b.mu.Lock()
		if m.ID != 0 {
			if ch, ok := b.pending[m.ID]; ok {
				ch <- m
				delete(b.pending, m.ID)
			}
		} else if p := b.pages[m.SessionID]; p != nil {
			p.event(m)
		}
		b.mu.Unlock()
	}
}

// call sends a command (to a page's session when session is not empty) and
// decodes its result into out.
func (b *Browser) call(session, method string, params, out any) error {
	b.mu.Lock()
	if b.err != nil {
		b.mu.Unlock()
		return b.err
	}
	b.next++
	id := b.next
	ch := make(chan message, 1)
	b.pending[id] = ch
	msg := map[string]any{"id": id, "method": method}
	if params != nil {
		msg["params"] = params
	}
	if session != "" {
		msg["sessionId"] = session
	}
	b.mu.Unlock()
	data, _ := json.Marshal(msg)
	b.wmu.Lock()
	_, err := b.w.Write(append(data, 0))
	b.wmu.Unlock()
	if err != nil {
		return err
	}
	select {
	case m, ok := <-ch:
		if !ok {
			return errors.New("chromium exited")
		}
		if m.Error != nil {
			return fmt.Errorf("%s: %s (%d)", method, m.Error.Message, m.Error.Code)
		}
		if out != nil {
			return json.Unmarshal(m.Result, out)
		}
		return nil
	case <-time.After(30 * time.Second):
		return fmt.Errorf("%s: no answer in 30s", method)
	}
}

// Page is a browser tab.
type Page struct {
	b       *Browser
	session string
	mu      sync.Mutex
	events  []message
	notify  chan struct{}
	errors  []string
}

// NewPage opens a tab with the Page, Runtime and Log domains enabled.
func (b *Browser) NewPage(t testing.TB) *Page {
	t.Helper()
	var target struct {
		TargetID string `json:"targetId"`
	}
	if err := b.call("", "Target.createTarget", map[string]any{"url": "about:blank"}, &target); err != nil {
		t.Fatal(err)
	}
	var att struct {
		SessionID string `json:"sessionId"`
	}
	if err := b.call("", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &att); err != nil {
		t.Fatal(err)
	}
	p := &Page{b: b, session: att.SessionID, notify: make(chan struct{}, 1)}
	b.mu.Lock()
	b.pages[att.SessionID] = p
	b.mu.Unlock()
	for _, m := range []string{"Page.enable", "Runtime.enable", "Log.enable"} {
		if err := p.call(m, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	// A headless tab is not the focused window: without this, focus
	// (autofocus, Tab) behaves as in a background tab.
	if err := p.call("Emulation.setFocusEmulationEnabled", map[string]any{"enabled": true}, nil); err != nil {
		t.Fatal(err)
	}
	return p
}

func (p *Page) call(method string, params, out any) error {
	return p.b.call(p.session, method, params, out)
}

// event records an event; called with the browser's lock held.
func (p *Page) event(m message) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.events = append(p.events, m)
	switch m.Method {
	case "Runtime.consoleAPICalled":
		var ev struct {
			Type string `json:"type"`
			Args []struct {
				Value       any    `json:"value"`
				Description string `json:"description"`
			} `json:"args"`
		}
		json.Unmarshal(m.Params, &ev)
		if ev.Type == "error" || ev.Type == "assert" {
			var parts []string
			for _, a := range ev.Args {
				parts = append(parts, fmt.Sprint(a.Value)+a.Description)
			}
			p.errors = append(p.errors, "console."+ev.Type+": "+strings.Join(parts, " "))
		}
	case "Runtime.exceptionThrown":
		var ev struct {
			Details struct {
				Text      string `json:"text"`
				Exception struct {
					Description string `json:"description"`
				} `json:"exception"`
			} `json:"exceptionDetails"`
		}
		json.Unmarshal(m.Params, &ev)
		p.errors = append(p.errors, "exception: "+ev.Details.Text+" "+ev.Details.Exception.Description)
	case "Log.entryAdded":
		var ev struct {
			Entry struct {
				Level, Text, URL string
			} `json:"entry"`
		}
		json.Unmarshal(m.Params, &ev)
		if ev.Entry.Level == "error" {
			p.errors = append(p.errors, "log: "+ev.Entry.Text+" "+ev.Entry.URL)
		}
	}
	select {
	case p.notify <- struct{}{}:
	default:
	}
}

// Errors returns the console errors, uncaught exceptions and error log
// entries (failed loads, CSP violations) seen so far.
func (p *Page) Errors() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.errors...)
}

func (p *Page) mark() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.events)
}

// wait waits for an event named method after mark.
func (p *Page) wait(mark int, method string, timeout time.Duration) error {
	deadline := time.After(timeout)
	for {
		p.mu.Lock()
		for _, m := range p.events[mark:] {
			if m.Method == method {
				p.mu.Unlock()
				return nil
			}
		}
		p.mu.Unlock()
		select {
		case <-p.notify:
		case <-deadline:
			return fmt.Errorf("no %s within %s", method, timeout)
		}
	}
}

// Navigate loads url and waits for its load event.
func (p *Page) Navigate(t testing.TB, url string) {
	t.Helper()
	m := p.mark()
	var res struct {
		ErrorText string `json:"errorText"`
	}
	if err := p.call("Page.navigate", map[string]any{"url": url}, &res); err != nil {
		t.Fatal(err)
	}
	if res.ErrorText != "" {
		t.Fatalf("navigate %s: %s", url, res.ErrorText)
	}
	if err := p.wait(m, "Page.loadEventFired", 20*time.Second); err != nil {
		t.Fatalf("navigate %s: %v", url, err)
	}
}

// Eval evaluates a JavaScript expression (awaiting a promise) and decodes
// its value into out (which may be nil).
func (p *Page) Eval(t testing.TB, expr string, out any) {
	t.Helper()
	var res struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		Exception *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	if err := p.call("Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": true}, &res); err != nil {
		t.Fatalf("eval %s: %v", expr, err)
	}
	if res.Exception != nil {
		t.Fatalf("eval %s: %s %s", expr, res.Exception.Text, res.Exception.Exception.Description)
	}
	if out != nil && len(res.Result.Value) > 0 {
		if err := json.Unmarshal(res.Result.Value, out); err != nil {
			t.Fatalf("eval %s: %v (value %s)", expr, err, res.Result.Value)
		}
	}
}

// String evaluates expr to a string.
func (p *Page) String(t testing.TB, expr string) string {
	t.Helper()
	var s string
	p.Eval(t, expr, &s)
	return s
}

var keys = map[string]struct {
	code string
	vk   int
	text string
}{
	"Tab":        {"Tab", 9, ""},
	"Enter":      {"Enter", 13, "\r"},
	"ArrowLeft":  {"ArrowLeft", 37, ""},
	"ArrowRight": {"ArrowRight", 39, ""},
	"Home":       {"Home", 36, ""},
	"End":        {"End", 35, ""},
}

// Press presses and releases a key: Tab, Enter, ArrowLeft, ArrowRight,
// Home or End.
func (p *Page) Press(t testing.TB, key string) {
	t.Helper()
	k, ok := keys[key]
	if !ok {
		t.Fatalf("cdp: unknown key %q", key)
	}
	down := map[string]any{"type": "keyDown", "key": key, "code": k.code, "windowsVirtualKeyCode": k.vk, "nativeVirtualKeyCode": k.vk}
	if k.text != "" {
		down["text"] = k.text
	}
	if err := p.call("Input.dispatchKeyEvent", down, nil); err != nil {
		t.Fatal(err)
	}
	up := map[string]any{"type": "keyUp", "key": key, "code": k.code, "windowsVirtualKeyCode": k.vk, "nativeVirtualKeyCode": k.vk}
	if err := p.call("Input.dispatchKeyEvent", up, nil); err != nil {
		t.Fatal(err)
	}
}

// PressAndLoad presses a key that navigates (Enter on a link or in a form)
// and waits for the new page's load event.
func (p *Page) PressAndLoad(t testing.TB, key string) {
	t.Helper()
	m := p.mark()
	p.Press(t, key)
	if err := p.wait(m, "Page.loadEventFired", 20*time.Second); err != nil {
		t.Fatalf("%s: %v", key, err)
	}
}

// Type types text into the focused element.
func (p *Page) Type(t testing.TB, text string) {
	t.Helper()
	if err := p.call("Input.insertText", map[string]any{"text": text}, nil); err != nil {
		t.Fatal(err)
	}
}

// Screenshot writes a PNG of the page to path.
func (p *Page) Screenshot(t testing.TB, path string) {
	t.Helper()
	var res struct {
		Data string `json:"data"`
	}
	if err := p.call("Page.captureScreenshot", map[string]any{"format": "png", "captureBeyondViewport": true}, &res); err != nil {
		t.Fatal(err)
	}
	png, err := base64.StdEncoding.DecodeString(res.Data)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
}
