package manifest

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const head = "provider\tevent_id\tversion\tevent(fields)\topcode\tkeywords\ttask\tlevel\tevtlog_channel\tevtlog_message\n"

func TestRead(t *testing.T) {
	in := head + "P\t1\t0\ttask_0CreateKey(Pointer BaseObject, UnicodeString RelativeName)\tCreateKey\tCreateKey\ttask_0\tInformational\t\t\n" +
		"P\t3\t2\tNoFields()\t\t\t\tVerbose\t\t\n"
	rows, err := Read(strings.NewReader(in), "p.tsv")
	require.NoError(t, err)
	require.Len(t, rows, 2)
	assert.Equal(t, []Field{{"Pointer", "BaseObject"}, {"UnicodeString", "RelativeName"}}, rows[0].Fields)
	assert.Equal(t, "CreateKey", rows[0].Keywords)
	assert.Equal(t, uint8(2), rows[1].Version)
	assert.Empty(t, rows[1].Fields)
	_, err = Read(strings.NewReader(head+"P\tx\t0\tA()\t\t\t\tVerbose\n"), "p.tsv")
	assert.EqualError(t, err, `p.tsv:2: event_id "x"`)
	_, err = Read(strings.NewReader(head+"P\t1\n"), "p.tsv")
	assert.ErrorContains(t, err, "p.tsv:2: 2 columns")
}

func FuzzRead(f *testing.F) {
	f.Add(head + "P\t1\t0\tA(UInt32 X, SID Y)\t\tK\t\tInformational\t\t\n")
	f.Fuzz(func(t *testing.T, s string) {
		rows, err := Read(strings.NewReader(s), "f")
		if err == nil {
			for _, r := range rows {
				for _, fl := range r.Fields {
					require.NotEmpty(t, fl.InType)
				}
			}
		}
	})
}
