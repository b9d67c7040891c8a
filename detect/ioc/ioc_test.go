package ioc

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/edr-lab/edr/event"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// writeLists writes indicator files into a temp dir and returns their Paths.
func writeLists(t testing.TB, hashes, ips, domains, paths string) Paths {
	t.Helper()
	dir := t.TempDir()
	w := func(name, content string) string {
		if content == "" {
			return ""
		}
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
		return p
	}
	return Paths{Hashes: w("hashes.txt", hashes), IPs: w("ips.txt", ips), Domains: w("domains.txt", domains), PathsRegex: w("paths_regex.txt", paths)}
}

func sysmon(id uint16, kv ...string) *event.Event {
	ev := &event.Event{Channel: event.ChannelSysmon, Provider: event.ProviderSysmon, EventID: id}
	for i := 0; i+1 < len(kv); i += 2 {
		ev.SetByName(kv[i], kv[i+1])
	}
	return ev
}

// EICAR test file digests (public, fixed).
const (
	eicarMD5    = "44d88612fea8a8f36de82e1278abb02f"
	eicarSHA1   = "3395856ce81f2b7382dee72602f798b642f14140"
	eicarSHA256 = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"
)

func TestHashesToldApartByLength(t *testing.T) {
	p := writeLists(t, "# EICAR\n"+eicarMD5+";eicar md5\n"+strings.ToUpper(eicarSHA1)+"\n"+eicarSHA256+" ; eicar sha256 \n", "", "", "")
	s, errs := Load(p, Options{})
	require.Empty(t, errs)
	st := s.Stats()
	assert.Equal(t, 1, st.MD5)
	assert.Equal(t, 1, st.SHA1)
	assert.Equal(t, 1, st.SHA256)

	ev := sysmon(1, "Image", `C:\Users\a\eicar.exe`,
		"Hashes", "SHA1="+strings.ToUpper(eicarSHA1)+",MD5="+strings.ToUpper(eicarMD5)+",SHA256="+strings.ToUpper(eicarSHA256)+",IMPHASH="+strings.ToUpper(eicarMD5))
	hits := s.Match(ev, nil)
	require.Len(t, hits, 3, "IMPHASH must not match an MD5 indicator")
	assert.Equal(t, KindSHA1, hits[0].Kind)
	assert.Equal(t, eicarSHA1, hits[0].Indicator)
	assert.Equal(t, "Hashes", hits[0].Field)
	assert.Equal(t, strings.ToUpper(eicarSHA1), hits[0].Value)
	assert.Equal(t, KindMD5, hits[1].Kind)
	assert.Equal(t, "eicar md5", hits[1].Comment)
	assert.Equal(t, 2, hits[1].Source.Line)
	assert.Equal(t, p.Hashes+":2", hits[1].Source.String())
	assert.Equal(t, "eicar sha256", hits[2].Comment)

	// Sysmon 15 names the field Hash; a bare digest is told apart by length.
	hits = s.Match(sysmon(15, "Hash", eicarSHA256), nil)
	require.Len(t, hits, 1)
	assert.Equal(t, "Hash", hits[0].Field)
	assert.Empty(t, s.Match(sysmon(1, "Hashes", "MD5="+eicarSHA1), nil), "a label that contradicts the length is no match")
}

func TestMalformedLinesReportedAndSkipped(t *testing.T) {
	p := writeLists(t,
		eicarMD5+"\nnot-a-hash;x\n"+strings.Repeat("z", 32)+"\n;only a comment\n"+eicarSHA1+"\n",
		"10.0.0.0/8\n300.1.1.1\n1.2.3.4/40\nfe80::1%eth0\n2001:db8::/32\n",
		"evil.example\nbad domain.com\n*.\n",
		`\\evil\.exe$`+"\n"+`(unclosed`+"\n"+`\\ok\.dll`+"\n")
	s, errs := Load(p, Options{})
	require.Len(t, errs, 9)
	var le *LineError
	require.True(t, errors.As(errs[0], &le))
	assert.Equal(t, p.Hashes, le.File)
	assert.Equal(t, 2, le.Line)
	assert.ErrorIs(t, errs[0], errHashLen)
	assert.Contains(t, errs[0].Error(), p.Hashes+":2:")
	require.True(t, errors.As(errs[1], &le))
	assert.Equal(t, 3, le.Line)
	assert.ErrorIs(t, errs[1], errHashHex)
	require.True(t, errors.As(errs[2], &le))
	assert.Equal(t, 4, le.Line)
	assert.ErrorIs(t, errs[2], errEmptyValue)
	for i, want := range []struct {
		file string
		line int
	}{{p.IPs, 2}, {p.IPs, 3}, {p.IPs, 4}, {p.Domains, 2}, {p.Domains, 3}, {p.PathsRegex, 2}} {
		require.True(t, errors.As(errs[3+i], &le), "%v", errs[3+i])
		assert.Equal(t, want.file, le.File)
		assert.Equal(t, want.line, le.Line)
	}
	st := s.Stats()
	assert.Equal(t, 9, st.Errors)
	assert.Equal(t, 2, st.MD5+st.SHA1)
	assert.Equal(t, 1, st.CIDRs+st.IPs-1)
	assert.Equal(t, 1, st.Domains)
	assert.Equal(t, 2, st.Regexes)
	assert.Equal(t, 7, s.Len())
}

func TestMissingFileReportedOthersLoad(t *testing.T) {
	p := writeLists(t, eicarMD5+"\n", "", "", "")
	p.IPs = filepath.Join(t.TempDir(), "absent.txt")
	s, errs := Load(p, Options{})
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], os.ErrNotExist)
	assert.Equal(t, 1, s.Len())
}

func TestIPsAndRanges(t *testing.T) {
	p := writeLists(t, "", "10.0.0.0/8;rfc1918\n10.1.2.3;host\n10.1.0.0/16\n2001:db8::/32;doc v6\n::ffff:192.0.2.7;mapped\n192.0.2.0/24\n", "", "")
	s, errs := Load(p, Options{})
	require.Empty(t, errs)
	assert.Equal(t, 2, s.Stats().IPs)
	assert.Equal(t, 4, s.Stats().CIDRs)

	hits := s.Match(sysmon(3, "SourceIp", "10.1.2.3", "DestinationIp", "8.8.8.8"), nil)
	require.Len(t, hits, 3)
	// Load order within the value, whatever the structure that found it.
	assert.Equal(t, []string{"10.0.0.0/8", "10.1.2.3", "10.1.0.0/16"}, indicators(hits))
	assert.Equal(t, "SourceIp", hits[0].Field)

	hits = s.Match(sysmon(3, "DestinationIp", "2001:db8:0:0:1::5"), nil)
	require.Len(t, hits, 1)
	assert.Equal(t, "doc v6", hits[0].Comment)

	// The DNS client writes IPv4 answers IPv4-mapped: they match IPv4 indicators.
	hits = s.Match(sysmon(22, "QueryName", "x.example", "QueryResults", "type:  5 cdn.example;::ffff:192.0.2.7;::ffff:198.51.100.1;"), nil)
	require.Len(t, hits, 2)
	assert.Equal(t, []string{"::ffff:192.0.2.7", "192.0.2.0/24"}, indicators(hits))
	assert.Equal(t, "QueryResults", hits[0].Field)
	assert.Equal(t, "::ffff:192.0.2.7", hits[0].Value)

	// Security 5156 carries the WFP fields.
	ev := &event.Event{Channel: event.ChannelSecurity, EventID: 5156}
	ev.SetByName("DestAddress", "10.9.9.9")
	ev.SetByName("SourceAddress", "-")
	hits = s.Match(ev, nil)
	require.Len(t, hits, 1)
	assert.Equal(t, "DestAddress", hits[0].Field)
}

func TestDomainsExactAndSuffix(t *testing.T) {
	p := writeLists(t, "", "", "evil.example;exact\n*.bad.example;star\n.worse.example\nBAD.example.;dup of star's parent\n", "")
	s, errs := Load(p, Options{})
	require.Empty(t, errs)
	assert.Equal(t, 2, s.Stats().Domains)
	assert.Equal(t, 2, s.Stats().Suffixes)

	match := func(name string) []string { return indicators(s.Match(sysmon(22, "QueryName", name), nil)) }
	assert.Equal(t, []string{"evil.example"}, match("EVIL.example."))
	assert.Empty(t, match("a.evil.example"), "an exact domain does not match its subdomains")
	assert.Equal(t, []string{"*.bad.example", "bad.example."}, match("bad.example"), "a suffix matches the name itself")
	assert.Equal(t, []string{"*.bad.example"}, match("x.y.BAD.example"))
	assert.Equal(t, []string{".worse.example"}, match("a.worse.example"))
	assert.Empty(t, match("notworse.example"))
	assert.Empty(t, match("example"))

	hits := s.Match(sysmon(3, "DestinationHostname", "c2.worse.example"), nil)
	require.Len(t, hits, 1)
	assert.Equal(t, "DestinationHostname", hits[0].Field)
	hits = s.Match(sysmon(22, "QueryName", "ok.example", "QueryResults", "type:  5 cdn.worse.example;1.2.3.4;"), nil)
	require.Len(t, hits, 1, "a CNAME in the answer is a domain too")
	assert.Equal(t, "cdn.worse.example", hits[0].Value)
}

func TestPathRegexes(t *testing.T) {
	p := writeLists(t, "", "", "",
		`\\AppData\\Roaming\\[^\\]{1,64}\.exe$;roaming exe`+"\n"+
			`\\Users\\Public\\`+"\n"+
			`^.:\\[a-z0-9]{1,3}\.[a-z]{3}$;no useful literal`+"\n"+
			`(mimikatz|mimilib|mimidrv)\.(exe|dll|sys)`+"\n")
	s, errs := Load(p, Options{})
	require.Empty(t, errs)
	assert.Equal(t, 4, s.Stats().Regexes)
	assert.Equal(t, 1, s.Stats().RegexesNoLiteral)

	ev := sysmon(11, "Image", `C:\Windows\System32\cmd.exe`, "TargetFilename", `C:\users\PUBLIC\appdata\roaming\Mimikatz.EXE`)
	hits := s.Match(ev, nil)
	require.Len(t, hits, 3)
	assert.Equal(t, "TargetFilename", hits[0].Field)
	assert.Equal(t, []string{`\\AppData\\Roaming\\[^\\]{1,64}\.exe$`, `\\Users\\Public\\`, `(mimikatz|mimilib|mimidrv)\.(exe|dll|sys)`}, indicators(hits))
	assert.Equal(t, "roaming exe", hits[0].Comment)

	hits = s.Match(sysmon(1, "Image", `C:\osk.exe`, "ParentImage", `c:\Windows\explorer.exe`), nil)
	require.Len(t, hits, 1)
	assert.Equal(t, "Image", hits[0].Field)

	// The prefilter folds the Kelvin sign like RE2's (?i) does.
	assert.Len(t, s.MatchPath("C:\\x\\MIMI\u212AATZ.exe", "Image", nil), 1)
}

// Regexes without a literal share one guard program built from their parse
// trees: `\Q` quotes to the end of its source, so joining source text
// ("(?:\Q)|…") would not compile (found by FuzzParseList).
func TestPathRegexesQuotedToEnd(t *testing.T) {
	p := writeLists(t, "", "", "", `\Q`+"\n"+`^\Q.:\E.{0,2}$`+"\n"+`\Q).*`+"\n")
	s, errs := Load(p, Options{})
	require.Empty(t, errs)
	assert.Equal(t, 3, s.Stats().Regexes)
	assert.Equal(t, 2, s.Stats().RegexesNoLiteral)
	assert.Len(t, s.MatchPath(`C:\x`, "Image", nil), 1, "the empty regex matches every path")
	hits := s.MatchPath(`.:ab`, "Image", nil)
	require.Len(t, hits, 2)
	assert.Equal(t, []string{`\Q`, `^\Q.:\E.{0,2}$`}, indicators(hits))
	assert.Len(t, s.MatchPath(`a).*b`, "Image", nil), 2)
}

func TestLokiLists(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
		return p
	}
	files := []string{
		write("filename-iocs.txt", "# Regin\n\\\\usbclass\\.sys;80\n\\\\low\\.exe;40\n(?i)\\\\procdump(64)?\\.exe;50;(?i)SysInternals\\\\\n\\\\nosemi\n"),
		write("c2-iocs.txt", "# Op X\nevil.example\n10.0.0.1;65\n10.2.0.0/16\nc2.example;70;Op Y server\n"),
		write("hash-iocs.txt", eicarMD5+";EICAR\n# LOLDrivers\n"+eicarSHA1+";60;vuln.sys - driver\n"+eicarSHA256+"\n"),
		write("other.txt", "x\n"),
	}
	s, errs := Load(Paths{Loki: files}, Options{LokiMinScore: 50})
	require.Len(t, errs, 2)
	// Files that cannot be read come first, then malformed lines in file order.
	assert.Contains(t, errs[0].Error(), "other.txt")
	assert.Contains(t, errs[1].Error(), "filename-iocs.txt:5")
	st := s.Stats()
	assert.Equal(t, 2, st.Regexes, "the score-40 line is below LokiMinScore")
	assert.Equal(t, 2, st.Domains)
	assert.Equal(t, 1, st.IPs)
	assert.Equal(t, 1, st.CIDRs)
	assert.Equal(t, 1, st.MD5)

	hits := s.MatchPath(`C:\Windows\usbclass.sys`, "ImageLoaded", nil)
	require.Len(t, hits, 1)
	assert.Equal(t, "Regin (score 80)", hits[0].Comment)
	assert.Empty(t, s.MatchPath(`C:\Windows\USBCLASS.SYS`, "ImageLoaded", nil), "LOKI regexes are case-sensitive")
	assert.Len(t, s.MatchPath(`C:\tmp\ProcDump64.exe`, "Image", nil), 1)
	assert.Empty(t, s.MatchPath(`C:\SysInternals\procdump.exe`, "Image", nil), "the false-positive regex excludes")
	hits = s.Match(sysmon(3, "DestinationIp", "10.0.0.1", "DestinationHostname", "evil.example"), nil)
	require.Len(t, hits, 2)
	assert.Equal(t, "Op X (score 65)", hits[0].Comment)
	assert.Equal(t, "Op X", hits[1].Comment)
	hits = s.MatchDomain("c2.example", "QueryName", nil)
	require.Len(t, hits, 1)
	assert.Equal(t, "Op Y server (score 70)", hits[0].Comment)
}

func TestDuplicatesAllReported(t *testing.T) {
	p := writeLists(t, eicarMD5+";first\n"+strings.ToUpper(eicarMD5)+";second\n", "", "", "")
	s, errs := Load(p, Options{})
	require.Empty(t, errs)
	assert.Equal(t, 1, s.Stats().Duplicates)
	hits := s.Match(sysmon(1, "Hashes", "MD5="+eicarMD5), nil)
	require.Len(t, hits, 2)
	assert.Equal(t, "first", hits[0].Comment)
	assert.Equal(t, "second", hits[1].Comment)
}

func TestRequiredLiterals(t *testing.T) {
	for expr, want := range map[string][]string{
		`\\AppData\\Roaming\\[^\\]{1,64}\.exe$`:                {`\appdata\roaming\`},
		`\\[Pp]rogram[Dd]ata\\x`:                               {`\programdata\x`},
		`(mimikatz|mimilib)\.exe`:                              {"mimikatz.exe", "mimilib.exe"},
		`[Cc]:\\(Recovery|Intel|Web)\\[^\\"]{1,16}\.(exe|dll)`: {`c:\intel\`, `c:\recovery\`, `c:\web\`},
		`\\[0-3]\.(exe|dll)$`:                                  {`\0.dll`, `\0.exe`, `\1.dll`, `\1.exe`, `\2.dll`, `\2.exe`, `\3.dll`, `\3.exe`},
		`abcédefg`:                                             {"defg"},
		`^[a-z]:\\[a-z0-9]{1,3}\.exe$`:                         {".exe"},
		`(a|b)+xyz`:                                            {"xyz"},
		`\\a`:                                                  nil,
		`(abc|d)x`:                                             nil,
		`(?:wmiexec)+`:                                         {"wmiexec"},
		`x*abc?`:                                               nil, // "ab" only
	} {
		assert.Equal(t, want, requiredLiterals(expr, true), expr)
	}
}

func TestEmptySetMatchesNothing(t *testing.T) {
	s, errs := Load(Paths{}, Options{})
	require.Empty(t, errs)
	assert.True(t, s.Empty())
	assert.Empty(t, s.Match(sysmon(1, "Image", `C:\x.exe`), nil))
}

func TestMatchDoesNotAllocate(t *testing.T) {
	p := writeLists(t, eicarMD5+"\n", "10.0.0.0/8\n1.2.3.4\n2001:db8::/32\n", "evil.example\n.bad.example\n",
		`\\AppData\\Roaming\\[^\\]{1,64}\.exe$`+"\n"+`^[a-z]:\\[a-z0-9]{1,3}\.exe$`+"\n")
	s, errs := Load(p, Options{})
	require.Empty(t, errs)
	evs := []*event.Event{
		sysmon(1, "Image", `C:\Users\a\AppData\Roaming\x.exe`, "ParentImage", `C:\Windows\explorer.exe`, "Hashes", "SHA1=AA,MD5="+eicarMD5+",SHA256=BB,IMPHASH=CC"),
		sysmon(3, "SourceIp", "10.1.1.1", "DestinationIp", "2001:db8::1", "DestinationHostname", "www.BAD.example"),
		sysmon(22, "QueryName", "evil.example", "QueryResults", "type:  5 a.bad.example;::ffff:1.2.3.4;"),
	}
	out := make([]Hit, 0, 64)
	allocs := testing.AllocsPerRun(200, func() {
		for _, ev := range evs {
			out = s.Match(ev, out[:0])
		}
	})
	assert.Zero(t, allocs)
	assert.NotEmpty(t, out)
	c := s.NewCache()
	allocs = testing.AllocsPerRun(200, func() {
		for _, ev := range evs {
			out = s.MatchWith(c, ev, out[:0])
		}
	})
	assert.Zero(t, allocs, "MatchWith")
	assert.NotEmpty(t, out)
}

func indicators(hits []Hit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.Indicator
	}
	return out
}

func TestLiteralGroupsAreAllRequired(t *testing.T) {
	g := literalGroups(`[Cc]:\\[a-z0-9]{1,3}\.(exe|vbs)$`, false)
	assert.Equal(t, [][]string{{".exe", ".vbs"}, {`c:\`}}, g)
	// Each group gates the regex: ".exe" alone does not make it a candidate.
	p := writeLists(t, "", "", "", `[Cc]:\\[a-z0-9]{1,3}\.(exe|vbs)$`+"\n")
	s, errs := Load(p, Options{})
	require.Empty(t, errs)
	assert.Empty(t, s.paths.candidates(`D:\x.exe`, nil))
	assert.NotEmpty(t, s.paths.candidates(`C:\x.exe`, nil))
}

// TestConcurrentMatch: one Set, many goroutines (the path cache is shared,
// or with MatchWith each goroutine's own); every goroutine sees exactly
// the single-threaded results.
func TestConcurrentMatch(t *testing.T) {
	p := writeLists(t, eicarMD5+"\n", "10.0.0.0/8\n", "evil.example\n", `\\Users\\Public\\`+"\n"+`\\AppData\\Roaming\\[^\\]+\.exe$`+"\n")
	s, errs := Load(p, Options{PathCache: 8})
	require.Empty(t, errs)
	evs := benchEvents(512)
	for i := 0; i < len(evs); i += 7 {
		evs[i].Set(event.FTargetFilename, fmt.Sprintf(`C:\Users\Public\f%d.exe`, i%40))
	}
	want := make([][]Hit, len(evs))
	ref, _ := Load(p, Options{PathCache: -1})
	for i, ev := range evs {
		want[i] = ref.Match(ev, nil)
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			var out []Hit
			c := s.NewCache()
			for r := 0; r < 3; r++ {
				for i := range evs {
					j := (i + g*97) % len(evs)
					if g%2 == 0 {
						out = s.Match(evs[j], out[:0])
					} else {
						out = s.MatchWith(c, evs[j], out[:0])
					}
					if !assert.Equal(t, want[j], append([]Hit(nil), out...)) {
						return
					}
				}
			}
		}(g)
	}
	wg.Wait()
}

// A run of exact pieces that grows past maxAlternatives is cut, and what
// all of its strings end with is carried into the next run.
func TestLiteralRunCarriesCommonSuffix(t *testing.T) {
	g := literalGroups(`[C-Zc-z]:\\[a-z0-9]\.(exe|vbs)$`, false)
	require.NotEmpty(t, g)
	assert.Len(t, g[0], 72)
	assert.Contains(t, g[0], `:\a.exe`)
	assert.Contains(t, g[0], `:\9.vbs`)
}
