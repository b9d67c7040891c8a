package detect

import (
	"context"
	"fmt"
	"strings"

	"github.com/edr-lab/edr/detect/filescan"
	"github.com/edr-lab/edr/detect/yara"
	"github.com/edr-lab/edr/event"
)

// FileMatcher turns file checks of process-start images (hash IOCs and YARA,
// package filescan) into hits. On replay it is the engine's FileScanner and
// reads the recording's artifact store synchronously; live, the background
// worker's results go through Hits.
type FileMatcher struct {
	s       *filescan.Scanner
	ioc     *IOCMatcher
	yara    map[string]*Rule // namespace:rule → rule
	Outcome [filescan.Failed + 1]uint64
}

// NewFileMatcher wraps a file scanner; iocSeverity is the severity of hash
// IOC alerts (YARA alerts are critical).
func NewFileMatcher(s *filescan.Scanner, iocSeverity Severity) *FileMatcher {
	return &FileMatcher{s: s, ioc: NewIOCMatcher(nil, iocSeverity), yara: map[string]*Rule{}}
}

// ScanProcess implements FileScanner for replay.
func (f *FileMatcher) ScanProcess(ev *event.Event, out []Hit) []Hit {
	if _, _, ok := f.s.Target(ev); !ok {
		return out
	}
	r := f.s.Replay(context.Background(), ev)
	return f.Hits(r, out)
}

// Hits converts a check's result. Hash IOC hits are kept only when the check
// filled the event's Hashes: otherwise the event carried the digests and the
// IOC matcher has already reported them.
func (f *FileMatcher) Hits(r filescan.Result, out []Hit) []Hit {
	if int(r.Outcome) < len(f.Outcome) {
		f.Outcome[r.Outcome]++
	}
	return f.hits(r, r.Filled, out)
}

// FileHits converts the check of a file found outside of any event
// (filescan.Scanner.CheckFile): its hash IOC hits are the only report of
// them. Safe for concurrent use only when serialized by the caller (it
// caches YARA rule metadata).
func (f *FileMatcher) FileHits(r filescan.Result, out []Hit) []Hit {
	return f.hits(r, true, out)
}

// Scanner is the file scanner the matcher wraps.
func (f *FileMatcher) Scanner() *filescan.Scanner { return f.s }

func (f *FileMatcher) hits(r filescan.Result, withIOC bool, out []Hit) []Hit {
	if withIOC {
		for i := range r.IOC {
			out = f.ioc.hit(&r.IOC[i], out)
		}
	}
	for i := range r.YARA {
		m := &r.YARA[i]
		out = append(out, Hit{Rule: f.yaraRule(m), Severity: SeverityCritical, YARA: &YARAMatch{
			Namespace: m.Namespace, Tags: m.Tags, File: r.Path, SHA256: r.SHA256, Strings: yaraStrings(m.Strings),
		}})
	}
	return out
}

func yaraStrings(ms []yara.StringMatch) []YARAString {
	out := make([]YARAString, len(ms))
	for i, s := range ms {
		out[i] = YARAString{Identifier: s.Name, Offset: s.Offset, Data: s.Data}
	}
	return out
}

// yaraRule returns the (cached) rule metadata of a YARA match, from its
// meta: description, author, reference, date.
func (f *FileMatcher) yaraRule(m *yara.Match) *Rule {
	key := m.Namespace + ":" + m.Rule
	if r, ok := f.yara[key]; ok {
		return r
	}
	r := &Rule{Engine: EngineYARA, ID: key, Name: m.Rule, Ruleset: "yara", Category: "file_scan", Severity: SeverityCritical, Tags: m.Tags}
	for _, kv := range m.Meta {
		v := fmt.Sprint(kv.Value)
		switch strings.ToLower(kv.Key) {
		case "description":
			r.Description = v
		case "author":
			r.Authors = SplitAuthors(v)
		case "reference":
			r.References = append(r.References, v)
		case "date", "modified":
			r.Version = v
		case "license":
			r.License = v
		}
	}
	r.Prepare()
	f.yara[key] = r
	return r
}
