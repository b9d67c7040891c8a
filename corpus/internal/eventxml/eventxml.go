// Package eventxml parses rendered event XML into a generic tree, for the
// tests that compare the importers with independent renderings (the Rust
// crate's snapshots, a template-less BinXML printer).
package eventxml

import "encoding/xml"

// Node is one element: its attributes, its character data and its children.
type Node struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Text    string     `xml:",chardata"`
	Kids    []Node     `xml:",any"`
}

// Parse parses one element (an <Event>) from s.
func Parse(s string) (*Node, error) {
	var n Node
	if err := xml.Unmarshal([]byte(s), &n); err != nil {
		return nil, err
	}
	return &n, nil
}

// Name is the element's local name.
func (n *Node) Name() string { return n.XMLName.Local }

// Attr returns an attribute's value by local name.
func (n *Node) Attr(name string) (string, bool) {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value, true
		}
	}
	return "", false
}

// IsNamespace reports whether an attribute declares a namespace (not data).
func IsNamespace(a xml.Attr) bool { return a.Name.Local == "xmlns" || a.Name.Space == "xmlns" }
