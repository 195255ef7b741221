package cli

import (
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/spf13/cobra"

	"github.com/vigil-scanner/vigil/image/remote"
)

// accessFlags are the flags for reaching a registry. Credentials are
// resolved here and only here: --username/--password, else
// $VIGIL_USERNAME/$VIGIL_PASSWORD, else the Docker config file and its
// credential helpers.
type accessFlags struct {
	insecure bool
	username string
	password string
}

func (f *accessFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.BoolVar(&f.insecure, "insecure", false, "allow plain-HTTP registries and skip TLS verification")
	fl.StringVar(&f.username, "username", "", "registry user name (default $VIGIL_USERNAME, then the Docker config)")
	fl.StringVar(&f.password, "password", "", "registry password (default $VIGIL_PASSWORD)")
}

// access resolves the flags into the one registry-options type.
func (f *accessFlags) access(g *globals) remote.Access {
	return resolveAccess(f.insecure, f.username, f.password, g.getenv)
}

// resolveAccess is the credential resolution order: explicit user name
// and password, else VIGIL_USERNAME/VIGIL_PASSWORD, else the Docker
// config and credential helpers.
func resolveAccess(insecure bool, username, password string, getenv func(string) string) remote.Access {
	a := remote.Access{Insecure: insecure}
	if username == "" && password == "" {
		username, password = getenv("VIGIL_USERNAME"), getenv("VIGIL_PASSWORD")
	}
	if username != "" || password != "" {
		a.Auth = remote.Basic(username, password)
	} else {
		a.Keychain = authn.DefaultKeychain
	}
	return a
}
