package registry

import "crypto/tls"

// insecureTLS skips certificate verification, for registries configured
// insecure (self-signed certificates).
func insecureTLS() *tls.Config { return &tls.Config{InsecureSkipVerify: true} }
