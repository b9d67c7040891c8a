package replay

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/edr-lab/edr/detect/sigma"
	"github.com/edr-lab/edr/recording"
)

// Plan splits a replay into shards that machines run independently
// (edr replay --shard) and one merge puts back together (edr replay
// --merge) into the bytes of a replay on one machine. A shard is one host's
// events in a time range [From, To) that begins at one of its segments'
// first event, so the shard starts from that segment's state snapshot, as
// --from and --host do.
type Plan struct {
	Recordings []string    `json:"recordings"` // absolute paths
	From       int64       `json:"from,omitempty"`
	To         int64       `json:"to,omitempty"`
	Shards     []PlanShard `json:"shards"`
	// AuditCover is, per host, the Sysmon categories of the whole selected
	// range (Recordings.SysmonCover): every shard routes
	// scanner.sigma_security_audit = "auto" by it, as a single replay
	// would, not by the segments it happens to read.
	AuditCover map[string]sigma.AuditCategories `json:"audit_cover,omitempty"`
}

// PlanShard is one host's run of consecutive segments.
type PlanShard struct {
	Host     string   `json:"host"`
	From     int64    `json:"from,omitempty"` // 0: open (the plan's From)
	To       int64    `json:"to,omitempty"`   // 0: open (the plan's To)
	Events   int64    `json:"events"`         // from the segments' metadata
	Segments []string `json:"segments"`
}

// MakePlan splits the recordings' selected segments into about n shards
// balanced by event count. Hosts are taken in name order and a host's
// segments in time order, so the same input gives the same plan.
func MakePlan(dirs []string, o ReadOptions, n int) (*Plan, error) {
	if n < 1 {
		return nil, fmt.Errorf("--plan %d: need at least one shard", n)
	}
	p := &Plan{From: o.From, To: o.To, AuditCover: map[string]sigma.AuditCategories{}}
	type seg struct {
		path  string
		first int64
		n     int64
	}
	byHost := map[string][]seg{}
	var total int64
	for _, d := range dirs {
		abs, err := filepath.Abs(d)
		if err != nil {
			return nil, err
		}
		p.Recordings = append(p.Recordings, abs)
		rd, err := recording.OpenReader(abs, recording.ReaderOptions{From: o.From, To: o.To, Hosts: o.Hosts, Strict: o.Strict})
		if err != nil {
			return nil, err
		}
		addSysmonCover(p.AuditCover, rd.Selected())
		for _, path := range rd.Segments() {
			m, err := recording.ReadSegmentMeta(path)
			if err != nil {
				return nil, fmt.Errorf("plan: %w", err) // names the segment
			}
			byHost[m.Host] = append(byHost[m.Host], seg{path, m.FirstTime, m.Events})
			total += m.Events
		}
	}
	hosts := make([]string, 0, len(byHost))
	for h := range byHost {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)
	target := (total + int64(n) - 1) / int64(n)
	for _, h := range hosts {
		segs := byHost[h]
		sort.SliceStable(segs, func(i, j int) bool {
			if segs[i].first != segs[j].first {
				return segs[i].first < segs[j].first
			}
			return segs[i].path < segs[j].path
		})
		cur := PlanShard{Host: h, From: o.From}
		for i, s := range segs {
			// A cut only falls where the next segment starts later than
			// the plan's From and every earlier event: time ranges then
			// partition the host's events exactly.
			if len(cur.Segments) > 0 && cur.Events >= target && s.first > segs[i-1].first && s.first > o.From {
				cur.To = s.first
				p.Shards = append(p.Shards, cur)
				cur = PlanShard{Host: h, From: s.first}
			}
			cur.Segments = append(cur.Segments, s.path)
			cur.Events += s.n
		}
		cur.To = o.To
		p.Shards = append(p.Shards, cur)
	}
	return p, nil
}

// ReadPlan reads a plan file.
func ReadPlan(path string) (*Plan, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var p Plan
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("plan %s: %w", path, err)
	}
	return &p, nil
}

// ParseShardRef splits PLAN:I.
func ParseShardRef(s string) (string, int, error) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return "", 0, fmt.Errorf("--shard %q: want PLAN.json:INDEX", s)
	}
	n, err := strconv.Atoi(s[i+1:])
	if err != nil || n < 0 {
		return "", 0, fmt.Errorf("--shard %q: index %q is not a shard number", s, s[i+1:])
	}
	return s[:i], n, nil
}
