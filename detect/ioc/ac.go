package ioc

import "sort"

// acMachine is an Aho-Corasick automaton over ASCII-folded bytes. Edges are
// stored sparsely (sorted per state) except at the root, which has a dense
// table because every mismatch falls back to it.
type acMachine struct {
	root  [256]int32 // root transitions; 0 = stay at the root
	start []int32    // per state: first edge index; edges of s are edges[start[s]:start[s+1]]
	edges []acEdge
	fail  []int32
	out   []int32 // per state: literal id ending here, -1 if none
	dict  []int32 // per state: nearest state on the fail chain with out ≥ 0, -1 if none
}

type acEdge struct {
	c  byte
	to int32
}

func buildAC(lits []string) acMachine {
	// Build the goto trie with map-free per-state edge lists.
	type node struct {
		edges []acEdge
		out   int32
	}
	nodes := []node{{out: -1}}
	for id, l := range lits {
		s := int32(0)
		for i := 0; i < len(l); i++ {
			c := l[i]
			next := int32(-1)
			for _, e := range nodes[s].edges {
				if e.c == c {
					next = e.to
					break
				}
			}
			if next < 0 {
				nodes = append(nodes, node{out: -1})
				next = int32(len(nodes) - 1)
				nodes[s].edges = append(nodes[s].edges, acEdge{c, next})
			}
			s = next
		}
		nodes[s].out = int32(id)
	}
	m := acMachine{
		start: make([]int32, len(nodes)+1),
		fail:  make([]int32, len(nodes)),
		out:   make([]int32, len(nodes)),
		dict:  make([]int32, len(nodes)),
	}
	for s := range nodes {
		es := nodes[s].edges
		sort.Slice(es, func(i, j int) bool { return es[i].c < es[j].c })
		m.start[s] = int32(len(m.edges))
		m.edges = append(m.edges, es...)
		m.out[s] = nodes[s].out
		m.dict[s] = -1
	}
	m.start[len(nodes)] = int32(len(m.edges))
	for _, e := range m.edgesOf(0) {
		m.root[e.c] = e.to
	}
	// Breadth-first: fail links and dictionary links.
	queue := make([]int32, 0, len(nodes))
	for _, e := range m.edgesOf(0) {
		queue = append(queue, e.to)
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for _, e := range m.edgesOf(s) {
			f := m.next(m.fail[s], e.c)
			m.fail[e.to] = f
			if m.out[f] >= 0 {
				m.dict[e.to] = f
			} else {
				m.dict[e.to] = m.dict[f]
			}
			queue = append(queue, e.to)
		}
	}
	return m
}

func (m *acMachine) edgesOf(s int32) []acEdge { return m.edges[m.start[s]:m.start[s+1]] }

// next follows the goto function with fail links.
func (m *acMachine) next(s int32, c byte) int32 {
	for s != 0 {
		es := m.edgesOf(s)
		for lo, hi := 0, len(es); lo < hi; {
			mid := int(uint(lo+hi) >> 1)
			switch {
			case es[mid].c == c:
				return es[mid].to
			case es[mid].c < c:
				lo = mid + 1
			default:
				hi = mid
			}
		}
		s = m.fail[s]
	}
	return m.root[c]
}

// scan runs v through the automaton, ASCII-folded (and with the Kelvin sign
// and long s folded to k and s, as RE2's (?i) does), appending the id of
// every distinct literal found.
func (m *acMachine) scan(v string, found []int32) []int32 {
	if len(m.out) <= 1 {
		return found
	}
	s := int32(0)
	for i := 0; i < len(v); i++ {
		c := v[i]
		if s == 0 {
			// At the root, bytes that start no literal leave it there:
			// skip them in a tight loop (most of a path starts nothing).
			for m.root[asciiFold[c]] == 0 && c != 0xE2 && c != 0xC5 {
				if i++; i == len(v) {
					return found
				}
				c = v[i]
			}
		}
		switch {
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		case c == 0xE2 && i+2 < len(v) && v[i+1] == 0x84 && v[i+2] == 0xAA: // U+212A KELVIN SIGN
			c, i = 'k', i+2
		case c == 0xC5 && i+1 < len(v) && v[i+1] == 0xBF: // U+017F LATIN SMALL LETTER LONG S
			c, i = 's', i+1
		}
		s = m.next(s, c)
		for o := s; o > 0; o = m.dict[o] {
			if lit := m.out[o]; lit >= 0 && !contains(found, lit) {
				found = append(found, lit)
			}
		}
	}
	return found
}

// asciiFold lower-cases ASCII letters and leaves every other byte.
var asciiFold = func() (t [256]byte) {
	for i := range t {
		t[i] = lower(byte(i))
	}
	return t
}()

func contains(s []int32, x int32) bool {
	for _, y := range s {
		if y == x {
			return true
		}
	}
	return false
}
