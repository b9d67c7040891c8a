package decode

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/edr-lab/edr/capture"
	"github.com/edr-lab/edr/capture/raw"
	"github.com/edr-lab/edr/event"
)

// family is what a fuzz target varies: a provider, its ids and the
// property names its decoders read.
type family struct {
	provider raw.ProviderID
	ids      []uint16
	props    []string
}

var kinds = []raw.Kind{raw.U8, raw.U16, raw.U32, raw.U64, raw.I32, raw.String, raw.SID, raw.Pointer, raw.Binary, raw.IP, raw.GUID, raw.FileTime}

// records turns fuzz bytes into a sequence of records of the family: the
// stateful decoders (joins, held writes) see orders no fixture has.
func (f family) records(data []byte) []*raw.Record {
	var out []*raw.Record
	next := func(n int) []byte {
		if len(data) < n {
			b := make([]byte, n)
			copy(b, data)
			data = nil
			return b
		}
		b := data[:n]
		data = data[n:]
		return b
	}
	for len(data) > 0 && len(out) < 64 {
		h := next(4)
		r := &raw.Record{Provider: f.provider, EventID: f.ids[int(h[0])%len(f.ids)], Version: h[1] % 6,
			PID: uint32(h[2]), Timestamp: 134360063001409789 + int64(len(out))}
		for np := int(h[3] % 8); np > 0 && len(data) > 0; np-- {
			p := next(3)
			name := f.props[int(p[0])%len(f.props)]
			k := kinds[int(p[1])%len(kinds)]
			l := int(p[2] % 24)
			v := next(l)
			switch {
			case k.Numeric():
				var b [8]byte
				copy(b[:], v)
				r.AddNum(name, k, binary.LittleEndian.Uint64(b[:]))
			case k == raw.Binary || k == raw.GUID:
				r.AddBytes(name, k, v)
			default:
				r.AddString(name, k, string(v))
			}
		}
		out = append(out, r)
	}
	return out
}

func fuzzFamily(f *testing.F, fam family, seeds ...[]byte) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Add([]byte{0, 0, 0, 3, 0, 2, 4, 1, 2, 3, 4, 1, 1, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		d := New(Options{MaxFiles: 4, MaxKeys: 4, MaxHeld: 2, MaxKept: 2})
		emit := func(e *event.Event) {
			require.NotEmpty(t, e.Channel)
			require.NotZero(t, e.EventID)
		}
		for _, r := range fam.records(data) {
			d.Decode(r, emit)
		}
		d.Flush(emit)
		require.LessOrEqual(t, d.fileObj.len(), 4)
		require.LessOrEqual(t, d.keys.len(), 4)
		require.LessOrEqual(t, len(d.held), 2)
	})
}

func FuzzDecodeProcess(f *testing.F) {
	fuzzFamily(f, family{capture.KernelProcess, []uint16{1, 2, 5, 3},
		[]string{"ProcessID", "ParentProcessID", "ImageName", "MandatoryLabel", "SessionID", "CreateTime"}})
}

func FuzzDecodeNetwork(f *testing.F) {
	fuzzFamily(f, family{capture.KernelNetwork, []uint16{12, 15, 28, 31, 42, 43, 58, 59, 10},
		[]string{"PID", "saddr", "daddr", "sport", "dport"}})
}

func FuzzDecodeFile(f *testing.F) {
	fuzzFamily(f, family{capture.KernelFile, []uint16{10, 11, 12, 14, 16, 17, 26, 27, 28, 30},
		[]string{"FileObject", "FileKey", "FileName", "FilePath", "CreateOptions", "InfoClass"}})
}

func FuzzDecodeRegistry(f *testing.F) {
	fuzzFamily(f, family{capture.KernelRegistry, []uint16{1, 2, 3, 5, 6, 13},
		[]string{"KeyObject", "BaseObject", "BaseName", "RelativeName", "KeyName", "ValueName", "Type", "CapturedData", "Status", "Disposition"}})
}

func FuzzDecodeNative(f *testing.F) {
	fuzzFamily(f, family{capture.DNSClient, []uint16{3006, 3008, 3009},
		[]string{"QueryName", "QueryStatus", "QueryResults", "Code", "ScriptBlockId"}})
}

func FuzzDecodeNativeWMI(f *testing.F) {
	fuzzFamily(f, family{capture.WMIActivity, []uint16{11, 12, 17, 5857, 5861, 19},
		[]string{"Code", "ClientProcessId", "Namespace", "Operation", "ResultCode"}})
}
