// Package config holds edr's configuration: the sections, keys and defaults
// of the seed (Rustinel's config.toml) plus [recording], read from a TOML
// file, then EDR__SECTION__KEY environment variables, then command-line
// overrides; later sources win (flag > env > file > default).
//
// Every key is a tagged field of Config: `toml` names it, `doc` describes it
// (config show and the example config.toml print it), `enum` lists its
// allowed values, `min` bounds an integer, `inherit` names the key a list
// copies until it is set explicitly (the seed's allowlist sharing). Adding a
// key is adding a field; its default goes in Default.
//
// Unknown keys and wrong types are errors that name the key and, for files,
// the file and line; for the environment, the variable.
package config

import (
	"fmt"
	"reflect"
	"strings"
	"time"
)

// Config is the effective configuration.
type Config struct {
	Scanner   Scanner   `toml:"scanner" doc:"Detection engines: Sigma rules and YARA scans of executed images."`
	Allowlist Allowlist `toml:"allowlist" doc:"Trusted path prefixes shared by response, IOC hashing and YARA unless a module sets its own list."`
	Logging   Logging   `toml:"logging" doc:"Operational log (log/slog), written to daily files <directory>/<filename>.YYYY-MM-DD."`
	Alerts    Alerts    `toml:"alerts" doc:"ECS NDJSON alerts, written to daily files <directory>/<filename>.YYYY-MM-DD."`
	Response  Response  `toml:"response" doc:"Active response (live only; never acts during replay)."`
	Network   Network   `toml:"network" doc:"Network connection aggregation (observational: it never hides an event from detection)."`
	IOC       IOC       `toml:"ioc" doc:"Atomic indicators: hashes, IPs/CIDRs, domains, path regexes (one per line, optional ;comment)."`
	Recording Recording `toml:"recording" doc:"Recordings: Hive-partitioned Parquet segments behind a write-ahead log."`
	Live      Live      `toml:"live" doc:"edr live: queues between capture, recording and detection, and what happens when detection cannot keep up (the recorder always keeps recording)."`

	origins map[string]Origin
}

// Scanner configures Sigma and YARA.
type Scanner struct {
	SigmaEnabled       bool     `toml:"sigma_enabled" doc:"load and evaluate Sigma rules"`
	SigmaRulesPath     string   `toml:"sigma_rules_path" doc:"directory of Sigma rules (.yml/.yaml, recursive)"`
	YaraEnabled        bool     `toml:"yara_enabled" doc:"scan executed images with YARA"`
	YaraRulesPath      string   `toml:"yara_rules_path" doc:"directory of YARA rules (.yar/.yara)"`
	YaraAllowlistPaths []string `toml:"yara_allowlist_paths" inherit:"allowlist.paths" doc:"path prefixes never scanned (case-insensitive)"`
	// SigmaSecurityAudit and SigmaPlaceholdersPath are sigma.Options
	// (SecurityAudit, Placeholders) for every command that loads Sigma rules.
	SigmaSecurityAudit    string `toml:"sigma_security_audit" enum:"auto|true|false" doc:"also run Sysmon-category Sigma rules on Windows audit events: process_creation on Security 4688, registry_set/registry_event on 4657, network_connection on 5156 (as Hayabusa does). true: on every host; false: never; auto: in replay, on a host's audit events of a category only when the replayed segments of that host hold no Sysmon event of that category (Sysmon 1; 12, 13 or 14; 3), so the same activity never alerts twice; live capture treats auto as false"`
	SigmaPlaceholdersPath string `toml:"sigma_placeholders_path" doc:"YAML file with the values of %name% placeholders for the expand modifier (empty: none; a rule using an undefined placeholder does not load)"`
}

// Allowlist is the shared list of trusted path prefixes.
type Allowlist struct {
	Paths []string `toml:"paths" doc:"trusted path prefixes (case-insensitive)"`
}

// Logging configures the operational log.
type Logging struct {
	Level         string `toml:"level" enum:"trace|debug|info|warn|error" doc:"minimum level: trace, debug, info, warn or error"`
	Filter        string `toml:"filter" doc:"per-component minimum levels overriding level, e.g. \"warn,recording=debug\": warnings and errors, and debug and up from records whose component attribute (or their logger's, logger.With(\"component\", …)) is recording; a bare level replaces level (empty: none)"`
	Directory     string `toml:"directory" doc:"directory of the log files"`
	Filename      string `toml:"filename" doc:"log file name; a .YYYY-MM-DD suffix is added per day"`
	ConsoleOutput bool   `toml:"console_output" doc:"also log to stderr"`
}

// Alerts configures alert output.
type Alerts struct {
	Directory  string `toml:"directory" doc:"directory of the alert files"`
	Filename   string `toml:"filename" doc:"alert file name; a .YYYY-MM-DD suffix is added per day"`
	MatchDebug string `toml:"match_debug" enum:"off|summary|full" doc:"match details in alerts: off, summary (condition, matched fields) or full (plus values, YARA strings)"`
}

// Response configures active response.
type Response struct {
	Enabled           bool     `toml:"enabled" doc:"enable the active response engine"`
	PreventionEnabled bool     `toml:"prevention_enabled" doc:"false: log the action only (dry run); true: terminate the process"`
	MinSeverity       string   `toml:"min_severity" enum:"informational|low|medium|high|critical" doc:"lowest alert severity acted on (YARA matches count as critical)"`
	ChannelCapacity   int      `toml:"channel_capacity" min:"1" doc:"queue of pending actions; overflow is counted, never silent"`
	AllowlistImages   []string `toml:"allowlist_images" doc:"image base names or full paths never acted on"`
	AllowlistPaths    []string `toml:"allowlist_paths" inherit:"allowlist.paths" doc:"path prefixes never acted on (case-insensitive)"`
}

// Network configures connection aggregation.
type Network struct {
	AggregationEnabled            bool `toml:"aggregation_enabled" doc:"track repeated connections per (image, destination, port, protocol)"`
	AggregationMaxEntries         int  `toml:"aggregation_max_entries" min:"1" doc:"connection keys tracked at most"`
	AggregationIntervalBufferSize int  `toml:"aggregation_interval_buffer_size" min:"1" doc:"intervals kept per key (beacon analysis)"`
}

// IOC configures atomic indicators.
type IOC struct {
	Enabled            bool     `toml:"enabled" doc:"enable atomic IOC detection"`
	HashesPath         string   `toml:"hashes_path" doc:"MD5/SHA1/SHA256 hashes (told apart by length)"`
	IPsPath            string   `toml:"ips_path" doc:"IP addresses and CIDR ranges"`
	DomainsPath        string   `toml:"domains_path" doc:"domains; a *. or . prefix matches subdomains"`
	PathsRegexPath     string   `toml:"paths_regex_path" doc:"case-insensitive regexes matched against file paths"`
	DefaultSeverity    string   `toml:"default_severity" enum:"informational|low|medium|high|critical" doc:"severity of IOC alerts"`
	MaxFileSizeMB      int      `toml:"max_file_size_mb" min:"0" doc:"files larger than this are not hashed (0: no limit)"`
	HashAllowlistPaths []string `toml:"hash_allowlist_paths" inherit:"allowlist.paths" doc:"path prefixes never hashed (case-insensitive)"`
}

// Recording configures how live capture, import and generate write
// recordings.
type Recording struct {
	Enabled         bool          `toml:"enabled" doc:"record live telemetry (edr live)"`
	Directory       string        `toml:"directory" doc:"the recording directory"`
	FlushInterval   time.Duration `toml:"flush_interval" min:"1" doc:"how often buffered events reach the write-ahead log; a crash loses at most this much"`
	Fsync           bool          `toml:"fsync" doc:"fsync every flush and segment close (survives a machine crash, not only a process crash)"`
	MaxSegmentMB    int           `toml:"max_segment_mb" min:"1" doc:"rotate a segment at this size"`
	MaxSegmentAge   time.Duration `toml:"max_segment_age" min:"1" doc:"rotate a segment spanning this much event time (segments never span a UTC day)"`
	RowGroupRows    int           `toml:"row_group_rows" min:"1024" doc:"Parquet rows per row group"`
	MaxOpenSegments int           `toml:"max_open_segments" min:"1" doc:"segments (one per host and day) open at once"`
	MaxBufferMB     int           `toml:"max_buffer_mb" min:"1" doc:"memory for events buffered in open row groups, all open segments together; row groups are cut early beyond it (edr live uses live.recording_buffer_mb instead)"`
	PageCompression string        `toml:"page_compression" enum:"fastest|default|better" doc:"zstd level of the Parquet pages (segments and raw layer): fastest takes the least CPU for somewhat larger files, better the most for smaller ones; every level reads everywhere (the files stay zstd)"`
}

// recordingPageCompression is [recording] page_compression's default
// (recording.DefaultPageCompression; config does not import recording).
const recordingPageCompression = "fastest"

// Live configures edr live's stages.
type Live struct {
	Queue             int           `toml:"queue" min:"256" doc:"events each queue holds (capture → recorder, recorder → detection); a full queue stops the stage before it"`
	Overload          string        `toml:"overload" enum:"block|shed" doc:"when detection's queue is full: block (wait: backpressure to capture, which counts its own losses) or shed (drop events matching shed_first from detection; they are still recorded, counted, and noted in the recording as detection_shed:<entry> loss counters, so edr replay runs them later)"`
	ShedFirst         []string      `toml:"shed_first" doc:"what shed drops from detection, first entry first (one more entry each time the queue is found full): CHANNEL:EVENTID, CHANNEL or :EVENTID; process creation (Sysmon 1, Security 4688) is never shed"`
	StatusInterval    time.Duration `toml:"status_interval" min:"1" doc:"how often the status record (events in, recorded, detected, alerts, drops by stage and cause) goes to the operational log; also written on exit"`
	ReorderMax        int           `toml:"reorder_max" min:"256" doc:"raw sources (etw, raw-synthetic): events the reorder stage holds to put them in time order (2 s window); beyond it the oldest go on early, counted as reorder overflow"`
	RecordingBufferMB int           `toml:"recording_buffer_mb" min:"1" doc:"memory for events buffered in the recording's open row groups, all open segments together, in edr live (recording.max_buffer_mb's role there; import and generate keep that key): live runs detection beside the recorder, and 16 MiB instead of 64 lowered the peak RSS of the 4-host raw-synthetic benchmark by ~70 MiB for normalized segments ~15 % larger (more, smaller row groups); quiet alternating runs (3 pairs, full SigmaHQ rules) gave the same throughput for 16 and 64 (~199k vs ~202k events/s) and ~58 MiB less peak RSS with 16; 64 restores the old behaviour. 12 instead of 16 holds a quarter less (row groups of ~12k events instead of ~16k) for normalized segments 5.5 % larger (26.8 to 28.3 MB for 1M events) and the same replay CPU time (edr bench of those recordings, 3 runs each: 1.61 vs 1.60 s); 8 made them 17 % larger and replay ~20 % slower"`
	GCPercent         int           `toml:"gc_percent" min:"1" doc:"GOGC of edr live (100 is Go's default): its peak RSS is about (1 + gc_percent/100) times the live heap. 50 lowered the 4-host raw-synthetic benchmark's peak RSS by ~45 MiB (full SigmaHQ rules: ~470 to ~420 MiB) for ~5-10 % more CPU time, so the default keeps throughput. The GOGC environment variable wins"`
	MemoryLimitMB     int           `toml:"memory_limit_mb" min:"0" doc:"soft limit of edr live's Go heap in MiB (the garbage collector works harder near it; it is never a hard cap); 0: none. The peak RSS is then about the limit plus ~20 MiB outside the heap; the closer the live heap is to the limit, the more CPU the collector takes: on the 4-host raw-synthetic benchmark with the full SigmaHQ rules (1M events, alternating runs), none gave ~360-390 MiB peak RSS, 300 ~319 MiB, 280 ~303 MiB and 270 ~285-290 MiB; 270 cost 3-9 % more CPU time (3 alternating quiet pairs); before the process tables were shared (a ~60 MiB larger live heap) 300 cost ~12 % more CPU time and 280 ~60 %. The GOMEMLIMIT environment variable wins"`
}

// DefaultAllowlist is the seed's shared allowlist.
var DefaultAllowlist = []string{`C:\Windows\`, `C:\Program Files\`, `C:\Program Files (x86)\`}

// Default returns the built-in defaults (the seed's values).
func Default() *Config {
	c := &Config{
		Scanner: Scanner{SigmaEnabled: true, SigmaRulesPath: "rules/sigma", YaraEnabled: true, YaraRulesPath: "rules/yara",
			YaraAllowlistPaths: []string{}, SigmaSecurityAudit: "auto"},
		Allowlist: Allowlist{Paths: append([]string(nil), DefaultAllowlist...)},
		Logging:   Logging{Level: "info", Directory: "logs", Filename: "edr.log", ConsoleOutput: true},
		Alerts:    Alerts{Directory: "logs", Filename: "alerts.json", MatchDebug: "off"},
		Response: Response{MinSeverity: "critical", ChannelCapacity: 128, AllowlistImages: []string{},
			AllowlistPaths: []string{}},
		Network: Network{AggregationEnabled: true, AggregationMaxEntries: 20000, AggregationIntervalBufferSize: 50},
		IOC: IOC{Enabled: true, HashesPath: "rules/ioc/hashes.txt", IPsPath: "rules/ioc/ips.txt", DomainsPath: "rules/ioc/domains.txt",
			PathsRegexPath: "rules/ioc/paths_regex.txt", DefaultSeverity: "high", MaxFileSizeMB: 50, HashAllowlistPaths: []string{}},
		Recording: Recording{Enabled: true, Directory: "recordings", FlushInterval: 200 * time.Millisecond, MaxSegmentMB: 128,
			MaxSegmentAge: time.Hour, RowGroupRows: 131072, MaxOpenSegments: 16, MaxBufferMB: 64,
			PageCompression: recordingPageCompression},
		Live: Live{Queue: 256, Overload: "block", StatusInterval: time.Minute, ReorderMax: 4096, RecordingBufferMB: 12, GCPercent: 100, MemoryLimitMB: 0,
			ShedFirst: []string{"Microsoft-Windows-Sysmon/Operational:7", "Microsoft-Windows-Sysmon/Operational:3"}},
		origins: map[string]Origin{},
	}
	c.resolve()
	return c
}

// Source is where a value came from.
type Source uint8

const (
	FromDefault Source = iota
	FromFile
	FromEnv
	FromFlag
	FromInherited // an inheriting list that copies its parent (e.g. allowlist.paths)
)

var sourceNames = [...]string{"default", "file", "env", "flag", "inherited"}

func (s Source) String() string { return sourceNames[s] }

// Origin is where a key's effective value came from: the source and, for
// files "path:line", for the environment the variable, for flags the flag,
// for inherited lists the key they copy.
type Origin struct {
	Source Source
	Where  string
}

func (o Origin) String() string {
	if o.Where == "" {
		return o.Source.String()
	}
	return o.Source.String() + " " + o.Where
}

// Kind is a key's value type.
type Kind uint8

const (
	KindBool Kind = iota
	KindInt
	KindString
	KindStrings
	KindDuration
)

var kindNames = [...]string{"a boolean", "an integer", "a string", "a list of strings", "a duration string such as \"200ms\""}

// Key describes one configuration key.
type Key struct {
	Name    string // "section.key"
	Section string
	Field   string // key within the section
	Kind    Kind
	Doc     string
	Enum    []string // allowed values, nil when free
	Min     *int64   // lower bound for integers (and durations, in ns)
	Inherit string   // the key whose value this list copies until set
	index   []int    // reflect field path from Config
}

// SectionInfo describes a section.
type SectionInfo struct {
	Name string
	Doc  string
	Keys []*Key
}

var (
	sections []SectionInfo
	keyIndex = map[string]*Key{}
)

var durationType = reflect.TypeOf(time.Duration(0))

func init() {
	t := reflect.TypeOf(Config{})
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		name := sf.Tag.Get("toml")
		if name == "" {
			continue
		}
		sec := SectionInfo{Name: name, Doc: sf.Tag.Get("doc")}
		for j := 0; j < sf.Type.NumField(); j++ {
			f := sf.Type.Field(j)
			k := &Key{Section: name, Field: f.Tag.Get("toml"), Doc: f.Tag.Get("doc"), Inherit: f.Tag.Get("inherit"), index: []int{i, j}}
			k.Name = name + "." + k.Field
			switch {
			case f.Type == durationType:
				k.Kind = KindDuration
			case f.Type.Kind() == reflect.Bool:
				k.Kind = KindBool
			case f.Type.Kind() == reflect.Int:
				k.Kind = KindInt
			case f.Type.Kind() == reflect.String:
				k.Kind = KindString
			case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.String:
				k.Kind = KindStrings
			default:
				panic(fmt.Sprintf("config: %s has unsupported type %s", k.Name, f.Type))
			}
			if e := f.Tag.Get("enum"); e != "" {
				k.Enum = strings.Split(e, "|")
			}
			if m := f.Tag.Get("min"); m != "" {
				var v int64
				if _, err := fmt.Sscan(m, &v); err != nil {
					panic("config: bad min tag on " + k.Name)
				}
				k.Min = &v
			}
			sec.Keys = append(sec.Keys, k)
			keyIndex[k.Name] = k
		}
		sections = append(sections, sec)
	}
	for _, k := range keyIndex {
		if k.Inherit != "" && keyIndex[k.Inherit] == nil {
			panic("config: " + k.Name + " inherits unknown key " + k.Inherit)
		}
	}
}

// Sections lists the sections and their keys in file order.
func Sections() []SectionInfo { return sections }

// LookupKey returns the key of that name ("section.key", case-insensitive).
func LookupKey(name string) (*Key, bool) {
	k, ok := keyIndex[strings.ToLower(name)]
	return k, ok
}

func (c *Config) field(k *Key) reflect.Value {
	return reflect.ValueOf(c).Elem().FieldByIndex(k.index)
}

// Value returns a key's effective value (bool, int, string, []string or
// time.Duration).
func (c *Config) Value(name string) (any, bool) {
	k, ok := LookupKey(name)
	if !ok {
		return nil, false
	}
	return c.field(k).Interface(), true
}

// Origin says where a key's value came from.
func (c *Config) Origin(name string) Origin {
	k, ok := LookupKey(name)
	if !ok {
		return Origin{}
	}
	return c.origins[k.Name]
}

// set stores a typed value and its origin.
func (c *Config) set(k *Key, v any, o Origin) {
	f := c.field(k)
	switch x := v.(type) {
	case []string:
		f.Set(reflect.ValueOf(append([]string{}, x...)))
	default:
		f.Set(reflect.ValueOf(v))
	}
	if c.origins == nil {
		c.origins = map[string]Origin{}
	}
	c.origins[k.Name] = o
}

// resolve fills inheriting lists that were not set explicitly.
func (c *Config) resolve() {
	for _, sec := range sections {
		for _, k := range sec.Keys {
			if k.Inherit == "" {
				continue
			}
			if o := c.origins[k.Name]; o.Source != FromDefault && o.Source != FromInherited {
				continue
			}
			parent := keyIndex[k.Inherit]
			c.set(k, c.field(parent).Interface(), Origin{Source: FromInherited, Where: parent.Name})
		}
	}
}

// Validate checks enumerations and bounds, naming the key and its origin.
func (c *Config) Validate() error {
	var errs []string
	for _, sec := range sections {
		for _, k := range sec.Keys {
			if err := k.check(c.field(k).Interface()); err != nil {
				errs = append(errs, fmt.Sprintf("%s (%s): %v", k.Name, c.origins[k.Name], err))
			}
		}
	}
	if _, err := ParseLogFilter(c.Logging.Filter); err != nil {
		errs = append(errs, fmt.Sprintf("logging.filter (%s): %v", c.origins["logging.filter"], err))
	}
	if len(errs) > 0 {
		return fmt.Errorf("config: %s", strings.Join(errs, "; "))
	}
	return nil
}

// check validates one typed value against the key's enum and bound.
func (k *Key) check(v any) error {
	switch x := v.(type) {
	case string:
		if k.Enum != nil {
			for _, e := range k.Enum {
				if x == e {
					return nil
				}
			}
			return fmt.Errorf("%q is not one of %s", x, strings.Join(k.Enum, ", "))
		}
	case int:
		if k.Min != nil && int64(x) < *k.Min {
			return fmt.Errorf("%d is below the minimum %d", x, *k.Min)
		}
	case time.Duration:
		if k.Min != nil && int64(x) < *k.Min {
			return fmt.Errorf("%s must be positive", x)
		}
	}
	return nil
}
