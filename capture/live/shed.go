package live

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/edr-lab/edr/event"
)

// ShedRule is one entry of live.shed_first: events of a channel and event
// ID ("Microsoft-Windows-Sysmon/Operational:3"), of a whole channel
// ("Microsoft-Windows-Sysmon/Operational"), or of an event ID on any
// channel (":7").
type ShedRule struct {
	Channel string // "" matches every channel
	EventID uint16
	AnyID   bool
	Key     string // the entry as written, canonical channel spelling
}

// ParseShedRules parses live.shed_first. An entry that names only process
// creation (Sysmon 1, Security 4688) is refused: process starts are never
// shed, because the process table, every ancestor in later alerts and most
// detections hang on them.
func ParseShedRules(entries []string) ([]ShedRule, error) {
	out := make([]ShedRule, 0, len(entries))
	for i, s := range entries {
		s = strings.TrimSpace(s)
		r := ShedRule{Channel: s, AnyID: true}
		if j := strings.LastIndexByte(s, ':'); j >= 0 {
			id, err := strconv.ParseUint(strings.TrimSpace(s[j+1:]), 10, 16)
			if err != nil {
				return nil, fmt.Errorf("live.shed_first[%d] %q: the part after the last ':' must be an event ID (0-65535)", i, s)
			}
			r.Channel, r.EventID, r.AnyID = s[:j], uint16(id), false
		}
		r.Channel = event.CanonicalChannel(strings.TrimSpace(r.Channel))
		if r.Channel == "" && r.AnyID {
			return nil, fmt.Errorf("live.shed_first[%d]: empty entry (want CHANNEL:ID, CHANNEL or :ID)", i)
		}
		if !r.AnyID && isProcessStart(r.Channel, r.EventID) {
			return nil, fmt.Errorf("live.shed_first[%d] %q: process creation is never shed", i, s)
		}
		r.Key = r.Channel
		if !r.AnyID {
			r.Key += ":" + strconv.Itoa(int(r.EventID))
		}
		out = append(out, r)
	}
	return out, nil
}

// isProcessStart reports the events that start a process (the schema's
// roles: Sysmon 1, Security 4688); with no channel, an ID that starts a
// process on some channel. A channel-wide or ID-wide rule still never sheds
// them (ShedRule.Match).
func isProcessStart(channel string, id uint16) bool {
	if channel == "" {
		return isProcessStart(event.ChannelSysmon, id) || isProcessStart(event.ChannelSecurity, id)
	}
	return event.RolesOf(&event.Event{Channel: channel, EventID: id}).Lifecycle == event.ProcessStart
}

// Match reports whether the rule sheds e.
func (r *ShedRule) Match(e *event.Event) bool {
	if r.Channel != "" && e.Channel != r.Channel || !r.AnyID && e.EventID != r.EventID {
		return false
	}
	return event.RolesOf(e).Lifecycle != event.ProcessStart
}
