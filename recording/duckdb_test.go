package recording

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/edr-lab/edr/event"
	"github.com/parquet-go/parquet-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// duckdbScript finds scripts/duckdb/query.js and its installed module, or
// skips: CI installs them (npm ci in .ci/run).
func duckdbScript(t *testing.T) (node, script string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not found: the DuckDB interop test needs node and scripts/duckdb (npm ci --prefix scripts/duckdb)")
	}
	dir, err := os.Getwd()
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		require.NotEqual(t, parent, dir, "module root not found")
		dir = parent
	}
	script = filepath.Join(dir, "scripts", "duckdb", "query.js")
	if _, err := os.Stat(filepath.Join(dir, "scripts", "duckdb", "node_modules", "@duckdb", "node-api")); err != nil {
		t.Skipf("@duckdb/node-api not installed in scripts/duckdb (run: npm ci --prefix %s): %v", filepath.Dir(script), err)
	}
	return node, script
}

// duckQuery runs queries and returns each one's rows.
func duckQuery(t *testing.T, rec string, queries ...string) [][]map[string]any {
	node, script := duckdbScript(t)
	cmd := exec.Command(node, append([]string{script, rec}, queries...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "duckdb: %s", stderr.String())
	var res [][]map[string]any
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var r struct {
			Rows []map[string]any `json:"rows"`
		}
		require.NoError(t, json.Unmarshal(sc.Bytes(), &r))
		res = append(res, r.Rows)
	}
	require.Len(t, res, len(queries))
	return res
}

func num(t *testing.T, v any) int64 {
	t.Helper()
	switch x := v.(type) {
	case float64:
		return int64(x)
	case string:
		n, err := strconv.ParseInt(x, 10, 64)
		require.NoError(t, err)
		return n
	}
	t.Fatalf("not a number: %#v", v)
	return 0
}

func TestDuckDBReadsRecording(t *testing.T) {
	duckdbScript(t)
	dir := t.TempDir()
	in := synthEvents(3, 3, 30000, t0)
	for _, e := range in {
		if e.Host == in[0].Host {
			e.Host = "dc 01/ü%" // needs percent-encoding in the partition path
		}
	}
	// Absent vs empty and the key/value part.
	special := &event.Event{Time: t0 + 5, Host: in[1].Host, Channel: event.ChannelSysmon, EventID: 1}
	special.Set(event.FImage, "")
	special.Set(event.FCommandLine, `C:\x.exe -special`)
	special.AddExtra("k1", "v1")
	special.AddExtra("k2", "")
	in = append(in, special)
	want := writeAll(t, dir, WriterOptions{RowGroupRows: 8000}, in)
	sum, err := Inspect(dir)
	require.NoError(t, err)

	var encoded, withCmd int64
	var emptyImage, absentImage int64
	for _, e := range want {
		if strings.Contains(e.Value(event.FCommandLine), "powershell") && e.Has(event.FImage) {
			encoded++
		}
		if e.Has(event.FCommandLine) {
			withCmd++
		}
		if v, ok := e.Get(event.FImage); !ok {
			absentImage++
		} else if v == "" {
			emptyImage++
		}
	}
	require.Positive(t, encoded)

	res := duckQuery(t, dir,
		"SELECT count(*) AS n FROM REC",
		"SELECT host AS h, count(*) AS n FROM REC GROUP BY host ORDER BY host",
		"SELECT Channel AS c, count(*) AS n FROM REC GROUP BY Channel",
		"SELECT EventID AS id, count(*) AS n FROM REC GROUP BY EventID",
		"SELECT count(*) AS n FROM REC WHERE CommandLine LIKE '%powershell%' AND Image IS NOT NULL",
		"SELECT count(CommandLine) AS n FROM REC",
		"SELECT count(*) FILTER (WHERE Image = '') AS empty, count(*) FILTER (WHERE Image IS NULL) AS absent FROM REC",
		"SELECT Seq, Image, CommandLine, Extra FROM REC WHERE CommandLine = 'C:\\x.exe -special'",
		"SELECT epoch_ns(min(Time)) AS lo, epoch_ns(max(Time)) AS hi FROM REC",
		"SELECT typeof(Time) AS t FROM REC LIMIT 1",
	)
	assert.Equal(t, sum.Events, num(t, res[0][0]["n"]), "total")
	hostCounts := map[string]int64{}
	for _, e := range want {
		hostCounts[e.Host]++
	}
	got := map[string]int64{}
	for _, r := range res[1] {
		got[fmt.Sprint(r["h"])] = num(t, r["n"])
	}
	assert.Equal(t, hostCounts, got, "hive host partition decodes to the real host names")
	gotCh := map[string]int64{}
	for _, r := range res[2] {
		gotCh[fmt.Sprint(r["c"])] = num(t, r["n"])
	}
	assert.Equal(t, sum.ByChannel, gotCh)
	gotID := map[string]int64{}
	for _, r := range res[3] {
		gotID[fmt.Sprint(num(t, r["id"]))] = num(t, r["n"])
	}
	assert.Equal(t, sum.ByEventID, gotID)
	assert.Equal(t, encoded, num(t, res[4][0]["n"]), "query on Image/CommandLine")
	assert.Equal(t, withCmd, num(t, res[5][0]["n"]))
	assert.Equal(t, emptyImage, num(t, res[6][0]["empty"]), "present empty is '' in DuckDB")
	assert.Equal(t, absentImage, num(t, res[6][0]["absent"]), "absent is NULL in DuckDB")
	require.Len(t, res[7], 1)
	row := res[7][0]
	assert.Equal(t, "", row["Image"])
	assert.Equal(t, want[len(want)-1].Seq, uint64(num(t, row["Seq"])))
	assert.Equal(t, []any{map[string]any{"Key": "k1", "Value": "v1"}, map[string]any{"Key": "k2", "Value": ""}}, row["Extra"])
	assert.Equal(t, sum.FirstNs, num(t, res[8][0]["lo"]))
	assert.Equal(t, sum.LastNs, num(t, res[8][0]["hi"]))
	assert.Equal(t, "TIMESTAMP_NS", res[9][0]["t"])
}

// longEvents have long, distinct values in a plain-encoded column and in
// the key/value part, so that their pages split at pageBytes.
func longEvents(n int) []*event.Event {
	var out []*event.Event
	for i := 0; i < n; i++ {
		e := &event.Event{Time: t0 + int64(i)*1e6, Host: "h", Channel: event.ChannelSysmon, Provider: event.ProviderSysmon, EventID: 1, RecordID: uint64(i)}
		e.Set(event.FImage, `C:\Windows\x.exe`)
		if i%7 != 0 {
			e.Set(event.FCommandLine, fmt.Sprintf("x.exe %d %s", i, strings.Repeat(string(rune('a'+i%26)), 1000+i%900)))
		}
		switch i % 5 {
		case 0: // no key/value part
		case 1:
			e.AddExtra("k", "")
		default:
			e.AddExtra("Message", fmt.Sprintf("message %d: %s", i, strings.Repeat("m", 500+i%700)))
			e.AddExtra("k", fmt.Sprint(i))
			e.AddExtra("Message", "again")
		}
		out = append(out, e)
	}
	return out
}

// pageCounts counts the data pages of each column of a segment's first row
// group.
func pageCounts(t *testing.T, path string) map[string]int {
	pf := openParquet(t, path)
	out := map[string]int{}
	leaves := pf.Schema().Columns()
	for i, cc := range pf.RowGroups()[0].ColumnChunks() {
		pages := cc.Pages()
		for {
			p, err := pages.ReadPage()
			if err == io.EOF {
				break
			}
			require.NoError(t, err)
			parquet.Release(p)
			out[strings.Join(leaves[i], ".")]++
		}
		pages.Close()
	}
	return out
}

// TestLongValuesSplitPages: pages of long plain strings and of the
// key/value part end at about pageBytes; both edr's reader and DuckDB read
// them back whole.
func TestLongValuesSplitPages(t *testing.T) {
	dir := t.TempDir()
	in := longEvents(6000)
	want := writeAll(t, dir, WriterOptions{RowGroupRows: 100000}, in)
	paths, err := listSegments(dir)
	require.NoError(t, err)
	require.Len(t, paths, 1)
	pages := pageCounts(t, paths[0])
	assert.Greater(t, pages["CommandLine"], 4, "~8 MB of command lines")
	assert.Greater(t, pages["Extra.list.element.Value"], 2, "~4 MB of messages")
	assert.Equal(t, pages["Extra.list.element.Key"], pages["Extra.list.element.Value"])
	assert.Equal(t, 1, pages["Image"], "dictionary column: one data page")
	got, _ := readAll(t, dir, ReaderOptions{})
	requireSame(t, want, got)

	duckdbScript(t)
	var cmdLen, extra, messages int64
	for _, e := range want {
		cmdLen += int64(len(e.Value(event.FCommandLine)))
		extra += int64(len(e.Extra()))
		for _, kv := range e.Extra() {
			if kv.Key == "Message" {
				messages += int64(len(kv.Value))
			}
		}
	}
	res := duckQuery(t, dir,
		"SELECT count(*) AS n, count(CommandLine) AS c, sum(length(CommandLine)) AS l FROM REC",
		"SELECT sum(len(Extra)) AS n FROM REC",
		"SELECT sum(length(e.Value)) AS l FROM (SELECT unnest(Extra) AS e FROM REC) WHERE e.Key = 'Message'",
		"SELECT Extra FROM REC WHERE RecordID = 5997",
	)
	assert.EqualValues(t, 6000, num(t, res[0][0]["n"]))
	assert.EqualValues(t, 6000-(6000+6)/7, num(t, res[0][0]["c"]))
	assert.Equal(t, cmdLen, num(t, res[0][0]["l"]))
	assert.Equal(t, extra, num(t, res[1][0]["n"]))
	assert.Equal(t, messages, num(t, res[2][0]["l"]))
	last := want[5997].Extra()
	assert.Equal(t, []any{map[string]any{"Key": "Message", "Value": last[0].Value}, map[string]any{"Key": "k", "Value": "5997"},
		map[string]any{"Key": "Message", "Value": "again"}}, res[3][0]["Extra"])
}
