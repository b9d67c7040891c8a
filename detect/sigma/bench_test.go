package sigma_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	sigmago "github.com/bradleyjkemp/sigma-go"
	"github.com/bradleyjkemp/sigma-go/evaluator"
	"github.com/edr-lab/edr/corpus/jsonl"
	"github.com/edr-lab/edr/corpus/synth"
	"github.com/edr-lab/edr/detect/sigma"
	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/internal/cputime"
	"github.com/edr-lab/edr/internal/testutil"
	"gopkg.in/yaml.v3"
)

var benchDirs = []string{"rules/windows", "rules-emerging-threats", "rules-threat-hunting"}

// processCreationRules lists the SigmaHQ rule files with category
// process_creation and product windows.
func processCreationRules(tb testing.TB) []string {
	root := testutil.Corpus(tb, "sigma")
	var out []string
	for _, d := range benchDirs {
		filepath.WalkDir(filepath.Join(root, d), func(p string, de os.DirEntry, err error) error {
			if err != nil || de.IsDir() || !strings.HasSuffix(p, ".yml") {
				return err
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			r, err := sigmago.ParseRule(data)
			if err == nil && r.Logsource.Category == "process_creation" && r.Logsource.Product == "windows" {
				out = append(out, p)
			}
			return nil
		})
	}
	return out
}

// regressionEvents reads every event of the SigmaHQ regression samples.
func regressionEvents(tb testing.TB) []*event.Event {
	root := testutil.Corpus(tb, "sigma")
	var out []*event.Event
	filepath.WalkDir(filepath.Join(root, "regression_data"), func(p string, de os.DirEntry, err error) error {
		if err != nil || de.IsDir() || !strings.HasSuffix(p, ".json") {
			return err
		}
		_, err = jsonl.ReadFile(p, jsonl.Options{}, func(e *event.Event) error {
			out = append(out, e.Clone())
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
		return nil
	})
	return out
}

// benignProcessCreation is a Sysmon 1 event that matches no SigmaHQ rule,
// so every candidate rule is evaluated in full.
func benignProcessCreation() *event.Event {
	ev := &event.Event{Channel: event.ChannelSysmon, Provider: event.ProviderSysmon, EventID: 1, Time: 1_700_000_000_000_000_000}
	for k, v := range map[string]string{
		"RuleName": "-", "UtcTime": "2024-05-20 15:31:00.456", "ProcessGuid": "{aabbccdd-1122-3344-5566-77889900aabb}",
		"ProcessId": "6789", "Image": `C:\Program Files\Contoso\Updater\ContosoUpdater.exe`, "FileVersion": "4.2.1.7",
		"Description": "Contoso Background Updater", "Product": "Contoso Suite", "Company": "Contoso Ltd.",
		"OriginalFileName": "ContosoUpdater.exe",
		"CommandLine":      `"C:\Program Files\Contoso\Updater\ContosoUpdater.exe" --channel stable --check-interval 3600 --log "C:\ProgramData\Contoso\Logs\updater.log" --silent`,
		"CurrentDirectory": `C:\Program Files\Contoso\Updater\`, "User": `CORP\jdoe`, "LogonGuid": "{aabbccdd-1122-3344-5566-000000000002}",
		"LogonId": "0x883f0", "TerminalSessionId": "1", "IntegrityLevel": "Medium",
		"Hashes":            "SHA1=B6D237154F2E528F0B503B58B025862D66B02B73,MD5=0E61079D3283687D2E279272966AE99D,SHA256=A920F5A3D3A79C3DC7C8C0AA8F8F8A1B93A97F6E51D1F27A2F6C7C1E5D7A6E4B,IMPHASH=C892C8CAA1D2E1A8A1B5F6E7D8C9B0A1",
		"ParentProcessGuid": "{aabbccdd-1122-3344-5566-000000000001}", "ParentProcessId": "5544",
		"ParentImage": `C:\Windows\System32\svchost.exe`, "ParentCommandLine": `C:\Windows\system32\svchost.exe -k netsvcs -p -s Schedule`,
		"ParentUser": `NT AUTHORITY\SYSTEM`,
	} {
		ev.SetByName(k, v)
	}
	return ev
}

// sigmaGoRules returns sigma-go evaluators for the rules sigma-go parses
// and evaluates without error on a probe event.
func sigmaGoRules(tb testing.TB, files []string, probe map[string]string) ([]*evaluator.RuleEvaluator, []string) {
	var out []*evaluator.RuleEvaluator
	var used []string
	for _, f := range files {
		data, _ := os.ReadFile(f)
		r, err := sigmago.ParseRule(data)
		if err != nil {
			continue
		}
		e := evaluator.ForRule(r)
		if _, err := e.Matches(context.Background(), probe); err != nil {
			continue
		}
		out = append(out, e)
		used = append(used, f)
	}
	return out, used
}

func asMap(ev *event.Event) map[string]string {
	m := map[string]string{"EventID": event.Itoa(uint64(ev.EventID)), "Channel": ev.Channel, "Provider_Name": ev.Provider}
	ev.Range(func(id event.FieldID, v string) bool { m[id.Name()] = v; return true })
	for _, kv := range ev.Extra() {
		m[kv.Key] = kv.Value
	}
	return m
}

// BenchmarkProcessCreation runs SigmaHQ's process_creation rules over the
// same events with edr and with sigma-go v0.6.6's evaluator (on the rules
// sigma-go evaluates without error). One op = one event.
func BenchmarkProcessCreation(b *testing.B) {
	files := processCreationRules(b)
	var evs []*event.Event
	for _, ev := range regressionEvents(b) {
		if ev.Channel == event.ChannelSysmon && ev.EventID == 1 {
			evs = append(evs, ev)
		}
	}
	benign := benignProcessCreation()
	sets := map[string][]*event.Event{"benign": {benign}, "regression": evs}
	rs, errs := sigma.Load(files, sigma.Options{})
	if len(errs) > 0 {
		b.Logf("%d of %d rules did not load", len(errs), len(files))
	}
	sg, sgFiles := sigmaGoRules(b, files, asMap(benign))
	same, _ := sigma.Load(sgFiles, sigma.Options{})
	b.Logf("%d process_creation rules: edr loads %d, sigma-go evaluates %d (edr-same: edr on those %d)", len(files), len(rs.Rules()), len(sg), len(same.Rules()))
	for _, name := range []string{"benign", "regression"} {
		set := sets[name]
		for _, v := range []struct {
			name string
			rs   *sigma.Ruleset
		}{{"edr", rs}, {"edr-same", same}} {
			b.Run(v.name+"/"+name, func(b *testing.B) {
				var out []sigma.Match
				m := v.rs.NewMatcher()
				b.ReportAllocs()
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				cpu0 := cputime.Thread()
				for i := 0; b.Loop(); i++ {
					out = m.Match(set[i%len(set)], out[:0])
				}
				reportRates(b, cpu0)
			})
		}
		maps := make([]map[string]string, len(set))
		for i, ev := range set {
			maps[i] = asMap(ev)
		}
		b.Run("sigmago/"+name, func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			cpu0 := cputime.Thread()
			for i := 0; b.Loop(); i++ {
				m := maps[i%len(maps)]
				for _, e := range sg {
					e.Matches(ctx, m)
				}
			}
			reportRates(b, cpu0)
		})
	}
}

// synthEvents generates the foundation's mixed benign+attack stream.
func synthEvents(n int) []*event.Event {
	g := synth.New(synth.Options{Seed: 1, Events: int64(n)})
	out := make([]*event.Event, 0, n)
	var ev event.Event
	for g.Next(&ev) {
		out = append(out, ev.Clone())
	}
	return out
}

func loadFullSigmaHQ(tb testing.TB, opts sigma.Options) *sigma.Ruleset {
	root := testutil.Corpus(tb, "sigma")
	var paths []string
	for _, d := range benchDirs {
		paths = append(paths, filepath.Join(root, d))
	}
	rs, _ := sigma.Load(paths, opts)
	return rs
}

// BenchmarkMixFullRuleset runs every SigmaHQ Windows/ET/TH rule over the
// generated event mix (corpus/synth, seed 1). One op = one event, so
// events/s per core = 1e9 / ns/op. The no-prefilter variant is the baseline
// for the prefilter's ratio.
func BenchmarkMixFullRuleset(b *testing.B) {
	evs := synthEvents(50_000)
	for _, v := range []struct {
		name string
		opts sigma.Options
	}{{"prefilter", sigma.Options{}}, {"noprefilter", sigma.Options{NoPrefilter: true}}} {
		rs := loadFullSigmaHQ(b, v.opts)
		b.Run(v.name, func(b *testing.B) {
			var out []sigma.Match
			m := rs.NewMatcher()
			b.ReportAllocs()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			cpu0 := cputime.Thread()
			i := 0
			for b.Loop() {
				out = m.Match(evs[i%len(evs)], out[:0])
				i++
			}
			reportRates(b, cpu0)
		})
	}
}

// reportRates adds events/s by wall clock and per CPU-second of the
// benchmark's thread (garbage collection on other threads is not counted
// in the latter; edr's hot path allocates nothing).
func reportRates(b *testing.B, cpu0 time.Duration) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	if cpu := cputime.Thread() - cpu0; cpu > 0 {
		b.ReportMetric(float64(b.N)/cpu.Seconds(), "events/cpu-s")
	}
}

// BenchmarkParseSigmaHQ: parsing the 3,020 SigmaHQ Windows/ET/TH rule files
// (already in memory; one op = all of them) with sigma-go's ParseRule
// (yaml.v3 plus its participle condition grammar), with yaml.v3 alone into a
// node tree (what edr starts from), and edr's full Load (parse, compile,
// routing, prefilter; reads the files too).
func BenchmarkParseSigmaHQ(b *testing.B) {
	root := testutil.Corpus(b, "sigma")
	var files [][]byte
	var paths []string
	for _, d := range benchDirs {
		p := filepath.Join(root, d)
		paths = append(paths, p)
		filepath.WalkDir(p, func(f string, de os.DirEntry, err error) error {
			if err == nil && !de.IsDir() && strings.HasSuffix(f, ".yml") {
				data, err := os.ReadFile(f)
				files = append(files, data)
				return err
			}
			return err
		})
	}
	b.Logf("%d files", len(files))
	b.Run("sigmago.ParseRule", func(b *testing.B) {
		for b.Loop() {
			for _, f := range files {
				sigmago.ParseRule(f)
			}
		}
	})
	b.Run("yaml.v3-node", func(b *testing.B) {
		for b.Loop() {
			for _, f := range files {
				var n yaml.Node
				yaml.Unmarshal(f, &n)
			}
		}
	})
	b.Run("edr.Load", func(b *testing.B) {
		b.ReportAllocs()
		cpu0 := cputime.Now()
		for b.Loop() {
			sigma.Load(paths, sigma.Options{})
		}
		b.ReportMetric((cputime.Now()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
	})
}
