package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// MaxJSONSize bounds the size of a JSON report ReadJSON accepts.
const MaxJSONSize = 1 << 30

// WriteJSON writes r as vigil's JSON report, indented by two spaces. The
// packages of each result are written only with opts.ListAllPkgs.
func WriteJSON(w io.Writer, r *Report, opts Options) error {
	out := *r
	if !opts.ListAllPkgs {
		out.Results = make([]Result, len(r.Results))
		for i, res := range r.Results {
			res.Packages = nil
			out.Results[i] = res
		}
	}
	if out.Results == nil {
		out.Results = []Result{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&out); err != nil {
		return fmt.Errorf("writing JSON report: %w", err)
	}
	return nil
}

// ReadJSON reads a JSON report written by WriteJSON. It fails on input that
// is not JSON, not a vigil report, of another schemaVersion, larger than
// MaxJSONSize or followed by trailing data.
func ReadJSON(rd io.Reader) (*Report, error) {
	data, err := io.ReadAll(io.LimitReader(rd, MaxJSONSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading JSON report: %w", err)
	}
	if len(data) > MaxJSONSize {
		return nil, fmt.Errorf("reading JSON report: larger than %d bytes", MaxJSONSize)
	}
	var probe struct {
		SchemaVersion *int             `json:"schemaVersion"`
		Results       *json.RawMessage `json:"results"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("reading JSON report: not JSON: %w", err)
	}
	switch {
	case probe.SchemaVersion == nil:
		return nil, errors.New("reading JSON report: no schemaVersion: not a vigil JSON report")
	case *probe.SchemaVersion != SchemaVersion:
		return nil, fmt.Errorf("reading JSON report: schemaVersion %d is not supported (this vigil reads %d)", *probe.SchemaVersion, SchemaVersion)
	case probe.Results == nil:
		return nil, errors.New("reading JSON report: no results: not a vigil JSON report")
	}
	var r Report
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("reading JSON report: %w", err)
	}
	return &r, nil
}
