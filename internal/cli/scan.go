package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-scanner/vigil/baseupdate"
	"github.com/vigil-scanner/vigil/catalog/all"
	"github.com/vigil-scanner/vigil/catalog/maven"
	"github.com/vigil-scanner/vigil/evaluate"
	"github.com/vigil-scanner/vigil/image"
	"github.com/vigil-scanner/vigil/image/daemon"
	"github.com/vigil-scanner/vigil/inventory"
	"github.com/vigil-scanner/vigil/layerfs"
	"github.com/vigil-scanner/vigil/match"
	"github.com/vigil-scanner/vigil/policy"
	"github.com/vigil-scanner/vigil/report"
	"github.com/vigil-scanner/vigil/report/format"
	"github.com/vigil-scanner/vigil/report/template"
	"github.com/vigil-scanner/vigil/scan"
	"github.com/vigil-scanner/vigil/server"
	"github.com/vigil-scanner/vigil/vulndb"
	"github.com/vigil-scanner/vigil/vulndb/oci"
)

// scanFlags are the flags every scanning command shares (image, fs,
// rootfs, repo, sbom). Names follow Trivy's where Trivy has the flag.
type scanFlags struct {
	format       string
	output       string
	template     string
	templateText string // the template itself, read by validate
	listAllPkgs  bool
	scanners     []string
	timeout      time.Duration
	// keep holds the finding filters bound to flags directly; the
	// statuses are ignoreStatus, converted by policy.
	keep         policy.Filter
	sort         string
	filter       scan.Filter
	ignoreStatus []string
	exitCode     int
	exitOnEOL    int
	ignoreFile   string
	// ignoreFileGiven is set by validate: --ignorefile was on the command line.
	ignoreFileGiven bool
	vex             []string
	baseline        string
	skipDBUpdate    bool
	offline         bool
	dbRepos         []string
	strict          bool
	// dbReposGiven is set by validate: --db-repository was on the command
	// line (a locally built database may then be replaced).
	dbReposGiven bool
	// insecure is set by validate from the command's --insecure, when it
	// has one: it applies to the database repositories too.
	insecure bool
	// advise, when set (image --base-updates), adds to the evaluated
	// report before it is written and returns notes for the user.
	advise func(ctx context.Context, m evaluate.Matcher, filter policy.Filter, rep *report.Report) ([]string, error)
	// server, in client mode, is the vigil server that matches.
	server      string
	serverToken string
}

func (f *scanFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVarP(&f.format, "format", "f", format.Table, "output format: "+strings.Join(format.Names(), ", "))
	fl.StringVarP(&f.output, "output", "o", "", "write the report to this file instead of standard output")
	fl.StringVarP(&f.template, "template", "t", "", "Go template for --format template: the template itself or @FILE")
	fl.BoolVar(&f.listAllPkgs, "list-all-pkgs", false, "include every package in the report, not only vulnerable ones")
	fl.StringSliceVar(&f.scanners, "scanners", []string{"vuln"}, "what to look for: vuln, or none for an inventory only")
	fl.DurationVar(&f.timeout, "timeout", 10*time.Minute, "give up after this long")
	fl.StringSliceVarP(&f.keep.Severities, "severity", "s", match.Severities(), "severities to report: CRITICAL,HIGH,MEDIUM,LOW,UNKNOWN")
	fl.BoolVar(&f.keep.IgnoreUnfixed, "ignore-unfixed", false, "report only vulnerabilities that have a fixed version")
	fl.BoolVar(&f.keep.KEV, "kev", false, "report only known-exploited vulnerabilities (CISA KEV); with --min-epss or --min-epss-percentile, those meeting any of them")
	fl.Float64Var(&f.keep.MinEPSS, "min-epss", 0, "report only vulnerabilities whose EPSS probability is at least this (0 to 1; 0.1 is 10 %)")
	fl.Float64Var(&f.keep.MinEPSSPercentile, "min-epss-percentile", 0, "report only vulnerabilities whose EPSS percentile is at least this (0 to 1)")
	fl.BoolVar(&f.keep.ExcludeBase, "exclude-base", false, "leave out vulnerabilities in packages the base image brought (images)")
	fl.StringVar(&f.sort, "sort", report.SortRisk, "order of the table's findings: "+strings.Join(report.Sorts(), ", "))
	fl.StringSliceVar(&f.filter.PkgTypes, "pkg-types", nil, "package types to scan: os, library (default both)")
	fl.StringSliceVar(&f.filter.SkipDirs, "skip-dirs", nil, "leave out the files under these directories: neither read nor reported (globs, ** for any depth)")
	fl.StringSliceVar(&f.filter.SkipFiles, "skip-files", nil, "leave out these files: neither read nor reported (globs, ** for any depth)")
	fl.BoolVar(&f.filter.IncludeDevDeps, "include-dev-deps", false, "include development dependencies (those only dev scopes of the lockfiles reach) in the report and matching")
	fl.BoolVar(&f.keep.IgnoreUnreachable, "ignore-unreachable", false, "leave out Go findings whose vulnerable symbols are absent from the binary")
	fl.StringSliceVar(&f.ignoreStatus, "ignore-status", nil, "statuses to leave out: fixed, affected, will_not_fix, end_of_life")
	fl.IntVar(&f.exitCode, "exit-code", 0, fmt.Sprintf("exit with this code when a vulnerability is reported (not %d, which means an error)", ExitError))
	fl.IntVar(&f.exitOnEOL, "exit-on-eol", 0, "exit with this code when the OS is past its end of support")
	fl.StringVar(&f.ignoreFile, "ignorefile", ".vigilignore", "ignore file: ids one per line, or the YAML form")
	fl.StringArrayVar(&f.vex, "vex", nil, "OpenVEX or CycloneDX VEX document whose not_affected/fixed statements suppress findings; repeatable")
	fl.StringVar(&f.baseline, "baseline", "", "earlier JSON report: report and gate only on findings new since then")
	fl.BoolVar(&f.skipDBUpdate, "skip-db-update", false, "use the local vulnerability database as it is")
	fl.BoolVar(&f.offline, "offline", false, "make no network request: for the database (implies --skip-db-update), nor for Maven parent POMs and BOMs")
	fl.BoolVar(&f.offline, "offline-scan", false, "alias of --offline")
	fl.StringSliceVar(&f.dbRepos, "db-repository", oci.DefaultRepositories, "OCI repositories to refresh the database from, tried in order")
	fl.BoolVar(&f.strict, "strict", false, fmt.Sprintf("exit %d when the scan is incomplete (a file that could not be read, a version no scheme parses), after writing the report", ExitError))
	fl.StringVar(&f.server, "server", "", "client mode: build the inventory here and let this vigil server match it (no local database)")
	fl.StringVar(&f.serverToken, "server-token", "", "bearer token for --server (default $VIGIL_TOKEN)")
}

// validate checks the flags of cmd and notes which were given.
func (f *scanFlags) validate(cmd *cobra.Command) error {
	// The default ignore file may be absent; one named on the command
	// line must exist.
	f.ignoreFileGiven = cmd.Flags().Changed("ignorefile")
	f.dbReposGiven = cmd.Flags().Changed("db-repository")
	f.insecure, _ = cmd.Flags().GetBool("insecure")
	if err := f.filter.Validate(); err != nil {
		return err
	}
	if !slices.Contains(format.Names(), f.format) {
		return fmt.Errorf("--format %q: want one of %s", f.format, strings.Join(format.Names(), ", "))
	}
	for _, s := range f.scanners {
		if s != "vuln" && s != "none" {
			return fmt.Errorf("--scanners %q: want vuln or none", s)
		}
	}
	if f.exitCode == ExitError || f.exitOnEOL == ExitError {
		return fmt.Errorf("--exit-code and --exit-on-eol cannot be %d: that code means vigil failed", ExitError)
	}
	if f.exitCode < 0 || f.exitCode > 255 || f.exitOnEOL < 0 || f.exitOnEOL > 255 {
		return errors.New("--exit-code and --exit-on-eol must be between 0 and 255")
	}
	for i, s := range f.keep.Severities {
		f.keep.Severities[i] = strings.ToUpper(strings.TrimSpace(s))
	}
	if !slices.Contains(report.Sorts(), f.sort) {
		return fmt.Errorf("--sort %q: want one of %s", f.sort, strings.Join(report.Sorts(), ", "))
	}
	for i, s := range f.ignoreStatus {
		f.ignoreStatus[i] = strings.ToLower(strings.TrimSpace(s))
	}
	if err := f.findingFilter().Validate(); err != nil {
		return err
	}
	if f.format == format.Template {
		if f.template == "" {
			return errors.New("--format template needs --template")
		}
		// Read an @FILE template now, not after a long scan.
		text, err := template.Load(f.template)
		if err != nil {
			return err
		}
		f.templateText = text
	}
	return nil
}

func (f *scanFlags) vulnScan() bool { return slices.Contains(f.scanners, "vuln") }

// policy loads the policy the flags describe. With --scanners none only
// the end-of-support gate applies.
func (f *scanFlags) policy() (*policy.Policy, error) {
	if !f.vulnScan() {
		return policy.Load(policy.Options{ExitOnEOL: f.exitOnEOL})
	}
	return policy.Load(policy.Options{
		Filter:     f.findingFilter(),
		IgnoreFile: f.ignoreFile, IgnoreFileOptional: !f.ignoreFileGiven,
		VEX: f.vex, Baseline: f.baseline, ExitCode: f.exitCode, ExitOnEOL: f.exitOnEOL,
	})
}

// findingFilter is the policy filter the flags describe.
func (f *scanFlags) findingFilter() policy.Filter {
	filter := f.keep
	filter.IgnoreStatuses = make([]vulndb.Status, 0, len(f.ignoreStatus))
	for _, s := range f.ignoreStatus {
		filter.IgnoreStatuses = append(filter.IgnoreStatuses, vulndb.Status(s))
	}
	return filter
}

// run evaluates inv (matching it unless --scanners none), writes the
// report, says on standard error when the scan is incomplete, and returns
// the exit code as an error when the gate trips (or, with --strict, when
// the scan is incomplete).
func (f *scanFlags) run(ctx context.Context, g *globals, inv *inventory.Inventory) error {
	f.filter.Apply(inv)
	pol, err := f.policy()
	if err != nil {
		return err
	}
	prog := newProgress(g)
	defer prog.done()
	opts := evaluate.Options{Policy: pol}
	switch {
	case f.vulnScan() && f.server != "":
		prog.step("matching %d packages on %s", countPackages(inv), f.server)
		opts.Matcher = &server.Client{URL: f.server, Token: cmp.Or(f.serverToken, g.getenv("VIGIL_TOKEN"))}
	case f.vulnScan():
		prog.step("checking the vulnerability database")
		db, err := f.openDB(ctx, g, oci.Selection{Ecosystems: match.Ecosystems(inv)})
		if err != nil {
			return err
		}
		defer db.Close()
		prog.step("matching %d packages", countPackages(inv))
		opts.Matcher = match.New(db, match.Options{Logger: g.logger})
	}
	res, err := evaluate.Evaluate(ctx, inv, opts)
	if err != nil {
		return err
	}
	for _, n := range res.Notes {
		g.logger.Warn(n)
	}
	if f.advise != nil && opts.Matcher != nil {
		prog.step("looking for base image updates")
		notes, err := f.advise(ctx, opts.Matcher, f.findingFilter(), res.Report)
		if err != nil {
			return err
		}
		for _, n := range notes {
			g.logger.Warn(n)
		}
	}
	prog.done()
	if err := f.write(g, res.Report); err != nil {
		return err
	}
	if ws := res.Report.Warnings; len(ws) > 0 {
		msg := fmt.Sprintf("scan incomplete: %d warnings (first: %s)", len(ws), ws[0])
		if len(ws) == 1 {
			msg = fmt.Sprintf("scan incomplete: 1 warning: %s", ws[0])
		}
		if f.strict {
			return errors.New(msg)
		}
		// Said even with --quiet: a report that reads clean may not be.
		fmt.Fprintf(g.stderr, "vigil: %s\n", msg)
	}
	if res.Outcome.ExitCode != 0 {
		return exitError{code: res.Outcome.ExitCode}
	}
	return nil
}

// runE is the RunE of a scanning command: validate the flags, bound the
// time, take the inventory from inventoryOf, then match, filter and report
// it (run).
func (f *scanFlags) runE(g *globals, inventoryOf func(ctx context.Context, args []string) (*inventory.Inventory, error)) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if err := f.validate(cmd); err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(cmd.Context(), f.timeout)
		defer cancel()
		inv, err := inventoryOf(ctx, args)
		if err != nil {
			return err
		}
		return f.run(ctx, g, inv)
	}
}

func countPackages(inv *inventory.Inventory) int {
	n := 0
	for _, r := range inv.Results {
		n += len(r.Packages)
	}
	return n
}

func (f *scanFlags) write(g *globals, rep *report.Report) error {
	var w io.Writer = g.stdout
	var file *os.File
	if f.output != "" {
		var err error
		if file, err = os.Create(f.output); err != nil {
			return err
		}
		w = file
	}
	opts := report.Options{
		ListAllPkgs: f.listAllPkgs || !f.vulnScan(),
		Color:       f.output == "" && isTerminal(g.stdout) && g.getenv("NO_COLOR") == "",
		Template:    f.templateText,
		AppVersion:  version,
		NoVulnScan:  !f.vulnScan(),
		Sort:        f.sort,
	}
	err := format.Write(w, f.format, rep, opts)
	if file != nil {
		if cerr := file.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

func newImageCmd(g *globals) *cobra.Command {
	var (
		f        scanFlags
		input    string
		platform string
		access   accessFlags
		base     baseFlags
		sources  []string
		backend  string
		docker   string
		podman   string
	)
	cmd := &cobra.Command{
		Use:   "image [flags] [IMAGE]",
		Short: "Scan a container image: from a registry, a local Docker/Podman daemon, or an archive (--input)",
		Example: `  vigil image alpine:3.19
  vigil image --exit-code 1 --ignore-unfixed --severity HIGH,CRITICAL registry.example.com/app:1.2
  vigil image --input app.tar --format json --output report.json`,
		Args: cobra.MaximumNArgs(1),
		RunE: f.runE(g, func(ctx context.Context, args []string) (*inventory.Inventory, error) {
			ref := ""
			if len(args) == 1 {
				ref = args[0]
			}
			if ref == "" && input == "" {
				return nil, errors.New("name an image, or give --input PATH")
			}
			var read layerfs.Options
			if c, err := layerCache(g, backend); err != nil {
				return nil, err
			} else if c != nil {
				read.Cache = c
			}
			prog := newProgress(g)
			defer prog.done()
			prog.step("opening %s", cmp.Or(input, ref))
			img, err := image.Open(ctx, ref, image.Options{
				Input: input, Sources: sources, Platform: platform, Registry: access.access(g), Logger: g.logger,
				DockerHost: cmp.Or(docker, daemon.DockerHost(g.getenv)), PodmanHosts: podmanHosts(podman, g.getenv),
			})
			if err != nil {
				return nil, err
			}
			defer img.Close()
			known, err := base.known(ctx, g, access.access(g), img.Platform)
			if err != nil {
				return nil, err
			}
			prog.step("reading the layers of %s", img.Name)
			inv, err := scan.Image(ctx, img, scan.ImageMeta{Name: img.Name, RepoDigests: img.RepoDigests, RepoTags: img.RepoTags, DigestsVerified: img.DigestsVerified}, scan.Options{Logger: g.logger, Read: read, BaseImages: known, Skip: f.filter.Skips(), Classes: f.filter.Classes()})
			if err != nil {
				return nil, err
			}
			inv.Artifact.Platform = img.Platform
			if base.updates != "" {
				f.advise = func(ctx context.Context, m evaluate.Matcher, filter policy.Filter, rep *report.Report) ([]string, error) {
					ups, notes, err := baseupdate.Advise(ctx, rep, baseupdate.Options{
						Source: base.updates, Access: access.access(g), CacheDir: baseImageCacheDir(g),
						Scan: scan.Options{Logger: g.logger, Read: read}, Matcher: m, Filter: filter, Logger: g.logger,
					})
					rep.BaseUpdates = ups
					return notes, err
				}
			}
			return inv, nil
		}),
	}
	f.add(cmd)
	fl := cmd.Flags()
	fl.StringVarP(&input, "input", "i", "", "read the image from a docker-save tar (plain or gzip), an OCI layout directory or an OCI archive")
	fl.StringVar(&platform, "platform", "", "os/arch[/variant] to pick from a multi-platform image (default: the host's)")
	fl.StringSliceVar(&sources, "image-src", image.DefaultSources, "where to look for IMAGE, in order: docker, podman, remote")
	fl.StringVar(&docker, "docker-host", "", "Docker daemon to ask: unix:///path/to.sock or tcp://host:port (default $DOCKER_HOST, else unix:///var/run/docker.sock)")
	fl.StringVar(&podman, "podman-host", "", "Podman API socket to ask (default $CONTAINER_HOST, $XDG_RUNTIME_DIR/podman/podman.sock, then /run/podman/podman.sock)")
	access.add(cmd)
	base.add(cmd)
	fl.StringVar(&backend, "cache-backend", cacheBackendFS, "where what was read from each layer is kept for later scans: fs (CACHE_DIR/layers) or memory (not kept)")
	return cmd
}

// podmanHosts is the Podman socket --podman-host names, or else those the
// environment suggests.
func podmanHosts(flag string, getenv func(string) string) []string {
	if flag != "" {
		return []string{flag}
	}
	return daemon.PodmanHosts(getenv)
}

func newDirCmd(g *globals, use, short, artifactType string) *cobra.Command {
	var f scanFlags
	cmd := &cobra.Command{
		Use:   use + " [flags] PATH",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: f.runE(g, func(ctx context.Context, args []string) (*inventory.Inventory, error) {
			return scan.Dir(ctx, args[0], artifactType, scan.Options{Logger: g.logger, Skip: f.filter.Skips(), Catalog: f.catalogOptions(), Classes: f.filter.Classes()})
		}),
	}
	f.add(cmd)
	return cmd
}

// catalogOptions are the catalogers' options for a project scan: Maven
// POMs outside the tree are read from ~/.m2/repository, and fetched from
// Maven Central unless --offline forbids the network.
func (f *scanFlags) catalogOptions() all.Options {
	var o all.Options
	if home, err := os.UserHomeDir(); err == nil {
		if dir := filepath.Join(home, ".m2", "repository"); isDir(dir) {
			o.Maven.LocalRepository = os.DirFS(dir)
		}
	}
	if !f.offline {
		o.Maven.Remote = maven.HTTPRepository{URL: maven.CentralURL, Client: &http.Client{Timeout: 30 * time.Second}}
	}
	return o
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

func newSBOMCmd(g *globals) *cobra.Command {
	var f scanFlags
	cmd := &cobra.Command{
		Use:   "sbom [flags] FILE",
		Short: "Match a saved inventory (vigil JSON report, CycloneDX or SPDX JSON) against the current database",
		Args:  cobra.ExactArgs(1),
		RunE: f.runE(g, func(_ context.Context, args []string) (*inventory.Inventory, error) {
			return readInventory(args[0])
		}),
	}
	f.add(cmd)
	return cmd
}
