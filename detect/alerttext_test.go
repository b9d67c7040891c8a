package detect_test

import (
	"encoding/csv"
	"strings"
	"testing"

	"github.com/edr-lab/edr/detect"
	"github.com/edr-lab/edr/detect/detecttest"
	"github.com/edr-lab/edr/detect/ecs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The text line of an alert goes to a terminal: a hostile host, channel,
// image or rule name cannot send escape sequences or flood it.
func TestAlertTextLineEscapesHostileValues(t *testing.T) {
	ev := detecttest.Sysmon(1, t0, "WS01\x1b]0;owned\x07", "Image", "C:\\evil\u202eexe.txt\u009b2J", "ProcessId", "1\x1b[2J")
	ev.Channel = "Sysmon\x1b[31m"
	a := &detect.Alert{Event: ev, Hit: &detect.Hit{Rule: sigmaRule("11111111-1111-4111-8111-111111111112", strings.Repeat("R", 1<<20), "high")},
		Severity: detect.SeverityHigh}
	line := string(ecs.Text{}.Append(nil, a))
	assert.NotContains(t, line, "\x1b")
	assert.NotContains(t, line, "\u202e")
	assert.NotContains(t, line, "\u009b")
	assert.Contains(t, line, `WS01\x1b]0;owned\x07 high`)
	assert.Contains(t, line, `event=Sysmon\x1b[31m/1`)
	assert.Contains(t, line, `process="C:\evil\u202eexe.txt\u009b2J"`)
	assert.Contains(t, line, `pid=1\x1b[2J`)
	assert.Contains(t, line, "…(1048576 bytes)")
	assert.Less(t, len(line), 10000)
	assert.Equal(t, 1, strings.Count(line, "\n"))
}

// The CSV timeline row: RFC 4180 quoting (encoding/csv reads back the exact
// cells), formula-like cells neutralised, one line per row.
func TestAlertCSVRow(t *testing.T) {
	ev := detecttest.Sysmon(1, t0, "WS01", "Image", `C:\Windows\System32\cmd.exe`,
		"CommandLine", "cmd.exe /c \"echo a,b\"\r\nwhoami", "ProcessId", "42")
	ev.RecordID = 7
	a := &detect.Alert{Event: ev, Hit: &detect.Hit{Rule: sigmaRule("11111111-1111-4111-8111-111111111111", "=HYPERLINK(\"x\")", "high")},
		Severity: detect.SeverityHigh}
	row := ecs.CSV{}.Append(nil, a)
	require.True(t, strings.HasSuffix(string(row), "\r\n"))
	assert.Equal(t, 1, strings.Count(string(row), "\n"), "one line per row")

	r := csv.NewReader(strings.NewReader(string(ecs.CSV{}.Header()) + string(row)))
	recs, err := r.ReadAll()
	require.NoError(t, err)
	require.Len(t, recs, 2)
	assert.Equal(t, ecs.CSVColumns, recs[0])
	assert.Equal(t, []string{"2023-11-14T22:13:20.000Z", "WS01", "high", `'=HYPERLINK("x")`, "sigma",
		"Microsoft-Windows-Sysmon/Operational", "1", `C:\Windows\System32\cmd.exe`, `cmd.exe /c "echo a,b"  whoami`, "", "7"}, recs[1])
}

func TestAlertCSVCells(t *testing.T) {
	for _, c := range []struct{ in, cell string }{
		{"plain", "plain"},
		{"=1+2", "'=1+2"},
		{"+1", "'+1"},
		{"-enc ZQBjAGgAbwA=", "'-enc ZQBjAGgAbwA="},
		{"@SUM(A1)", "'@SUM(A1)"},
		{`say "hi"`, `"say ""hi"""`},
		{"a,b", `"a,b"`},
		{" lead", `" lead"`},
		{"tab\there", "tab here"},
		{"bad\xffutf8", "bad\uFFFDutf8"},
		{"c1\u009bx", "c1 x"},
	} {
		ev := detecttest.Sysmon(11, t0, "H", "Image", "x.exe", "TargetFilename", c.in)
		a := &detect.Alert{Event: ev, Hit: &detect.Hit{Rule: sigmaRule("11111111-1111-4111-8111-111111111112", "r", "low")}, Severity: detect.SeverityLow}
		row := string(ecs.CSV{}.Append(nil, a))
		cells := strings.Split(strings.TrimSuffix(row, "\r\n"), ",")
		if strings.Contains(c.cell, ",") {
			assert.Contains(t, row, ","+c.cell+",", c.in)
			continue
		}
		assert.Equal(t, c.cell, cells[9], "%q: the target cell", c.in)
	}
}
