package sigma

import (
	"fmt"
	"path"
	"strconv"
	"strings"
)

// Condition grammar (sigma-rules-specification.md, "Condition"), by
// increasing binding: or, and, not, "x of", parentheses.
//
//	expr    = and { "or" and }
//	and     = unary { "and" unary }
//	unary   = "not" unary | primary
//	primary = "(" expr ")" | quant | IDENT
//	quant   = ( NUMBER | "all" | "any" ) "of" ( "them" | IDENT | PATTERN )
//
// Keywords are case-insensitive. Identifiers may contain letters, digits,
// '_', '-' and '.'; a pattern is an identifier with '*' anywhere. Patterns
// are expanded against the rule's search identifiers at parse time, so
// `selection_1*` (which sigma-go's lexer rejects) is an ordinary pattern.
// `them` means every identifier not starting with '_'; an explicit pattern
// matches every identifier it names.

type condOp uint8

const (
	opSearch condOp = iota
	opAnd
	opOr
	opNot
	opOf // at least n of kids (n == len(kids) for "all of")
)

type condNode struct {
	op     condOp
	search int // opSearch: index into the rule's searches
	n      int // opOf: required count
	kids   []*condNode
	text   string // source form, for match_debug
}

type condToken struct {
	kind byte // 'i' identifier/pattern, 'n' number, '(' ')', 'k' keyword, 'e' end, '|' pipe
	text string
	pos  int
}

var condKeywords = map[string]bool{"and": true, "or": true, "not": true, "of": true, "them": true, "all": true, "any": true}

func lexCondition(s string) ([]condToken, error) {
	var toks []condToken
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(' || c == ')' || c == '|':
			toks = append(toks, condToken{kind: c, text: string(c), pos: i})
			i++
		case isIdentByte(c):
			j := i
			for j < len(s) && isIdentByte(s[j]) {
				j++
			}
			w := s[i:j]
			switch {
			case isNumber(w):
				toks = append(toks, condToken{kind: 'n', text: w, pos: i})
			case condKeywords[strings.ToLower(w)]:
				toks = append(toks, condToken{kind: 'k', text: strings.ToLower(w), pos: i})
			default:
				toks = append(toks, condToken{kind: 'i', text: w, pos: i})
			}
			i = j
		default:
			return nil, fmt.Errorf("unexpected character %q at offset %d", c, i)
		}
	}
	return append(toks, condToken{kind: 'e', pos: len(s)}), nil
}

func isIdentByte(c byte) bool {
	return c == '_' || c == '-' || c == '.' || c == '*' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isNumber(w string) bool {
	for i := 0; i < len(w); i++ {
		if w[i] < '0' || w[i] > '9' {
			return false
		}
	}
	return w != ""
}

type condParser struct {
	src   string
	toks  []condToken
	pos   int
	names []string // search identifiers in document order
}

// parseCondition parses one condition string against the search names.
func parseCondition(src string, names []string) (*condNode, error) {
	if i := strings.IndexByte(src, '|'); i >= 0 {
		return nil, fmt.Errorf("aggregation %q (Sigma v1) is unsupported; write a v2 correlation rule", strings.TrimSpace(src[i:]))
	}
	toks, err := lexCondition(src)
	if err != nil {
		return nil, err
	}
	p := &condParser{src: src, toks: toks, names: names}
	n, err := p.expr()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != 'e' {
		if t.kind == '|' {
			return nil, fmt.Errorf("aggregation %q (Sigma v1) is unsupported; write a v2 correlation rule", strings.TrimSpace(src[t.pos:]))
		}
		return nil, fmt.Errorf("unexpected %q at offset %d", t.text, t.pos)
	}
	return n, nil
}

func (p *condParser) peek() condToken { return p.toks[p.pos] }
func (p *condParser) next() condToken { t := p.toks[p.pos]; p.pos++; return t }

func (p *condParser) expr() (*condNode, error) { return p.binary(opOr, "or", p.and) }

func (p *condParser) and() (*condNode, error) { return p.binary(opAnd, "and", p.unary) }

// binary parses operand { keyword operand } into a flat node.
func (p *condParser) binary(op condOp, keyword string, operand func() (*condNode, error)) (*condNode, error) {
	left, err := operand()
	if err != nil {
		return nil, err
	}
	for p.peek().kind == 'k' && p.peek().text == keyword {
		p.next()
		right, err := operand()
		if err != nil {
			return nil, err
		}
		left = merge(op, left, right)
	}
	return left, nil
}

// merge flattens chains of the same operator so evaluation is a loop.
func merge(op condOp, a, b *condNode) *condNode {
	if a.op == op && a.text == "" {
		a.kids = append(a.kids, b)
		return a
	}
	return &condNode{op: op, kids: []*condNode{a, b}}
}

func (p *condParser) unary() (*condNode, error) {
	if t := p.peek(); t.kind == 'k' && t.text == "not" {
		p.next()
		k, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &condNode{op: opNot, kids: []*condNode{k}}, nil
	}
	return p.primary()
}

func (p *condParser) primary() (*condNode, error) {
	t := p.next()
	switch {
	case t.kind == '(':
		n, err := p.expr()
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != ')' {
			return nil, fmt.Errorf("missing ')' at offset %d", c.pos)
		}
		return n, nil
	case t.kind == 'n' || (t.kind == 'k' && (t.text == "all" || t.text == "any")):
		return p.quantifier(t)
	case t.kind == 'i':
		if strings.Contains(t.text, "*") {
			return nil, fmt.Errorf("pattern %q needs a quantifier (1 of / all of)", t.text)
		}
		idx := indexOf(p.names, t.text)
		if idx < 0 {
			return nil, fmt.Errorf("unknown search identifier %q", t.text)
		}
		return &condNode{op: opSearch, search: idx}, nil
	case t.kind == 'k' && t.text == "near":
		return nil, fmt.Errorf("near is unsupported")
	case t.kind == 'e':
		return nil, fmt.Errorf("unexpected end of condition")
	default:
		return nil, fmt.Errorf("unexpected %q at offset %d", t.text, t.pos)
	}
}

func (p *condParser) quantifier(q condToken) (*condNode, error) {
	if of := p.next(); of.kind != 'k' || of.text != "of" {
		return nil, fmt.Errorf("expected 'of' after %q at offset %d", q.text, of.pos)
	}
	target := p.next()
	var members []int
	switch {
	case target.kind == 'k' && target.text == "them":
		for i, n := range p.names {
			if !strings.HasPrefix(n, "_") {
				members = append(members, i)
			}
		}
	case target.kind == 'i':
		for i, n := range p.names {
			if ok, _ := path.Match(globToPath(target.text), n); ok {
				members = append(members, i)
			}
		}
	default:
		return nil, fmt.Errorf("expected an identifier, pattern or 'them' after 'of' at offset %d", target.pos)
	}
	if len(members) == 0 {
		return nil, fmt.Errorf("%q matches no search identifier", target.text)
	}
	n := &condNode{op: opOf, text: q.text + " of " + target.text}
	for _, m := range members {
		n.kids = append(n.kids, &condNode{op: opSearch, search: m})
	}
	switch q.text {
	case "all":
		n.n = len(members)
	case "any":
		n.n = 1
	default:
		k, err := strconv.Atoi(q.text)
		if err != nil || k < 1 {
			return nil, fmt.Errorf("invalid count %q in %q", q.text, n.text)
		}
		n.n = k
	}
	return n, nil
}

// globToPath escapes everything path.Match treats specially except '*'.
func globToPath(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '?', '[', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

// String renders the node (for match_debug and tests).
func (n *condNode) String(names []string) string {
	switch n.op {
	case opSearch:
		return names[n.search]
	case opNot:
		return "not " + n.kids[0].String(names)
	case opOf:
		return n.text
	}
	sep := " and "
	if n.op == opOr {
		sep = " or "
	}
	parts := make([]string, len(n.kids))
	for i, k := range n.kids {
		parts[i] = k.String(names)
	}
	return "(" + strings.Join(parts, sep) + ")"
}
