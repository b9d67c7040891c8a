package state

import (
	"testing"

	"github.com/edr-lab/edr/event"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Processes of one image share one FileInfo holding the event's values;
// other values get another, and a start without any gets none.
func TestProcessTableSharesFileInfo(t *testing.T) {
	pt := NewProcessTable(100, 60*sec)
	start := func(at int64, guid, hashes, company string) *Process {
		kv := []string{"ProcessGuid", guid, "ProcessId", guid, "Image", `C:\x.exe`}
		if hashes != "" {
			kv = append(kv, "Hashes", hashes, "Company", company, "Product", "X", "Description", "x tool",
				"OriginalFileName", "X.EXE", "FileVersion", "1.0")
		}
		return pt.Observe(ev(event.ChannelSysmon, 1, at, "H", kv...))
	}
	start(1*sec, "{1}", "MD5=AA", "Contoso")
	start(2*sec, "{2}", "MD5=AA", "Contoso")
	start(3*sec, "{3}", "MD5=BB", "Contoso")
	start(4*sec, "{4}", "", "")
	a, b, c, d := pt.ByGUID("H", "{1}"), pt.ByGUID("H", "{2}"), pt.ByGUID("H", "{3}"), pt.ByGUID("H", "{4}")
	require.NotNil(t, a.File)
	assert.Equal(t, FileInfo{Hashes: "MD5=AA", OriginalFileName: "X.EXE", Company: "Contoso", Description: "x tool", Product: "X",
		FileVersion: "1.0"}, *a.File)
	assert.Same(t, a.File, b.File, "the same values: one copy")
	assert.NotSame(t, a.File, c.File)
	assert.Equal(t, "MD5=BB", c.File.Hashes)
	assert.Nil(t, d.File)
	assert.Equal(t, FileInfo{}, *d.FileInfo(), "FileInfo of a process without one is empty")
}

// The interner is bounded: at maxFiles it starts over, and every value it
// returns is still the one asked for.
func TestFileInternerBounded(t *testing.T) {
	var f fileInterner
	first := f.get(FileInfo{Hashes: "h0"})
	for i := 1; i <= maxFiles; i++ {
		v := FileInfo{Hashes: "h" + event.Itoa(uint64(i))}
		assert.Equal(t, v, *f.get(v))
		assert.LessOrEqual(t, len(f.m), maxFiles)
	}
	again := f.get(FileInfo{Hashes: "h0"})
	assert.Equal(t, *first, *again)
	assert.NotSame(t, first, again, "forgotten when the interner started over")
	assert.Nil(t, f.get(FileInfo{}))
}
