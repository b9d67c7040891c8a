package sigma

import (
	_ "embed"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

// Logsource routing. A rule meets only the events of its logsource: a
// category maps to EventIDs on a channel (plus, for registry_add/delete,
// an EventType condition), a service to one or more channels. The table is
// SigmaHQ's tests/thor.yml (what SigmaHQ's own regression harness uses),
// embedded so the binary never reads ../shared, plus the services of the
// taxonomy appendix (sigma-appendix-taxonomy.md) that thor.yml lacks.

//go:embed thor.yml
var thorYAML []byte

// taxonomyServices are Windows services of the taxonomy appendix missing
// from thor.yml.
var taxonomyServices = map[string][]string{
	"dns-server":                  {"DNS Server"},
	"dns-server-analytic":         {"Microsoft-Windows-DNS-Server/Analytical"},
	"dns-server-audit":            {"Microsoft-Windows-DNS-Server/Audit"},
	"driver-framework":            {"Microsoft-Windows-DriverFrameworks-UserMode/Operational"},
	"microsoft-servicebus-client": {"Microsoft-ServiceBus-Client/Admin", "Microsoft-ServiceBus-Client/Operational"},
}

// routeTarget is one place a rule's events come from.
type routeTarget struct {
	channels []string
	eids     []uint16          // empty: every EventID of the channel
	guard    map[string]string // further field conditions (EventType) from thor.yml
	fieldMap map[string]string // rule field → event field (thor fieldmappings)
}

type thorEntry struct {
	Category      string                 `yaml:"category"`
	Product       string                 `yaml:"product"`
	Service       string                 `yaml:"service"`
	Conditions    map[string]interface{} `yaml:"conditions"`
	Rewrite       map[string]string      `yaml:"rewrite"`
	Sources       []string               `yaml:"sources"`
	FieldMappings map[string]string      `yaml:"fieldmappings"`
}

type routeTable struct {
	services   map[string][]string
	categories map[string][]routeTarget
}

var (
	routesOnce sync.Once
	routes     *routeTable
	routesErr  error
)

func loadRoutes() (*routeTable, error) {
	routesOnce.Do(func() { routes, routesErr = parseThor(thorYAML) })
	return routes, routesErr
}

func parseThor(data []byte) (*routeTable, error) {
	var doc struct {
		Logsources map[string]thorEntry `yaml:"logsources"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("thor.yml: %w", err)
	}
	rt := &routeTable{services: map[string][]string{}, categories: map[string][]routeTarget{}}
	names := make([]string, 0, len(doc.Logsources))
	for n := range doc.Logsources {
		names = append(names, n)
	}
	sort.Strings(names) // deterministic order of targets
	for _, n := range names {
		e := doc.Logsources[n]
		if e.Product != "windows" && e.Product != "" {
			continue
		}
		if e.Service != "" && e.Category == "" {
			for _, s := range e.Sources {
				if ch, ok := strings.CutPrefix(s, "WinEventLog:"); ok {
					rt.services[e.Service] = append(rt.services[e.Service], ch)
				}
			}
		}
	}
	for s, chs := range taxonomyServices {
		if _, ok := rt.services[s]; !ok {
			rt.services[s] = chs
		}
	}
	for _, n := range names {
		e := doc.Logsources[n]
		if e.Category == "" || (e.Product != "windows" && e.Product != "") || e.Rewrite["service"] == "" {
			continue
		}
		t := routeTarget{channels: rt.services[e.Rewrite["service"]], fieldMap: e.FieldMappings}
		if len(t.channels) == 0 {
			return nil, fmt.Errorf("thor.yml: %s rewrites to unknown service %q", n, e.Rewrite["service"])
		}
		for k, v := range e.Conditions {
			if k == "EventID" {
				ids, err := eventIDs(v)
				if err != nil {
					return nil, fmt.Errorf("thor.yml: %s: %w", n, err)
				}
				t.eids = ids
				continue
			}
			s, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("thor.yml: %s: condition %s is not a string", n, k)
			}
			if t.guard == nil {
				t.guard = map[string]string{}
			}
			t.guard[k] = s
		}
		rt.categories[e.Category] = append(rt.categories[e.Category], t)
	}
	return rt, nil
}

func eventIDs(v interface{}) ([]uint16, error) {
	switch x := v.(type) {
	case int:
		return []uint16{uint16(x)}, nil
	case []interface{}:
		var out []uint16
		for _, e := range x {
			ids, err := eventIDs(e)
			if err != nil {
				return nil, err
			}
			out = append(out, ids...)
		}
		return out, nil
	case string:
		n, err := strconv.ParseUint(x, 10, 16)
		return []uint16{uint16(n)}, err
	}
	return nil, fmt.Errorf("EventID %v is not a number", v)
}

// targets returns where a logsource's events come from, or the reason it
// cannot be routed. thor.yml's Security 4688 variant of process_creation is
// left out here: Options.SecurityAudit handles it (and 4657, 5156) through
// audit views (audit.go).
func (rt *routeTable) targets(ls Logsource) ([]routeTarget, string) {
	if ls.Product != "" && ls.Product != "windows" {
		return nil, fmt.Sprintf("product %q: edr reads Windows telemetry only", ls.Product)
	}
	if ls.Category != "" {
		ts, ok := rt.categories[ls.Category]
		if !ok {
			return nil, fmt.Sprintf("category %q has no Windows event mapping (thor.yml)", ls.Category)
		}
		var out []routeTarget
		for _, t := range ts {
			if t.fieldMap != nil && len(t.eids) == 1 && t.eids[0] == 4688 && t.channels[0] == "Security" {
				continue // the Security 4688 variant is Options.SecurityAudit
			}
			out = append(out, t)
		}
		if ls.Service != "" {
			chs, ok := rt.services[ls.Service]
			if !ok {
				return nil, fmt.Sprintf("service %q has no channel mapping (thor.yml)", ls.Service)
			}
			out = restrictChannels(out, chs)
			if len(out) == 0 {
				return nil, fmt.Sprintf("category %q does not occur on service %q", ls.Category, ls.Service)
			}
		}
		return out, ""
	}
	if ls.Service != "" {
		chs, ok := rt.services[ls.Service]
		if !ok {
			return nil, fmt.Sprintf("service %q has no channel mapping (thor.yml)", ls.Service)
		}
		return []routeTarget{{channels: chs}}, ""
	}
	if ls.Product == "windows" {
		return []routeTarget{{channels: nil}}, "" // every Windows channel
	}
	return nil, "logsource names no product, category or service"
}

func restrictChannels(ts []routeTarget, chs []string) []routeTarget {
	var out []routeTarget
	for _, t := range ts {
		var keep []string
		for _, c := range t.channels {
			if indexOf(chs, c) >= 0 {
				keep = append(keep, c)
			}
		}
		if len(keep) > 0 {
			t.channels = keep
			out = append(out, t)
		}
	}
	return out
}
