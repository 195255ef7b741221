// Package sources is the one list of the feeds vigil can build its
// database from. To add a feed, write vulndb/source/<feed> and add it to
// All and Parse here.
package sources

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/vigil-scanner/vigil/vulndb"
	"github.com/vigil-scanner/vigil/vulndb/source/alpine"
	"github.com/vigil-scanner/vigil/vulndb/source/amazon"
	"github.com/vigil-scanner/vigil/vulndb/source/azurelinux"
	"github.com/vigil-scanner/vigil/vulndb/source/debian"
	"github.com/vigil-scanner/vigil/vulndb/source/epss"
	"github.com/vigil-scanner/vigil/vulndb/source/kev"
	"github.com/vigil-scanner/vigil/vulndb/source/nvd"
	"github.com/vigil-scanner/vigil/vulndb/source/oracle"
	"github.com/vigil-scanner/vigil/vulndb/source/osv"
	"github.com/vigil-scanner/vigil/vulndb/source/redhat"
	"github.com/vigil-scanner/vigil/vulndb/source/wolfi"
)

// All returns every source of a default build.
func All(logger *slog.Logger) []vulndb.Source {
	return []vulndb.Source{
		alpine.New(alpine.Options{Logger: logger}),
		wolfi.New(wolfi.Options{Logger: logger}),
		wolfi.NewChainguard(wolfi.Options{Logger: logger}),
		debian.New(debian.Options{Logger: logger}),
		redhat.New(redhat.Options{Logger: logger}),
		oracle.New(oracle.Options{Logger: logger}),
		amazon.New(amazon.Options{Logger: logger}),
		azurelinux.New(azurelinux.Options{Logger: logger}),
		azurelinux.NewMariner(azurelinux.Options{Logger: logger}),
		osv.All(logger),
		nvd.New(nvd.Options{Logger: logger}),
		epss.New(epss.Options{Logger: logger}),
		kev.New(kev.Options{Logger: logger}),
	}
}

// Names lists the names Parse accepts besides "osv:<ECOSYSTEM>".
func Names(logger *slog.Logger) []string {
	var names []string
	for _, s := range All(logger) {
		names = append(names, s.Name())
	}
	return names
}

// Parse turns a comma-separated list ("osv:Go,osv:PyPI", "all") into
// sources. "osv:<ECOSYSTEM>" names one osv.dev ecosystem directory.
func Parse(spec string, logger *slog.Logger) ([]vulndb.Source, error) {
	var out []vulndb.Source
	seen := map[string]bool{}
	for name := range strings.SplitSeq(spec, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		var found []vulndb.Source
		switch {
		case name == "all":
			found = All(logger)
		case strings.HasPrefix(name, "osv:") && len(name) > len("osv:"):
			found = []vulndb.Source{osv.New(strings.TrimPrefix(name, "osv:"), logger)}
		default:
			for _, s := range All(logger) {
				if s.Name() == name {
					found = []vulndb.Source{s}
				}
			}
		}
		if found == nil {
			return nil, fmt.Errorf("unknown source %q (known: %s, osv:<ECOSYSTEM>, all)", name, strings.Join(Names(logger), ", "))
		}
		for _, s := range found {
			if !seen[s.Name()] {
				seen[s.Name()] = true
				out = append(out, s)
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no sources in %q", spec)
	}
	return out, nil
}
