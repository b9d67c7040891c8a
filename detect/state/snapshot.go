package state

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"net/netip"
	"slices"

	"github.com/klauspost/compress/zstd"
)

// A state snapshot is what one host's alerts need from the engine's state
// at an instant: its processes (with parent links, exits and PID owners)
// and its DNS answers. Recordings keep one per segment, taken when the
// segment opens (recording.WriterOptions.Snapshot), so a replay that starts
// at any segment — or at any time, after running the events between the
// segment's start and that time through State.Observe (Engine.ObserveState) — attaches the
// same process context as a replay of the whole recording.
//
// The encoding (version 1) is "EDRS", the version as a varint, then one
// zstd frame holding the payload, in varints:
//
//	host at
//	strings: count, then each as length + bytes (index 0 is "")
//	processes: count, then each: flags, 17 string indexes, Start, End
//	dns: count, then each: address (length + netip bytes), name index, time
//	CRC-32C (Castagnoli) of the payload before it, 4 bytes little-endian
//
// Entries run from the least to the most recently used, so restoring them
// in order rebuilds the recency order (and with it, which entry the size
// bound evicts first). Everything is derived from the table in list order —
// never from map iteration — so the same state gives the same bytes.
//
// Only what alerts read is kept (Process no longer holds the event's
// IntegrityLevel, which no alert reads). Exited processes and DNS answers that have already
// expired at the snapshot's time are left out. A field that alerts start
// reading must be added here with a new version.

// SnapshotVersion is the version of the state snapshot encoding written.
const SnapshotVersion = 1

var snapshotMagic = []byte("EDRS")

// Errors of RestoreState (wrapped with details).
var (
	// ErrSnapshotVersion: the snapshot was written by a newer (or unknown)
	// encoding.
	ErrSnapshotVersion = errors.New("state snapshot: unknown version")
	// ErrSnapshotCorrupt: the bytes are not a snapshot, or fail their
	// checksum or bounds.
	ErrSnapshotCorrupt = errors.New("state snapshot: corrupt")
)

// SnapshotLimits bound a snapshot. Zero values select the defaults.
type SnapshotLimits struct {
	MaxProcesses int // default 16384 per host
	MaxDNS       int // default 4096 per host
	// MaxBytes bounds the payload before compression (default 4 MiB): the
	// most recently used entries are kept, processes before DNS answers.
	MaxBytes int
}

func (l *SnapshotLimits) defaults() {
	if l.MaxProcesses <= 0 {
		l.MaxProcesses = 16384
	}
	if l.MaxDNS <= 0 {
		l.MaxDNS = 4096
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = 4 << 20
	}
}

// snapshot flags of a process.
const (
	snapPartial  = 1 << 0
	snapPIDOwner = 1 << 1 // the table's entry for its PID (ByPID)
)

// procStrings lists the Process strings a snapshot keeps, in encoding
// order; those of its File are f's (a copy to read, or one to fill).
func procStrings(p *Process, f *FileInfo) [17]*string {
	return [17]*string{&p.GUID, &p.PID, &p.Image, &p.CommandLine, &p.CurrentDirectory, &p.User, &f.Hashes,
		&f.OriginalFileName, &f.Company, &f.Description, &f.Product, &f.FileVersion,
		&p.ParentGUID, &p.ParentPID, &p.ParentImage, &p.ParentCommand, &p.ParentUser}
}

// snapEntry is one process of a snapshot.
type snapEntry struct {
	p     *Process
	flags byte
}

// snapDNS is one DNS answer of a snapshot.
type snapDNS struct {
	ip   netip.Addr
	name string
	at   int64
}

// encodeSnapshot writes host's entries (most recent first in procs and dns)
// within the limits.
func encodeSnapshot(host string, at int64, procs []snapEntry, dns []snapDNS, lim SnapshotLimits) []byte {
	lim.defaults()
	// Choose the entries: most recent first, until a bound is reached. The
	// string table is counted as it grows.
	strIdx := make(map[string]uint64, 4*len(procs)+len(dns)+1)
	strIdx[""] = 0
	strs := []string{""}
	size := 64 + len(host)
	intern := func(s string) {
		if _, ok := strIdx[s]; !ok {
			strIdx[s] = uint64(len(strs))
			strs = append(strs, s)
			size += len(s) + binary.MaxVarintLen32
		}
	}
	nProcs := 0
	for _, e := range procs {
		if nProcs == lim.MaxProcesses {
			break
		}
		const fixed = 1 + 17*3 + 2*binary.MaxVarintLen64 // flags, string indexes (< 2^21), times
		add := fixed
		for _, s := range procStrings(e.p, e.p.FileInfo()) {
			if _, ok := strIdx[*s]; !ok {
				add += len(*s) + binary.MaxVarintLen32
			}
		}
		if size+add > lim.MaxBytes {
			break
		}
		for _, s := range procStrings(e.p, e.p.FileInfo()) {
			intern(*s)
		}
		size += fixed
		nProcs++
	}
	nDNS := 0
	for _, d := range dns {
		if nDNS == lim.MaxDNS {
			break
		}
		ip, _ := d.ip.MarshalBinary()
		fixed := 1 + len(ip) + 3 + binary.MaxVarintLen64 // address, name index, time
		add := fixed
		if _, ok := strIdx[d.name]; !ok {
			add += len(d.name) + binary.MaxVarintLen32
		}
		if size+add > lim.MaxBytes {
			break
		}
		intern(d.name)
		size += fixed
		nDNS++
	}

	b := make([]byte, 0, size)
	b = appendStr(b, host)
	b = binary.AppendVarint(b, at)
	b = binary.AppendUvarint(b, uint64(len(strs)-1))
	for _, s := range strs[1:] {
		b = appendStr(b, s)
	}
	b = binary.AppendUvarint(b, uint64(nProcs))
	for i := nProcs - 1; i >= 0; i-- { // least recent first
		e := procs[i]
		b = append(b, e.flags)
		for _, s := range procStrings(e.p, e.p.FileInfo()) {
			b = binary.AppendUvarint(b, strIdx[*s])
		}
		b = binary.AppendVarint(b, e.p.Start)
		b = binary.AppendVarint(b, e.p.End)
	}
	b = binary.AppendUvarint(b, uint64(nDNS))
	for i := nDNS - 1; i >= 0; i-- {
		d := dns[i]
		ip, _ := d.ip.MarshalBinary()
		b = appendStr(b, string(ip))
		b = binary.AppendUvarint(b, strIdx[d.name])
		b = binary.AppendVarint(b, d.at)
	}
	return sealSnapshot(b)
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// maxSnapshotPayload bounds what DecodeSnapshot inflates (MaxBytes of any
// sensible writer is far below).
const maxSnapshotPayload = 256 << 20

// The zstd coders are safe for concurrent EncodeAll/DecodeAll and
// deterministic (same payload, same bytes).
var (
	snapEncoder, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(1),
		zstd.WithWindowSize(1<<20), zstd.WithLowerEncoderMem(true))
	snapDecoder, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(maxSnapshotPayload))
)

// sealSnapshot checksums and compresses a payload behind the header.
func sealSnapshot(payload []byte) []byte {
	payload = binary.LittleEndian.AppendUint32(payload, crc32.Checksum(payload, castagnoli))
	out := append([]byte(nil), snapshotMagic...)
	out = binary.AppendUvarint(out, SnapshotVersion)
	return snapEncoder.EncodeAll(payload, out)
}

func appendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// Snapshot is a decoded state snapshot.
type Snapshot struct {
	Host      string
	At        int64      // event time the snapshot describes
	Processes []*Process // least recently used first
	pidOwner  []bool     // per process: the table's entry for its PID
	dns       []snapDNS  // least recently used first
}

// DNSAnswers is the number of DNS answers held.
func (s *Snapshot) DNSAnswers() int { return len(s.dns) }

// DecodeSnapshot parses a snapshot. Errors wrap ErrSnapshotVersion or
// ErrSnapshotCorrupt.
func DecodeSnapshot(data []byte) (*Snapshot, error) {
	if len(data) < len(snapshotMagic)+1 || string(data[:len(snapshotMagic)]) != string(snapshotMagic) {
		return nil, fmt.Errorf("%w: no snapshot header", ErrSnapshotCorrupt)
	}
	v, n := binary.Uvarint(data[len(snapshotMagic):])
	if n <= 0 {
		return nil, fmt.Errorf("%w: no version", ErrSnapshotCorrupt)
	}
	if v != SnapshotVersion {
		return nil, fmt.Errorf("%w %d (this build reads %d)", ErrSnapshotVersion, v, SnapshotVersion)
	}
	payload, err := snapDecoder.DecodeAll(data[len(snapshotMagic)+n:], nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSnapshotCorrupt, err)
	}
	if len(payload) < 4 {
		return nil, fmt.Errorf("%w: no checksum", ErrSnapshotCorrupt)
	}
	body := payload[:len(payload)-4]
	if want := binary.LittleEndian.Uint32(payload[len(body):]); crc32.Checksum(body, castagnoli) != want {
		return nil, fmt.Errorf("%w: checksum mismatch", ErrSnapshotCorrupt)
	}
	d := snapReader{b: body}
	s := &Snapshot{Host: d.str(), At: d.varint()}
	nStr := d.count(1)
	strs := make([]string, 1, nStr+1)
	for i := 0; i < nStr && d.err == nil; i++ {
		strs = append(strs, d.str())
	}
	ref := func() string {
		i := d.uvarint()
		if i >= uint64(len(strs)) {
			d.fail("string index %d of %d", i, len(strs))
			return ""
		}
		return strs[i]
	}
	var files fileInterner // processes of one image share its FileInfo, as in a table
	nProcs := d.count(1 + 17 + 2)
	for i := 0; i < nProcs && d.err == nil; i++ {
		flags := d.byte()
		p := &Process{Host: s.Host, Partial: flags&snapPartial != 0}
		var file FileInfo
		for _, f := range procStrings(p, &file) {
			*f = ref()
		}
		p.File = files.get(file)
		p.Start, p.End = d.varint(), d.varint()
		s.Processes = append(s.Processes, p)
		s.pidOwner = append(s.pidOwner, flags&snapPIDOwner != 0)
	}
	nDNS := d.count(4)
	for i := 0; i < nDNS && d.err == nil; i++ {
		var e snapDNS
		if err := e.ip.UnmarshalBinary([]byte(d.str())); err != nil && d.err == nil {
			d.fail("DNS address: %v", err)
		}
		e.name, e.at = ref(), d.varint()
		s.dns = append(s.dns, e)
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail("%d bytes after the last entry", len(d.b))
	}
	if d.err != nil {
		return nil, d.err
	}
	return s, nil
}

// snapReader decodes varints and strings, remembering the first error.
type snapReader struct {
	b   []byte
	err error
}

func (d *snapReader) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: "+format, append([]any{ErrSnapshotCorrupt}, args...)...)
	}
	d.b = nil
}

func (d *snapReader) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("truncated number")
		return 0
	}
	d.b = d.b[n:]
	return v
}

// varint reads a zig-zag signed varint (binary.AppendVarint).
func (d *snapReader) varint() int64 {
	u := d.uvarint()
	x := int64(u >> 1)
	if u&1 != 0 {
		x = ^x
	}
	return x
}

func (d *snapReader) byte() byte {
	if len(d.b) == 0 {
		d.fail("truncated entry")
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *snapReader) str() string {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail("string of %d bytes with %d left", n, len(d.b))
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

// count reads an entry count and checks it against the bytes left (each
// entry takes at least min bytes), so a corrupt count cannot allocate.
func (d *snapReader) count(min int) int {
	n := d.uvarint()
	if n > uint64(len(d.b)/min) {
		d.fail("count %d with %d bytes left", n, len(d.b))
		return 0
	}
	return int(n)
}

// snapshot collects host's live entries at time at (most recent first).
func (t *ProcessTable) snapshot(host string, at int64) []snapEntry {
	var out []snapEntry
	t.byGUID.each(func(p *Process) bool {
		if p.Host != host || p.End != 0 && p.End+t.ttl < at {
			return true // another host's, or gone when the next event expires it
		}
		var flags byte
		if p.Partial {
			flags |= snapPartial
		}
		if t.byPID.owns(p) {
			flags |= snapPIDOwner
		}
		out = append(out, snapEntry{p, flags})
		return true
	})
	return out
}

// restore adds a snapshot's processes (least recent first, so the recency
// order is rebuilt). Exits are re-queued in time order.
func (t *ProcessTable) restore(s *Snapshot) {
	t.compactExits()
	for i, p := range s.Processes {
		t.byGUID.Put(p)
		if s.pidOwner[i] {
			t.byPID.claim(p)
		}
		if p.End != 0 {
			t.exits = append(t.exits, exitMark{p.key(), p.End})
		}
	}
	slices.SortStableFunc(t.exits, func(a, b exitMark) int {
		switch {
		case a.at < b.at:
			return -1
		case a.at > b.at:
			return 1
		}
		return 0
	})
}

// snapshot collects host's answers still valid at time at (most recent
// first).
func (c *DNSCache) snapshot(host string, at int64) []snapDNS {
	var out []snapDNS
	c.entries.each(func(e dnsEntry) bool {
		if e.k.host == host && at-e.at <= c.ttl {
			out = append(out, snapDNS{e.k.ip, e.name, e.at})
		}
		return true
	})
	return out
}

func (c *DNSCache) restore(s *Snapshot) {
	for _, e := range s.dns {
		c.entries.Put(dnsEntry{dnsKey{s.Host, e.ip}, e.name, e.at})
	}
}
