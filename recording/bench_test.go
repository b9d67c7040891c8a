package recording

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/edr-lab/edr/corpus/synth"
	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/internal/cputime"
	"github.com/klauspost/compress/zstd"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
	"github.com/stretchr/testify/require"
)

// Benchmarks over the generated mix (corpus/synth, 4 hosts). Throughput is reported as ev/s metrics; b.N counts events for the
// write benchmark and passes over a fixed recording for the read ones.
//
//	go test -run XXX -bench . -benchtime 1x -count 5 ./recording
//
// One iteration is one pass over BENCH_EVENTS events (default 1,000,000):
// writing them, or reading the recording of them written once per process
// (or the recording BENCH_REC names).

const benchHosts = 4

func benchEvents() int {
	if s := os.Getenv("BENCH_EVENTS"); s != "" {
		var n int
		for _, c := range s {
			n = n*10 + int(c-'0')
		}
		return n
	}
	return 1_000_000
}

// BenchmarkWrite writes BENCH_EVENTS events of the generated mix per
// iteration into a new recording (Writer with its WAL, default options).
// The generator fills a reused batch of 1024 events; ev/s counts the wall
// time of the Write and Close calls only (as storage-limits.md did), and
// ev/cpu-s the process CPU time minus that of a generator-only pass over
// the same events.
func BenchmarkWrite(b *testing.B) {
	n := benchEvents()
	batch := make([]event.Event, 1024)
	gen := func(g *synth.Generator) int {
		k := 0
		for k < len(batch) && g.Next(&batch[k]) {
			k++
		}
		return k
	}
	cpu0 := cputime.Now()
	g := synth.New(synth.Options{Seed: 42, Hosts: benchHosts, Events: int64(n)})
	for gen(g) > 0 {
	}
	genCPU := cputime.Now() - cpu0
	var bytes, events int64
	var wall, cpu time.Duration
	for it := 0; it < b.N; it++ {
		dir := b.TempDir()
		cpu0 := cputime.Now()
		w, err := OpenWriter(dir, WriterOptions{Source: event.SourceSynthetic})
		require.NoError(b, err)
		g := synth.New(synth.Options{Seed: 42, Hosts: benchHosts, Events: int64(n)})
		for {
			k := gen(g)
			if k == 0 {
				break
			}
			start := time.Now()
			for i := range batch[:k] {
				if err := w.Write(&batch[i]); err != nil {
					b.Fatal(err)
				}
			}
			wall += time.Since(start)
		}
		start := time.Now()
		require.NoError(b, w.Close())
		wall += time.Since(start)
		cpu += cputime.Now() - cpu0 - genCPU
		s, err := Inspect(dir)
		require.NoError(b, err)
		bytes += s.Bytes
		events += s.Events
	}
	b.ReportMetric(float64(events)/wall.Seconds(), "ev/s")
	reportCPU(b, float64(events), cpu)
	b.ReportMetric(float64(bytes)/float64(events), "B/ev")
}

var benchRec struct {
	once sync.Once
	dir  string
	keep bool // BENCH_REC: not ours to remove
	n    int64
	err  error
}

// benchRecording writes the read benchmarks' recording once per process.
func benchRecording(b *testing.B) (string, int64) {
	benchRec.once.Do(func() {
		if dir := os.Getenv("BENCH_REC"); dir != "" {
			// A recording written earlier (e.g. by edr generate): read only,
			// so that peak RSS can be measured for reading alone.
			s, err := Inspect(dir)
			benchRec.err = err
			if err == nil {
				benchRec.n = s.Events
				keep := dir
				benchRec.dir, benchRec.keep = keep, true
			}
			return
		}
		dir, err := os.MkdirTemp("", "edr-bench-rec-")
		if err != nil {
			benchRec.err = err
			return
		}
		benchRec.dir = dir
		w, err := OpenWriter(dir, WriterOptions{Source: event.SourceSynthetic})
		if err != nil {
			benchRec.err = err
			return
		}
		n := benchEvents()
		g := synth.New(synth.Options{Seed: 42, Hosts: benchHosts, Events: int64(n)})
		var e event.Event
		for g.Next(&e) {
			if err := w.Write(&e); err != nil {
				benchRec.err = err
				return
			}
		}
		benchRec.err = w.Close()
		benchRec.n = int64(n)
	})
	require.NoError(b, benchRec.err)
	return benchRec.dir, benchRec.n
}

func TestMain(m *testing.M) {
	code := m.Run()
	if benchRec.dir != "" && !benchRec.keep {
		os.RemoveAll(benchRec.dir)
	}
	os.Exit(code)
}

var sink func(*event.Event)

func noop(*event.Event) {}

func init() { sink = noop }

func benchRead(b *testing.B, opts ReaderOptions) {
	dir, n := benchRecording(b)
	b.ResetTimer()
	cpu0 := cputime.Now()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		r, err := OpenReader(dir, opts)
		require.NoError(b, err)
		var got int64
		require.NoError(b, r.Run(func(batch []event.Event) error {
			for j := range batch {
				sink(&batch[j])
			}
			got += int64(len(batch))
			return nil
		}))
		if got != n {
			b.Fatalf("read %d events, want %d", got, n)
		}
	}
	el := time.Since(start)
	cpu := cputime.Now() - cpu0
	b.ReportMetric(float64(n)*float64(b.N)/el.Seconds(), "ev/s")
	reportCPU(b, float64(n)*float64(b.N), cpu)
}

// reportCPU reports events per CPU-second: on a shared machine it varies
// much less than events per second.
func reportCPU(b *testing.B, events float64, cpu time.Duration) {
	if cpu > 0 {
		b.ReportMetric(events/cpu.Seconds(), "ev/cpu-s")
	}
}

func BenchmarkRead(b *testing.B) {
	for _, p := range []int{1, 2} {
		b.Run("par="+string(rune('0'+p)), func(b *testing.B) { benchRead(b, ReaderOptions{Parallelism: p}) })
	}
}

func BenchmarkReadProjection(b *testing.B) {
	benchRead(b, ReaderOptions{Parallelism: 2, Fields: []event.FieldID{event.FImage, event.FCommandLine}})
}

// BenchmarkZstdFloor decompresses every page of the recording (the same
// bytes the reader decompresses), one goroutine, and reports the equivalent
// ev/s: the floor any zstd-based reader pays. Read ev/s divided by this is
// the reader's efficiency ratio.
func BenchmarkZstdFloor(b *testing.B) {
	dir, n := benchRecording(b)
	pages := segmentPages(b, dir)
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
	require.NoError(b, err)
	var buf []byte
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		for _, p := range pages {
			buf, err = dec.DecodeAll(p, buf[:0])
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	el := time.Since(start)
	b.ReportMetric(float64(n)*float64(b.N)/el.Seconds(), "ev/s")
}

// segmentPages extracts the compressed page bodies of every segment.
func segmentPages(b *testing.B, dir string) [][]byte {
	paths, err := listSegments(dir)
	require.NoError(b, err)
	var out [][]byte
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		require.NoError(b, err)
		s, err := openSegFile(p, footerOnly)
		require.NoError(b, err)
		for _, rg := range s.pf.Metadata().RowGroups {
			for _, cc := range rg.Columns {
				md := cc.MetaData
				off := md.DataPageOffset
				if md.DictionaryPageOffset > 0 {
					off = md.DictionaryPageOffset
				}
				r := bytes.NewReader(raw[off : off+md.TotalCompressedSize])
				for r.Len() > 0 {
					var h format.PageHeader
					require.NoError(b, thrift.NewDecoder(new(thrift.CompactProtocol).NewReader(r)).Decode(&h))
					body := make([]byte, h.CompressedPageSize)
					_, err := io.ReadFull(r, body)
					require.NoError(b, err)
					out = append(out, body)
				}
			}
		}
		s.close()
	}
	return out
}

var _ = binary.LittleEndian
var _ = filepath.Join
var _ = runtime.GOMAXPROCS

// BenchmarkAddSource adds sources to a recording that already has
// existing ones: the cost per source must not grow with their number.
func BenchmarkAddSource(b *testing.B) {
	for _, existing := range []int{100, 10000} {
		b.Run(fmt.Sprint("existing=", existing), func(b *testing.B) {
			dir := b.TempDir()
			w, err := OpenWriter(dir, WriterOptions{})
			require.NoError(b, err)
			for i := 0; i < existing; i++ {
				require.NoError(b, w.AddSource(SourceInfo{ContentHash: fmt.Sprintf("sha256:%064x", i), Path: fmt.Sprint("dir/file", i, ".evtx"), Format: "evtx", Events: 1000}))
			}
			require.NoError(b, w.Close())
			w, err = OpenWriter(dir, WriterOptions{})
			require.NoError(b, err)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				require.NoError(b, w.AddSource(SourceInfo{ContentHash: fmt.Sprintf("sha256:x%063x", i), Path: fmt.Sprint("dir/new", i, ".evtx"), Format: "evtx", Events: 1000}))
			}
			b.StopTimer()
			require.NoError(b, w.Close())
		})
	}
}
