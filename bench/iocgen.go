package bench

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/edr-lab/edr/corpus/synth"
	"github.com/edr-lab/edr/event"
)

// IOCCounts says what GenerateIOCs wrote: indicators per file, and how
// many of them were taken from the generated events (so they fire).
type IOCCounts struct {
	Hashes, IPs, Domains, Paths int
	Matching                    int
}

// Total is the number of indicators written.
func (c IOCCounts) Total() int { return c.Hashes + c.IPs + c.Domains + c.Paths }

// iocSampleEvents is how many events of the seed GenerateIOCs reads for
// indicators that match: the first ones of the stream, so they are in
// every recording of that seed with at least that many events.
const iocSampleEvents = 20_000

// GenerateIOCs writes n indicators into dir as hashes.txt, ips.txt,
// domains.txt and paths_regex.txt, in the format --ioc DIR reads: roughly
// the shape of a threat-intelligence feed (60 % hashes, 15 % addresses, 24 %
// domains, 1 % path regexes). A few of each kind (n/5000, 1 to 50) are
// values that occur exactly once in the first events of seed's generated
// stream (synth), so IOC alerts fire on a recording of that seed without
// flooding; the rest are drawn from seed and cannot match generated events
// (reserved address ranges, random digests, names and directories). Same
// n and seed, same bytes.
func GenerateIOCs(dir string, n int, seed int64) (IOCCounts, error) {
	var c IOCCounts
	if n <= 0 {
		return c, fmt.Errorf("generate IOCs: the count must be positive, got %d", n)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return c, err
	}
	c.Paths = max(n/100, min(n, 1))
	c.IPs = n * 15 / 100
	c.Domains = n * 24 / 100
	c.Hashes = n - c.Paths - c.IPs - c.Domains
	s := sampleValues(seed, iocSampleEvents)
	per := min(max(n/5000, 1), 50)
	r := rand.New(rand.NewPCG(uint64(seed), 0x10c5))
	files := []struct {
		name string
		real []string // values of the generated events
		want int
		fake func(i int) string
	}{
		{"hashes.txt", s.hashes, c.Hashes, func(i int) string { return randomHex(r, [...]int{16, 20, 32}[i%3]) }},
		{"ips.txt", s.ips, c.IPs, func(i int) string { return reservedAddr(i) }},
		{"domains.txt", s.domains, c.Domains, func(i int) string {
			d := fmt.Sprintf("%s-%d.%s", randomWord(r), i, [...]string{"com", "net", "org", "info", "ru", "top"}[r.IntN(6)])
			if i%10 == 9 {
				d = "*." + d // the name and all its subdomains
			}
			return d
		}},
		{"paths_regex.txt", s.paths, c.Paths, func(i int) string {
			return fmt.Sprintf(`\\%s%d\\%s[0-9]{0,3}\.(exe|dll)$`, randomWord(r), i, randomWord(r))
		}},
	}
	for _, f := range files {
		var b strings.Builder
		fmt.Fprintf(&b, "# %d generated indicators (edr generate --iocs, seed %d)\n", f.want, seed)
		real := spread(f.real, min(per, f.want))
		for i, v := range real {
			if f.name == "paths_regex.txt" {
				v = `\\` + regexp.QuoteMeta(v) + `$`
			}
			fmt.Fprintf(&b, "%s;generated, seen in the events of seed %d (%d)\n", v, seed, i)
		}
		for i := len(real); i < f.want; i++ {
			fmt.Fprintf(&b, "%s;generated %d\n", f.fake(i), i)
		}
		c.Matching += len(real)
		if err := os.WriteFile(filepath.Join(dir, f.name), []byte(b.String()), 0o644); err != nil {
			return c, err
		}
	}
	return c, nil
}

// sampled are values of generated events that occurred exactly once in the
// sample, in first-seen order.
type sampled struct{ hashes, ips, domains, paths []string }

func sampleValues(seed int64, events int64) sampled {
	type seen struct {
		order []string
		count map[string]int
	}
	newSeen := func() *seen { return &seen{count: map[string]int{}} }
	hashes, ips, domains, paths := newSeen(), newSeen(), newSeen(), newSeen()
	add := func(s *seen, v string) {
		// ';' ends an indicator and a newline a line: such values cannot
		// be written as they are.
		if v == "" || strings.ContainsAny(v, ";\n\r") {
			return
		}
		if s.count[v] == 0 {
			s.order = append(s.order, v)
		}
		s.count[v]++
	}
	g := synth.New(synth.Options{Seed: seed, Events: events})
	var ev event.Event
	for g.Next(&ev) {
		if v := ev.Value(event.FHashes); v != "" {
			// Each kind of digest in turn, so all three lookups fire.
			alg := [...]string{"SHA256=", "MD5=", "SHA1="}[len(hashes.order)%3]
			for _, part := range strings.Split(v, ",") {
				if d, ok := strings.CutPrefix(part, alg); ok {
					add(hashes, strings.ToLower(d))
				}
			}
		}
		add(ips, ev.Value(event.FDestinationIp))
		add(domains, ev.Value(event.FQueryName))
		if ev.Channel == event.ChannelSysmon && ev.EventID == 11 {
			add(paths, filepath.Base(strings.ReplaceAll(ev.Value(event.FTargetFilename), `\`, "/")))
		}
	}
	once := func(s *seen) []string {
		var out []string
		for _, v := range s.order {
			if s.count[v] == 1 {
				out = append(out, v)
			}
		}
		return out
	}
	return sampled{once(hashes), once(ips), once(domains), once(paths)}
}

// spread picks k values evenly spaced over vs.
func spread(vs []string, k int) []string {
	k = min(k, len(vs))
	out := make([]string, k)
	for i := range out {
		out[i] = vs[i*len(vs)/k]
	}
	return out
}

func randomHex(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return fmt.Sprintf("%x", b)
}

// randomWord is 4 to 9 lower-case letters, the digits of one draw in base 26.
func randomWord(r *rand.Rand) string {
	b := make([]byte, 4+r.IntN(6))
	for i, v := 0, r.Uint64(); i < len(b); i, v = i+1, v/26 {
		b[i] = 'a' + byte(v%26)
	}
	return string(b)
}

// reservedAddr is the i-th address of ranges no generated event uses: the
// benchmarking range 198.18.0.0/15 and the IPv6 documentation prefix; every
// 50th is a /24 of the shared address space 100.64.0.0/10 instead.
func reservedAddr(i int) string {
	switch {
	case i%50 == 49:
		return fmt.Sprintf("100.%d.%d.0/24", 64+(i/50/256)%64, (i/50)%256)
	case i%4 == 3:
		return fmt.Sprintf("2001:db8:%x:%x::1", (i>>16)&0xffff, i&0xffff)
	}
	v := (i * 7919) % (1 << 17) // spread over the /15
	return fmt.Sprintf("198.%d.%d.%d", 18+v>>16, (v>>8)&0xff, v&0xff)
}
