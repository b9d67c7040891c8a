package ioc

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/internal/testutil"
)

// Benchmarks: go test -run XXX -bench . -benchmem -count 5 ./detect/ioc/
//
// BenchmarkMatch*: the same event mix against 100k indicators (the
// signature-base lists — 3.2k hashes, 1.8k C2 domains/IPs, 3.8k filename
// regexes — topped up with synthetic hashes, IPs, CIDRs, domains and
// regexes), edr's Set versus a naive map/linear implementation.
// BenchmarkLoad*: 1M indicators from files, edr's Load versus a naive
// loader that only splits lines into maps.

type mix struct {
	hashes, ips, cidrs, domains, suffixes, regexes int
}

// indicatorFiles writes a deterministic indicator set of the given mix
// into dir and returns its Paths.
func indicatorFiles(tb testing.TB, dir string, m mix) Paths {
	tb.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	var h, ip, dom, re strings.Builder
	for i := 0; i < m.hashes; i++ {
		n := [...]int{16, 20, 32}[i%3]
		b := make([]byte, n)
		for j := range b {
			b[j] = byte(r.Uint32())
		}
		fmt.Fprintf(&h, "%x;synthetic %d\n", b, i)
	}
	for i := 0; i < m.ips; i++ {
		if i%5 == 0 {
			fmt.Fprintf(&ip, "2001:db8:%x::%x\n", r.Uint32()&0xffff, r.Uint32()&0xffff)
		} else {
			fmt.Fprintf(&ip, "%d.%d.%d.%d\n", 11+r.IntN(200), r.IntN(256), r.IntN(256), r.IntN(256))
		}
	}
	for i := 0; i < m.cidrs; i++ {
		if i%5 == 0 {
			fmt.Fprintf(&ip, "2001:db8:%x::/48\n", r.Uint32()&0xffff)
		} else {
			fmt.Fprintf(&ip, "%d.%d.%d.0/%d\n", 11+r.IntN(200), r.IntN(256), r.IntN(256), 16+r.IntN(9))
		}
	}
	for i := 0; i < m.domains+m.suffixes; i++ {
		prefix := ""
		if i >= m.domains {
			prefix = "*."
		}
		fmt.Fprintf(&dom, "%s%s%d.%s\n", prefix, word(r), i, [...]string{"com", "net", "org", "info", "ru", "top"}[r.IntN(6)])
	}
	for i := 0; i < m.regexes; i++ {
		fmt.Fprintf(&re, `\\%s%d\\%s[0-9]{0,3}\.(exe|dll)$;synthetic`+"\n", word(r), i, word(r))
	}
	write := func(name string, b *strings.Builder) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
			tb.Fatal(err)
		}
		return p
	}
	return Paths{Hashes: write("hashes.txt", &h), IPs: write("ips.txt", &ip), Domains: write("domains.txt", &dom), PathsRegex: write("paths_regex.txt", &re)}
}

func word(r *rand.Rand) string {
	const letters = "abcdefghijklmnopqrstuvwxyz"
	b := make([]byte, 4+r.IntN(6))
	for i := range b {
		b[i] = letters[r.IntN(len(letters))]
	}
	return string(b)
}

// benchEvents is a deterministic mix of the Sysmon events that carry
// indicator fields, with realistic values (mostly benign).
func benchEvents(n int) []*event.Event {
	r := rand.New(rand.NewPCG(3, 4))
	images := []string{`C:\Windows\System32\svchost.exe`, `C:\Windows\explorer.exe`, `C:\Program Files\Google\Chrome\Application\chrome.exe`,
		`C:\Users\alice\AppData\Local\Temp\setup_4711.exe`, `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`,
		`C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe`, `C:\Users\Public\updater.exe`}
	files := []string{`C:\Users\alice\AppData\Roaming\Microsoft\Windows\Recent\report.lnk`, `C:\Windows\Temp\~DF1A2B.tmp`,
		`C:\ProgramData\Microsoft\Windows Defender\Scans\History\Service\DetectionHistory\02\x.bin`, `C:\Users\bob\Downloads\invoice.pdf.exe`}
	names := []string{"www.google.com", "login.microsoftonline.com", "cdn.example-update.net", "ocsp.digicert.com", "telemetry.windows.com"}
	hex := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return strings.ToUpper(fmt.Sprintf("%x", b))
	}
	out := make([]*event.Event, n)
	for i := range out {
		ev := &event.Event{Channel: event.ChannelSysmon, Provider: event.ProviderSysmon}
		img := images[r.IntN(len(images))]
		switch i % 6 {
		case 0:
			ev.EventID = 1
			ev.Set(event.FImage, img)
			ev.Set(event.FParentImage, images[r.IntN(len(images))])
			ev.Set(event.FHashes, "SHA1="+hex(20)+",MD5="+hex(16)+",SHA256="+hex(32)+",IMPHASH="+hex(16))
		case 1:
			ev.EventID = 3
			ev.Set(event.FImage, img)
			ev.Set(event.FSourceIp, "10.0.2.15")
			ev.Set(event.FDestinationIp, fmt.Sprintf("%d.%d.%d.%d", 1+r.IntN(220), r.IntN(256), r.IntN(256), r.IntN(256)))
			ev.Set(event.FDestinationHost, names[r.IntN(len(names))])
		case 2:
			ev.EventID = 22
			ev.Set(event.FImage, img)
			ev.Set(event.FQueryName, names[r.IntN(len(names))])
			ev.Set(event.FQueryResults, fmt.Sprintf("type:  5 edge.%s;::ffff:%d.%d.%d.%d;", names[r.IntN(len(names))], 1+r.IntN(220), r.IntN(256), r.IntN(256), r.IntN(256)))
		case 3:
			ev.EventID = 11
			ev.Set(event.FImage, img)
			ev.Set(event.FTargetFilename, files[r.IntN(len(files))])
		case 4:
			ev.EventID = 7
			ev.Set(event.FImage, img)
			ev.Set(event.FImageLoaded, `C:\Windows\System32\`+[...]string{"ntdll.dll", "kernel32.dll", "wininet.dll", "amsi.dll"}[r.IntN(4)])
			ev.Set(event.FHashes, "SHA1="+hex(20)+",MD5="+hex(16)+",SHA256="+hex(32)+",IMPHASH="+hex(16))
		default:
			ev.EventID = 13
			ev.Set(event.FImage, img)
			ev.Set(event.FTargetObject, `HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Run\Updater`)
		}
		out[i] = ev
	}
	return out
}

var (
	benchOnce    sync.Once
	benchSet     *Set
	benchNoCache *Set
	benchNaiv    *naiveSet
	benchErr     error
)

// benchIndicators loads the signature-base lists plus synthetic indicators
// up to 100k, once per process.
func benchIndicators(b *testing.B) (*Set, *naiveSet) {
	s, _, n := benchIndicators3(b)
	return s, n
}

func benchIndicators3(b *testing.B) (*Set, *Set, *naiveSet) {
	sb := testutil.Corpus(b, "iocs/signature-base")
	benchOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ioc-bench")
		if err != nil {
			benchErr = err
			return
		}
		defer os.RemoveAll(dir)
		p := indicatorFiles(b, dir, mix{hashes: 40000, ips: 20000, cidrs: 4000, domains: 20000, suffixes: 6000, regexes: 1200})
		p.Loki = []string{filepath.Join(sb, "hash-iocs.txt"), filepath.Join(sb, "c2-iocs.txt"), filepath.Join(sb, "filename-iocs.txt")}
		var errs []error
		benchSet, errs = Load(p, Options{})
		if len(errs) > 0 {
			benchErr = errs[0]
			return
		}
		benchNoCache, _ = Load(p, Options{PathCache: -1})
		benchNaiv = loadNaive(benchSet)
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchSet, benchNoCache, benchNaiv
}

// benchMatch runs match over the benchmark's event mix.
func benchMatch(b *testing.B, indicators int, match func(*event.Event, []Hit) []Hit) {
	evs := benchEvents(4096)
	out := make([]Hit, 0, 64)
	b.ReportMetric(float64(indicators), "indicators")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out = match(evs[i%len(evs)], out[:0])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

func BenchmarkMatch100k(b *testing.B) {
	s, _ := benchIndicators(b)
	benchMatch(b, s.Len(), s.Match)
}

// BenchmarkMatch100kNoPathCache: the same, every path run through the
// prefilter and regexes (what a never-seen path costs).
func BenchmarkMatch100kNoPathCache(b *testing.B) {
	_, s, _ := benchIndicators3(b)
	benchMatch(b, s.Len(), s.Match)
}

func BenchmarkMatch100kNaiveBaseline(b *testing.B) {
	s, n := benchIndicators(b)
	benchMatch(b, s.Len(), n.match)
}

// TestNaiveBaselineAgrees checks that the baseline finds the same hits as
// Set on the benchmark's events and on planted matches, so the benchmark
// compares equal work.
func TestNaiveBaselineAgrees(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 100k indicators")
	}
	sb := testutil.Corpus(t, "iocs/signature-base")
	p := indicatorFiles(t, t.TempDir(), mix{hashes: 300, ips: 300, cidrs: 60, domains: 300, suffixes: 60, regexes: 60})
	p.Loki = []string{filepath.Join(sb, "c2-iocs.txt"), filepath.Join(sb, "filename-iocs.txt")}
	s, errs := Load(p, Options{})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	n := loadNaive(s)
	evs := benchEvents(250)
	if raceEnabled {
		evs = evs[150:]
	}
	// Paths that signature-base regexes match (from the derived corpus hits).
	for i, p := range []string{`C:\Users\IEUser\AppData\Roaming\NvSmart.exe`, `C:\ProgramData\USOShared\SharpRDP.exe`,
		`C:\Users\Public\KeeFarce.exe`, `C:\Windows\Temp\dumpert.dmp`, `C:\Windows\System32\mimilsa.log`, `C:\osk.exe`,
		`c:\temp\EfsPotato.exe`, `C:\Users\IEUser\Desktop\lsass.exe_190317_120941.dmp`, `C:\ProgramData\winpm.exe`} {
		evs[len(evs)-50+i].Set(event.FTargetFilename, p)
	}
	// Plant values that do match.
	for i, in := range s.ind[:len(evs)-50] {
		ev := evs[i]
		switch in.kind {
		case KindDomain:
			ev.Set(event.FQueryName, "x."+strings.TrimPrefix(in.value, "*."))
		case KindIP:
			a, _, _ := strings.Cut(in.value, "/")
			ev.Set(event.FDestinationIp, a)
		}
	}
	total, paths := 0, 0
	for _, ev := range evs {
		got, want := s.Match(ev, nil), n.match(ev, nil)
		total += len(got)
		for _, h := range got {
			if h.Kind == KindPath {
				paths++
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("event %v:\n set   %v\n naive %v", ev.EventID, got, want)
		}
	}
	if total == 0 || paths == 0 {
		t.Fatalf("%d hits, %d path hits: the comparison is vacuous", total, paths)
	}
}

func BenchmarkLoad1M(b *testing.B) {
	dir := b.TempDir()
	p := indicatorFiles(b, dir, mix{hashes: 500000, ips: 200000, cidrs: 40000, domains: 200000, suffixes: 50000, regexes: 10000})
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s, errs := Load(p, Options{})
		if len(errs) > 0 || s.Len() != 1000000 {
			b.Fatalf("loaded %d, errors %v", s.Len(), errs)
		}
	}
	b.ReportMetric(1e6, "indicators")
}

func BenchmarkLoad1MNaiveBaseline(b *testing.B) {
	dir := b.TempDir()
	p := indicatorFiles(b, dir, mix{hashes: 500000, ips: 200000, cidrs: 40000, domains: 200000, suffixes: 50000, regexes: 10000})
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n := 0
		for _, f := range []string{p.Hashes, p.IPs, p.Domains, p.PathsRegex} {
			n += naiveLoadFile(b, f)
		}
		if n != 1000000 {
			b.Fatalf("loaded %d", n)
		}
	}
}

// naiveLoadFile is the loader a first implementation would write:
// bufio.Scanner, strings.Split, a map of lower-cased values, regexes
// compiled one by one.
func naiveLoadFile(b *testing.B, path string) int {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	m := map[string]string{}
	var res []*regexp.Regexp
	lines := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines++
		parts := strings.Split(sc.Text(), ";")
		v := strings.ToLower(strings.TrimSpace(parts[0]))
		if strings.HasSuffix(path, "paths_regex.txt") {
			res = append(res, regexp.MustCompile("(?i)"+v))
			continue
		}
		m[v] = strings.Join(parts[1:], ";")
	}
	_ = len(m) + len(res)
	return lines
}

// naiveSet is the straightforward matcher: maps for hashes and exact
// values, linear scans for CIDRs, suffixes and regexes. It reuses the
// loaded Set's indicators so both report the same hits.
type naiveSet struct {
	s        *Set
	hashes   map[string][]int32
	exactIP  map[netip.Addr][]int32
	cidrs    []naivePrefix
	exactDom map[string][]int32
	suffixes []naiveSuffix
	regexes  []int32 // pattern ids
}

type naivePrefix struct {
	p   netip.Prefix
	idx int32
}

type naiveSuffix struct {
	s   string
	idx int32
}

func loadNaive(s *Set) *naiveSet {
	n := &naiveSet{s: s, hashes: map[string][]int32{}, exactIP: map[netip.Addr][]int32{}, exactDom: map[string][]int32{}}
	for i, in := range s.ind {
		idx := int32(i)
		switch in.kind {
		case KindMD5, KindSHA1, KindSHA256:
			n.hashes[in.value] = append(n.hashes[in.value], idx)
		case KindIP:
			p, exact, _ := parseIPIndicator(in.value)
			if exact {
				n.exactIP[p.Addr()] = append(n.exactIP[p.Addr()], idx)
			} else {
				n.cidrs = append(n.cidrs, naivePrefix{p, idx})
			}
		case KindDomain:
			d, suffix, _ := parseDomain(in.value)
			if suffix {
				n.suffixes = append(n.suffixes, naiveSuffix{d, idx})
			} else {
				n.exactDom[d] = append(n.exactDom[d], idx)
			}
		}
	}
	for id := range s.paths.pats {
		n.regexes = append(n.regexes, int32(id))
	}
	return n
}

func (n *naiveSet) match(ev *event.Event, out []Hit) []Hit {
	for _, f := range hashFields {
		v, ok := ev.Get(f)
		if !ok {
			continue
		}
		for _, part := range strings.Split(v, ",") {
			_, d, _ := strings.Cut(part, "=")
			if strings.Contains(strings.ToUpper(part), "IMPHASH") {
				continue
			}
			for _, idx := range n.hashes[strings.ToLower(d)] {
				out = n.s.hit1(out, idx, f.Name(), d)
			}
		}
	}
	for _, f := range ipFields {
		if v, ok := ev.Get(f); ok {
			out = n.matchIP(v, f.Name(), v, out)
		}
	}
	for _, f := range domainFields {
		if v, ok := ev.Get(f); ok && v != "" {
			out = n.matchDomain(v, f.Name(), out)
		}
	}
	for _, f := range resultFields {
		v, ok := ev.Get(f)
		if !ok {
			continue
		}
		for _, tok := range strings.FieldsFunc(v, func(r rune) bool { return r < 0x80 && isSep(byte(r)) }) {
			if tok == "type:" || allDigits(tok) {
				continue
			}
			if _, err := netip.ParseAddr(tok); err == nil {
				out = n.matchIP(tok, f.Name(), tok, out)
			} else if strings.Contains(tok, ".") {
				out = n.matchDomain(tok, f.Name(), out)
			}
		}
	}
	for _, f := range pathFields {
		v, ok := ev.Get(f)
		if !ok || v == "" {
			continue
		}
		for _, id := range n.regexes {
			if n.s.paths.confirm(id, v) {
				out = n.s.hit1(out, n.s.paths.pats[id].ind, f.Name(), v)
			}
		}
	}
	return out
}

func (n *naiveSet) matchIP(v, field, value string, out []Hit) []Hit {
	a, err := netip.ParseAddr(v)
	if err != nil {
		return out
	}
	a = a.Unmap().WithZone("")
	var idx []int32
	idx = append(idx, n.exactIP[a]...)
	for _, c := range n.cidrs {
		if c.p.Contains(a) {
			idx = append(idx, c.idx)
		}
	}
	return n.emitSorted(idx, field, value, out)
}

func (n *naiveSet) matchDomain(v, field string, out []Hit) []Hit {
	d := strings.ToLower(strings.TrimSuffix(v, "."))
	var idx []int32
	idx = append(idx, n.exactDom[d]...)
	for _, s := range n.suffixes {
		if d == s.s || strings.HasSuffix(d, "."+s.s) {
			idx = append(idx, s.idx)
		}
	}
	return n.emitSorted(idx, field, v, out)
}

func (n *naiveSet) emitSorted(idx []int32, field, value string, out []Hit) []Hit {
	for _, i := range sortDedup(idx) {
		out = n.s.hit1(out, i, field, value)
	}
	return out
}
