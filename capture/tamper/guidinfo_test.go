package tamper

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// guidInfo builds an answer: one instance per entry, each with its
// (logger, enabled) pairs.
func guidInfo(instances ...[][2]uint32) []byte {
	b := binary.LittleEndian.AppendUint32(nil, uint32(len(instances)))
	b = binary.LittleEndian.AppendUint32(b, 0)
	for i, en := range instances {
		next := uint32(0)
		if i < len(instances)-1 {
			next = uint32(instanceInfoSize + enableInfoSize*len(en))
		}
		b = binary.LittleEndian.AppendUint32(b, next)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(en)))
		b = binary.LittleEndian.AppendUint32(b, 1000+uint32(i)) // Pid
		b = binary.LittleEndian.AppendUint32(b, 0)
		for _, e := range en {
			b = binary.LittleEndian.AppendUint32(b, e[1])         // IsEnabled
			b = binary.LittleEndian.AppendUint16(b, uint16(e[0])) // LoggerId
			b = append(b, 4, 0)                                   // Level, Reserved1
			b = binary.LittleEndian.AppendUint16(b, 0)            // EnablePropertyCount
			b = binary.LittleEndian.AppendUint16(b, 0)            // Reserved2
			b = append(b, 0, 0, 0, 0)                             // padding: the keywords are 8-aligned
			b = binary.LittleEndian.AppendUint64(b, 0x10)         // MatchAnyKeyword
			b = binary.LittleEndian.AppendUint64(b, 0)            // MatchAllKeyword
		}
	}
	return b
}

func TestEnabledIn(t *testing.T) {
	for _, c := range []struct {
		name           string
		info           []byte
		logger         uint16
		enabled, known bool
	}{
		{"no instance: unknown", guidInfo(), 7, false, false},
		{"enabled by our logger", guidInfo([][2]uint32{{3, 1}, {7, 1}}), 7, true, true},
		{"enabled only by another logger", guidInfo([][2]uint32{{3, 1}}), 7, false, true},
		{"our entry says disabled", guidInfo([][2]uint32{{7, 0}}), 7, false, true},
		{"in the second instance", guidInfo([][2]uint32{{3, 1}}, nil, [][2]uint32{{7, 1}}), 7, true, true},
	} {
		en, known, err := EnabledIn(c.info, c.logger)
		require.NoError(t, err, c.name)
		assert.Equal(t, c.enabled, en, c.name)
		assert.Equal(t, c.known, known, c.name)
	}
	good := guidInfo([][2]uint32{{3, 1}}, [][2]uint32{{7, 1}})
	for name, b := range map[string][]byte{
		"short header": good[:4],
		"instance cut": good[:guidInfoSize+8],
		"enable cut":   good[:guidInfoSize+instanceInfoSize+10],
		"next out of range": func() []byte {
			c := append([]byte(nil), good...)
			binary.LittleEndian.PutUint32(c[guidInfoSize:], 1<<20)
			return c
		}(),
		"next too small": func() []byte {
			c := append([]byte(nil), good...)
			binary.LittleEndian.PutUint32(c[guidInfoSize:], 4)
			return c
		}(),
	} {
		_, _, err := EnabledIn(b, 7)
		assert.Error(t, err, name)
	}
}

func FuzzEnabledIn(f *testing.F) {
	f.Add(guidInfo([][2]uint32{{3, 1}}, [][2]uint32{{7, 1}}), uint16(7))
	f.Add(guidInfo(), uint16(0))
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, uint16(1))
	f.Fuzz(func(t *testing.T, b []byte, logger uint16) {
		en, known, err := EnabledIn(b, logger)
		if err == nil && en {
			require.True(t, known)
		}
	})
}
