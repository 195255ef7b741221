package alert

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"net/smtp"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/vigil-scanner/vigil/internal/testutil"
)

func testEmailRoute(smtpAddr string) Route {
	return Route{
		Type: TypeEmail, Name: "security-team", SMTP: smtpAddr,
		From: "vigil <vigil@example.com>",
		To:   []string{"sec@example.com", "Ops Ünit <ops@example.com>"},
	}
}

func testEmailOptions() Options {
	return Options{Now: func() time.Time { return testNow }, Version: "1.2.3", DashboardURL: "https://vigil.example.com"}
}

func newTestEmail(t *testing.T, r Route) *email {
	t.Helper()
	s, err := NewSender(r, testEmailOptions())
	if err != nil {
		t.Fatal(err)
	}
	return s.(*email)
}

func TestEmailRender(t *testing.T) {
	text, html, err := renderEmail(prepare(sampleAlerts(), "https://vigil.example.com"), testEmailOptions().withDefaults())
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "email.txt", []byte(text))
	checkGolden(t, "email.html", []byte(html))

	// html/template escaped the markup and refused the javascript: URL.
	if strings.Contains(html, "<script>") || strings.Contains(html, "javascript:") {
		t.Error("HTML part carries the finding's markup or script URL unescaped")
	}
	if !strings.Contains(html, "&lt;script&gt;alert(1)&lt;/script&gt;") || !strings.Contains(html, "xz &lt;5.6.2 &amp; liblzma") {
		t.Error("HTML part lost the escaped text")
	}

	msg, err := newTestEmail(t, testEmailRoute("mail.example.com:587")).message(prepare(sampleAlerts(), "https://vigil.example.com"))
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "email.eml", msg)
	if bytes.Contains(bytes.ReplaceAll(msg, []byte("\r\n"), nil), []byte("\n")) || bytes.Contains(bytes.ReplaceAll(msg, []byte("\r\n"), nil), []byte("\r")) {
		t.Error("message has a line ending other than CRLF")
	}
	for i, line := range strings.Split(string(msg), "\r\n") {
		if len(line) > 998 {
			t.Errorf("line %d has %d characters; RFC 5322 allows 998", i+1, len(line))
		}
		for _, c := range []byte(line) {
			if c >= 0x80 {
				t.Fatalf("line %d is not 7-bit: %q", i+1, line)
			}
		}
	}
}

func TestEmailMessageHeaders(t *testing.T) {
	e := newTestEmail(t, testEmailRoute("mail.example.com:587"))
	msg, err := e.message(prepare(sampleAlerts(), "https://vigil.example.com"))
	if err != nil {
		t.Fatal(err)
	}
	m := parseEmail(t, msg)
	for k, want := range map[string]string{
		"From":                    `"vigil" <vigil@example.com>`,
		"To":                      `<sec@example.com>, =?utf-8?q?Ops_=C3=9Cnit?= <ops@example.com>`,
		"Subject":                 "[vigil] 3 new vulnerabilities (1 CRITICAL, 1 HIGH, 1 MEDIUM) in 2 images",
		"Date":                    "Sat, 14 Mar 2026 09:26:53 +0000",
		"Mime-Version":            "1.0",
		"Auto-Submitted":          "auto-generated",
		"X-Vigil-Idempotency-Key": BatchKey(prepare(sampleAlerts(), "")),
	} {
		if got := m.header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if d, err := m.header.Date(); err != nil || !d.Equal(testNow) {
		t.Errorf("Date parses as %v, %v", d, err)
	}
	id := m.header.Get("Message-Id")
	if !strings.HasPrefix(id, "<vigil.") || !strings.HasSuffix(id, "@example.com>") {
		t.Errorf("Message-ID = %q", id)
	}
	// The same alerts make the same Message-ID; other alerts or another
	// route another.
	again, _ := e.message(prepare(sampleAlerts(), "https://vigil.example.com"))
	other, _ := e.message(prepare(sampleAlerts()[:2], ""))
	r2 := testEmailRoute("mail.example.com:587")
	r2.To = []string{"someone@example.com"}
	otherRoute, _ := newTestEmail(t, r2).message(sampleAlerts())
	if parseEmail(t, again).header.Get("Message-Id") != id {
		t.Error("Message-ID differs for the same alerts")
	}
	if parseEmail(t, other).header.Get("Message-Id") == id || parseEmail(t, otherRoute).header.Get("Message-Id") == id {
		t.Error("Message-ID is the same for other alerts or another route")
	}
	if m.text != mustRender(t, sampleAlerts()).text || m.html != mustRender(t, sampleAlerts()).html {
		t.Error("the decoded parts differ from what was rendered")
	}
}

// TestEmailHeaderInjection: values that end up in headers cannot add one.
func TestEmailHeaderInjection(t *testing.T) {
	a := sampleAlerts()[:1]
	a[0].Image = "registry.example.com/evil:1\r\nBcc: victim@example.org\r\n\r\nbody"
	a[0].Severity = "HIGH\nX-Injected: 1"
	msg, err := newTestEmail(t, testEmailRoute("mail.example.com:587")).message(a)
	if err != nil {
		t.Fatal(err)
	}
	m := parseEmail(t, msg)
	if m.header.Get("Bcc") != "" || m.header.Get("X-Injected") != "" {
		t.Errorf("header injected: %v", m.header)
	}
	if s := m.header.Get("Subject"); strings.ContainsAny(s, "\r\n") || !strings.Contains(s, "Bcc: victim") {
		t.Errorf("Subject = %q", s)
	}

	for _, s := range []string{"a\r\nb", "a\nb", "a\x00b\x1b", "a\u2028b", "Ünïcode\r\nX: y"} {
		got := encodeHeader(s)
		if strings.ContainsAny(got, "\r\n\x00") {
			t.Errorf("encodeHeader(%q) = %q", s, got)
		}
	}
}

// FuzzEncodeHeader: whatever a finding holds, the Subject header is lines
// of printable ASCII within RFC 5322's limit that decode back to the
// sanitised text.
func FuzzEncodeHeader(f *testing.F) {
	for _, s := range []string{"plain", "Ünïcode", "a\r\nBcc: x@y", "=?utf-8?q?x?=", strings.Repeat("é", 300), strings.Repeat("x", 300)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		s = truncate(s, subjectMax)
		got := fold(len("Subject: "), encodeHeader(s))
		for i, line := range strings.Split(got, "\r\n") {
			if len(line) > 998 || (i > 0 && !strings.HasPrefix(line, " ")) {
				t.Fatalf("encodeHeader(%q): line %d is %q", s, i, line)
			}
			for _, c := range []byte(line) {
				if c < 0x20 || c >= 0x7f {
					t.Fatalf("encodeHeader(%q) = %q holds byte %#x", s, got, c)
				}
			}
		}
		if !utf8.ValidString(s) {
			return
		}
		m, err := mail.ReadMessage(strings.NewReader("Subject: " + got + "\r\n\r\n"))
		if err != nil {
			t.Fatalf("encodeHeader(%q) = %q: %v", s, got, err)
		}
		dec, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
		if err != nil {
			t.Fatalf("decoding %q: %v", got, err)
		}
		if want := strings.ReplaceAll(headerSafe(s), "=?", "= ?"); strings.Join(strings.Fields(dec), " ") != strings.Join(strings.Fields(want), " ") {
			t.Fatalf("encodeHeader(%q) decodes to %q, want %q", s, dec, want)
		}
	})
}

type parsedEmail struct {
	header     mail.Header
	text, html string // decoded parts, "\n" line endings
	raw        []byte
}

func parseEmail(t *testing.T, raw []byte) parsedEmail {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parsing message: %v", err)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q: %v", m.Header.Get("Content-Type"), err)
	}
	p := parsedEmail{header: m.Header, raw: raw}
	mr := multipart.NewReader(m.Body, params["boundary"])
	var types []string
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		// NextPart decodes quoted-printable and drops the header.
		b, err := io.ReadAll(part)
		if err != nil {
			t.Fatal(err)
		}
		body := strings.ReplaceAll(string(b), "\r\n", "\n")
		ct := part.Header.Get("Content-Type")
		types = append(types, ct)
		switch ct {
		case "text/plain; charset=utf-8":
			p.text = body
		case "text/html; charset=utf-8":
			p.html = body
		}
	}
	if !slices.Equal(types, []string{"text/plain; charset=utf-8", "text/html; charset=utf-8"}) {
		t.Errorf("parts %q, want plain text then HTML", types)
	}
	return p
}

type rendered struct{ text, html string }

func mustRender(t *testing.T, alerts []Alert) rendered {
	t.Helper()
	text, html, err := renderEmail(prepare(alerts, "https://vigil.example.com"), testEmailOptions().withDefaults())
	if err != nil {
		t.Fatal(err)
	}
	return rendered{text, html}
}

// smtpServer is aiosmtpd, started by the test.
type smtpServer struct {
	addr string
	dir  string // N.eml and N.json per accepted message
	ca   string // PEM of the certificate it presents, when TLS
}

type smtpConfig struct {
	tls, requireTLS, implicit bool
	user, password            string
	onlyLogin                 bool
}

func startSMTP(t *testing.T, cfg smtpConfig) *smtpServer {
	t.Helper()
	python := testutil.RequirePythonModule(t, "aiosmtpd")
	dir := t.TempDir()
	s := &smtpServer{dir: filepath.Join(dir, "mail")}
	if err := os.Mkdir(s.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	args := []string{filepath.Join("testdata", "smtpd.py"), s.dir}
	if cfg.tls || cfg.implicit {
		cert, key := writeTestCert(t, dir)
		s.ca = cert
		args = append(args, "--tlscert", cert, "--tlskey", key)
	}
	if cfg.requireTLS {
		args = append(args, "--requiretls")
	}
	if cfg.implicit {
		args = append(args, "--implicit")
	}
	if cfg.user != "" {
		args = append(args, "--user", cfg.user, "--password", cfg.password)
	}
	if cfg.onlyLogin {
		args = append(args, "--only-login")
	}
	cmd := exec.Command(python, args...)
	stdin, err := cmd.StdinPipe() // closed at cleanup: the server stops
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() && stderr.Len() > 0 {
			t.Logf("aiosmtpd stderr:\n%s", stderr.String())
		}
	})
	port := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		port <- strings.TrimSpace(line)
	}()
	select {
	case p := <-port:
		if p == "" {
			t.Fatalf("aiosmtpd did not start: %s", stderr.String())
		}
		s.addr = net.JoinHostPort("127.0.0.1", p)
	case <-time.After(20 * time.Second):
		t.Fatalf("aiosmtpd did not start in 20s: %s", stderr.String())
	}
	return s
}

type smtpFacts struct {
	MailFrom      string   `json:"mailFrom"`
	RcptTos       []string `json:"rcptTos"`
	TLS           bool     `json:"tls"`
	Authenticated bool     `json:"authenticated"`
	AuthLogin     string   `json:"authLogin"`
}

// messages returns what the server accepted, in order.
func (s *smtpServer) messages(t *testing.T) ([][]byte, []smtpFacts) {
	t.Helper()
	var raws [][]byte
	var facts []smtpFacts
	for i := 1; ; i++ {
		raw, err := os.ReadFile(filepath.Join(s.dir, strconv.Itoa(i)+".eml"))
		if errors.Is(err, os.ErrNotExist) {
			return raws, facts
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(s.dir, strconv.Itoa(i)+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var f smtpFacts
		if err := json.Unmarshal(b, &f); err != nil {
			t.Fatal(err)
		}
		raws, facts = append(raws, raw), append(facts, f)
	}
}

// writeTestCert writes a self-signed certificate for smtp.test, localhost
// and 127.0.0.1, and its key, as PEM files in dir.
func writeTestCert(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "smtp.test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"smtp.test", "localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

func TestEmailSMTP(t *testing.T) {
	tests := []struct {
		name   string
		server smtpConfig
		route  func(r *Route, srv *smtpServer)
		tls    bool
		login  string
	}{
		{
			name:   "plain, starttls none",
			server: smtpConfig{},
			route:  func(r *Route, _ *smtpServer) { r.StartTLS = StartTLSNone },
		},
		{
			name:   "plain server, opportunistic",
			server: smtpConfig{},
			route:  func(r *Route, _ *smtpServer) {},
		},
		{
			name:   "STARTTLS required, AUTH PLAIN",
			server: smtpConfig{tls: true, requireTLS: true, user: "vigil", password: "p4ss word"},
			route: func(r *Route, srv *smtpServer) {
				r.StartTLS, r.TLSCAFile, r.TLSServerName = StartTLSRequired, srv.ca, "smtp.test"
				r.Username, r.Password = "vigil", "p4ss word"
			},
			tls: true, login: "vigil",
		},
		{
			name:   "STARTTLS opportunistic, AUTH LOGIN",
			server: smtpConfig{tls: true, user: "vigil", password: "s3cret", onlyLogin: true},
			route: func(r *Route, srv *smtpServer) {
				r.TLSCAFile = srv.ca // 127.0.0.1 is in the certificate
				r.Username, r.Password = "vigil", "s3cret"
			},
			tls: true, login: "vigil",
		},
		{
			name:   "implicit TLS",
			server: smtpConfig{implicit: true},
			route: func(r *Route, srv *smtpServer) {
				r.ImplicitTLS, r.TLSCAFile, r.TLSServerName = true, srv.ca, "smtp.test"
			},
			tls: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel() // each test has its own server; starting Python is most of the time
			srv := startSMTP(t, tt.server)
			r := testEmailRoute(srv.addr)
			tt.route(&r, srv)
			e := newTestEmail(t, r)
			alerts := sampleAlerts()
			if err := e.Send(t.Context(), alerts); err != nil {
				t.Fatal(err)
			}
			raws, facts := srv.messages(t)
			if len(raws) != 1 {
				t.Fatalf("server accepted %d messages, want 1", len(raws))
			}
			f := facts[0]
			if f.MailFrom != "vigil@example.com" || !slices.Equal(f.RcptTos, []string{"sec@example.com", "ops@example.com"}) {
				t.Errorf("envelope from %q to %q", f.MailFrom, f.RcptTos)
			}
			if f.TLS != tt.tls || f.Authenticated != (tt.login != "") || f.AuthLogin != map[bool]string{true: tt.login}[tt.login != ""] {
				t.Errorf("session: %+v, want tls %v, login %q", f, tt.tls, tt.login)
			}
			// What arrived is byte for byte what was built, after the
			// server undid the dot-stuffing of ".NET Denial…".
			want, err := e.message(prepare(alerts, e.opts.DashboardURL))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(raws[0], want) {
				t.Errorf("received message differs from the one sent:\n%s", raws[0])
			}
			if !bytes.Contains(raws[0], []byte("\r\n.NET Denial of Service")) {
				t.Error("the line starting with a dot did not arrive intact")
			}
			m := parseEmail(t, raws[0])
			r0 := mustRender(t, alerts)
			if m.text != r0.text || m.html != r0.html {
				t.Errorf("decoded parts differ from the rendered ones:\n%s", m.text)
			}
			if !strings.Contains(m.text, "CRITICAL CVE-2024-3094 - KNOWN EXPLOITED (CISA KEV)") ||
				!strings.Contains(m.html, `<a href="https://avd.example.org/nvd/cve-2024-3094">CVE-2024-3094</a>`) {
				t.Error("parts do not hold the findings")
			}
		})
	}
}

func TestEmailSMTPFailures(t *testing.T) {
	t.Parallel()
	plain := startSMTP(t, smtpConfig{})
	tlsSrv := startSMTP(t, smtpConfig{tls: true, user: "vigil", password: "right"})
	tests := []struct {
		name      string
		srv       *smtpServer
		route     func(r *Route)
		permanent bool
		inError   string
	}{
		{"rejected recipient", plain, func(r *Route) { r.To = []string{"ok@example.com", "reject@example.com"} },
			true, "RCPT TO <reject@example.com>: 550"},
		{"busy recipient", plain, func(r *Route) { r.To = []string{"busy@example.com"} },
			false, "451"},
		{"STARTTLS required, not offered", plain, func(r *Route) { r.StartTLS = StartTLSRequired },
			true, "does not offer STARTTLS"},
		{"untrusted certificate", tlsSrv, func(r *Route) { r.Username, r.Password = "vigil", "right" },
			true, "certificate"},
		{"wrong certificate name", tlsSrv, func(r *Route) { r.TLSCAFile, r.TLSServerName = tlsSrv.ca, "mail.example.com" },
			true, "mail.example.com"},
		{"wrong password", tlsSrv, func(r *Route) { r.TLSCAFile, r.Username, r.Password = tlsSrv.ca, "vigil", "wrong" },
			true, "AUTH: 535"},
		{"auth required, none given", tlsSrv, func(r *Route) { r.TLSCAFile = tlsSrv.ca },
			true, "530"},
		{"AUTH not offered", plain, func(r *Route) { r.Username, r.Password = "vigil", "x" },
			true, "offers no AUTH"},
		{"nothing listening", &smtpServer{addr: closedPort(t)}, func(r *Route) {},
			false, "connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := tt.srv.messages(t)
			r := testEmailRoute(tt.srv.addr)
			tt.route(&r)
			err := newTestEmail(t, r).Send(t.Context(), sampleAlerts())
			if err == nil {
				t.Fatal("Send = nil, want an error")
			}
			if IsPermanent(err) != tt.permanent {
				t.Errorf("IsPermanent(%v) = %v, want %v", err, IsPermanent(err), tt.permanent)
			}
			if !strings.Contains(err.Error(), tt.inError) || !strings.Contains(err.Error(), `email route "security-team"`) {
				t.Errorf("error %q does not name the route or say %q", err, tt.inError)
			}
			if strings.Contains(err.Error(), "right") {
				t.Errorf("error %q holds the password", err)
			}
			if tt.srv.dir != "" {
				if after, _ := tt.srv.messages(t); len(after) != len(before) {
					t.Error("a message was delivered although Send failed")
				}
			}
		})
	}
}

// TestEmailDotStuffing sends lines that would end or corrupt DATA
// without dot-stuffing through the real server.
func TestEmailDotStuffing(t *testing.T) {
	t.Parallel()
	srv := startSMTP(t, smtpConfig{})
	r := testEmailRoute(srv.addr)
	e := newTestEmail(t, r)
	msg := []byte("Subject: dots\r\n\r\nfirst\r\n.\r\n..two\r\n.three\r\n. \r\nlast\r\n")
	if err := e.deliver(t.Context(), msg); err != nil {
		t.Fatal(err)
	}
	raws, _ := srv.messages(t)
	if len(raws) != 1 || !bytes.Equal(raws[0], msg) {
		t.Errorf("received %q, want %q", raws, msg)
	}
}

func TestSecureEnough(t *testing.T) {
	for _, tt := range []struct {
		info smtp.ServerInfo
		ok   bool
	}{
		{smtp.ServerInfo{Name: "mail.example.com", TLS: true}, true},
		{smtp.ServerInfo{Name: "mail.example.com"}, false},
		{smtp.ServerInfo{Name: "10.0.0.5"}, false},
		{smtp.ServerInfo{Name: "127.0.0.1"}, true},
		{smtp.ServerInfo{Name: "127.1.2.3"}, true},
		{smtp.ServerInfo{Name: "::1"}, true},
		{smtp.ServerInfo{Name: "localhost"}, true},
	} {
		err := secureEnough(&tt.info)
		if (err == nil) != tt.ok {
			t.Errorf("secureEnough(%+v) = %v", tt.info, err)
		}
		if err != nil {
			if _, _, aerr := (plainAuth{"u", "p"}).Start(&tt.info); aerr == nil {
				t.Error("AUTH PLAIN started in the clear")
			}
			if _, _, aerr := (&loginAuth{user: "u", pass: "p"}).Start(&tt.info); aerr == nil {
				t.Error("AUTH LOGIN started in the clear")
			}
		}
	}
}

func TestNewEmailCAFile(t *testing.T) {
	r := testEmailRoute("mail.example.com:587")
	r.TLSCAFile = filepath.Join(t.TempDir(), "missing.pem")
	if _, err := NewSender(r, Options{}); err == nil || !strings.Contains(err.Error(), "tlsCAFile") {
		t.Errorf("missing CA file: %v", err)
	}
	notPEM := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(notPEM, []byte("not a certificate"), 0o644)
	r.TLSCAFile = notPEM
	if _, err := NewSender(r, Options{}); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Errorf("CA file without PEM: %v", err)
	}
}

func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}
