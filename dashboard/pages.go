package dashboard

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-scanner/vigil/inventory"
	"github.com/vigil-scanner/vigil/store"
)

// pageSize is the number of rows of a paginated table.
const pageSize = 50

// refresh brings the stored per-image counts up to date, one refresh at a
// time in this process.
func (d *Dashboard) refresh(r *http.Request) error {
	d.refreshMu.Lock()
	defer d.refreshMu.Unlock()
	if err := d.optimize(r); err != nil {
		return err
	}
	_, err := d.st.RefreshCounts(r.Context())
	return err
}

// summary returns the store's summary of registry (all when empty): the
// one made before while the store's summary stamp is the same (the counts,
// tags and listings it reads unchanged), else a new one. The caller has
// refreshed the counts, and does not change the summary.
func (d *Dashboard) summary(r *http.Request, registry string) (*store.Summary, error) {
	ctx := r.Context()
	stamp, err := d.st.SummaryStamp(ctx)
	if err != nil {
		return nil, err
	}
	d.sumMu.Lock()
	c, ok := d.summaries[registry]
	d.sumMu.Unlock()
	if ok && c.stamp == stamp {
		return c.sum, nil
	}
	sum, err := d.st.Summarize(ctx, registry)
	if err != nil {
		return nil, err
	}
	if registry != "" && len(sum.Registries) == 0 {
		return sum, nil // an unknown registry: not kept
	}
	d.sumMu.Lock()
	defer d.sumMu.Unlock()
	if d.summaries == nil {
		d.summaries = map[string]cachedSummary{}
	}
	d.summaries[registry] = cachedSummary{stamp, sum}
	return sum, nil
}

// optimize keeps the query planner's statistics current, hourly: without
// them SQLite may read every finding to count one image's. The caller
// holds refreshMu.
func (d *Dashboard) optimize(r *http.Request) error {
	now := d.opts.Now()
	if now.Sub(d.optimized) < time.Hour {
		return nil
	}
	if err := d.st.Optimize(r.Context()); err != nil {
		return err
	}
	d.optimized = now
	return nil
}

// planned runs optimize for pages that count nothing themselves.
func (d *Dashboard) planned(r *http.Request) error {
	d.refreshMu.Lock()
	defer d.refreshMu.Unlock()
	return d.optimize(r)
}

type overviewData struct {
	Summary *store.Summary
	Chart   chart
	Changes []store.DBChange
}

func (d *Dashboard) overview(r *http.Request, v *view) (string, error) {
	if err := d.refresh(r); err != nil {
		return "", err
	}
	ctx := r.Context()
	sum, err := d.summary(r, "")
	if err != nil {
		return "", err
	}
	now := d.opts.Now()
	if err := d.st.RecordDay(ctx, now, sum.Images, sum.Counts); err != nil {
		return "", err
	}
	days, err := d.st.Trend(ctx, now, d.opts.TrendDays)
	if err != nil {
		return "", err
	}
	changes, err := d.st.DBChanges(ctx, 5)
	if err != nil {
		return "", err
	}
	v.Title, v.Nav = "Overview", "overview"
	v.Data = overviewData{Summary: sum, Chart: newChart(days), Changes: changes}
	return "overview", nil
}

type registryData struct {
	Registry store.RegistrySummary
	Repos    []store.RepositorySummary
}

func (d *Dashboard) registry(r *http.Request, v *view) (string, error) {
	if err := d.refresh(r); err != nil {
		return "", err
	}
	host := r.PathValue("registry")
	sum, err := d.summary(r, host)
	if err != nil {
		return "", err
	}
	if len(sum.Registries) == 0 {
		return "", notFound("No registry %s is known to this server.", host)
	}
	v.Title, v.Nav = "Registry "+host, "overview"
	v.Data = registryData{Registry: sum.Registries[0], Repos: sum.Repositories}
	return "registry", nil
}

type pager struct {
	Page, Pages, Total int
	Prev, Next         string // URLs; empty at either end
}

func newPager(r *http.Request, total int) pager {
	p, _ := strconv.Atoi(r.URL.Query().Get("page"))
	pages := max((total+pageSize-1)/pageSize, 1)
	p = min(max(p, 1), pages)
	pg := pager{Page: p, Pages: pages, Total: total}
	link := func(n int) string {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(n))
		return r.URL.Path + "?" + q.Encode()
	}
	if p > 1 {
		pg.Prev = link(p - 1)
	}
	if p < pages {
		pg.Next = link(p + 1)
	}
	return pg
}

func (p pager) offset() int { return (p.Page - 1) * pageSize }

type repositoryData struct {
	Name, Registry string
	Images         []store.RankedImage
	Pager          pager
	History        []store.Tag
}

func (d *Dashboard) repository(r *http.Request, v *view) (string, error) {
	if err := d.refresh(r); err != nil {
		return "", err
	}
	ctx := r.Context()
	name := r.PathValue("name")
	_, total, err := d.st.RankImages(ctx, store.RankFilter{Repository: name, Size: 1})
	if err != nil {
		return "", err
	}
	pg := newPager(r, total)
	imgs, _, err := d.st.RankImages(ctx, store.RankFilter{Repository: name, Offset: pg.offset(), Size: pageSize})
	if err != nil {
		return "", err
	}
	hist, err := d.st.TagHistory(ctx, name)
	if err != nil {
		return "", err
	}
	if total == 0 && len(hist) == 0 {
		return "", notFound("No repository %s is known to this server.", name)
	}
	reg := ""
	if len(hist) > 0 {
		reg = hist[0].Registry
	}
	if len(hist) > 200 {
		hist = hist[:200]
	}
	v.Title, v.Nav = "Repository "+name, "overview"
	v.Data = repositoryData{Name: name, Registry: reg, Images: imgs, Pager: pg, History: hist}
	return "repository", nil
}

type imageListData struct {
	Images []store.RankedImage
	Pager  pager
}

func (d *Dashboard) imageList(r *http.Request, v *view) (string, error) {
	if err := d.refresh(r); err != nil {
		return "", err
	}
	ctx := r.Context()
	_, total, err := d.st.RankImages(ctx, store.RankFilter{Size: 1})
	if err != nil {
		return "", err
	}
	pg := newPager(r, total)
	imgs, _, err := d.st.RankImages(ctx, store.RankFilter{Offset: pg.offset(), Size: pageSize})
	if err != nil {
		return "", err
	}
	v.Title, v.Nav = "Images", "images"
	v.Data = imageListData{Images: imgs, Pager: pg}
	return "images", nil
}

// findingRow is a finding with the layer that brought its package.
type findingRow struct {
	store.Finding
	Layer      inventory.LayerRef
	LayerIndex int // 1-based; 0 when unknown
}

type layerRow struct {
	Index    int
	Layer    inventory.Layer
	Packages int
	Open     int
}

type tagHistory struct {
	Repository, Tag string
	Entries         []store.Tag
}

type imageData struct {
	Image       *store.Image
	Counts      store.Counts
	Open        []findingRow
	Resolved    []findingRow
	Layers      []layerRow
	Base        *inventory.Base
	OS          *inventory.OS
	Packages    int
	History     []tagHistory
	NoInventory bool
}

func (d *Dashboard) image(r *http.Request, v *view) (string, error) {
	if err := d.planned(r); err != nil {
		return "", err
	}
	ctx := r.Context()
	digest := r.PathValue("digest")
	img, err := d.st.Image(ctx, digest)
	if errors.Is(err, store.ErrNotFound) {
		return "", notFound("No image %s is known to this server.", digest)
	}
	if err != nil {
		return "", err
	}
	fs, err := d.st.FindingsOf(ctx, digest)
	if err != nil {
		return "", err
	}
	data := imageData{Image: img}
	inv, _, err := d.st.Inventory(ctx, digest)
	switch {
	case errors.Is(err, store.ErrNotFound):
		data.NoInventory = true
		inv = &inventory.Inventory{}
	case err != nil:
		return "", err
	}
	type pkgKey struct{ target, name, version string }
	layerOf := map[pkgKey]inventory.LayerRef{}
	index := map[string]int{}
	for i, l := range inv.Artifact.Layers {
		index[l.DiffID] = i + 1
		data.Layers = append(data.Layers, layerRow{Index: i + 1, Layer: l})
	}
	// The store keys OS findings by the release ("alpine 3.19.1"), not by
	// the OS result's target, which names the image (package engine).
	osTarget := ""
	if o := inv.Artifact.OS; o != nil {
		osTarget = o.Family + " " + o.Name
	}
	for _, res := range inv.Results {
		target := res.Target
		if res.Class == inventory.ClassOSPkgs && osTarget != "" {
			target = osTarget
		}
		for _, p := range res.Packages {
			layerOf[pkgKey{target, p.Name, p.Version}] = p.Layer
			data.Packages++
			if i := index[p.Layer.DiffID]; i > 0 {
				data.Layers[i-1].Packages++
			}
		}
	}
	data.Base, data.OS = inv.Artifact.Base, inv.Artifact.OS
	for _, f := range fs {
		l := layerOf[pkgKey{f.Target, f.PkgName, f.PkgVersion}]
		row := findingRow{Finding: f, Layer: l, LayerIndex: index[l.DiffID]}
		if f.ResolvedAt.IsZero() {
			data.Open = append(data.Open, row)
			data.Counts.AddFinding(f)
			if row.LayerIndex > 0 {
				data.Layers[row.LayerIndex-1].Open++
			}
		} else {
			data.Resolved = append(data.Resolved, row)
		}
	}
	if data.History, err = d.history(r, img); err != nil {
		return "", err
	}
	v.Title, v.Nav = "Image "+imageName(img), "images"
	v.Data = data
	return "image", nil
}

// history returns, for each tag that ever named the image, every digest it
// named, newest first.
func (d *Dashboard) history(r *http.Request, img *store.Image) ([]tagHistory, error) {
	repos := []string{img.Repository}
	for _, rt := range img.Tags {
		if i := strings.LastIndex(rt, ":"); i > 0 && !slices.Contains(repos, rt[:i]) {
			repos = append(repos, rt[:i])
		}
	}
	var out []tagHistory
	for _, repo := range repos {
		hist, err := d.st.TagHistory(r.Context(), repo)
		if err != nil {
			return nil, err
		}
		named := map[string]bool{}
		for _, t := range hist {
			if t.Digest == img.Digest {
				named[t.Tag] = true
			}
		}
		for _, t := range hist {
			if !named[t.Tag] {
				continue
			}
			if n := len(out); n == 0 || out[n-1].Repository != repo || out[n-1].Tag != t.Tag {
				out = append(out, tagHistory{Repository: repo, Tag: t.Tag})
			}
			out[len(out)-1].Entries = append(out[len(out)-1].Entries, t)
		}
	}
	return out, nil
}

func imageName(img *store.Image) string {
	if len(img.Tags) > 0 {
		return img.Tags[0]
	}
	return img.Repository + "@" + shortDigest(img.Digest)
}

func (d *Dashboard) vulnSearch(r *http.Request, v *view) (string, error) {
	if id := strings.TrimSpace(r.URL.Query().Get("id")); id != "" {
		return "", &redirect{"/vulnerabilities/" + url.PathEscape(id)}
	}
	v.Title, v.Nav = "Vulnerabilities", "vulnerabilities"
	v.Data = vulnData{}
	return "vulnerability", nil
}

type vulnData struct {
	ID         string
	Title, URL string
	Affected   []store.Affected
	Registries []string
	Searched   bool
}

func (d *Dashboard) vulnerability(r *http.Request, v *view) (string, error) {
	if err := d.planned(r); err != nil {
		return "", err
	}
	id := strings.TrimSpace(r.PathValue("id"))
	aff, err := d.st.AffectedBy(r.Context(), id)
	if err != nil {
		return "", err
	}
	data := vulnData{ID: id, Affected: aff, Searched: true}
	for _, a := range aff {
		if !slices.Contains(data.Registries, a.Registry) {
			data.Registries = append(data.Registries, a.Registry)
		}
		for _, f := range a.Findings {
			data.Title, data.URL = cmpOr(data.Title, f.Title), cmpOr(data.URL, f.URL)
		}
	}
	slices.Sort(data.Registries)
	v.Title, v.Nav = id, "vulnerabilities"
	v.Data = data
	return "vulnerability", nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// alertRow is an outbox entry with the fields of its alert that the log
// shows.
type alertRow struct {
	store.OutboxEntry
	ID, Severity, Image, Reason, Package string
}

type alertsData struct {
	State    string
	States   []string
	Counts   []routeCount
	Entries  []alertRow
	Prev     string
	Next     string
	Failures []store.FailedJob
}

type routeCount struct {
	Route                          string
	Pending, Sending, Sent, Parked int
}

func (d *Dashboard) alerts(r *http.Request, v *view) (string, error) {
	ctx := r.Context()
	state := r.URL.Query().Get("state")
	states := []string{store.AlertPending, store.AlertSending, store.AlertSent, store.AlertParked}
	if state != "" && !slices.Contains(states, state) {
		return "", &errStatus{http.StatusBadRequest, "Unknown alert state " + strconv.Quote(state) + "."}
	}
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	page = max(page, 1)
	entries, err := d.st.AlertLog(ctx, state, pageSize+1, (page-1)*pageSize)
	if err != nil {
		return "", err
	}
	data := alertsData{State: state, States: states}
	link := func(n int) string {
		q := url.Values{}
		if state != "" {
			q.Set("state", state)
		}
		q.Set("page", strconv.Itoa(n))
		return "/alerts?" + q.Encode()
	}
	if len(entries) > pageSize {
		entries = entries[:pageSize]
		data.Next = link(page + 1)
	}
	if page > 1 {
		data.Prev = link(page - 1)
	}
	for _, e := range entries {
		var a struct {
			ID, Severity, Image, Reason, Package string
		}
		json.Unmarshal([]byte(e.Payload), &a) // a payload that does not decode shows its outbox fields only
		data.Entries = append(data.Entries, alertRow{OutboxEntry: e, ID: a.ID, Severity: a.Severity, Image: a.Image, Reason: a.Reason, Package: a.Package})
	}
	counts, err := d.st.AlertCounts(ctx)
	if err != nil {
		return "", err
	}
	byRoute := map[string]*routeCount{}
	for k, n := range counts {
		rc := byRoute[k[0]]
		if rc == nil {
			rc = &routeCount{Route: k[0]}
			byRoute[k[0]] = rc
		}
		switch k[1] {
		case store.AlertPending:
			rc.Pending = n
		case store.AlertSending:
			rc.Sending = n
		case store.AlertSent:
			rc.Sent = n
		case store.AlertParked:
			rc.Parked = n
		}
	}
	for _, rc := range byRoute {
		data.Counts = append(data.Counts, *rc)
	}
	slices.SortFunc(data.Counts, func(a, b routeCount) int { return strings.Compare(a.Route, b.Route) })
	if data.Failures, err = d.st.Failures(ctx, 20); err != nil {
		return "", err
	}
	v.Title, v.Nav = "Alerts", "alerts"
	v.Data = data
	return "alerts", nil
}

// redirect is a pageFunc's answer that sends the browser elsewhere.
type redirect struct{ to string }

func (r *redirect) Error() string { return "redirect to " + r.to }
