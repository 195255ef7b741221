package alert

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"os"
	"slices"
	"strings"
	texttemplate "text/template"
	"time"
	"unicode"

	"github.com/vigil-scanner/vigil/match"
)

// Rendering limits of an email.
const (
	// emailFindings is how many findings an email lists; the rest are
	// counted.
	emailFindings = 200
	// emailImages is how many images the summary names.
	emailImages = 50
	// subjectMax bounds the Subject header, in characters.
	subjectMax = 200
)

//go:embed templates/email.txt.tmpl templates/email.html.tmpl
var templateFS embed.FS

func templateFuncs() map[string]any {
	return map[string]any{
		"join":          strings.Join,
		"percent":       percent,
		"ordinal":       ordinal,
		"severityColor": severityColor,
	}
}

// The templates are parsed once; they are constant, so this is not mutable
// state.
var (
	textTmpl = texttemplate.Must(texttemplate.New("email.txt.tmpl").Funcs(templateFuncs()).ParseFS(templateFS, "templates/email.txt.tmpl"))
	htmlTmpl = htmltemplate.Must(htmltemplate.New("email.html.tmpl").Funcs(templateFuncs()).ParseFS(templateFS, "templates/email.html.tmpl"))
)

func severityColor(sev string) string {
	switch sev {
	case match.SeverityCritical:
		return "#a40e26"
	case match.SeverityHigh:
		return "#bc4c00"
	case match.SeverityMedium:
		return "#7d4e00"
	case match.SeverityLow:
		return "#0969da"
	}
	return "#57606a"
}

type email struct {
	route Route
	opts  Options
	from  *mail.Address
	to    []*mail.Address
	host  string // of route.SMTP
	tls   *tls.Config
}

func newEmail(route Route, opts Options) (*email, error) {
	e := &email{route: route, opts: opts}
	e.from, _ = parseAddress(route.From) // Validate checked them
	for _, to := range route.To {
		a, _ := parseAddress(to)
		e.to = append(e.to, a)
	}
	e.host, _, _ = net.SplitHostPort(route.SMTP)
	e.tls = &tls.Config{
		ServerName: cmp.Or(route.TLSServerName, e.host),
		MinVersion: tls.VersionTLS12,
	}
	if route.TLSCAFile != "" {
		pem, err := os.ReadFile(route.TLSCAFile)
		if err != nil {
			return nil, fmt.Errorf("%s: tlsCAFile: %w", route.label(), err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: tlsCAFile %s: no PEM certificate in it", route.label(), route.TLSCAFile)
		}
		e.tls.RootCAs = pool
	}
	return e, nil
}

func (e *email) Send(ctx context.Context, alerts []Alert) error {
	if len(alerts) == 0 {
		return nil
	}
	alerts = prepare(alerts, e.opts.DashboardURL)
	msg, err := e.message(alerts)
	if err != nil {
		return &sendError{route: e.route.label(), permanent: true, err: err}
	}
	start := time.Now()
	err = e.deliver(ctx, msg)
	log := e.opts.Logger.With("route", e.route.label(), "alerts", len(alerts), "bytes", len(msg),
		"duration", time.Since(start).Round(time.Millisecond))
	if err != nil {
		log.WarnContext(ctx, "alert delivery failed", "err", err)
		return err
	}
	log.InfoContext(ctx, "alert delivery", "recipients", len(e.to))
	return nil
}

// emailData is what the templates render.
type emailData struct {
	Headline   string
	Counts     string
	Reasons    []string
	Images     []emailImage
	MoreImages int
	ManyImages bool
	Findings   []emailFinding
	More       int
	MoreCounts string
	Version    string
	Dashboard  string
}

type emailImage struct{ Ref, Link string }

type emailFinding struct {
	Alert
	ImageRef string
}

func newEmailData(alerts []Alert, opts Options) emailData {
	sum := summarize(alerts)
	sorted := bySeverity(alerts)
	shown := sorted[:min(len(sorted), emailFindings)]
	d := emailData{
		Headline:   sum.headline(),
		Counts:     countText(sum),
		ManyImages: len(sum.images) > 1,
		Version:    opts.Version,
		Dashboard:  opts.DashboardURL,
	}
	for _, r := range Reasons() {
		if slices.ContainsFunc(alerts, func(a Alert) bool { return a.Reason == r }) {
			d.Reasons = append(d.Reasons, r)
		}
	}
	links := map[string]string{}
	for _, a := range alerts {
		links[cmp.Or(a.Image, a.Repository)] = a.DashboardURL
	}
	for _, img := range sum.images[:min(len(sum.images), emailImages)] {
		d.Images = append(d.Images, emailImage{Ref: img, Link: links[img]})
	}
	d.MoreImages = max(len(sum.images)-emailImages, 0)
	for _, a := range shown {
		a.Title = oneLine(a.Title)
		a.URL = webURL(a.URL)
		d.Findings = append(d.Findings, emailFinding{Alert: a, ImageRef: shortImage(cmp.Or(a.Image, a.Repository))})
	}
	if rest := sorted[len(shown):]; len(rest) > 0 {
		d.More, d.MoreCounts = len(rest), countText(summarize(rest))
	}
	return d
}

// renderEmail returns the plain-text and HTML bodies, with "\n" line
// endings.
func renderEmail(alerts []Alert, opts Options) (text, html string, err error) {
	d := newEmailData(alerts, opts)
	var t, h strings.Builder
	if err := textTmpl.Execute(&t, d); err != nil {
		return "", "", fmt.Errorf("rendering email text: %w", err)
	}
	if err := htmlTmpl.Execute(&h, d); err != nil {
		return "", "", fmt.Errorf("rendering email HTML: %w", err)
	}
	return t.String(), h.String(), nil
}

// message builds the complete RFC 5322 message with CRLF line endings: a
// multipart/alternative of the plain text and the HTML, both
// quoted-printable, so the message is 7-bit clean whatever the findings
// hold. The Message-ID and the MIME boundary derive from the alerts'
// keys and the route, so the same alerts make the same message and a mail
// system that deduplicates on Message-ID drops a redelivery.
func (e *email) message(alerts []Alert) ([]byte, error) {
	text, html, err := renderEmail(alerts, e.opts)
	if err != nil {
		return nil, err
	}
	id := hashParts(BatchKey(alerts), e.route.SMTP, e.route.From, strings.Join(e.route.To, ","))
	_, domain, _ := strings.Cut(e.from.Address, "@")

	var b bytes.Buffer
	header := func(k, v string) { b.WriteString(k + ": " + fold(len(k)+2, headerSafe(v)) + "\r\n") }
	header("From", e.from.String())
	to := make([]string, len(e.to))
	for i, a := range e.to {
		to[i] = a.String()
	}
	header("To", strings.Join(to, ", "))
	header("Subject", encodeHeader(truncate("[vigil] "+summarize(alerts).headline(), subjectMax)))
	header("Date", e.opts.Now().Format(time.RFC1123Z))
	header("Message-ID", "<vigil."+id[:40]+"@"+domain+">")
	header("MIME-Version", "1.0")
	boundary := "vigil=_" + id[:32]
	header("Content-Type", mime.FormatMediaType("multipart/alternative", map[string]string{"boundary": boundary}))
	header("Auto-Submitted", "auto-generated") // RFC 3834: no auto-replies
	header("X-Mailer", e.opts.userAgent())
	header("X-Vigil-Idempotency-Key", BatchKey(alerts))
	b.WriteString("\r\n")

	mw := multipart.NewWriter(&b)
	if err := mw.SetBoundary(boundary); err != nil {
		return nil, err
	}
	for _, part := range []struct{ ctype, body string }{
		{"text/plain; charset=utf-8", text},
		{"text/html; charset=utf-8", html},
	} {
		pw, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {part.ctype},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, err
		}
		qw := quotedprintable.NewWriter(pw)
		if _, err := qw.Write([]byte(part.body)); err != nil {
			return nil, err
		}
		if err := qw.Close(); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil { // ends with "--boundary--\r\n"
		return nil, err
	}
	return b.Bytes(), nil
}

// headerSafe makes s one header line: control characters, CR and LF above
// all, become spaces, so no value can start a header of its own.
func headerSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
}

// fold breaks a header value at spaces so that lines stay within 78
// characters where the words allow; start is the length of "Name: ". No
// word is longer than 998 characters: encoded words are at most 75 and
// the subject is cut to subjectMax characters.
func fold(start int, v string) string {
	var b strings.Builder
	n := start
	for i, w := range strings.Split(v, " ") {
		if i > 0 {
			if n+1+len(w) > 78 && n > 1 {
				b.WriteString("\r\n")
				n = 0
			}
			b.WriteByte(' ')
			n++
		}
		b.WriteString(w)
		n += len(w)
	}
	return b.String()
}

// encodeHeader encodes s as RFC 2047 words when it is not printable ASCII.
// Text that would read as an encoded word ("=?…?=") is broken up, so that
// what the reader sees is what s says.
func encodeHeader(s string) string {
	return mime.QEncoding.Encode("utf-8", strings.ReplaceAll(headerSafe(s), "=?", "= ?"))
}

// deliver sends msg over one SMTP session.
func (e *email) deliver(ctx context.Context, msg []byte) error {
	ctx, cancel := context.WithTimeout(ctx, e.opts.Timeout)
	defer cancel()
	fail := func(permanent bool, err error) error {
		return &sendError{route: e.route.label(), permanent: permanent || smtpPermanent(err), err: err}
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", e.route.SMTP)
	if err != nil {
		return fail(false, err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	// Cancelling ctx unblocks whatever read or write is in progress.
	defer context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })()
	if e.route.ImplicitTLS {
		tc := tls.Client(conn, e.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			return fail(isCertError(err), fmt.Errorf("TLS: %w", err))
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, e.host)
	if err != nil {
		return fail(false, ctxErr(ctx, fmt.Errorf("greeting: %w", err)))
	}
	defer c.Close()
	if err := c.Hello(e.opts.HeloName); err != nil {
		return fail(false, ctxErr(ctx, fmt.Errorf("EHLO: %w", err)))
	}
	if !e.route.ImplicitTLS && e.route.StartTLS != StartTLSNone {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(e.tls); err != nil {
				return fail(isCertError(err), ctxErr(ctx, fmt.Errorf("STARTTLS: %w", err)))
			}
		} else if e.route.StartTLS == StartTLSRequired {
			return fail(true, errors.New("the server does not offer STARTTLS, which starttls: required demands"))
		}
	}
	if e.route.Username != "" {
		if err := e.auth(c); err != nil {
			return fail(false, ctxErr(ctx, err))
		}
	}
	if err := c.Mail(e.from.Address); err != nil {
		return fail(false, ctxErr(ctx, fmt.Errorf("MAIL FROM <%s>: %w", e.from.Address, err)))
	}
	for _, to := range e.to {
		if err := c.Rcpt(to.Address); err != nil {
			return fail(false, ctxErr(ctx, fmt.Errorf("RCPT TO <%s>: %w", to.Address, err)))
		}
	}
	w, err := c.Data()
	if err != nil {
		return fail(false, ctxErr(ctx, fmt.Errorf("DATA: %w", err)))
	}
	// The DATA writer dot-stuffs lines that start with "." and ends the
	// message with "\r\n.\r\n".
	if _, err := w.Write(msg); err != nil {
		return fail(false, ctxErr(ctx, fmt.Errorf("DATA: %w", err)))
	}
	if err := w.Close(); err != nil {
		return fail(false, ctxErr(ctx, fmt.Errorf("message not accepted: %w", err)))
	}
	// The message is accepted; a failed QUIT changes nothing.
	_ = c.Quit()
	return nil
}

// auth authenticates with PLAIN or, when the server offers only that,
// LOGIN. Credentials go only over TLS or to a loopback server.
func (e *email) auth(c *smtp.Client) error {
	ok, mechs := c.Extension("AUTH")
	if !ok {
		return permanentError{errors.New("the server offers no AUTH (many offer it only after STARTTLS)")}
	}
	offered := strings.Fields(strings.ToUpper(mechs))
	var a smtp.Auth
	switch {
	case slices.Contains(offered, "PLAIN"):
		a = plainAuth{user: e.route.Username, pass: e.route.Password}
	case slices.Contains(offered, "LOGIN"):
		a = &loginAuth{user: e.route.Username, pass: e.route.Password}
	default:
		return permanentError{fmt.Errorf("the server offers AUTH %s; vigil speaks PLAIN and LOGIN", mechs)}
	}
	if err := c.Auth(a); err != nil {
		return fmt.Errorf("AUTH: %w", err)
	}
	return nil
}

// errCleartext refuses to send credentials in the clear.
var errCleartext = errors.New("refusing to send the password over an unencrypted connection to a non-loopback server (set starttls: required, or implicitTLS)")

func secureEnough(server *smtp.ServerInfo) error {
	if server.TLS || isLoopback(server.Name) {
		return nil
	}
	return errCleartext
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// plainAuth is AUTH PLAIN (RFC 4616) with an empty authorization identity.
type plainAuth struct{ user, pass string }

func (a plainAuth) Start(server *smtp.ServerInfo) (string, []byte, error) {
	if err := secureEnough(server); err != nil {
		return "", nil, err
	}
	return "PLAIN", []byte("\x00" + a.user + "\x00" + a.pass), nil
}

func (a plainAuth) Next(_ []byte, more bool) ([]byte, error) {
	if more {
		return nil, errors.New("unexpected server challenge after AUTH PLAIN")
	}
	return nil, nil
}

// loginAuth is the AUTH LOGIN exchange (draft-murchison-sasl-login):
// the username, then the password, each answering a challenge.
type loginAuth struct {
	user, pass string
	step       int
}

func (a *loginAuth) Start(server *smtp.ServerInfo) (string, []byte, error) {
	if err := secureEnough(server); err != nil {
		return "", nil, err
	}
	a.step = 0
	return "LOGIN", nil, nil
}

func (a *loginAuth) Next(_ []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	a.step++
	switch a.step {
	case 1:
		return []byte(a.user), nil
	case 2:
		return []byte(a.pass), nil
	}
	return nil, errors.New("unexpected server challenge after AUTH LOGIN")
}

// permanentError marks a failure of the route's configuration.
type permanentError struct{ error }

func (e permanentError) Unwrap() error { return e.error }

// smtpPermanent reports whether err carries an SMTP 5xx reply, is the
// refusal to send credentials in the clear, or is marked permanent.
func smtpPermanent(err error) bool {
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code >= 500 && te.Code < 600
	}
	var pe permanentError
	return errors.Is(err, errCleartext) || errors.As(err, &pe)
}

// isCertError reports a certificate the route's TLS settings reject: a
// configuration problem that retrying does not mend.
func isCertError(err error) bool {
	var ve *tls.CertificateVerificationError
	var he x509.HostnameError
	var ua x509.UnknownAuthorityError
	var ci x509.CertificateInvalidError
	return errors.As(err, &ve) || errors.As(err, &he) || errors.As(err, &ua) || errors.As(err, &ci)
}

// ctxErr prefers the context's error to the I/O error its deadline caused.
func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	return err
}
