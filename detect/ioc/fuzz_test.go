package ioc

import (
	"regexp"
	"strings"
	"testing"

	"github.com/edr-lab/edr/event"
	"github.com/stretchr/testify/require"
)

// FuzzParseList feeds arbitrary text to every list parser: it must never
// panic, and every content line must end up as exactly one indicator or one
// reported error (nothing silently dropped). The loaded set is then matched
// against the fuzz text itself as every kind of field value.
func FuzzParseList(f *testing.F) {
	seeds := []string{
		eicarMD5 + ";eicar\n# c\n\n// c\n" + eicarSHA256 + "\n",
		"10.0.0.0/8;x\n::ffff:1.2.3.4\n2001:db8::/129\nfe80::1%1\n1.2.3.4/0\n",
		"*.evil.example\n.x\nEVIL.example.\nbad domain\n*.\n",
		`\\AppData\\Roaming\\[^\\]{1,64}\.exe$` + "\n(unclosed\n(?i)k\u212Aelvin\n\\\\a;80;(?i)fp\n",
		"\ufeffa;b;c\r\n;\n#\n",
	}
	for _, s := range seeds {
		for f8 := uint8(0); f8 <= uint8(fmtLokiC2); f8++ {
			f.Add(s, f8)
		}
	}
	f.Fuzz(func(t *testing.T, data string, f8 uint8) {
		fm := format(f8 % (uint8(fmtLokiC2) + 1))
		b := newBuilder(Options{})
		b.parse("fuzz.txt", data, fm)
		s, errs := b.finish()
		require.Equal(t, contentLines(data), s.Len()+len(errs), "every content line is loaded or reported")
		require.Equal(t, len(errs), s.Stats().Errors)
		for _, e := range errs {
			require.True(t, strings.HasPrefix(e.Error(), "fuzz.txt:"), e.Error())
		}
		ev := &event.Event{Channel: event.ChannelSysmon, EventID: 22}
		ev.SetByName("QueryName", data)
		ev.SetByName("QueryResults", data)
		ev.SetByName("Hashes", data)
		ev.SetByName("DestinationIp", data)
		ev.SetByName("Image", data)
		_ = s.Match(ev, nil)
		for i := range s.ind {
			_ = s.MatchPath(s.ind[i].value, "Image", nil)
			_ = s.MatchDomain(s.ind[i].value, "QueryName", nil)
			_ = s.MatchAddr(s.ind[i].value, "DestinationIp", nil)
			_ = s.MatchHashes(s.ind[i].value, "Hashes", nil)
		}
	})
}

// contentLines counts the lines splitLine does not skip, independently.
func contentLines(data string) int {
	data = strings.TrimPrefix(data, "\ufeff")
	n := 0
	for _, l := range strings.Split(data, "\n") {
		l = strings.TrimSpace(l)
		if l != "" && !strings.HasPrefix(l, "#") && !strings.HasPrefix(l, "//") {
			n++
		}
	}
	return n
}

// FuzzMatchWith feeds arbitrary values, one per line, to every kind of
// field, matched through a memo small enough to evict and wrap all the
// time: the hits must be exactly those of a Set without any cache.
func FuzzMatchWith(f *testing.F) {
	for _, v := range memoValues() {
		f.Add(v[1] + "\n" + v[1] + "\n" + strings.ToUpper(v[1]))
	}
	p := memoLists(f)
	ref, errs := Load(p, Options{PathCache: -1})
	require.Empty(f, errs)
	s, errs := Load(p, Options{PathCache: 2})
	require.Empty(f, errs)
	fields := []string{"Hashes", "DestinationIp", "QueryName", "QueryResults", "Image"}
	f.Fuzz(func(t *testing.T, data string) {
		c := s.NewCache()
		for _, v := range strings.Split(data, "\n") {
			for _, name := range fields {
				ev := sysmon(1, name, v)
				require.Equal(t, ref.Match(ev, nil), s.MatchWith(c, ev, nil), "%s %q", name, v)
			}
		}
	})
}

// FuzzTailFilter: a path that an end-anchored regex matches always passes
// the tail filter of a set of such regexes.
func FuzzTailFilter(f *testing.F) {
	for _, v := range tailValues {
		f.Add(v)
	}
	s, errs := Load(writeLists(f, "", "", "", strings.Join(tailPatterns, "\n")+"\n"), Options{})
	require.Empty(f, errs)
	require.NotZero(f, s.paths.tail.n)
	res := make([]*regexp.Regexp, len(tailPatterns))
	for i, p := range tailPatterns {
		res[i] = regexp.MustCompile("(?i)" + p)
	}
	f.Fuzz(func(t *testing.T, v string) {
		for _, re := range res {
			if re.MatchString(v) {
				require.True(t, s.paths.tail.mayMatch(v), "%s matches %q", re, v)
			}
		}
	})
}
