package ecs

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/edr-lab/edr/detect"
	"github.com/edr-lab/edr/event"
)

// CSVColumns are the columns of the CSV timeline, in order.
var CSVColumns = []string{"time", "host", "level", "rule", "engine", "channel", "event_id", "process",
	"command_line", "target", "record_id"}

// CSV encodes alerts as a CSV timeline, one row per alert, for a
// spreadsheet (what Hayabusa's timelines are opened in): RFC 4180 quoting
// (a cell with a comma, a double quote or a leading or trailing space is
// quoted, quotes doubled) and CRLF line ends. Two things keep a row safe to
// open and one line long:
//   - a cell that starts with =, +, - or @ gets a leading ' so that a
//     spreadsheet shows it as text instead of evaluating a formula
//     (command lines like "-enc …" or "=cmd|…" are attacker-controlled);
//   - control characters (CR and LF included) become spaces and invalid
//     UTF-8 becomes U+FFFD: a row is one line (the alert writer counts and
//     cuts whole lines). The ECS NDJSON alerts keep the exact values.
//
// The zero value is ready to use and safe for concurrent use.
type CSV struct{}

var (
	_ detect.Encoder       = CSV{}
	_ detect.HeaderEncoder = CSV{}
)

// Header returns the header row (with its line end).
func (CSV) Header() []byte {
	var dst []byte
	for i, c := range CSVColumns {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, c...)
	}
	return append(dst, '\r', '\n')
}

// Append appends a's row (with its line end).
func (CSV) Append(dst []byte, a *detect.Alert) []byte {
	ev := a.Event
	image, _ := actingProcess(a)
	cmd := ev.Value(event.FCommandLine)
	if cmd == "" && a.Proc != nil {
		cmd = a.Proc.CommandLine
	}
	dst = append(dst, formatTimestamp(ev.Time)...)
	for _, s := range [...]string{ev.Host, a.Severity.String(), a.Hit.Rule.Name, a.Hit.Rule.Engine, ev.Channel} {
		dst = appendCSVCell(append(dst, ','), s)
	}
	dst = append(dst, ',')
	if ev.Channel != "" {
		dst = strconv.AppendUint(dst, uint64(ev.EventID), 10)
	}
	for _, s := range [...]string{image, cmd, alertTarget(a)} {
		dst = appendCSVCell(append(dst, ','), s)
	}
	dst = append(dst, ',')
	if ev.RecordID != 0 {
		dst = strconv.AppendUint(dst, ev.RecordID, 10)
	}
	return append(dst, '\r', '\n')
}

// alertTarget is what the event acted on: the target process (Sysmon 8,
// 10), the file, registry key or loaded image, the DNS name, the
// destination address.
func alertTarget(a *detect.Alert) string {
	ev := a.Event
	for _, f := range [...]event.FieldID{event.FTargetImage, event.FTargetFilename, event.FTargetObject, event.FImageLoaded, event.FQueryName} {
		if v := ev.Value(f); v != "" {
			return v
		}
	}
	if a.Target != nil && a.Target.Image != "" {
		return a.Target.Image
	}
	if ip := ev.Value(event.FDestinationIp); ip != "" {
		if port := ev.Value(event.FDestinationPort); port != "" {
			if strings.Contains(ip, ":") {
				return "[" + ip + "]:" + port // IPv6
			}
			return ip + ":" + port
		}
		return ip
	}
	return ""
}

// appendCSVCell appends s as one cell: controls to spaces, invalid UTF-8
// to U+FFFD, a formula-like start neutralised, quoted when RFC 4180 needs
// it.
func appendCSVCell(dst []byte, s string) []byte {
	if s == "" {
		return dst
	}
	clean := make([]byte, 0, len(s)+1)
	if c := s[0]; c == '=' || c == '+' || c == '-' || c == '@' {
		clean = append(clean, '\'')
	}
	quote := s[0] == ' ' || s[len(s)-1] == ' '
	for _, r := range s {
		switch {
		case r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0:
			r = ' '
		case r == '"' || r == ',':
			quote = true
		}
		clean = utf8.AppendRune(clean, r) // invalid bytes arrive as U+FFFD
	}
	if !quote {
		return append(dst, clean...)
	}
	dst = append(dst, '"')
	for _, b := range clean {
		if b == '"' {
			dst = append(dst, '"')
		}
		dst = append(dst, b)
	}
	return append(dst, '"')
}
