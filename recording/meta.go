package recording

import (
	"encoding/json"
	"fmt"
	"hash/crc32"
	"sort"

	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/recording/internal/pqfile"
)

// Key-value metadata keys of a segment's Parquet footer.
const (
	// MetaSchemaVersion holds event.SchemaVersion as a decimal.
	MetaSchemaVersion = "edr.schema_version"
	// MetaSegment holds the SegmentMeta document (JSON).
	MetaSegment = "edr.segment"
	// MetaDataCRC is the CRC-32C (hex) of every byte before the footer.
	MetaDataCRC = pqfile.DataCRCKey
	// MetaFooterCRC is "crc32c:" + the CRC-32C (hex) of the footer computed
	// with these 8 hex digits set to "00000000". It is the last key.
	MetaFooterCRC = pqfile.FooterCRCKey
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// SourceInfo describes one imported source file, for import idempotency:
// an importer skips a file whose content hash the recording already has.
// It holds nothing that depends on the wall clock (no modification times),
// so that importing the same files yields the same bytes.
type SourceInfo struct {
	ContentHash string `json:"content_hash"` // e.g. "sha256:…"; the identity
	Path        string `json:"path,omitempty"`
	Format      string `json:"format,omitempty"` // evtx, json, …
	Size        int64  `json:"size,omitempty"`
	Events      int64  `json:"events,omitempty"`
	Skipped     int64  `json:"skipped,omitempty"` // records the importer could not read
}

// RecoveryGap is a range of a WAL's bytes that recovery could not read,
// [From, To) (byte offsets in the WAL). Records and Events are the records
// and event entries it held, known exactly from the intact record after it
// (see walSyncDoc); ToEnd: it runs to the end of the WAL and no intact
// record follows, so what it held is not known (Records, Events 0).
type RecoveryGap struct {
	From    int64  `json:"from"`
	To      int64  `json:"to"`
	Records int64  `json:"records_lost"`
	Events  int64  `json:"events_lost"`
	ToEnd   bool   `json:"to_end,omitempty"`
	Reason  string `json:"reason,omitempty"`
}

// Count is the number of events of one channel and event ID in a segment.
type Count struct {
	Channel string `json:"channel"`
	EventID uint16 `json:"event_id"`
	Events  int64  `json:"events"`
}

// SegmentMeta is the self-description of a segment, stored in its footer.
type SegmentMeta struct {
	SchemaVersion int    `json:"schema_version"`
	Producer      string `json:"producer,omitempty"`
	Source        string `json:"source,omitempty"` // event.Source of the writer
	Host          string `json:"host"`             // the real host name (the path holds a sanitized one)
	Date          string `json:"date"`             // partition date, yyyy-mm-dd (UTC)
	Events        int64  `json:"events"`
	FirstTime     int64  `json:"first_time"` // smallest event time, ns UTC
	LastTime      int64  `json:"last_time"`  // largest event time
	FirstSeq      uint64 `json:"first_seq"`
	LastSeq       uint64 `json:"last_seq"`
	// Sorted reports that rows are in (time, seq) order. Otherwise
	// MaxDisorder is how far (ns) a row's time lags the largest time before
	// it: a reader restores order with a buffer of that span of event time.
	// Writers keep it within WriterOptions.ReorderWindow except in segments
	// of at most unsortedMax events, which readers sort whole.
	Sorted      bool    `json:"sorted"`
	MaxDisorder int64   `json:"max_disorder_ns,omitempty"`
	Counts      []Count `json:"counts"`
	// Loss counters reported by the producer (e.g. ETW buffers lost) while
	// the segment was open, by name.
	Loss map[string]uint64 `json:"loss,omitempty"`
	// Recovered is set on a segment rebuilt from a write-ahead log after a
	// crash; RecoveryDroppedBytes counts the WAL bytes that could not be
	// read (damaged ranges, a torn tail: kept in <wal>.bad), and
	// RecoveryGaps says where they were and what they held (also in Loss,
	// as LossWALRecords and LossWALEvents).
	Recovered            bool          `json:"recovered,omitempty"`
	RecoveryDroppedBytes int64         `json:"recovery_dropped_bytes,omitempty"`
	RecoveryGaps         []RecoveryGap `json:"recovery_gaps,omitempty"`
	// Sources are the source files added while the segment was open.
	Sources []SourceInfo `json:"sources,omitempty"`
	// Spans say which events of which source files the segment holds
	// (sorted by content hash); see Writer.BeginSource.
	Spans []SourceSpan `json:"source_spans,omitempty"`
	// State is the opaque segment-start state snapshot (e.g. the detection
	// engine's process table) so that the segment replays on its own.
	State []byte `json:"state,omitempty"`
}

func (m *SegmentMeta) marshal() (string, error) {
	sort.Slice(m.Counts, func(i, j int) bool {
		a, b := m.Counts[i], m.Counts[j]
		if a.Channel != b.Channel {
			return a.Channel < b.Channel
		}
		return a.EventID < b.EventID
	})
	b, err := json.Marshal(m)
	return string(b), err
}

func parseMeta(s string) (*SegmentMeta, error) {
	var m SegmentMeta
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, fmt.Errorf("metadata %s: %w", MetaSegment, err)
	}
	if m.SchemaVersion > event.SchemaVersion {
		return nil, fmt.Errorf("schema version %d is newer than this build's %d", m.SchemaVersion, event.SchemaVersion)
	}
	return &m, nil
}

// counter accumulates per channel/EventID counts.
type counter map[countKey]int64

type countKey struct {
	channel string
	id      uint16
}

func (c counter) list() []Count {
	out := make([]Count, 0, len(c))
	for k, n := range c {
		out = append(out, Count{Channel: k.channel, EventID: k.id, Events: n})
	}
	return out
}
