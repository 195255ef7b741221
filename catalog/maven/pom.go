package maven

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strings"
)

// pom is the subset of a POM (https://maven.apache.org/pom.html) that
// decides the project's coordinates and its declared dependencies'
// versions.
type pom struct {
	GroupID    string `xml:"groupId"`
	ArtifactID string `xml:"artifactId"`
	Version    string `xml:"version"`
	Packaging  string `xml:"packaging"`
	Parent     *struct {
		GroupID      string  `xml:"groupId"`
		ArtifactID   string  `xml:"artifactId"`
		Version      string  `xml:"version"`
		RelativePath *string `xml:"relativePath"`
	} `xml:"parent"`
	Properties           properties   `xml:"properties"`
	DependencyManagement dependencies `xml:"dependencyManagement"`
	Dependencies         dependencies `xml:"dependencies"`
	Profiles             []struct {
		ID         string `xml:"id"`
		Activation struct {
			ActiveByDefault string `xml:"activeByDefault"`
		} `xml:"activation"`
		Properties           properties   `xml:"properties"`
		DependencyManagement dependencies `xml:"dependencyManagement"`
		Dependencies         dependencies `xml:"dependencies"`
	} `xml:"profiles>profile"`
}

type dependencies struct {
	List []dependency `xml:"dependency"`
}

// UnmarshalXML reads <dependencies> and <dependencyManagement>, which
// wraps its list in one more <dependencies>.
func (d *dependencies) UnmarshalXML(dec *xml.Decoder, start xml.StartElement) error {
	var raw struct {
		List  []dependency `xml:"dependency"`
		Inner []dependency `xml:"dependencies>dependency"`
	}
	if err := dec.DecodeElement(&raw, &start); err != nil {
		return err
	}
	d.List = append(d.List, raw.List...)
	d.List = append(d.List, raw.Inner...)
	return nil
}

type dependency struct {
	GroupID    string `xml:"groupId"`
	ArtifactID string `xml:"artifactId"`
	Version    string `xml:"version"`
	Type       string `xml:"type"`
	Classifier string `xml:"classifier"`
	Scope      string `xml:"scope"`
	Optional   string `xml:"optional"`
}

// properties is <properties>: any element name, its text the value.
type properties map[string]string

func (p *properties) UnmarshalXML(dec *xml.Decoder, start xml.StartElement) error {
	var raw struct {
		Entries []struct {
			XMLName xml.Name
			Value   string `xml:",chardata"`
		} `xml:",any"`
	}
	if err := dec.DecodeElement(&raw, &start); err != nil {
		return err
	}
	if *p == nil {
		*p = properties{}
	}
	for _, e := range raw.Entries {
		(*p)[e.XMLName.Local] = strings.TrimSpace(e.Value)
	}
	return nil
}

// parsePOM decodes one POM: strict XML, no external entities (encoding/xml
// never resolves them), a <project> root.
func parsePOM(b []byte) (*pom, error) {
	var doc struct {
		XMLName xml.Name
		pom
	}
	d := xml.NewDecoder(bytes.NewReader(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))))
	d.Strict = true
	if err := d.Decode(&doc); err != nil {
		return nil, fmt.Errorf("xml: %w", err)
	}
	if doc.XMLName.Local != "project" {
		return nil, fmt.Errorf("root element <%s>, want <project>", doc.XMLName.Local)
	}
	p := doc.pom
	trim := func(s *string) { *s = strings.TrimSpace(*s) }
	for _, s := range []*string{&p.GroupID, &p.ArtifactID, &p.Version, &p.Packaging} {
		trim(s)
	}
	if p.Parent != nil {
		for _, s := range []*string{&p.Parent.GroupID, &p.Parent.ArtifactID, &p.Parent.Version} {
			trim(s)
		}
	}
	for _, list := range []*dependencies{&p.Dependencies, &p.DependencyManagement} {
		for i := range list.List {
			d := &list.List[i]
			for _, s := range []*string{&d.GroupID, &d.ArtifactID, &d.Version, &d.Type, &d.Classifier, &d.Scope, &d.Optional} {
				trim(s)
			}
		}
	}
	return &p, nil
}

// gav is a Maven artifact's coordinates.
type gav struct{ group, artifact, version string }

func (g gav) String() string { return g.group + ":" + g.artifact + ":" + g.version }

// coordinates are the POM's own: its groupId and version inherited from
// its parent when absent.
func (p *pom) coordinates() gav {
	c := gav{p.GroupID, p.ArtifactID, p.Version}
	if p.Parent != nil {
		if c.group == "" {
			c.group = p.Parent.GroupID
		}
		if c.version == "" {
			c.version = p.Parent.Version
		}
	}
	return c
}
