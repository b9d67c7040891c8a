package recording

import (
	"fmt"
	"sort"
	"strconv"
	"time"
)

// Summary describes a recording from its segment footers (Inspect; no
// data page is read) or from all of its bytes (Verify). Its JSON form is
// what `edr inspect --json` prints.
type Summary struct {
	Dir           string   `json:"dir"`
	Events        int64    `json:"events"`
	Segments      int      `json:"segments"`
	Bytes         int64    `json:"bytes"`
	BytesPerEvent float64  `json:"bytes_per_event"`
	Hosts         []string `json:"hosts"`
	// First and Last are the event time span, RFC 3339 UTC ("" when empty);
	// FirstNs and LastNs the same in ns since the epoch.
	First   string `json:"first"`
	Last    string `json:"last"`
	FirstNs int64  `json:"first_ns"`
	LastNs  int64  `json:"last_ns"`
	// ByChannel counts events per channel; ByEventID per event ID (decimal
	// key, all channels); Counts per channel and event ID.
	ByChannel      map[string]int64 `json:"by_channel"`
	ByEventID      map[string]int64 `json:"by_event_id"`
	Counts         []Count          `json:"counts"`
	SchemaVersions []int            `json:"schema_versions"`
	Producers      []string         `json:"producers"`
	// Loss sums the producers' loss counters over all segments.
	Loss map[string]uint64 `json:"loss"`
	// RecoveredSegments were rebuilt from a write-ahead log after a crash;
	// RecoveryDroppedBytes are the WAL bytes those recoveries could not
	// read (torn tails, damaged ranges), and RecoveryGaps the segments
	// rebuilt around damaged ranges, with the ranges (what they held is
	// also in Loss).
	RecoveredSegments    int           `json:"recovered_segments"`
	RecoveryDroppedBytes int64         `json:"recovery_dropped_bytes"`
	RecoveryGaps         []SegmentGaps `json:"recovery_gaps"`
	// PendingWALs are write-ahead logs of segments still open (a writer is
	// running, or crashed and the recording was not reopened since).
	PendingWALs int `json:"pending_wals"`
	// PendingWALBytes and PendingWALFiles size and name them; KeptAside
	// are bytes recovery could not read, kept in *.bad files under .wal/;
	// SpecialFiles are FIFOs, devices or sockets found there (not opened).
	PendingWALBytes int64      `json:"pending_wal_bytes"`
	PendingWALFiles []FileSize `json:"pending_wal_files"`
	KeptAside       []FileSize `json:"kept_aside"`
	KeptAsideBytes  int64      `json:"kept_aside_bytes"`
	SpecialFiles    []string   `json:"special_files"`
	// Checked says what was read: "footers" (Inspect: segment footers and
	// their checksum only; data pages are not read) or "all pages" (Verify).
	Checked string       `json:"checked"`
	Sources []SourceInfo `json:"sources"`
	// PartialSources are source files whose import was interrupted: the
	// recording holds their first Events events (importing them again
	// adds the rest).
	PartialSources []SourceSpan `json:"partial_sources"`
	// CorruptSegments could not be read; UnreadableDirs are directories
	// whose segments could not even be listed (their other hosts are still
	// summarized). Errors names them and why.
	CorruptSegments int      `json:"corrupt_segments"`
	UnreadableDirs  int      `json:"unreadable_dirs"`
	Errors          []string `json:"errors"`
}

// SegmentGaps names a segment recovered from a WAL with ranges it could
// not read.
type SegmentGaps struct {
	Segment string        `json:"segment"`
	Gaps    []RecoveryGap `json:"gaps"`
}

// Inspect summarizes a recording from its segment footers. Corrupt
// segments are counted and named, not fatal.
func Inspect(dir string) (*Summary, error) { return inspect(dir, false) }

// Verify is Inspect that also reads every page of every segment and checks
// every checksum (edr inspect --verify); a segment whose data is damaged is
// counted corrupt, named with the place.
func Verify(dir string) (*Summary, error) { return inspect(dir, true) }

func inspect(dir string, verify bool) (*Summary, error) {
	paths, badDirs, err := listSegmentsSkipping(dir)
	if err != nil {
		return nil, fmt.Errorf("recording %s: %w", dir, err)
	}
	s := &Summary{Dir: dir, Hosts: []string{}, ByChannel: map[string]int64{}, ByEventID: map[string]int64{}, Counts: []Count{},
		SchemaVersions: []int{}, Producers: []string{}, Loss: map[string]uint64{}, Sources: []SourceInfo{}, PartialSources: []SourceSpan{}, Errors: []string{}, RecoveryGaps: []SegmentGaps{}}
	for _, err := range badDirs {
		s.UnreadableDirs++
		s.Errors = append(s.Errors, err.Error())
	}
	hosts, versions, producers := map[string]bool{}, map[int]bool{}, map[string]bool{}
	counts := counter{}
	sources := map[string]SourceInfo{}
	progress := map[string]int64{}
	first := true
	for _, p := range paths {
		seg, err := openSegFile(p, footerOnly)
		if err == nil && verify {
			if verr := verifySegment(p); verr != nil {
				seg.close()
				err = verr
			}
		}
		if err != nil {
			s.CorruptSegments++
			s.Errors = append(s.Errors, err.Error())
			continue
		}
		seg.close()
		m := seg.meta
		s.Segments++
		s.Bytes += seg.size
		s.Events += m.Events
		hosts[m.Host] = true
		versions[m.SchemaVersion] = true
		if m.Producer != "" {
			producers[m.Producer] = true
		}
		if m.Events > 0 {
			if first || m.FirstTime < s.FirstNs {
				s.FirstNs = m.FirstTime
			}
			if first || m.LastTime > s.LastNs {
				s.LastNs = m.LastTime
			}
			first = false
		}
		for _, c := range m.Counts {
			counts[countKey{c.Channel, c.EventID}] += c.Events
		}
		for k, v := range m.Loss {
			s.Loss[k] += v
		}
		if m.Recovered {
			s.RecoveredSegments++
			s.RecoveryDroppedBytes += m.RecoveryDroppedBytes
			if len(m.RecoveryGaps) > 0 {
				s.RecoveryGaps = append(s.RecoveryGaps, SegmentGaps{Segment: p, Gaps: m.RecoveryGaps})
			}
		}
		for _, si := range m.Sources {
			sources[si.ContentHash] = si
		}
		for _, sp := range m.Spans {
			progress[sp.ContentHash] = max(progress[sp.ContentHash], sp.End)
		}
	}
	list, err := readAllSources(dir)
	for _, si := range list {
		sources[si.ContentHash] = si
	}
	if err != nil {
		s.Errors = append(s.Errors, err.Error())
	}
	pend, err := PendingFiles(dir)
	if err != nil {
		s.Errors = append(s.Errors, err.Error())
	}
	s.PendingWALs, s.PendingWALBytes, s.PendingWALFiles = len(pend.WALs), pend.WALBytes, pend.WALs
	s.KeptAside, s.KeptAsideBytes, s.SpecialFiles = pend.KeptAside, pend.KeptAsideBytes, pend.SpecialFiles
	s.Checked = "footers"
	if verify {
		s.Checked = "all pages"
	}
	for h := range hosts {
		s.Hosts = append(s.Hosts, h)
	}
	sort.Strings(s.Hosts)
	for v := range versions {
		s.SchemaVersions = append(s.SchemaVersions, v)
	}
	sort.Ints(s.SchemaVersions)
	for p := range producers {
		s.Producers = append(s.Producers, p)
	}
	sort.Strings(s.Producers)
	s.Counts = counts.list()
	sort.Slice(s.Counts, func(i, j int) bool {
		a, b := s.Counts[i], s.Counts[j]
		return a.Channel < b.Channel || a.Channel == b.Channel && a.EventID < b.EventID
	})
	for _, c := range s.Counts {
		s.ByChannel[c.Channel] += c.Events
		s.ByEventID[strconv.Itoa(int(c.EventID))] += c.Events
	}
	for _, si := range sources {
		s.Sources = append(s.Sources, si)
	}
	sort.Slice(s.Sources, func(i, j int) bool { return s.Sources[i].ContentHash < s.Sources[j].ContentHash })
	for h, n := range progress {
		if _, done := sources[h]; !done {
			s.PartialSources = append(s.PartialSources, SourceSpan{ContentHash: h, End: n, Events: n})
		}
	}
	sort.Slice(s.PartialSources, func(i, j int) bool { return s.PartialSources[i].ContentHash < s.PartialSources[j].ContentHash })
	if s.Events > 0 {
		s.BytesPerEvent = float64(s.Bytes) / float64(s.Events)
		s.First = time.Unix(0, s.FirstNs).UTC().Format(time.RFC3339Nano)
		s.Last = time.Unix(0, s.LastNs).UTC().Format(time.RFC3339Nano)
	}
	return s, nil
}
