// Package smtptest runs a real SMTP server for tests: Debian's
// python3-aiosmtpd, driven by smtpd.py, which writes every message it
// accepts to a directory. Tests skip when aiosmtpd is missing (and fail
// under CI=true, as testutil.RequirePythonModule does).
package smtptest

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	_ "embed"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-scanner/vigil/internal/testutil"
)

//go:embed smtpd.py
var script []byte

// Options configure a server.
type Options struct {
	// TLS offers STARTTLS with a self-signed certificate (Server.CA);
	// RequireTLS refuses mail before it; Implicit speaks TLS from the
	// first byte (SMTPS) instead.
	TLS, RequireTLS, Implicit bool
	// User and Password, when set, are required with AUTH (PLAIN and
	// LOGIN, or LOGIN alone with OnlyLogin).
	User, Password string
	OnlyLogin      bool
}

// Server is a running aiosmtpd.
type Server struct {
	// Addr is 127.0.0.1:port.
	Addr string
	// Dir holds N.eml and N.json for each accepted message.
	Dir string
	// CA is the PEM file of the certificate the server presents, with
	// TLS or Implicit; it is valid for smtp.test, localhost and
	// 127.0.0.1.
	CA string
}

// Start runs a server until the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	python := testutil.RequirePythonModule(t, "aiosmtpd")
	dir := t.TempDir()
	s := &Server{Dir: filepath.Join(dir, "mail")}
	if err := os.Mkdir(s.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	py := filepath.Join(dir, "smtpd.py")
	if err := os.WriteFile(py, script, 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{py, s.Dir}
	if opts.TLS || opts.Implicit {
		cert, key := WriteCert(t, dir)
		s.CA = cert
		args = append(args, "--tlscert", cert, "--tlskey", key)
	}
	if opts.RequireTLS {
		args = append(args, "--requiretls")
	}
	if opts.Implicit {
		args = append(args, "--implicit")
	}
	if opts.User != "" {
		args = append(args, "--user", opts.User, "--password", opts.Password)
	}
	if opts.OnlyLogin {
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
		s.Addr = net.JoinHostPort("127.0.0.1", p)
	case <-time.After(20 * time.Second):
		t.Fatalf("aiosmtpd did not start in 20s: %s", stderr.String())
	}
	return s
}

// Facts are what the server saw of one message's session.
type Facts struct {
	MailFrom      string   `json:"mailFrom"`
	RcptTos       []string `json:"rcptTos"`
	TLS           bool     `json:"tls"`
	Authenticated bool     `json:"authenticated"`
	AuthLogin     string   `json:"authLogin"`
}

// Messages returns what the server accepted, in order: each message's
// bytes as received, and its session facts.
func (s *Server) Messages(t testing.TB) ([][]byte, []Facts) {
	t.Helper()
	var raws [][]byte
	var facts []Facts
	for i := 1; ; i++ {
		raw, err := os.ReadFile(filepath.Join(s.Dir, strconv.Itoa(i)+".eml"))
		if errors.Is(err, os.ErrNotExist) {
			return raws, facts
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(s.Dir, strconv.Itoa(i)+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var f Facts
		if err := json.Unmarshal(b, &f); err != nil {
			t.Fatal(err)
		}
		raws, facts = append(raws, raw), append(facts, f)
	}
}

// WriteCert writes a self-signed certificate for smtp.test, localhost and
// 127.0.0.1, and its key, as PEM files in dir.
func WriteCert(t testing.TB, dir string) (certFile, keyFile string) {
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
