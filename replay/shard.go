package replay

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/edr-lab/edr/detect"
	"github.com/edr-lab/edr/detect/ecs"
	"github.com/edr-lab/edr/detect/ruleset"
	"github.com/edr-lab/edr/detect/sigma"
	"github.com/edr-lab/edr/detect/state"
	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/pipeline"
)

// A part directory (edr replay --shard --out DIR) holds part.gob, the
// shard's output in event order, and manifest.json, written last (by a
// rename), so a part without a manifest is unfinished.
const (
	partFile     = "part.gob"
	manifestFile = "manifest.json"
)

// PartManifest describes a finished shard.
type PartManifest struct {
	Shard    int    `json:"shard"`
	Shards   int    `json:"shards"`
	Plan     string `json:"plan"`  // SHA-256 of the plan
	Rules    string `json:"rules"` // fingerprint of the Sigma rules
	Events   uint64 `json:"events"`
	Alerts   uint64 `json:"alerts"` // single-event alerts written
	Inputs   uint64 `json:"inputs"` // correlation inputs written
	HasLast  bool   `json:"has_last"`
	LastTime int64  `json:"last_time"`
	LastHost string `json:"last_host"`
	LastSeq  uint64 `json:"last_seq"`
}

// partRecord is the output of one event: its alerts in the engine's order,
// with the correlation inputs at the places where a single replay feeds
// the correlations.
type partRecord struct {
	Time  int64
	Host  string
	Seq   uint64
	Items []partItem
}

// partItem is an encoded alert (Line) or a correlation input (Feed: index
// in sigma.Ruleset.CorrelationInputs + 1) with the alert context a
// correlation firing on it gets.
type partItem struct {
	Line     []byte
	Feed     int
	FeedView bool
	Ctx      *alertContext
}

// alertContext is what detect.Engine attaches to an alert, in a form that
// crosses processes.
type alertContext struct {
	Event     eventRec
	Proc      *state.Process
	Parent    *state.Process
	Ancestors []state.Process
	Target    *state.Process
	TargetPar *state.Process
	DestName  string
}

type eventRec struct {
	Time          int64
	Host          string
	Channel       string
	Provider      string
	EventID       uint16
	RecordID, Seq uint64
	Source        event.Source
	Flags         event.Flags
	IDs           []event.FieldID
	Vals          []string
	Extra         []event.KV
}

func recordEvent(ev *event.Event) eventRec {
	r := eventRec{Time: ev.Time, Host: ev.Host, Channel: ev.Channel, Provider: ev.Provider, EventID: ev.EventID,
		RecordID: ev.RecordID, Seq: ev.Seq, Source: ev.Source, Flags: ev.Flags, Extra: append([]event.KV(nil), ev.Extra()...)}
	ev.Range(func(id event.FieldID, v string) bool {
		r.IDs, r.Vals = append(r.IDs, id), append(r.Vals, v)
		return true
	})
	return r
}

func (r *eventRec) event() *event.Event {
	ev := &event.Event{Time: r.Time, Host: r.Host, Channel: r.Channel, Provider: r.Provider, EventID: r.EventID,
		RecordID: r.RecordID, Seq: r.Seq, Source: r.Source, Flags: r.Flags}
	for i, id := range r.IDs {
		ev.Set(id, r.Vals[i])
	}
	for _, kv := range r.Extra {
		ev.AddExtra(kv.Key, kv.Value)
	}
	return ev
}

func copyProc(p *state.Process) *state.Process {
	if p == nil {
		return nil
	}
	c := *p
	return &c
}

func contextOf(a *detect.Alert) *alertContext {
	c := &alertContext{Event: recordEvent(a.Event), Proc: copyProc(a.Proc), Parent: copyProc(a.Parent),
		Target: copyProc(a.Target), TargetPar: copyProc(a.TargetPar), DestName: a.DestName}
	for _, p := range a.Ancestors {
		c.Ancestors = append(c.Ancestors, *p)
	}
	return c
}

func (c *alertContext) alert(ev *event.Event, h *detect.Hit, replayed bool, debug detect.MatchDebug) *detect.Alert {
	a := &detect.Alert{Event: ev, Hit: h, Severity: h.AlertSeverity(), Replayed: replayed, MatchDebug: debug,
		Proc: c.Proc, Parent: c.Parent, Target: c.Target, TargetPar: c.TargetPar, DestName: c.DestName}
	for i := range c.Ancestors {
		a.Ancestors = append(a.Ancestors, &c.Ancestors[i])
	}
	return a
}

// RulesFingerprint names the Sigma rules a shard or merge loaded, so that
// a merge refuses parts replayed with other rules.
func RulesFingerprint(r *ruleset.Set) string {
	h := sha256.New()
	if r.Sigma != nil {
		for _, sr := range r.Sigma.Rules() {
			fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\n", sr.Path, sr.ID, sr.Title, sr.Correlation)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

func planHash(p *Plan) string {
	b, _ := json.Marshal(p)
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// partWriter is the alert sink of a shard: it encodes single-event alerts
// and keeps correlation inputs (Feed hits) with their context.
type partWriter struct {
	enc    *gob.Encoder
	ecs    ecs.NDJSON
	inputs map[*sigma.Rule]int
	cur    *partRecord
	m      *PartManifest
}

func (w *partWriter) Alert(a *detect.Alert) error {
	ev := a.Event
	if w.cur != nil && (w.cur.Time != ev.Time || w.cur.Host != ev.Host || w.cur.Seq != ev.Seq) {
		if err := w.flush(); err != nil {
			return err
		}
	}
	if w.cur == nil {
		w.cur = &partRecord{Time: ev.Time, Host: ev.Host, Seq: ev.Seq}
	}
	if a.Hit.Feed != nil {
		idx, ok := w.inputs[a.Hit.Feed]
		if !ok {
			return fmt.Errorf("shard: rule %q is not a correlation input", a.Hit.Feed.Title)
		}
		w.cur.Items = append(w.cur.Items, partItem{Feed: idx + 1, FeedView: a.Hit.FeedView, Ctx: contextOf(a)})
		w.m.Inputs++
		return nil
	}
	w.cur.Items = append(w.cur.Items, partItem{Line: w.ecs.Append(nil, a)})
	w.m.Alerts++
	return nil
}

func (w *partWriter) flush() error {
	if w.cur == nil {
		return nil
	}
	err := w.enc.Encode(w.cur)
	w.cur = nil
	return err
}

// lastEvent remembers the last event a source delivered: a merge ends the
// correlations at the last event of all shards, as the engine's Flush does.
type lastEvent struct {
	src pipeline.Source
	m   *PartManifest
}

func (l *lastEvent) Run(ctx context.Context, fn func([]event.Event) error) error {
	return l.src.Run(ctx, func(b []event.Event) error {
		if len(b) > 0 {
			e := &b[len(b)-1]
			l.m.HasLast, l.m.LastTime, l.m.LastHost, l.m.LastSeq = true, e.Time, e.Host, e.Seq
		}
		return fn(b)
	})
}

// ShardOptions are a shard run's inputs beyond Options (whose Sink is
// replaced).
type ShardOptions struct {
	Plan  *Plan
	Index int
	Out   string // part directory
}

// RunShard replays one shard of a plan into a part directory. src must read
// the plan's recordings restricted to ShardRead(plan, index), and
// opts.Start its start state.
func RunShard(ctx context.Context, src pipeline.Source, opts Options, so ShardOptions) (*Summary, error) {
	if err := os.MkdirAll(so.Out, 0o755); err != nil {
		return nil, err
	}
	os.Remove(filepath.Join(so.Out, manifestFile)) // a rerun invalidates the old part first
	tmp, err := os.CreateTemp(so.Out, partFile+".*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	bw := bufio.NewWriterSize(tmp, 1<<20)
	m := &PartManifest{Shard: so.Index, Shards: len(so.Plan.Shards), Plan: planHash(so.Plan), Rules: RulesFingerprint(opts.Rules)}
	pw := &partWriter{enc: gob.NewEncoder(bw), inputs: map[*sigma.Rule]int{}, m: m}
	if opts.Rules.Sigma != nil {
		for i, r := range opts.Rules.Sigma.CorrelationInputs() {
			pw.inputs[r] = i
		}
	}
	opts.Sink, opts.tap = pw, true
	sum, err := Run(ctx, &lastEvent{src: src, m: m}, opts)
	if err != nil {
		tmp.Close()
		return sum, err
	}
	m.Events = sum.Events
	if err := errors.Join(pw.flush(), bw.Flush(), tmp.Close()); err != nil {
		return sum, fmt.Errorf("part %s: %w", so.Out, err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(so.Out, partFile)); err != nil {
		return sum, err
	}
	mb, _ := json.MarshalIndent(m, "", "  ")
	mt := filepath.Join(so.Out, manifestFile+".tmp")
	if err := os.WriteFile(mt, append(mb, '\n'), 0o644); err != nil {
		return sum, err
	}
	return sum, os.Rename(mt, filepath.Join(so.Out, manifestFile))
}

// ShardRead is the read selection of a plan's shard.
func ShardRead(p *Plan, i int, base ReadOptions) (ReadOptions, error) {
	if i < 0 || i >= len(p.Shards) {
		return base, fmt.Errorf("shard %d: the plan has %d shards (0…%d)", i, len(p.Shards), len(p.Shards)-1)
	}
	s := p.Shards[i]
	base.From, base.To, base.Hosts = s.From, s.To, []string{s.Host}
	return base, nil
}
