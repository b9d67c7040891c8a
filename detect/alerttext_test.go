package detect_test

import (
	"strings"
	"testing"

	"github.com/edr-lab/edr/detect"
	"github.com/edr-lab/edr/detect/detecttest"
	"github.com/edr-lab/edr/detect/ecs"
	"github.com/stretchr/testify/assert"
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
