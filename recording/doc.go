// Package recording is edr's on-disk format: a directory of Hive-partitioned
// Parquet segments, host=<name>/date=<yyyy-mm-dd>/<first-time>-<seq>.parquet,
// that DuckDB, Spark or pandas read as one table.
//
// # Host directories
//
// The host=<value> directory (and its twin under .wal/) holds the host name
// percent-encoded: bytes outside [A-Za-z0-9._-] become %XX, "." and ".."
// are encoded whole, a trailing "." is encoded (Windows drops it from file
// names), and the empty host is "_". A name whose encoding is longer than
// 200 bytes (a file name holds 255; a damaged or hostile log's Computer can
// be any length) gets a shortened value instead: the first 64 bytes of the
// encoding (never a cut %XX), "~", and the first 16 hex digits of the
// SHA-256 of the full name, e.g. host=hhhh…hhhh~8f2a…. The same name always
// gives the same directory, "~" never occurs in an unshortened value, and
// no host name can reach outside its directory. The full name is in the
// Host column and the segment metadata; readers, host filters and Inspect
// use it, and never decode a shortened value. Names that always fitted keep
// the directory names they always had (path.go).
//
// A host whose partition directory cannot be created (e.g. a file stands in
// its way) makes Write return ErrEventRejected for its events only; the
// Writer goes on with the others.
//
// # Columns
//
// Header columns Time (TIMESTAMP(NANOS), UTC), Host, Channel, Provider,
// EventID, RecordID, Seq, Source, Flags; one optional UTF-8 column per
// schema field (event.Fields(), virtual fields excepted) named as the field,
// where names that differ only in case share the column of the first
// (schema version 2; schema.go); Spellings, the exceptions to the spelling
// an event's definition implies; and Extra, the event's key/value part as
// LIST<STRUCT<Key, Value>> in
// arrival order. An absent field is NULL and a present empty one is "", so
// the distinction survives both edr's reader and SQL engines. Strings are
// dictionary-encoded, Time/RecordID/Seq delta-encoded, pages zstd (at
// WriterOptions.PageCompression's level).
//
// Segments are written by a purpose-built encoder (pqwrite.go over
// internal/pqfile's page writer) and read by a page-level column decoder
// (internal/pqfile's Column, laid out per segment by decode.go and
// segment.go). Column reads the pages of the flat string columns itself
// (pqfile's pages.go: page headers, zstd, level runs, dictionary indexes,
// so a run of nulls costs one step, not a byte per row) and every other
// column through parquet-go's page API; see pqwrite.go for why
// parquet-go's GenericWriter is not used.
//
// # Order and memory
//
// Reader.Run delivers events in (time, host, seq) order across all
// segments: a k-way merge of per-segment cursors, each decoding chunks of
// 8192 rows ahead on a worker (ReaderOptions.Parallelism; the output does not
// depend on it). A segment whose rows are out of time order is either within
// WriterOptions.ReorderWindow (restored with a heap over that span) or holds
// at most 8192 events (sorted in memory); the writer guarantees one or the
// other, so memory per open segment stays bounded whatever the input order.
// Every segment's data and footer checksums (CRC-32C, in the footer) are
// verified before its pages are decoded; a corrupt segment is skipped with a
// SegmentError (wrapping ErrCorrupt) naming it, or fails Run in strict mode.
//
// # Durability
//
// Every open segment (one per host and UTC day) has a write-ahead log under
// .wal/ (package wal) flushed every WriterOptions.FlushInterval; a crash loses
// at most that much (WriterOptions.Durable reports the last Seq of each
// completed flush), and OpenWriter turns leftover logs into segments. A
// finished segment is renamed into its partition and never rewritten.
//
// Recovery never deletes a byte it could not read, and reads every record
// it can. A record that is cut or fails its CRC-32C is a damaged range;
// recovery then looks for the next intact record (a frame whose length
// fits, whose payload passes its CRC-32C and decompresses, at the damaged
// record's own length or else at the next record marker, or zstd frame
// magic in a version 1 log; package wal has both formats) and reads on
// from there when that record can be read without the ones before it. A
// record depends on the entries before it for the header's field table,
// the source run that numbers its events (exactly-once imports) and the
// counts that say what was lost, so every record after the first begins
// with a walSync entry restating them (walsync.go); the header's other
// entries (host, date, producer, state snapshot) are needed only when the
// header record itself is damaged, and then the host and date come from
// the events, the field table is this build's if its digest matches, and
// producer and state snapshot are lost. A candidate record is taken only
// when its walSync is consistent (no fewer records and events before it,
// the same field table) and every entry is one a later record may hold and
// decodes: events with the WAL's host and date and a Seq above every one
// read so far. That guards against a false frame (bytes inside a damaged
// record that happen to, or an event's data crafted to, look like one): a
// crafted frame would have to guess those values and its events would
// still be events written to that host's log. WALs written before walSync
// existed, and raw WALs, are read up to their first damaged record.
//
// The events recovered, before and after each damaged range, become the
// segment in the order written. The damaged ranges, and a damaged or cut
// rest that no intact record follows, are copied byte for byte, in order,
// to <wal>.bad; WriterStats.Recovery reports each WAL's ranges
// (WALRecovery.Gaps: offsets, and the records and events each held, known
// exactly from the walSync of the record after it), the segment's footer
// keeps them (SegmentMeta.RecoveryGaps, and the loss counters
// wal_damaged_records and wal_damaged_events), Inspect lists them and
// replay warns about them.
//
// Of a source not completed, recovery keeps an exact prefix (see Sources):
// its events in a damaged range leave a hole in its index runs, so its
// durable prefix ends at the hole and its events after the hole are
// dropped like any past the prefix (counted in RecoveryDroppedEvents, not
// kept aside: a resumed import writes them again, exactly once). Events of
// a completed source, or of none (generate, live capture), after a damaged
// range are kept. A damaged magic alone is tolerated when a record after
// it passes its checksum. A WAL is removed without a copy only when it is provably
// what a crash while creating it leaves: shorter than the 8-byte magic and
// a prefix of it or all zero bytes (or the bare magic, which holds no
// record). A WAL whose records cannot be turned into a segment at all is
// renamed to <wal>.bad whole. PendingFiles lists pending WALs and *.bad
// files with their sizes.
//
// Special files (FIFOs, devices, sockets) are never opened by a reader or a
// writer (internal/fsutil): in place of a segment one is a corrupt segment
// (named, skipped, fatal in strict mode); under .wal/ it is named in
// WriterStats.SpecialFiles and left alone; as the lock file, sources log or
// sources.json it makes OpenWriter fail naming it.
//
// Inspect reads only segment footers (Summary.Checked says so); Verify
// reads every page of every segment and checks the data checksum too.
//
// One Writer at a time: OpenWriter takes an exclusive lock on .writer.lock
// (ErrLocked otherwise); readers need none.
//
// # Sources
//
// Imported files are identified by content hash. AddSource marks one
// complete with one record appended to .wal/sources.log, folded into
// sources.json when a Writer opens or closes. BeginSource numbers the
// following events as the file's; WALs and segment footers (Spans) keep
// those numbers, and recovery keeps of a file not completed exactly a
// prefix of its events, so SourceProgress tells an importer how many to
// skip to resume it exactly once (sources.go). An event refused with
// ErrEventRejected still uses up its number, so an importer that counts
// decoded events stays aligned.
//
// # Raw layer
//
// A live capture also stores every raw ETW record (capture/raw) beside the
// events, so that a decoder fixed later can re-normalize an old recording
// (package renorm, edr renormalize). Raw records are Parquet files of their
// own under raw/host=<name>/date=<yyyy-mm-dd>/<seq>-<n>-<first-time>.parquet
// (named so that a partition's files sort in capture order, rawlayer.go):
// the events stay one table for DuckDB's host=*/date=*/*.parquet glob (a
// ** glob would reach raw/ too) and for Reader, which does not descend into
// raw/. Columns: Time (TIMESTAMP(NANOS), the record's FILETIME, exact),
// Host, Seq (the Seq of the first event the record produced; NULL when it
// produced none), Provider (GUID text), EventID, Version, Opcode, Level,
// Keywords (UINT64), PID, TID, HeaderFlags, UserData (the payload as
// delivered, NULL when none or empty) and Props, the typed property bag as
// LIST<STRUCT<Name, Kind, U64, I64, Str, Bytes>>: numeric kinds keep their
// bits in U64 (unsigned 64-bit, exact above 2^53) and signed ones their
// value in I64 too; strings, SIDs and addresses are in Str, GUIDs and
// binary in Bytes. Kind is the kind's name (u8 … ip).
//
// Writer.WriteRaw uses the events' machinery rather than a second format:
// each open raw segment (one per host and UTC day, at most 2^20 records,
// written as it goes in row groups of 4096) has its own WAL under .wal/raw/… in the
// same WAL format, with a header entry and one walRaw entry per record,
// flushed by the same flusher on the same interval and closed (Parquet
// file written, fsynced, renamed into raw/, then the WAL removed) by Close.
// Recovery turns a raw WAL into its file exactly like an event WAL: the
// records of every good WAL record, an exact prefix of those written, with
// the unreadable rest kept aside in <wal>.bad. ReadRaw reads the layer by
// time range and host, files in path order and each file in capture order.
// Raw files are written by rawEncoder (rawpq.go) over pqfile's page writer,
// to the schema parquet-go derives for rawRow (so parquet-go, which ReadRaw
// uses, DuckDB and Spark read them as before): live capture writes a raw
// record per event, and parquet-go's GenericWriter took 2.7 times the CPU.
//
// # Determinism
//
// No wall-clock value reaches segment bytes or names, and segment boundaries
// depend only on the events, so the same input gives a byte-identical
// recording.
package recording
