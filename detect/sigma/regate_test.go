package sigma

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"regexp/syntax"
	"strings"
	"testing"
	"unicode"

	"github.com/edr-lab/edr/corpus/jsonl"
	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/internal/testutil"
	"github.com/stretchr/testify/require"
)

// naiveRun is runGate.pass read plainly: some k consecutive bytes of s lie
// in the set.
func naiveRun(g *runGate, s string) bool {
	n := 0
	for i := 0; i < len(s); i++ {
		if g.set.has(s[i]) {
			n++
			if n >= g.k {
				return true
			}
		} else {
			n = 0
		}
	}
	return false
}

// The skipping scan of pass decides what the plain scan decides.
func TestRunGatePassEqualsPlainScan(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	passed := 0
	for n := 0; n < 50000; n++ {
		var g runGate
		for c := 'a'; c < 'a'+rune(1+r.IntN(6)); c++ {
			g.set.add(byte(c))
		}
		g.k = 1 + r.IntN(6)
		b := make([]byte, r.IntN(40))
		for i := range b {
			b[i] = byte('a' + r.IntN(8))
		}
		want := naiveRun(&g, string(b))
		require.Equal(t, want, g.pass(string(b)), "k %d on %q", g.k, b)
		if want {
			passed++
		}
	}
	require.Greater(t, passed, 5000)
	require.Less(t, passed, 45000)
}

// gateRegexes are regexes chosen to reach every case of regexBytes and
// regexRun: case folding (the Kelvin sign folds with k, the long s with
// s), non-ASCII classes and literals, negated classes, dot with and
// without s, repeats, alternations, anchors.
var gateRegexes = []string{
	`\s[a-fA-F0-9]{64}\s[a-fA-F0-9]{16}`, `[0-9]{8}`, `(?i)ABC[d-f]{5}`, `(?i)k{6}`, `(?i)s{6}x`, `é{5}`, `[^a]{6}`,
	`.{9}x`, `(?s).{9}`, `(ab|cd){4}`, `x[\x{100}-\x{200}]{5}`, `\d{3,}-\d{4}`, `a{2}(b{3}|c{4})d{2}`,
	`^\d{6}$`, `\b[0-7]{7,13}\b`, `(?i)[a-z]{3}\d{5}`, `(?:xy)+z{3}`, `[\x{FFFD}]{4}`, `\x{212A}{4}`,
	`net\s+user\s+`, `(?m)^[A-F]{4}$`, `a|b{8}`, `(a{4}|b{5})(c{4}|d)`, `[[:xdigit:]]{10}`, `\pL{5}`, `\PL{5}`,
}

// genMatch writes a random string that the part re matches in most cases
// (anchors and word boundaries are not arranged for).
func genMatch(r *rand.Rand, re *syntax.Regexp, b *strings.Builder) {
	switch re.Op {
	case syntax.OpLiteral:
		for _, c := range re.Rune {
			if re.Flags&syntax.FoldCase != 0 {
				for n := r.IntN(3); n > 0; n-- {
					c = unicode.SimpleFold(c)
				}
			}
			b.WriteRune(c)
		}
	case syntax.OpCharClass:
		if len(re.Rune) == 0 {
			return
		}
		i := 2 * r.IntN(len(re.Rune)/2)
		lo, hi := re.Rune[i], re.Rune[i+1]
		b.WriteRune(lo + rune(r.IntN(int(min(hi-lo, 300))+1)))
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		b.WriteRune([]rune("aZ9 -\\é\u212a")[r.IntN(8)])
	case syntax.OpCapture:
		genMatch(r, re.Sub[0], b)
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		lo, hi := 0, 3
		switch re.Op {
		case syntax.OpPlus:
			lo = 1
		case syntax.OpQuest:
			hi = 1
		case syntax.OpRepeat:
			lo, hi = re.Min, re.Max
			if hi < 0 {
				hi = lo + 3
			}
		}
		for n := lo + r.IntN(hi-lo+1); n > 0; n-- {
			genMatch(r, re.Sub[0], b)
		}
	case syntax.OpConcat:
		for _, s := range re.Sub {
			genMatch(r, s, b)
		}
	case syntax.OpAlternate:
		genMatch(r, re.Sub[r.IntN(len(re.Sub))], b)
	}
}

// noise is random text of bytes regexes here care about, non-ASCII runes
// and invalid UTF-8.
func noise(r *rand.Rand, n int) string {
	parts := []string{"a", "F", "0", "7", "9", " ", "\t", "\n", "-", "\\", "é", "\u212a", "\u017f", "k", "s", "\xff", "\xc3", "x", "ab", "net user "}
	var b strings.Builder
	for ; n > 0; n-- {
		b.WriteString(parts[r.IntN(len(parts))])
	}
	return b.String()
}

// sigmaHQRegexes returns the regexes of SigmaHQ's Windows, emerging
// threats and threat hunting rules, with their flags, as compileRegex
// compiles them.
func sigmaHQRegexes(t *testing.T) []string {
	rs, _, _ := loadSigmaHQ(t)
	var out []string
	visit := func(searches []*search) {
		for _, s := range searches {
			for _, alt := range s.alts {
				for _, m := range alt {
					for _, g := range m.groups {
						for _, ts := range g {
							if ts.kind == tRegex {
								out = append(out, ts.re.String())
							}
						}
					}
				}
			}
		}
	}
	for _, r := range rs.rules {
		visit(r.searches)
		for _, f := range r.filters {
			visit(f.searches)
		}
	}
	return out
}

// regressionValues returns the field values of SigmaHQ's regression events.
func regressionValues(t *testing.T) []string {
	var out []string
	root := testutil.Corpus(t, "sigma")
	require.NoError(t, filepath.WalkDir(filepath.Join(root, "regression_data"), func(p string, de os.DirEntry, err error) error {
		if err != nil || de.IsDir() || !strings.HasSuffix(p, ".json") {
			return err
		}
		_, err = jsonl.ReadFile(p, jsonl.Options{}, func(e *event.Event) error {
			e.Range(func(_ event.FieldID, v string) bool {
				out = append(out, v)
				return true
			})
			return nil
		})
		return err
	}))
	return out
}

// A run (whatever its score, so also runs no gate is built for) never
// rejects a value the regex matches: over generated matches, random text
// and SigmaHQ's regression values, for hand-picked regexes and every
// SigmaHQ regex.
func TestRunGateNeverRejectsAMatch(t *testing.T) {
	if testing.Short() {
		t.Skip("loads SigmaHQ")
	}
	exprs := append(append([]string{}, gateRegexes...), sigmaHQRegexes(t)...)
	values := regressionValues(t)
	r := rand.New(rand.NewPCG(7, 8))
	checked, gated, rejected := 0, 0, 0
	for _, expr := range exprs {
		re := regexp.MustCompile(expr)
		p, err := syntax.Parse(expr, syntax.Perl)
		require.NoError(t, err)
		g := regexRun(p)
		if g.k == 0 {
			continue
		}
		if compileRunGate(p) != nil {
			gated++
		}
		try := func(s string) {
			if re.MatchString(s) {
				checked++
				require.True(t, g.pass(s), "%s: run of %d rejects %q, which matches", expr, g.k, s)
			} else if !g.pass(s) {
				rejected++
			}
		}
		for n := 0; n < 300; n++ {
			var b strings.Builder
			b.WriteString(noise(r, r.IntN(4)))
			genMatch(r, p, &b)
			b.WriteString(noise(r, r.IntN(4)))
			try(b.String())
			try(noise(r, r.IntN(30)))
		}
		for _, v := range values {
			try(v)
		}
	}
	t.Logf("%d regexes, %d gated; %d matches checked; %d non-matches rejected by the run", len(exprs), gated, checked, rejected)
	require.Greater(t, checked, 10000)
	require.Greater(t, gated, 10)
	require.Greater(t, rejected, 10000)
}

// The SNAKE rule's regex gets a gate of 82 hex digits and white space
// (the whole match; it scores above the 64 hex digits alone).
func TestRunGateSnake(t *testing.T) {
	p, err := syntax.Parse(`\s[a-fA-F0-9]{64}\s[a-fA-F0-9]{16}`, syntax.Perl)
	require.NoError(t, err)
	g := compileRunGate(p)
	require.NotNil(t, g)
	require.Equal(t, 82, g.k)
	require.Equal(t, 22+5, g.set.count())
	require.False(t, g.pass(`C:\Windows\system32\cmd.exe /c echo `+strings.Repeat("ab", 39)+" x"))
	require.True(t, g.pass("x "+strings.Repeat("a1", 32)+" "+strings.Repeat("f", 16)))
}

// FuzzRunGate: for any regex and text, the regex's run (whatever its
// score) never rejects a text the regex matches.
func FuzzRunGate(f *testing.F) {
	for i, expr := range gateRegexes {
		var b strings.Builder
		p, err := syntax.Parse(expr, syntax.Perl)
		require.NoError(f, err)
		genMatch(rand.New(rand.NewPCG(uint64(i), 1)), p, &b)
		f.Add(expr, b.String())
	}
	f.Fuzz(func(t *testing.T, expr, s string) {
		p, err := syntax.Parse(expr, syntax.Perl)
		if err != nil {
			return
		}
		re, err := regexp.Compile(expr)
		if err != nil {
			return
		}
		if g := regexRun(p); g.k > 0 && re.MatchString(s) && !g.pass(s) {
			t.Fatalf("%s: run of %d rejects %q, which matches", expr, g.k, s)
		}
	})
}
