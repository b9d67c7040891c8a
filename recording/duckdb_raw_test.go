package recording

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDuckDBReadsRawLayer: with a raw layer beside the events, DuckDB still
// reads the events as one table (REC, the README's glob), and reads the raw
// layer (RAW) with u64 values above 2^53 and bytes exact.
func TestDuckDBReadsRawLayer(t *testing.T) {
	duckdbScript(t)
	dir := t.TempDir()
	w, err := OpenWriter(dir, WriterOptions{})
	require.NoError(t, err)
	const n = 40
	for i := 0; i < n; i++ {
		r := extremeRecord(i)
		var seq uint64
		if i%4 != 0 {
			e := rawEvent(r, "dc 01/ü%", i)
			require.NoError(t, w.Write(e))
			seq = e.Seq
		}
		require.NoError(t, w.WriteRaw("dc 01/ü%", r, seq))
	}
	// A segment whose records have no property and no payload (its
	// property columns are levels only, with empty dictionaries).
	for i := 0; i < 5; i++ {
		r := extremeRecord(1000 + i)
		r.Props = r.Props[:0]
		r.SetUserData(nil)
		require.NoError(t, w.WriteRaw("zz bare", r, 0))
	}
	require.NoError(t, w.Close())
	sum, err := Inspect(dir)
	require.NoError(t, err)
	require.EqualValues(t, n-n/4, sum.Events)

	res := duckQuery(t, dir,
		"SELECT count(*) AS n, min(host) AS h FROM REC",
		"SELECT count(*) AS n, count(Seq) AS linked, min(host) AS h FROM RAW",
		"SELECT CAST(max(Keywords) AS VARCHAR) AS k, max(PID) AS pid, typeof(max(Keywords)) AS t FROM RAW",
		"SELECT p.Kind AS kind, CAST(p.U64 AS VARCHAR) AS u, CAST(p.I64 AS VARCHAR) AS i, p.Str AS s, hex(p.Bytes) AS b "+
			"FROM (SELECT unnest(Props) AS p FROM RAW WHERE EventID = 3) ORDER BY p.Name",
		"SELECT count(*) AS n FROM REC e JOIN RAW r ON e.Seq = r.Seq AND e.Time = r.Time",
		"SELECT hex(UserData) AS u FROM RAW WHERE EventID = 3",
		"SELECT count(*) AS n, sum(len(Props)) AS p, count(UserData) AS u FROM RAW WHERE Host = 'zz bare'",
	)
	assert.Equal(t, sum.Events, num(t, res[0][0]["n"]), "events only: the raw layer is not in REC")
	assert.Equal(t, "dc 01/ü%", res[0][0]["h"])
	assert.EqualValues(t, n+5, num(t, res[1][0]["n"]))
	assert.Equal(t, sum.Events, num(t, res[1][0]["linked"]), "records without an event have a NULL Seq")
	assert.Equal(t, "dc 01/ü%", res[1][0]["h"], "hive host partition of the raw layer")
	assert.Equal(t, fmt.Sprint(uint64(1<<63|1<<53|1)), res[2][0]["k"])
	assert.EqualValues(t, uint32(0xfffffffe), num(t, res[2][0]["pid"]))
	assert.Equal(t, "UBIGINT", res[2][0]["t"])
	props := map[string]map[string]any{}
	for i, p := range res[3] {
		props[[]string{"Addr", "Big", "Bin", "Empty", "FT", "G", "Index", "Max", "Neg64", "Neg8", "Ptr", "S", "Sid"}[i]] = p
	}
	require.Len(t, res[3], 13)
	assert.Equal(t, fmt.Sprint(uint64(1<<53+1)), props["Big"]["u"])
	assert.Equal(t, "18446744073709551615", props["Max"]["u"])
	assert.Equal(t, "-1", props["Neg8"]["i"])
	assert.Equal(t, "-5", props["Neg64"]["i"])
	assert.Equal(t, "00FF0001", props["Bin"]["b"])
	assert.Equal(t, "", props["Empty"]["b"])
	assert.Equal(t, "S-1-5-18", props["Sid"]["s"])
	assert.Equal(t, "fe80::1", props["Addr"]["s"])
	assert.Equal(t, "C:\\x\x00y é", props["S"]["s"])
	assert.Equal(t, sum.Events, num(t, res[4][0]["n"]), "raw records join their events on Seq")
	assert.Equal(t, "000102FF", res[5][0]["u"])
	assert.EqualValues(t, 5, num(t, res[6][0]["n"]))
	assert.EqualValues(t, 0, num(t, res[6][0]["p"]))
	assert.EqualValues(t, 0, num(t, res[6][0]["u"]))
}
