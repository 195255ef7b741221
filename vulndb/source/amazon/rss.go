package amazon

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strings"
)

// item is one RSS <item> of an ALAS feed.
type item struct {
	Title         string `xml:"title"`
	Description   string `xml:"description"`
	PubDate       string `xml:"pubDate"`
	LastBuildDate string `xml:"lastBuildDate"`
	GUID          string `xml:"guid"`
	Link          string `xml:"link"`
}

// link is the advisory page's URL.
func (it *item) link() string {
	if l := strings.TrimSpace(it.Link); l != "" {
		return l
	}
	return strings.TrimSpace(it.GUID)
}

// parseRSS reads the items of an RSS 2.0 document.
func parseRSS(r io.Reader) ([]item, error) {
	var doc struct {
		XMLName xml.Name
		Channel struct {
			Items []item `xml:"item"`
		} `xml:"channel"`
	}
	if err := xml.NewDecoder(r).Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("empty document")
		}
		return nil, fmt.Errorf("truncated or malformed RSS: %w", err)
	}
	if doc.XMLName.Local != "rss" {
		return nil, fmt.Errorf("root element is <%s>, want <rss>", doc.XMLName.Local)
	}
	return doc.Channel.Items, nil
}

// parseTitle splits "ALAS-2018-939 (critical): kernel".
func parseTitle(title string) (id, severity, packages string, err error) {
	t := strings.Join(strings.Fields(title), " ")
	id, rest, ok := strings.Cut(t, " (")
	if !ok {
		return "", "", "", fmt.Errorf("title %q is not \"<id> (<severity>): <packages>\"", t)
	}
	severity, packages, ok = strings.Cut(rest, "): ")
	if !ok || !strings.HasPrefix(id, "ALAS") {
		return "", "", "", fmt.Errorf("title %q is not \"<id> (<severity>): <packages>\"", t)
	}
	return id, severity, packages, nil
}

// pagePath turns an advisory link into its path below the base, which
// must be an .html file directly in the release's directory.
func pagePath(link, dir string) (string, error) {
	u, err := url.Parse(link)
	if err != nil || link == "" {
		return "", fmt.Errorf("bad advisory link %q", link)
	}
	p := strings.TrimPrefix(u.Path, "/")
	want := dir
	if want == "" {
		want = "."
	}
	if !fs.ValidPath(p) || path.Dir(p) != want || path.Ext(p) != ".html" {
		return "", fmt.Errorf("advisory link %q is not an .html page in %q", link, dir)
	}
	return p, nil
}

var cvePattern = regexp.MustCompile(`CVE-\d{4}-\d{4,}`)

// cves returns the distinct CVE ids in s, in order.
func cves(s string) []string {
	var out []string
	for _, c := range cvePattern.FindAllString(s, -1) {
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}
