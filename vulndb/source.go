package vulndb

import (
	"context"
	"io"
)

// Sink receives the records a source parses. Implementations merge:
// several PutVulnerability calls for one ID join their aliases, severities,
// CVSS, CWEs, references and sources, and fill empty fields; EPSS and KEV
// sources put records that carry only those fields.
type Sink interface {
	PutAffected(ctx context.Context, a Affected) error
	PutVulnerability(ctx context.Context, v Vulnerability) error
}

// Fetcher reads files of one source's upstream layout, relative to the
// source's base URL (which may be a mirror: https://, file:// or a path).
type Fetcher interface {
	// Open returns the file at rel ("v3.19/main.json", "Go/all.zip").
	// A missing file yields an error matching fs.ErrNotExist.
	Open(ctx context.Context, rel string) (io.ReadCloser, error)
}

// Source is one upstream feed.
type Source interface {
	// Name is the name used on the command line: "alpine", "debian",
	// "redhat", "nvd", "epss", "kev", "osv:Go", …
	Name() string
	// DefaultBase is the upstream base URL that --mirror NAME=URL replaces.
	DefaultBase() string
	// Load fetches the source's files through f and puts every record into
	// sink. One malformed record is logged (naming the record) and skipped;
	// an error is returned only when the source as a whole cannot be read.
	Load(ctx context.Context, f Fetcher, sink Sink) error
}
