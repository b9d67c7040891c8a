package detect_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
	"github.com/edr-lab/edr/detect"
	"github.com/edr-lab/edr/detect/detecttest"
	"github.com/edr-lab/edr/detect/ecs"
	"github.com/edr-lab/edr/detect/filescan"
	"github.com/edr-lab/edr/detect/ioc"
	"github.com/edr-lab/edr/detect/sigma"
	"github.com/edr-lab/edr/detect/yara"
	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/recording/artifact"
	"github.com/stretchr/testify/require"
)

// TestGoldenAlerts runs the data-driven alert cases of testdata/golden
// (Pebble's style, github.com/cockroachdb/datadriven): each file defines
// its rules inline and lists events in and the exact alerts out. After a
// deliberate change to alerts, regenerate with
//
//	go test ./detect -run TestGoldenAlerts -rewrite
//
// and read the diff before committing it. Commands:
//
//	sigma                       Sigma YAML (accumulates; correlations see every rule of the file)
//	ioc hashes|ips|domains|paths indicator lines, one list file per kind (accumulates)
//	yara                        YARA rule source (accumulates)
//	artifact                    a file for the artifact store (the input, no trailing newline); prints its Sysmon Hashes
//	allowlist hash|yara         path prefixes never hashed / never YARA-scanned
//	reset                       forget every rule, artifact and allowlist
//	run [match_debug=off|summary|full] [format=json|ndjson|text] [ioc_severity=…] [security_audit=true]
//	                            replays the events (detecttest.ParseEvents) through a new
//	                            engine; prints every alert: json is the ECS line indented
//	                            (one field a line, so a changed mapping is a readable diff;
//	                            the harness checks the line was compact, so the view is
//	                            lossless), ndjson the line as written, text the console line.
//
// Every run also replays the events through the prematched path (what
// replay's pipeline uses) and requires the same bytes, and every alert is
// validated against ECS when the shared schema is present.
func TestGoldenAlerts(t *testing.T) {
	datadriven.Walk(t, "testdata/golden", func(t *testing.T, path string) {
		g := &goldenRules{dir: t.TempDir()}
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			return g.command(t, d)
		})
	})
}

// goldenRules is the rule material a golden file has defined so far.
type goldenRules struct {
	dir       string // where indicator and YARA files are written
	sigma     []string
	ioc       map[string][]string // kind → lines
	yara      []string
	artifacts [][]byte
	hashAllow []string
	yaraAllow []string
}

func (g *goldenRules) command(t *testing.T, d *datadriven.TestData) string {
	switch d.Cmd {
	case "sigma":
		g.sigma = append(g.sigma, d.Input)
		_, errs := sigma.LoadBytes("golden.yml", []byte(strings.Join(g.sigma, "\n---\n")), sigma.Options{})
		return okOrErrors(errs)
	case "ioc":
		kind := goldenArg(t, d, "", "hashes", "ips", "domains", "paths")
		if g.ioc == nil {
			g.ioc = map[string][]string{}
		}
		g.ioc[kind] = append(g.ioc[kind], d.Input)
		_, errs := ioc.Load(g.iocPaths(t), ioc.Options{})
		return okOrErrors(errs)
	case "yara":
		if !yara.Available {
			t.Skip("built without YARA")
		}
		g.yara = append(g.yara, d.Input)
		_, errs := yara.Compile(g.yaraFiles(t), yara.CompileOptions{})
		return strings.ReplaceAll(okOrErrors(errs), g.dir+string(os.PathSeparator), "")
	case "artifact":
		data := []byte(d.Input)
		if goldenArg(t, d, "", "", "escaped") == "escaped" { // Go escapes (\x00) for binary content
			u, err := strconv.Unquote(`"` + d.Input + `"`)
			require.NoError(t, err, d.Pos)
			data = []byte(u)
		}
		g.artifacts = append(g.artifacts, data)
		s := artifact.Sum(data)
		return event.FormatHashes(s.SHA1, s.MD5, s.SHA256, "")
	case "allowlist":
		lines := strings.Split(d.Input, "\n")
		switch goldenArg(t, d, "", "hash", "yara") {
		case "hash":
			g.hashAllow = append(g.hashAllow, lines...)
		default:
			g.yaraAllow = append(g.yaraAllow, lines...)
		}
		return "ok"
	case "reset":
		*g = goldenRules{dir: t.TempDir()}
		return "ok"
	case "run":
		return g.run(t, d)
	}
	d.Fatalf(t, "unknown command %q", d.Cmd)
	return ""
}

// goldenArg returns the command's argument among allowed: with key "", the
// first bare argument; else key's value (allowed[0] when absent).
func goldenArg(t *testing.T, d *datadriven.TestData, key string, allowed ...string) string {
	v := ""
	if key == "" {
		if len(d.CmdArgs) > 0 {
			v = d.CmdArgs[0].Key
		}
	} else if d.HasArg(key) {
		d.ScanArgs(t, key, &v)
	} else {
		v = allowed[0]
	}
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	d.Fatalf(t, "%s %q: want one of %v", key, v, allowed)
	return ""
}

func okOrErrors[E error](errs []E) string {
	if len(errs) == 0 {
		return "ok"
	}
	var b strings.Builder
	for _, e := range errs {
		b.WriteString("error: " + e.Error() + "\n")
	}
	return b.String()
}

// iocPaths writes the indicator lists as hashes.txt, … (alerts name the
// file's base name and line: threat.indicator.provider).
func (g *goldenRules) iocPaths(t *testing.T) ioc.Paths {
	write := func(kind string) string {
		if len(g.ioc[kind]) == 0 {
			return ""
		}
		p := filepath.Join(g.dir, kind+".txt")
		require.NoError(t, os.WriteFile(p, []byte(strings.Join(g.ioc[kind], "\n")+"\n"), 0o644))
		return p
	}
	return ioc.Paths{Hashes: write("hashes"), IPs: write("ips"), Domains: write("domains"), PathsRegex: write("paths")}
}

func (g *goldenRules) yaraFiles(t *testing.T) []string {
	p := filepath.Join(g.dir, "golden.yar")
	require.NoError(t, os.WriteFile(p, []byte(strings.Join(g.yara, "\n")+"\n"), 0o644))
	return []string{p}
}

func (g *goldenRules) run(t *testing.T, d *datadriven.TestData) string {
	md, ok := detect.ParseMatchDebug(goldenArg(t, d, "match_debug", "off", "summary", "full"))
	require.True(t, ok)
	format := goldenArg(t, d, "format", "json", "ndjson", "text")
	sev, err := detect.ParseSeverity(goldenArg(t, d, "ioc_severity", "high", "low", "medium", "critical"))
	require.NoError(t, err)
	audit := goldenArg(t, d, "security_audit", "false", "true") == "true"
	if _, err := detecttest.ParseEvents(d.Input); err != nil {
		d.Fatalf(t, "events: %v", err)
	}

	newEngine, encode := goldenEngine(t, g, goldenOptions{md, sev, audit, format})
	var outs [2][]byte
	for i, prematch := range []bool{false, true} {
		evs, _ := detecttest.ParseEvents(d.Input) // fresh events: the engine fills Hashes
		sink := &goldenSink{check: detecttest.NewSink(t), encode: encode, indent: format == "json"}
		eng := newEngine(sink)
		if prematch && eng.CanPrematch() {
			batch := make([]event.Event, len(evs))
			for j, ev := range evs {
				batch[j] = *ev
			}
			pre := eng.NewPrematcher().Run(batch, nil)
			require.NoError(t, eng.ProcessPrematched(batch, pre))
		} else {
			for _, ev := range evs {
				require.NoError(t, eng.Process(ev))
			}
		}
		require.NoError(t, eng.Flush())
		outs[i] = sink.out
	}
	require.Equal(t, string(outs[0]), string(outs[1]), "%s: prematched replay gives other alerts", d.Pos)
	if len(outs[0]) == 0 {
		return "no alerts"
	}
	return string(outs[0])
}

// goldenEngine is the one place the golden harness builds engines and
// encodes alerts (as replay/rules.go builds them: Sigma with match details
// unless match_debug is off, IOC and file checks at the IOC severity, YARA
// and hash IOCs over the artifact store), so that moving the ECS encoding
// or the process table to other packages is one edit here. It returns an
// engine factory (each engine gets its own Sigma state) and the encoder of
// the format.
func goldenEngine(t *testing.T, g *goldenRules, o goldenOptions) (func(detect.AlertSink) *detect.Engine, func(dst []byte, a *detect.Alert) []byte) {
	md, iocSev := o.matchDebug, o.iocSeverity
	var rs *sigma.Ruleset
	if len(g.sigma) > 0 {
		var errs []*sigma.LoadError
		rs, errs = sigma.LoadBytes("golden.yml", []byte(strings.Join(g.sigma, "\n---\n")), sigma.Options{Ruleset: "golden",
			Debug: md != detect.MatchDebugOff, SecurityAudit: o.securityAudit})
		require.Empty(t, errs)
	}
	var set *ioc.Set
	if len(g.ioc) > 0 {
		var errs []error
		set, errs = ioc.Load(g.iocPaths(t), ioc.Options{})
		require.Empty(t, errs)
	}
	fo := filescan.Options{IOC: set, HashAllowlist: g.hashAllow, YARAAllowlist: g.yaraAllow}
	if len(g.yara) > 0 {
		rules, errs := yara.Compile(g.yaraFiles(t), yara.CompileOptions{})
		require.Empty(t, errs)
		sc, err := yara.NewScanner(rules, yara.ScannerOptions{Workers: 1})
		require.NoError(t, err)
		t.Cleanup(sc.Close)
		fo.YARA = sc
	}
	if len(g.artifacts) > 0 {
		store, err := artifact.Open(t.TempDir(), artifact.Options{})
		require.NoError(t, err)
		t.Cleanup(func() { store.Close() })
		for _, a := range g.artifacts {
			_, _, err := store.Put(a)
			require.NoError(t, err)
		}
		fo.Store = store
	}
	newEngine := func(sink detect.AlertSink) *detect.Engine {
		eo := detect.Options{Sink: sink, MatchDebug: md, Replayed: true}
		if rs != nil {
			eo.Matchers = append(eo.Matchers, detect.NewSigmaMatcher(rs))
		}
		if !set.Empty() {
			eo.Matchers = append(eo.Matchers, detect.NewIOCMatcher(set, iocSev))
		}
		if fo.Store != nil {
			eo.Files = detect.NewFileMatcher(filescan.New(fo), iocSev)
		}
		eng, err := detect.New(eo)
		require.NoError(t, err)
		return eng
	}
	encode := func(dst []byte, a *detect.Alert) []byte {
		if o.format == "text" {
			return ecs.Text{}.Append(dst, a)
		}
		return ecs.AppendAlert(dst, a)
	}
	return newEngine, encode
}

// goldenOptions are a run's arguments that shape the engine.
type goldenOptions struct {
	matchDebug    detect.MatchDebug
	iocSeverity   detect.Severity
	securityAudit bool // sigma.Options.SecurityAudit (scanner.sigma_security_audit)
	format        string
}

// goldenSink validates every alert (detecttest.Sink) and keeps its
// encoding; the json format is shown indented.
type goldenSink struct {
	check  *detecttest.Sink
	encode func(dst []byte, a *detect.Alert) []byte
	indent bool
	out    []byte
}

func (s *goldenSink) Alert(a *detect.Alert) error {
	if err := s.check.Alert(a); err != nil {
		return err
	}
	line := s.encode(nil, a)
	if s.indent {
		var compact bytes.Buffer
		if err := json.Compact(&compact, line); err != nil {
			return fmt.Errorf("alert is not JSON: %w\n%s", err, line)
		}
		if !bytes.Equal(compact.Bytes(), bytes.TrimSuffix(line, []byte("\n"))) {
			return fmt.Errorf("alert line is not compact JSON: the indented view would hide a difference\n%s", line)
		}
		var ind bytes.Buffer
		if err := json.Indent(&ind, line, "", "  "); err != nil {
			return err
		}
		line = ind.Bytes()
	}
	s.out = append(s.out, line...)
	return nil
}
