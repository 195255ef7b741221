// Package oval streams the parts of an OVAL 5 definitions document
// (https://oval.mitre.org/language/version5.11/) that vigil's distribution
// feeds read: definitions (metadata and criteria trees) and the rpminfo
// tests, objects and states they refer to.
//
// Decode walks the document with encoding/xml token decoding and hands each
// part to a callback as soon as it is complete, so memory stays bounded by
// the largest single element, not by the document. Only local element names
// are matched: Oracle writes <rpminfo_test xmlns="…#linux">, Microsoft
// <linux-def:rpminfo_test>; both decode the same.
package oval

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Definition is one <definition>.
type Definition struct {
	ID       string   `xml:"id,attr"`
	Class    string   `xml:"class,attr"`
	Metadata Metadata `xml:"metadata"`
	Criteria Criteria `xml:"criteria"`
}

// Metadata is a definition's <metadata>. Severity, Patchable, AdvisoryDate
// and AdvisoryID are the direct children Microsoft writes; Oracle and SUSE
// put the severity in Advisory instead.
type Metadata struct {
	Title        string      `xml:"title"`
	Platforms    []string    `xml:"affected>platform"`
	References   []Reference `xml:"reference"`
	Description  string      `xml:"description"`
	Advisory     Advisory    `xml:"advisory"`
	Severity     string      `xml:"severity"`
	Patchable    string      `xml:"patchable"`
	AdvisoryDate string      `xml:"advisory_date"`
	AdvisoryID   string      `xml:"advisory_id"`
}

// Reference is a <reference source="CVE" ref_id="…" ref_url="…"/>.
type Reference struct {
	Source string `xml:"source,attr"`
	RefID  string `xml:"ref_id,attr"`
	RefURL string `xml:"ref_url,attr"`
}

// Advisory is the vendor <advisory> block of a definition's metadata.
type Advisory struct {
	Severity string `xml:"severity"`
	Issued   Date   `xml:"issued"`
	Updated  Date   `xml:"updated"`
	CVEs     []CVE  `xml:"cve"`
}

// Date is an element carrying a date="YYYY-MM-DD" attribute.
type Date struct {
	Date string `xml:"date,attr"`
}

// CVE is an advisory's <cve> element.
type CVE struct {
	ID     string `xml:",chardata"`
	Href   string `xml:"href,attr"`
	Impact string `xml:"impact,attr"`
	CVSS3  string `xml:"cvss3,attr"`
}

// Criteria is a <criteria> node: an operator over criterion leaves and
// nested criteria. An empty Operator means AND, as OVAL defines.
type Criteria struct {
	Operator  string      `xml:"operator,attr"`
	Negate    bool        `xml:"negate,attr"`
	Criteria  []Criteria  `xml:"criteria"`
	Criterion []Criterion `xml:"criterion"`
}

// IsAnd reports whether c combines its children with AND.
func (c *Criteria) IsAnd() bool {
	return c.Operator == "" || strings.EqualFold(c.Operator, "AND")
}

// Criterion is a <criterion> leaf referring to a test.
type Criterion struct {
	TestRef string `xml:"test_ref,attr"`
	Comment string `xml:"comment,attr"`
	Negate  bool   `xml:"negate,attr"`
}

// Test is an <rpminfo_test>.
type Test struct {
	ID      string `xml:"id,attr"`
	Comment string `xml:"comment,attr"`
	Object  struct {
		Ref string `xml:"object_ref,attr"`
	} `xml:"object"`
	State struct {
		Ref string `xml:"state_ref,attr"`
	} `xml:"state"`
}

// Object is an <rpminfo_object>: the package name a test looks at.
type Object struct {
	ID   string `xml:"id,attr"`
	Name string `xml:"name"`
}

// State is an <rpminfo_state>. EVR is its <evr> comparison, when it has
// one.
type State struct {
	ID  string `xml:"id,attr"`
	EVR *struct {
		Datatype  string `xml:"datatype,attr"`
		Operation string `xml:"operation,attr"`
		Value     string `xml:",chardata"`
	} `xml:"evr"`
	Arch *struct {
		Operation string `xml:"operation,attr"`
		Value     string `xml:",chardata"`
	} `xml:"arch"`
}

// Handler receives the parts of a document in document order. A nil
// callback skips that kind of element without decoding it. An error from a
// callback stops Decode and is returned as is.
type Handler struct {
	Definition func(*Definition) error
	Test       func(*Test) error
	Object     func(*Object) error
	State      func(*State) error
}

// ErrTruncated is matched (errors.Is) by the error Decode returns when the
// document ends before its root element is closed.
var ErrTruncated = errors.New("truncated OVAL document")

// Decode reads one <oval_definitions> document from r. It fails when the
// root element is something else, when the XML is malformed and when the
// input ends before the document does (ErrTruncated).
func Decode(ctx context.Context, r io.Reader, h Handler) error {
	dec := xml.NewDecoder(r)
	depth := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			if depth == 0 {
				return fmt.Errorf("%w: no <oval_definitions> element", ErrTruncated)
			}
			return fmt.Errorf("%w: input ends inside <oval_definitions>", ErrTruncated)
		}
		if err != nil {
			if isUnexpectedEOF(err) {
				return fmt.Errorf("%w: %v", ErrTruncated, err)
			}
			return fmt.Errorf("oval: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				if t.Name.Local != "oval_definitions" {
					return fmt.Errorf("oval: root element is <%s>, want <oval_definitions>", t.Name.Local)
				}
				depth++
				continue
			}
			handled, err := decodePart(ctx, dec, &t, h)
			if err != nil {
				return err
			}
			if !handled {
				depth++
			}
		case xml.EndElement:
			depth--
			if depth == 0 {
				return nil
			}
		}
	}
}

// decodePart decodes the element t starts when it is one the handler
// wants, and reports whether it consumed the element.
func decodePart(ctx context.Context, dec *xml.Decoder, t *xml.StartElement, h Handler) (bool, error) {
	switch t.Name.Local {
	case "definition":
		return true, decodeInto(ctx, dec, t, h.Definition)
	case "rpminfo_test":
		return true, decodeInto(ctx, dec, t, h.Test)
	case "rpminfo_object":
		return true, decodeInto(ctx, dec, t, h.Object)
	case "rpminfo_state":
		return true, decodeInto(ctx, dec, t, h.State)
	case "generator":
		return true, skip(dec)
	}
	return false, nil
}

func decodeInto[T any](ctx context.Context, dec *xml.Decoder, t *xml.StartElement, fn func(*T) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if fn == nil {
		return skip(dec)
	}
	var v T
	if err := dec.DecodeElement(&v, t); err != nil {
		if isUnexpectedEOF(err) {
			return fmt.Errorf("%w: inside <%s>: %v", ErrTruncated, t.Name.Local, err)
		}
		return fmt.Errorf("oval: <%s>: %w", t.Name.Local, err)
	}
	return fn(&v)
}

func skip(dec *xml.Decoder) error {
	if err := dec.Skip(); err != nil {
		if isUnexpectedEOF(err) {
			return fmt.Errorf("%w: %v", ErrTruncated, err)
		}
		return fmt.Errorf("oval: %w", err)
	}
	return nil
}

// isUnexpectedEOF reports whether err says the input stopped early: the
// XML decoder's "unexpected EOF" syntax error, or an underlying reader's
// io.ErrUnexpectedEOF (compress/bzip2 on a cut file).
func isUnexpectedEOF(err error) bool {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	var se *xml.SyntaxError
	return errors.As(err, &se) && strings.Contains(se.Msg, "unexpected EOF")
}

// Text trims the surrounding blanks and joins the inner lines of an
// element's character data, as titles are written across lines.
func Text(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
