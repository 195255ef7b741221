// Package inventory defines what vigil knows about a scanned artifact: its
// operating system, its layers and every package found in it.
//
// An Inventory is the unit that is stored and re-matched: the matcher takes an
// Inventory, never an image, so a saved inventory (vigil's JSON report, or a
// CycloneDX/SPDX SBOM read back) can be matched again against a newer
// vulnerability database without touching the image.
package inventory

import "strconv"

// SchemaVersion is the version of the JSON report schema documented in
// docs/json-schema.md. It changes only when a field changes meaning or is
// removed; new optional fields do not change it.
const SchemaVersion = 1

// Artifact types.
const (
	TypeContainerImage = "container_image"
	TypeFilesystem     = "filesystem"
	TypeRootfs         = "rootfs"
	TypeRepository     = "repository"
	TypeSBOM           = "sbom"
)

// Result classes.
const (
	ClassOSPkgs   = "os-pkgs"
	ClassLangPkgs = "lang-pkgs"
)

// Inventory is everything found in one artifact.
type Inventory struct {
	Artifact Artifact `json:"artifact"`
	// Results holds one entry per package database or lockfile: the OS
	// packages first, then language packages ordered by target.
	Results []Result `json:"results"`
	// Warnings lists what the scan could not read as it should have: a
	// scan with warnings is incomplete, and every report says so.
	Warnings []Warning `json:"warnings,omitempty"`
}

// Warning is one thing a scan could not read completely: a skipped or
// truncated file, a malformed lockfile, a layer cut at a size bound.
type Warning struct {
	// Layer is the diff ID of the layer the problem was met in, or of the
	// layer that holds the file, when known (never for a directory).
	Layer string `json:"layer,omitempty"`
	// Path is the file concerned, relative to the artifact root without a
	// leading slash, when there is one.
	Path string `json:"path,omitempty"`
	// Message says what went wrong, led by the reader that met it
	// ("npm: malformed lockfile: …").
	Message string `json:"message"`
}

// String renders w on one line: "layer: \"path\": message".
func (w Warning) String() string {
	s := w.Message
	if w.Path != "" {
		s = strconv.Quote(w.Path) + ": " + s
	}
	if w.Layer != "" {
		s = w.Layer + ": " + s
	}
	return s
}

// Artifact describes the scanned thing.
type Artifact struct {
	Name        string   `json:"name"`
	Type        string   `json:"type"`
	ImageID     string   `json:"imageID,omitempty"`     // config digest, "sha256:…"
	RepoDigests []string `json:"repoDigests,omitempty"` // "registry/repo@sha256:…"
	RepoTags    []string `json:"repoTags,omitempty"`
	Platform    string   `json:"platform,omitempty"` // "linux/amd64"
	OS          *OS      `json:"os,omitempty"`
	// Layers are ordered base layer first.
	Layers []Layer `json:"layers,omitempty"`
	// Base is the image this image was built from, when the image says
	// (package baseimage).
	Base *Base `json:"base,omitempty"`
	// Commit is the full hash of the scanned commit of a repository.
	Commit string `json:"commit,omitempty"`
}

// OS is the detected operating-system release.
type OS struct {
	// Family is the distribution id as vigil names it: alpine, wolfi,
	// chainguard, debian, ubuntu, redhat, centos, rocky, alma, oracle,
	// amazon, fedora, opensuse-leap, opensuse-tumbleweed, sles, photon,
	// azurelinux, cbl-mariner.
	Family string `json:"family"`
	// Name is the release version as the distribution writes it
	// ("3.19.1", "12", "22.04", "9.3", "2023").
	Name string `json:"name"`
	// PrettyName is PRETTY_NAME from os-release, when present.
	PrettyName string `json:"prettyName,omitempty"`
	// EOSL is true when the release is past its end of support.
	EOSL bool `json:"eosl,omitempty"`
	// EOSLDate is the end-of-support date (YYYY-MM-DD) when known.
	EOSLDate string `json:"eoslDate,omitempty"`
}

// Layer is one filesystem layer of an image.
type Layer struct {
	Digest    string `json:"digest,omitempty"` // compressed blob digest, as in the manifest
	DiffID    string `json:"diffID"`           // digest of the uncompressed tar
	CreatedBy string `json:"createdBy,omitempty"`
	Size      int64  `json:"size,omitempty"` // compressed size in bytes
}

// Base identification methods, the values of Base.IdentifiedBy.
const (
	// BaseByAnnotation: the manifest's org.opencontainers.image.base.name
	// and .base.digest annotations.
	BaseByAnnotation = "annotation"
	// BaseByLabel: labels in the image config that builders stamp (the
	// same keys as labels, or a base image's own name and version labels
	// that the image inherited).
	BaseByLabel = "label"
	// BaseByHistory: the config history, where the image's own build
	// starts (a buildah "FROM" comment, or the base's closing CMD or
	// ENTRYPOINT).
	BaseByHistory = "history"
	// BaseByLayers: a known base image whose layers (chain ID) the
	// image's bottom layers are.
	BaseByLayers = "layers"
)

// Base is the image an image was built from (its Dockerfile's last FROM),
// as far as the image itself, or a set of known base images, tells.
type Base struct {
	// Name is the base image's reference as found ("debian:12",
	// "docker.io/library/debian:12.8"); empty when only the layers are
	// known.
	Name string `json:"name,omitempty"`
	// Digest is the base image's manifest digest, when known.
	Digest string `json:"digest,omitempty"`
	// Layers is how many of the image's layers, from the bottom, are the
	// base image's; 0 when the image names its base but not where its own
	// layers start.
	Layers int `json:"layers"`
	// IdentifiedBy lists the BaseBy methods that gave the name, digest or
	// layer count, strongest first.
	IdentifiedBy []string `json:"identifiedBy"`
}

// LayerRef points a package or finding at the layer that introduced it.
type LayerRef struct {
	Digest    string `json:"digest,omitempty"`
	DiffID    string `json:"diffID,omitempty"`
	CreatedBy string `json:"createdBy,omitempty"`
	// Base is set when the layer is one of the base image's
	// (Artifact.Base.Layers); when a base is known and Base is false, the
	// layer is the image's own.
	Base bool `json:"base,omitempty"`
}

// IsZero reports whether r points at no layer (e.g. a filesystem scan).
func (r LayerRef) IsZero() bool { return r.Digest == "" && r.DiffID == "" }

// Result is the set of packages found in one target: an OS package
// database, a lockfile, or the installed packages of one ecosystem.
type Result struct {
	Target   string    `json:"target"`
	Class    string    `json:"class"`
	Type     string    `json:"type"`
	Packages []Package `json:"packages,omitempty"`
}

// Package is one installed or locked package.
type Package struct {
	// ID identifies the package within its Result ("name@version" unless a
	// cataloger needs something more specific); DependsOn refers to IDs.
	ID string `json:"id,omitempty"`
	// Name is the binary package name (OS) or the ecosystem's package name
	// as written by the package itself (npm "@scope/name", Maven
	// "group:artifact", Go module path).
	Name string `json:"name"`
	// Version is the full version in the ecosystem's own scheme, exactly as
	// compared: deb "[epoch:]upstream[-revision]", rpm
	// "[epoch:]version-release", apk "version-rN", and so on.
	Version string `json:"version"`
	// Epoch is the rpm epoch, repeated here for convenience (also part of
	// Version when non-zero).
	Epoch int `json:"epoch,omitempty"`
	// SourceName and SourceVersion identify the source package (dpkg
	// Source:, apk origin, rpm source RPM). Empty when equal to Name/Version
	// is unknown; catalogers fill both when the database says it.
	SourceName    string   `json:"sourceName,omitempty"`
	SourceVersion string   `json:"sourceVersion,omitempty"`
	Arch          string   `json:"arch,omitempty"`
	Purl          string   `json:"purl,omitempty"`
	Licenses      []string `json:"licenses,omitempty"`
	Vendor        string   `json:"vendor,omitempty"`
	Maintainer    string   `json:"maintainer,omitempty"`
	// Modularitylabel is the rpm module label "name:stream:version:context".
	Modularitylabel string `json:"modularitylabel,omitempty"`
	// Root marks the project itself: the application or library a
	// lockfile or manifest was written for (package.json name and
	// version, go.mod module, Cargo package, pyproject project, pom
	// artifact, …), and each member of a workspace (npm, yarn and pnpm
	// workspaces, Cargo and uv workspaces). A root's DependsOn are its
	// direct dependencies, runtime and development ones; the workspace
	// root also depends on its members. A lockfile result whose manifest
	// was found holds at least one root; Dev and Indirect are then what a
	// walk of the whole graph from the roots gives. Roots are reported but
	// never matched against advisories: their code is the scanned
	// project's own. Version may be empty (a project without one).
	Root bool `json:"root,omitempty"`
	// Dev marks development-only dependencies: no runtime dependency of
	// any root reaches the package, only development ones (devDependencies,
	// dev groups, dev-dependencies, packages-dev, …), or the lockfile
	// records it so (package-lock "dev").
	Dev bool `json:"dev,omitempty"`
	// Indirect marks transitive dependencies: packages that no root names
	// directly. Set only when the roots are known (the lockfile or a
	// manifest beside it says what the project requires).
	Indirect  bool     `json:"indirect,omitempty"`
	DependsOn []string `json:"dependsOn,omitempty"`
	// Origin, for a language package that does not come from its
	// ecosystem's registry, is where it comes from as the lockfile writes
	// it: a git URL ("git+https://github.com/o/r.git#<commit>"), a
	// tarball URL off the registry, or a local path ("file:../lib"). The
	// purl carries it too (vcs_url or download_url qualifier). Such a
	// package is reported but never matched against registry advisories
	// by its name alone.
	Origin string `json:"origin,omitempty"`
	// FilePath is the file the package was read from, relative to the
	// artifact root, without a leading slash (for lang packages; OS
	// packages leave it empty).
	FilePath string   `json:"filePath,omitempty"`
	Layer    LayerRef `json:"layer,omitzero"`
	// InstalledFiles are the files the package owns, without a leading
	// slash, as its package database lists them.
	InstalledFiles []string `json:"installedFiles,omitempty"`
	// Symbols, for a package compiled into an executable, are the
	// executable's function names in the Go vulnerability database's form
	// ("golang.org/x/text/language.Parse", "net/http.Server.Serve"). Every
	// package of one executable shares the set; nil means unknown. It
	// feeds the matcher's reachability check and is not serialised, so an
	// inventory read back from JSON has none.
	Symbols map[string]bool `json:"-"`
}
