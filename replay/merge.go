package replay

import (
	"bufio"
	"container/heap"
	"encoding/gob"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/edr-lab/edr/detect"
	"github.com/edr-lab/edr/detect/ecs"
	"github.com/edr-lab/edr/detect/ruleset"
	"github.com/edr-lab/edr/detect/sigma"
	"github.com/edr-lab/edr/event"
)

// MergeSummary is what a merge did.
type MergeSummary struct {
	Parts, Events, Alerts, CorrelationAlerts, Inputs uint64
}

type partReader struct {
	dir  string
	f    *os.File
	dec  *gob.Decoder
	cur  partRecord
	m    PartManifest
	done bool
}

func (p *partReader) next() error {
	p.cur = partRecord{}
	if err := p.dec.Decode(&p.cur); err != nil {
		if errors.Is(err, io.EOF) {
			p.done = true
			return nil
		}
		return fmt.Errorf("part %s: %w", p.dir, err)
	}
	return nil
}

type partHeap []*partReader

func (h partHeap) Len() int { return len(h) }
func (h partHeap) Less(i, j int) bool {
	a, b := &h[i].cur, &h[j].cur
	if a.Time != b.Time {
		return a.Time < b.Time
	}
	if a.Host != b.Host {
		return a.Host < b.Host
	}
	return a.Seq < b.Seq
}
func (h partHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *partHeap) Push(x any)   { *h = append(*h, x.(*partReader)) }
func (h *partHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// Merge k-way merges the parts of every shard of one plan in (time, host,
// seq) order, runs the correlations over their inputs in that order and
// writes the alerts to w: the bytes a replay on one machine writes. rules
// must be the rules the shards ran (checked by fingerprint).
func Merge(dirs []string, rules *ruleset.Set, debug detect.MatchDebug, w io.Writer) (*MergeSummary, error) {
	var parts []*partReader
	defer func() {
		for _, p := range parts {
			p.f.Close()
		}
	}()
	fp := RulesFingerprint(rules)
	s := &MergeSummary{}
	var seen []bool
	for _, d := range dirs {
		mb, err := os.ReadFile(filepath.Join(d, manifestFile))
		if err != nil {
			return nil, fmt.Errorf("part %s: unfinished or not a part directory: %w", d, err)
		}
		p := &partReader{dir: d}
		if err := json.Unmarshal(mb, &p.m); err != nil {
			return nil, fmt.Errorf("part %s: %s: %w", d, manifestFile, err)
		}
		if len(parts) > 0 && (p.m.Plan != parts[0].m.Plan || p.m.Shards != parts[0].m.Shards) {
			return nil, fmt.Errorf("part %s is of another plan than %s", d, parts[0].dir)
		}
		if p.m.Rules != fp {
			return nil, fmt.Errorf("part %s was replayed with other Sigma rules than the merge loaded (pass the shards' rule and config flags)", d)
		}
		if seen == nil {
			seen = make([]bool, p.m.Shards)
		}
		if p.m.Shard < 0 || p.m.Shard >= len(seen) || seen[p.m.Shard] {
			return nil, fmt.Errorf("part %s: shard %d given twice or out of range", d, p.m.Shard)
		}
		seen[p.m.Shard] = true
		if p.f, err = os.Open(filepath.Join(d, partFile)); err != nil {
			return nil, err
		}
		p.dec = gob.NewDecoder(bufio.NewReaderSize(p.f, 1<<20))
		parts = append(parts, p)
		s.Events += p.m.Events
	}
	for i, ok := range seen {
		if !ok {
			return nil, fmt.Errorf("merge: the part of shard %d (of %d) is missing", i, len(seen))
		}
	}
	s.Parts = uint64(len(parts))
	var sm *detect.SigmaMatcher
	var inputs []*sigma.Rule
	if rules.Sigma != nil {
		sm = detect.NewSigmaMatcher(rules.Sigma)
		inputs = rules.Sigma.CorrelationInputs()
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	var enc ecs.NDJSON
	var line []byte
	var hits []detect.Hit
	emit := func(ctx *alertContext, ev *event.Event) error {
		for i := range hits {
			a := ctx.alert(ev, &hits[i], true, debug)
			line = enc.Append(line[:0], a)
			if _, err := bw.Write(line); err != nil {
				return err
			}
			s.Alerts++
			s.CorrelationAlerts++
		}
		return nil
	}
	h := partHeap{}
	var last *PartManifest
	for _, p := range parts {
		if p.m.HasLast && (last == nil || lastAfter(&p.m, last)) {
			last = &p.m
		}
		if err := p.next(); err != nil {
			return nil, err
		}
		if !p.done {
			h = append(h, p)
		}
	}
	heap.Init(&h)
	for h.Len() > 0 {
		p := h[0]
		for i := range p.cur.Items {
			it := &p.cur.Items[i]
			if it.Feed == 0 {
				if _, err := bw.Write(it.Line); err != nil {
					return nil, err
				}
				s.Alerts++
				continue
			}
			s.Inputs++
			if it.Feed > len(inputs) || it.Ctx == nil || sm == nil {
				return nil, fmt.Errorf("part %s: correlation input %d at %d/%s/%d does not name a rule of the merge's rules", p.dir, it.Feed, p.cur.Time, p.cur.Host, p.cur.Seq)
			}
			ev := it.Ctx.Event.event()
			hits = sm.Correlate(inputs[it.Feed-1], ev, it.FeedView, hits[:0])
			if err := emit(it.Ctx, ev); err != nil {
				return nil, err
			}
		}
		if err := p.next(); err != nil {
			return nil, err
		}
		if p.done {
			heap.Pop(&h)
		} else {
			heap.Fix(&h, 0)
		}
	}
	if sm != nil {
		// The engine's Flush: windows still open end at the last event
		// replayed, an alert without event data or process context.
		end := &event.Event{}
		if last != nil {
			end.Time, end.Host = last.LastTime, last.LastHost
		}
		hits = sm.Flush(hits[:0])
		if err := emit(&alertContext{}, end); err != nil {
			return nil, err
		}
	}
	return s, bw.Flush()
}

func lastAfter(a, b *PartManifest) bool {
	if a.LastTime != b.LastTime {
		return a.LastTime > b.LastTime
	}
	if a.LastHost != b.LastHost {
		return a.LastHost > b.LastHost
	}
	return a.LastSeq > b.LastSeq
}
