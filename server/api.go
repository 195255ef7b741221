package server

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-scanner/vigil/engine"
	"github.com/vigil-scanner/vigil/internal/httpx"
	"github.com/vigil-scanner/vigil/inventory"
	"github.com/vigil-scanner/vigil/report"
	"github.com/vigil-scanner/vigil/report/format"
	"github.com/vigil-scanner/vigil/sbom"
	"github.com/vigil-scanner/vigil/store"
	"github.com/vigil-scanner/vigil/version"
)

// APIVersion is the path prefix of the API.
const APIVersion = "/api/v1"

// MaxUpload bounds an uploaded inventory or SBOM.
const MaxUpload = 64 << 20

// route is one API endpoint.
type route struct {
	method, path, scope string
	h                   http.HandlerFunc
}

// routes lists the API; docs/openapi.yaml describes each (a test checks).
func (s *Server) routes() []route {
	return []route{
		{"GET", "/healthz", "", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") }},
		{"GET", "/readyz", "", s.readyz},
		{"GET", "/metrics", "", s.metrics},
		{"GET", APIVersion + "/status", ScopeRead, s.status},
		{"GET", APIVersion + "/registries", ScopeRead, s.registries},
		{"GET", APIVersion + "/repositories", ScopeRead, s.repositories},
		{"GET", APIVersion + "/images", ScopeRead, s.images},
		{"GET", APIVersion + "/images/{digest}", ScopeRead, s.image},
		{"GET", APIVersion + "/images/{digest}/findings", ScopeRead, s.imageFindings},
		{"GET", APIVersion + "/images/{digest}/report", ScopeRead, s.imageReport},
		{"GET", APIVersion + "/findings", ScopeRead, s.findings},
		{"GET", APIVersion + "/vulnerabilities/{id}/images", ScopeRead, s.affected},
		{"GET", APIVersion + "/packages/{name}/images", ScopeRead, s.packageImages},
		{"GET", APIVersion + "/alerts", ScopeRead, s.alerts},
		{"GET", APIVersion + "/jobs/failures", ScopeRead, s.failures},
		{"POST", APIVersion + "/match", ScopeRead, s.match},
		{"POST", APIVersion + "/scans", ScopeAdmin, s.scan},
		{"POST", APIVersion + "/notifications", ScopeNotify, s.notify},
	}
}

// Handler returns the server's HTTP handler.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range s.routes() {
		var h http.Handler = rt.h
		if rt.scope != "" {
			h = s.auth(rt.scope, h)
		}
		mux.Handle(rt.method+" "+rt.path, h)
	}
	s.registerDashboard(mux)
	return mux
}

// apiError is the body of every error answer.
type apiError struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

func fail(w http.ResponseWriter, status int, format string, args ...any) {
	writeJSON(w, status, apiError{Error: fmt.Sprintf(format, args...)})
}

// auth admits requests bearing a token of scope (an admin token has
// every scope; a notify token no other). Tokens are refused over plain
// HTTP except from loopback clients, unless the configuration allows it.
func (s *Server) auth(scope string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.Auth == "none" {
			h.ServeHTTP(w, r)
			return
		}
		raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || raw == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="vigil"`)
			fail(w, http.StatusUnauthorized, "a bearer token is required")
			return
		}
		if r.TLS == nil && !s.cfg.AllowPlainHTTPTokens && !httpx.FromLoopback(r) {
			fail(w, http.StatusForbidden, "tokens are accepted only over HTTPS (or from loopback); see allowPlainHTTPTokens")
			return
		}
		tok := s.lookup(raw)
		if tok == nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="vigil", error="invalid_token"`)
			fail(w, http.StatusUnauthorized, "invalid token")
			return
		}
		if !allows(tok.scope, scope) {
			need := "an admin token"
			if scope != ScopeAdmin {
				need = "a " + scope + " or admin token"
			}
			fail(w, http.StatusForbidden, "token %q has scope %s; this needs %s", tok.name, tok.scope, need)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// lookup finds the token whose hash matches, comparing every hash in
// constant time.
func (s *Server) lookup(raw string) *token {
	var got [32]byte
	copy(got[:], mustHex(HashToken(raw)))
	var found *token
	for i := range s.tokens {
		if subtle.ConstantTimeCompare(got[:], s.tokens[i].hash[:]) == 1 {
			found = &s.tokens[i]
		}
	}
	return found
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	if err := s.st.Ping(ctx); err != nil {
		fail(w, http.StatusServiceUnavailable, "store unreachable")
		return
	}
	if s.eng.DB().Digest == "" {
		fail(w, http.StatusServiceUnavailable, "no vulnerability database loaded yet")
		return
	}
	io.WriteString(w, "ready\n")
}

// Status is GET /api/v1/status.
type Status struct {
	Version  string         `json:"version"`
	Store    string         `json:"store"`
	DB       DBStatus       `json:"database"`
	Jobs     map[string]int `json:"jobs"`   // "kind/state" → count
	Alerts   map[string]int `json:"alerts"` // "route/state" → count
	DBChange []DBChangeJSON `json:"databaseChanges"`
}

// DBStatus describes the database in use.
type DBStatus struct {
	Digest  string    `json:"digest"`
	BuiltAt time.Time `json:"builtAt"`
}

// DBChangeJSON is one database change and what it made appear and
// disappear.
type DBChangeJSON struct {
	Digest      string    `json:"digest"`
	BuiltAt     time.Time `json:"builtAt"`
	NoticedAt   time.Time `json:"noticedAt"`
	Appeared    int       `json:"appeared"`
	Disappeared int       `json:"disappeared"`
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	st := Status{Version: s.opts.Version, Store: s.st.Backend(), Jobs: map[string]int{}, Alerts: map[string]int{}}
	db := s.eng.DB()
	st.DB = DBStatus{Digest: db.Digest, BuiltAt: db.BuiltAt}
	jobs, err := s.st.JobCounts(ctx)
	if err != nil {
		s.internal(w, err)
		return
	}
	for k, n := range jobs {
		st.Jobs[k[0]+"/"+k[1]] = n
	}
	alerts, err := s.st.AlertCounts(ctx)
	if err != nil {
		s.internal(w, err)
		return
	}
	for k, n := range alerts {
		st.Alerts[k[0]+"/"+k[1]] = n
	}
	changes, _ := s.st.DBChanges(ctx, 20)
	st.DBChange = []DBChangeJSON{}
	for _, c := range changes {
		st.DBChange = append(st.DBChange, DBChangeJSON{c.DBDigest, c.BuiltAt, c.NoticedAt, c.Appeared, c.Disappeared})
	}
	writeJSON(w, http.StatusOK, st)
}

func (s *Server) internal(w http.ResponseWriter, err error) {
	s.log.Error("api", "err", err)
	fail(w, http.StatusInternalServerError, "internal error")
}

// RegistryJSON is a registry in the API.
type RegistryJSON struct {
	URL          string    `json:"url"`
	ListedAt     time.Time `json:"listedAt,omitzero"`
	Repositories int       `json:"repositories"`
	Tags         int       `json:"tags"`
	Images       int       `json:"images"`
	LastError    string    `json:"lastError,omitempty"`
	RateLimited  int64     `json:"rateLimited"`
}

func (s *Server) registries(w http.ResponseWriter, r *http.Request) {
	regs, err := s.st.Registries(r.Context())
	if err != nil {
		s.internal(w, err)
		return
	}
	out := []RegistryJSON{}
	for _, g := range regs {
		out = append(out, RegistryJSON{g.URL, g.ListedAt, g.Repositories, g.Tags, g.Images, g.LastError, g.RateLimited})
	}
	writeJSON(w, http.StatusOK, map[string]any{"registries": out})
}

func (s *Server) repositories(w http.ResponseWriter, r *http.Request) {
	repos, err := s.st.Repositories(r.Context(), r.URL.Query().Get("registry"))
	if err != nil {
		s.internal(w, err)
		return
	}
	type repo struct {
		Registry string `json:"registry"`
		Name     string `json:"name"`
		Tags     int    `json:"tags"`
		Images   int    `json:"images"`
	}
	out := []repo{}
	for _, p := range repos {
		out = append(out, repo{p.Registry, strings.TrimPrefix(p.Name, p.Registry+"/"), p.Tags, p.Images})
	}
	writeJSON(w, http.StatusOK, map[string]any{"repositories": out})
}

// ImageJSON is an image in the API.
type ImageJSON struct {
	Digest     string         `json:"digest"`
	Registry   string         `json:"registry"`
	Repository string         `json:"repository"`
	Platform   string         `json:"platform,omitempty"`
	Tags       []string       `json:"tags"`
	ScannedAt  time.Time      `json:"scannedAt,omitzero"`
	MatchedAt  time.Time      `json:"matchedAt,omitzero"`
	DBDigest   string         `json:"databaseDigest,omitempty"`
	Error      string         `json:"error,omitempty"`
	Findings   map[string]int `json:"findings"` // open findings by severity
}

func imageJSON(img store.Image) ImageJSON {
	return ImageJSON{Digest: img.Digest, Registry: img.Registry, Repository: strings.TrimPrefix(img.Repository, img.Registry+"/"), Platform: img.Platform,
		Tags: nonNil(img.Tags), ScannedAt: img.ScannedAt, MatchedAt: img.MatchedAt, DBDigest: img.DBDigest, Error: img.Error,
		Findings: img.Counts}
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// pageParams reads the query's limit and offset: absent means 0 (the
// store's default page), anything else must be a whole number ≥ 0.
func pageParams(q url.Values) (limit, offset int, err error) {
	for _, p := range []struct {
		name string
		dst  *int
	}{{"limit", &limit}, {"offset", &offset}} {
		v := q.Get(p.name)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return 0, 0, fmt.Errorf("%s=%q: want a whole number, 0 or more", p.name, v)
		}
		*p.dst = n
	}
	return limit, offset, nil
}

func (s *Server) images(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, _, err := pageParams(q)
	if err != nil {
		fail(w, http.StatusBadRequest, "%v", err)
		return
	}
	repo := q.Get("repository")
	if reg := q.Get("registry"); reg != "" && repo != "" && !strings.HasPrefix(repo, reg+"/") {
		repo = reg + "/" + repo // a name within the registry
	}
	imgs, err := s.st.Images(r.Context(), store.ImageFilter{Registry: q.Get("registry"), Repository: repo, After: q.Get("after"), Limit: limit})
	if err != nil {
		s.internal(w, err)
		return
	}
	out := []ImageJSON{}
	for _, img := range imgs {
		out = append(out, imageJSON(img))
	}
	resp := map[string]any{"images": out}
	if len(imgs) > 0 && len(imgs) == effectiveLimit(limit) {
		resp["next"] = imgs[len(imgs)-1].Digest
	}
	writeJSON(w, http.StatusOK, resp)
}

func effectiveLimit(n int) int {
	if n <= 0 || n > 1000 {
		return 100
	}
	return n
}

func (s *Server) image(w http.ResponseWriter, r *http.Request) {
	img, err := s.st.Image(r.Context(), r.PathValue("digest"))
	if errors.Is(err, store.ErrNotFound) {
		fail(w, http.StatusNotFound, "no image %s", r.PathValue("digest"))
		return
	}
	if err != nil {
		s.internal(w, err)
		return
	}
	hist := []map[string]any{}
	for _, rt := range img.Tags {
		repo := rt[:strings.LastIndex(rt, ":")]
		tags, err := s.st.TagHistory(r.Context(), repo)
		if err != nil {
			s.internal(w, err)
			return
		}
		for _, t := range tags {
			hist = append(hist, map[string]any{"repository": repo, "tag": t.Tag, "platform": t.Platform, "digest": t.Digest,
				"previous": t.Previous, "firstSeen": t.FirstSeen, "removedAt": t.RemovedAt})
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"image": imageJSON(*img), "history": hist})
}

// FindingJSON is a finding in the API.
type FindingJSON struct {
	Digest         string    `json:"digest"`
	ID             string    `json:"id"`
	Aliases        []string  `json:"aliases"`
	Package        string    `json:"package"`
	Version        string    `json:"version"`
	Target         string    `json:"target"`
	Severity       string    `json:"severity"`
	FixedVersion   string    `json:"fixedVersion,omitempty"`
	Status         string    `json:"status,omitempty"`
	KEV            bool      `json:"kev"`
	EPSS           float64   `json:"epss,omitempty"`
	EPSSPercentile float64   `json:"epssPercentile,omitempty"`
	Title          string    `json:"title,omitempty"`
	URL            string    `json:"url,omitempty"`
	Reachability   string    `json:"reachability,omitempty"`
	FirstSeen      time.Time `json:"firstSeen"`
	LastSeen       time.Time `json:"lastSeen"`
	ResolvedAt     time.Time `json:"resolvedAt,omitzero"`
	Resolution     string    `json:"resolution,omitempty"`
}

func findingJSON(f store.Finding) FindingJSON {
	return FindingJSON{f.Digest, f.VulnID, nonNil(f.Aliases), f.PkgName, f.PkgVersion, f.Target, f.Severity, f.FixedVersion, f.Status,
		f.KEV, f.EPSS, f.EPSSPercentile, f.Title, f.URL, f.Reachability, f.FirstSeen, f.LastSeen, f.ResolvedAt, f.Resolution}
}

func (s *Server) findingList(w http.ResponseWriter, r *http.Request, f store.FindingFilter) {
	q := r.URL.Query()
	f.VulnID = q.Get("id")
	f.Package = q.Get("package")
	f.MinSeverity = q.Get("severity")
	f.Fixable = q.Get("fixable") == "true"
	f.KEV = q.Get("kev") == "true"
	f.Resolved = q.Get("resolved") == "true"
	var err error
	if f.Limit, f.Offset, err = pageParams(q); err != nil {
		fail(w, http.StatusBadRequest, "%v", err)
		return
	}
	fs, err := s.st.Findings(r.Context(), f)
	if err != nil {
		s.internal(w, err)
		return
	}
	out := []FindingJSON{}
	for _, x := range fs {
		out = append(out, findingJSON(x))
	}
	writeJSON(w, http.StatusOK, map[string]any{"findings": out})
}

func (s *Server) findings(w http.ResponseWriter, r *http.Request) {
	s.findingList(w, r, store.FindingFilter{Digest: r.URL.Query().Get("digest")})
}

func (s *Server) imageFindings(w http.ResponseWriter, r *http.Request) {
	s.findingList(w, r, store.FindingFilter{Digest: r.PathValue("digest")})
}

// AffectedImage is an element of GET /vulnerabilities/{id}/images.
// Repository is the name within Registry ("team/app"), as in alerts;
// RepoTags are full references.
type AffectedImage struct {
	Digest     string            `json:"digest"`
	Registry   string            `json:"registry"`
	Repository string            `json:"repository"`
	Tags       []string          `json:"tags"`
	RepoTags   []string          `json:"repoTags"`
	Packages   []AffectedPackage `json:"packages"`
}

// AffectedPackage is a package of an affected image.
type AffectedPackage struct {
	Name         string `json:"name"`
	Version      string `json:"version"`
	FixedVersion string `json:"fixedVersion"`
	Target       string `json:"target"`
	Severity     string `json:"severity"`
}

func (s *Server) affected(w http.ResponseWriter, r *http.Request) {
	aff, err := s.st.AffectedBy(r.Context(), r.PathValue("id"))
	if err != nil {
		s.internal(w, err)
		return
	}
	out := []AffectedImage{}
	regs := map[string]bool{}
	for _, a := range aff {
		ai := AffectedImage{Digest: a.Digest, Registry: a.Registry, Repository: strings.TrimPrefix(a.Repository, a.Registry+"/"), Tags: nonNil(a.Tags), RepoTags: nonNil(a.RepoTags), Packages: []AffectedPackage{}}
		for _, f := range a.Findings {
			ai.Packages = append(ai.Packages, AffectedPackage{f.PkgName, f.PkgVersion, f.FixedVersion, f.Target, f.Severity})
		}
		regs[a.Registry] = true
		out = append(out, ai)
	}
	registries := []string{}
	for g := range regs {
		registries = append(registries, g)
	}
	slices.Sort(registries)
	writeJSON(w, http.StatusOK, map[string]any{"id": r.PathValue("id"), "images": out, "registries": registries})
}

// packageImages answers "which images contain package P at a version in
// range R": ?scheme=apk&range=>=1.0,<2.0 (comma-separated constraints,
// all of which must hold).
func (s *Server) packageImages(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var check func(v string) (bool, error)
	if rng := q.Get("range"); rng != "" {
		scheme := q.Get("scheme")
		cmp, err := version.For(scheme)
		if err != nil {
			fail(w, http.StatusBadRequest, "range needs scheme: %v", err)
			return
		}
		cons, err := parseRange(rng)
		if err != nil {
			fail(w, http.StatusBadRequest, "range %q: %v", rng, err)
			return
		}
		check = func(v string) (bool, error) {
			for _, c := range cons {
				n, err := cmp.Compare(v, c.version)
				if err != nil {
					return false, err
				}
				if !c.ok(n) {
					return false, nil
				}
			}
			return true, nil
		}
	}
	uses, err := s.st.Packages(r.Context(), r.PathValue("name"))
	if err != nil {
		s.internal(w, err)
		return
	}
	type use struct {
		Digest  string   `json:"digest"`
		Tags    []string `json:"repoTags"`
		Version string   `json:"version"`
		Type    string   `json:"type"`
		Purl    string   `json:"purl,omitempty"`
		Target  string   `json:"target"`
	}
	out := []use{}
	for _, u := range uses {
		if check != nil {
			ok, err := check(u.Version)
			if err != nil || !ok {
				continue // a version the scheme cannot read is not in range
			}
		}
		img, err := s.st.Image(r.Context(), u.Digest)
		tags := []string{}
		if err == nil {
			tags = nonNil(img.Tags)
		}
		out = append(out, use{u.Digest, tags, u.Version, u.Type, u.Purl, u.Target})
	}
	writeJSON(w, http.StatusOK, map[string]any{"package": r.PathValue("name"), "images": out})
}

type constraint struct {
	op, version string
}

func (c constraint) ok(n int) bool {
	switch c.op {
	case ">=":
		return n >= 0
	case ">":
		return n > 0
	case "<=":
		return n <= 0
	case "<":
		return n < 0
	case "!=":
		return n != 0
	}
	return n == 0
}

func parseRange(s string) ([]constraint, error) {
	var out []constraint
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		c := constraint{op: "="}
		for _, op := range []string{">=", "<=", "!=", ">", "<", "="} {
			if v, ok := strings.CutPrefix(part, op); ok {
				c = constraint{op: op, version: strings.TrimSpace(v)}
				break
			}
		}
		if c.version == "" {
			c.version = part
		}
		if c.version == "" {
			return nil, errors.New("empty constraint")
		}
		out = append(out, c)
	}
	return out, nil
}

func (s *Server) alerts(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, offset, err := pageParams(q)
	if err != nil {
		fail(w, http.StatusBadRequest, "%v", err)
		return
	}
	log, err := s.st.AlertLog(r.Context(), q.Get("state"), limit, offset)
	if err != nil {
		s.internal(w, err)
		return
	}
	type entry struct {
		Route     string          `json:"route"`
		Digest    string          `json:"digest"`
		Finding   string          `json:"finding"`
		State     string          `json:"state"`
		Attempts  int             `json:"attempts"`
		LastError string          `json:"lastError,omitempty"`
		CreatedAt time.Time       `json:"createdAt"`
		SentAt    time.Time       `json:"sentAt,omitzero"`
		Alert     json.RawMessage `json:"alert"`
	}
	out := []entry{}
	for _, e := range log {
		out = append(out, entry{e.Route, e.Digest, e.Finding, e.State, e.Attempts, e.LastError, e.CreatedAt, e.SentAt, json.RawMessage(e.Payload)})
	}
	writeJSON(w, http.StatusOK, map[string]any{"alerts": out})
}

func (s *Server) failures(w http.ResponseWriter, r *http.Request) {
	fs, err := s.st.Failures(r.Context(), 100)
	if err != nil {
		s.internal(w, err)
		return
	}
	type failure struct {
		Kind      string    `json:"kind"`
		Key       string    `json:"key"`
		State     string    `json:"state"`
		Error     string    `json:"error"`
		Attempts  int       `json:"attempts"`
		RetryAt   time.Time `json:"retryAt"`
		UpdatedAt time.Time `json:"updatedAt"`
	}
	out := []failure{}
	for _, f := range fs {
		out = append(out, failure{f.Kind, f.Key, f.State, f.Error, f.Attempts, f.RunAfter, f.UpdatedAt})
	}
	writeJSON(w, http.StatusOK, map[string]any{"failures": out})
}

// imageReport writes the stored inventory of an image, matched now, in
// any report format (?format=json, table, sarif, cyclonedx, spdx, junit).
func (s *Server) imageReport(w http.ResponseWriter, r *http.Request) {
	inv, _, err := s.st.Inventory(r.Context(), r.PathValue("digest"))
	if errors.Is(err, store.ErrNotFound) {
		fail(w, http.StatusNotFound, "no inventory for image %s", r.PathValue("digest"))
		return
	}
	if err != nil {
		s.internal(w, err)
		return
	}
	s.writeReport(w, r, inv)
}

// match matches an uploaded inventory: a vigil JSON report, CycloneDX or
// SPDX JSON. It answers with the report in ?format (default json).
func (s *Server) match(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxUpload))
	if err != nil {
		fail(w, http.StatusRequestEntityTooLarge, "upload larger than %d bytes", MaxUpload)
		return
	}
	inv, err := sbom.Read(bytes.NewReader(body), "upload")
	if err != nil {
		fail(w, http.StatusBadRequest, "%v", err)
		return
	}
	s.writeReport(w, r, inv)
}

// writeReport evaluates inv with the server's database and writes the
// report in ?format. Matching notes go in the X-Vigil-Notes header (JSON
// array) so every format stays as vigil writes it.
func (s *Server) writeReport(w http.ResponseWriter, r *http.Request, inv *inventory.Inventory) {
	name := r.URL.Query().Get("format")
	if name == "" {
		name = format.JSON
	}
	if !slices.Contains(format.Names(), name) || name == format.Template {
		fail(w, http.StatusBadRequest, "format %q: want one of %s (not template)", name, strings.Join(format.Names(), ", "))
		return
	}
	res, err := s.eng.Evaluate(r.Context(), inv)
	if err != nil {
		s.internal(w, err)
		return
	}
	var buf bytes.Buffer
	if err := format.Write(&buf, name, res.Report, report.Options{ListAllPkgs: r.URL.Query().Get("listAllPkgs") == "true", AppVersion: s.opts.Version}); err != nil {
		s.internal(w, err)
		return
	}
	notes, _ := json.Marshal(nonNil(res.Notes))
	w.Header().Set("X-Vigil-Notes", string(notes))
	w.Header().Set("X-Vigil-Database", s.eng.DB().Digest)
	w.Header().Set("Content-Type", contentType(name))
	w.Write(buf.Bytes())
}

func contentType(format string) string {
	switch format {
	case "table":
		return "text/plain; charset=utf-8"
	case "junit":
		return "application/xml"
	}
	return "application/json"
}

// ScanRequest is the body of POST /api/v1/scans.
type ScanRequest struct {
	// Image is a reference in a configured registry:
	// "127.0.0.1:5000/team/app:1.2" or "…@sha256:…".
	Image string `json:"image"`
}

func (s *Server) scan(w http.ResponseWriter, r *http.Request) {
	var req ScanRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&req); err != nil || req.Image == "" {
		fail(w, http.StatusBadRequest, `want {"image": "registry/repository:tag"}`)
		return
	}
	p, err := engine.ParseReference(req.Image)
	if err != nil {
		fail(w, http.StatusBadRequest, "image %q: %v", req.Image, err)
		return
	}
	if !s.configured(p.Registry) {
		fail(w, http.StatusUnprocessableEntity, "registry %s is not configured", p.Registry)
		return
	}
	n, err := s.eng.Submit(r.Context(), []engine.Push{p})
	if err != nil {
		s.internal(w, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"queued": n})
}

func (s *Server) configured(host string) bool {
	for _, r := range s.cfg.Registries {
		if r.URL == host {
			return true
		}
	}
	return false
}

// notify takes a registry's push notifications (the CNCF distribution
// registry's event envelope, Harbor's webhook payload) and queues each
// pushed image at once.
func (s *Server) notify(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, engine.MaxNotification))
	if err != nil {
		fail(w, http.StatusRequestEntityTooLarge, "notification larger than %d bytes", engine.MaxNotification)
		return
	}
	pushes, err := engine.ParseNotification(body)
	if err != nil {
		fail(w, http.StatusBadRequest, "%v", err)
		return
	}
	n, err := s.eng.Submit(r.Context(), pushes)
	level := slog.LevelInfo
	if len(pushes) == 0 && err == nil {
		level = slog.LevelDebug // blob pushes, pulls: most of a registry's events
	}
	s.log.Log(r.Context(), level, "registry notification", "pushes", len(pushes), "queued", n, "err", err)
	if errors.Is(err, engine.ErrUnknownRegistry) {
		fail(w, http.StatusUnprocessableEntity, "%v", err)
		return
	}
	if err != nil {
		s.internal(w, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"queued": n})
}

func mustHex(h string) []byte {
	b, _ := hex.DecodeString(strings.TrimPrefix(h, "sha256:"))
	return b
}
