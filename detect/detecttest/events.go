package detecttest

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/edr-lab/edr/event"
)

// EventsBase is the time of the first event ParseEvents builds without an
// explicit @time: 2023-11-14T22:13:20Z.
const EventsBase = int64(1_700_000_000_000_000_000)

// channelAliases are the short channel names ParseEvents accepts; any
// other name is taken as a channel name (canonical spelling restored).
var channelAliases = map[string]string{
	"sysmon":        event.ChannelSysmon,
	"security":      event.ChannelSecurity,
	"system":        event.ChannelSystem,
	"application":   event.ChannelApplication,
	"powershell":    event.ChannelPowerShell,
	"pscore":        event.ChannelPowerShellCore,
	"psclassic":     event.ChannelPowerShellClassic,
	"taskscheduler": event.ChannelTaskScheduler,
	"wmi":           event.ChannelWMIActivity,
	"dnsclient":     event.ChannelDNSClient,
	"defender":      event.ChannelDefender,
}

// ParseEvents reads events in the compact form golden test files use, one
// event per line:
//
//	sysmon/1 @time=2s @host=WS02 Image=C:\Windows\System32\cmd.exe CommandLine='"cmd.exe" /c whoami'
//
// The first token is channel/EventID (a short alias from channelAliases or
// a channel name). The rest are Field=Value pairs: schema fields go to
// their FieldID, other names to the key/value part (event.SetByName).
// A value is bare (up to the next blank), or quoted with ' or " and then
// taken verbatim up to the same quote: there are no escapes, so Windows
// paths keep single backslashes. Two meta keys set the header: @host
// (default WS01) and @time, a Go duration after EventsBase (default: one
// second after the previous event); the Computer field defaults to @host,
// as in recorded events. A line starting with a blank continues
// the previous event; blank lines and lines starting with # are skipped.
// Events get Seq and RecordID 1, 2, … in order.
func ParseEvents(text string) ([]*event.Event, error) {
	var out []*event.Event
	next := EventsBase
	for n, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		var ev *event.Event
		rest := trimmed
		if line[0] == ' ' || line[0] == '\t' {
			if len(out) == 0 {
				return nil, fmt.Errorf("line %d: continuation line before any event", n+1)
			}
			ev = out[len(out)-1]
		} else {
			head, tail, _ := strings.Cut(trimmed, " ")
			var err error
			if ev, err = newEvent(head); err != nil {
				return nil, fmt.Errorf("line %d: %w", n+1, err)
			}
			ev.Time, ev.Host = next, "WS01"
			ev.Seq, ev.RecordID = uint64(len(out)+1), uint64(len(out)+1)
			out = append(out, ev)
			rest = tail
		}
		if err := setFields(ev, rest); err != nil {
			return nil, fmt.Errorf("line %d: %w", n+1, err)
		}
		next = ev.Time + int64(time.Second)
	}
	for _, ev := range out {
		if !ev.Has(event.FComputer) { // as recorded events have it
			ev.Set(event.FComputer, ev.Host)
		}
	}
	return out, nil
}

// newEvent starts an event from its channel/EventID token.
func newEvent(head string) (*event.Event, error) {
	i := strings.LastIndexByte(head, '/')
	if i <= 0 {
		return nil, fmt.Errorf("%q: want channel/EventID", head)
	}
	id, err := strconv.ParseUint(head[i+1:], 10, 16)
	if err != nil {
		return nil, fmt.Errorf("%q: bad EventID: %w", head, err)
	}
	ch := head[:i]
	if c, ok := channelAliases[strings.ToLower(ch)]; ok {
		ch = c
	} else {
		ch = event.CanonicalChannel(ch)
	}
	ev := &event.Event{Channel: ch, EventID: uint16(id), Source: event.SourceSynthetic}
	if d := event.Lookup(ch, uint16(id)); d != nil {
		ev.Provider = d.Provider
	}
	return ev, nil
}

// setFields applies the Field=Value pairs of s to ev.
func setFields(ev *event.Event, s string) error {
	for {
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			return nil
		}
		eq := strings.IndexByte(s, '=')
		if eq <= 0 || strings.ContainsAny(s[:eq], " \t'\"") {
			tok, _, _ := strings.Cut(s, " ")
			return fmt.Errorf("%q: want Field=Value", tok)
		}
		name, v := s[:eq], s[eq+1:]
		var value string
		if v != "" && (v[0] == '\'' || v[0] == '"') {
			end := strings.IndexByte(v[1:], v[0])
			if end < 0 {
				return fmt.Errorf("%s: unterminated %c quote", name, v[0])
			}
			value, s = v[1:1+end], v[2+end:]
			if s != "" && s[0] != ' ' && s[0] != '\t' {
				return fmt.Errorf("%s: text after the closing quote", name)
			}
		} else {
			value, s = v, ""
			if i := strings.IndexAny(v, " \t"); i >= 0 {
				value, s = v[:i], v[i:]
			}
		}
		if err := setField(ev, name, value); err != nil {
			return err
		}
	}
}

func setField(ev *event.Event, name, value string) error {
	switch name {
	case "@host":
		ev.Host = value
	case "@time":
		d, err := time.ParseDuration(value)
		if err != nil {
			return fmt.Errorf("@time: %w", err)
		}
		ev.Time = EventsBase + int64(d)
	default:
		if strings.HasPrefix(name, "@") {
			return fmt.Errorf("%s: unknown meta key (want @host or @time)", name)
		}
		ev.SetByName(name, value)
	}
	return nil
}
