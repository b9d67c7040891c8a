package ioc

import (
	"regexp"
	"regexp/syntax"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEndTails(t *testing.T) {
	for expr, want := range map[string][]string{
		`\\f_1815ee$`:                    {`\f_1815ee`},
		`\\ab[0-9]{0,3}\.(exe|dll)$`:     {".exe", ".dll"},
		`[^\\]+\.EXE$`:                   {".exe"},
		`\\[0-2]\.sys$`:                  {`\0.sys`, `\1.sys`, `\2.sys`},
		`(a$|bc\z)`:                      {"a", "bc"},
		`x\z`:                            {"x"},
		`^C:\\x$`:                        {`c:\x`},
		`\z`:                             {""},
		`\\images\[8\]\.xml$`:            {`\images[8].xml`},
		`(?m)\.exe$`:                     nil, // end of any line
		`\.exe`:                          nil,
		`a$|b`:                           nil,
		`\.exe$.*`:                       nil,
		`(?:\.exe$)?`:                    nil,
		`\\abc\x{00e9}\.exe$`:            {".exe"},
		`\\abc\x{00e9}x[0-9]$`:           {"x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9"},
		`\\Temp\\[a-z]{1,4}\.(bat|cmd)$`: {".bat", ".cmd"},
	} {
		re, err := syntax.Parse(expr, syntax.Perl|syntax.FoldCase)
		require.NoError(t, err, expr)
		got, ok := endTails(re.Simplify())
		assert.Equal(t, want != nil, ok, expr)
		assert.ElementsMatch(t, want, got, expr)
	}
}

// tailCases are end-anchored path regexes (paths_regex.txt: case
// insensitive) and paths around their ends: both cases, the Kelvin sign
// and the long s (which (?i) folds to k and s), short and long values.
var tailPatterns = []string{
	`\\AppData\\Roaming\\[^\\]{1,64}\.exe$`,
	`\\zofmvx20\\nsvebbxqo[0-9]{0,3}\.(exe|dll)$`,
	`\\f_1815ee$`,
	`\\mask$`,
	`(?:\\a\.bat$|\\b\.cmd\z)`,
	`^C:\\x$`,
	`\\[0-3]\.sys$`,
	`\\images\[8\]\.xml$`,
}

var tailValues = []string{
	`C:\Users\u\AppData\Roaming\x.exe`, `C:\USERS\U\APPDATA\ROAMING\X.EXE`, `C:\x.exe`, `C:\x.exe.pdf`,
	`C:\zofmvx20\nsvebbxqo12.dll`, `c:\ZOFMVX20\NSVEBBXQO.DLL`, `C:\zofmvx20\nsvebbxqo1234.dll`,
	`C:\Windows\Prefetch\f_1815EE`, `C:\f_1815ee `, `C:\mask`, `C:\MASK`, "C:\\MAS\u212A", "C:\\ma\u017Fk",
	"C:\\MA\u212AS", `C:\a.bat`, `C:\B.CMD`, `C:\b.cmd.txt`, `C:\x`, `c:\X`, `D:\x`, `x`, ``, `C:\2.sys`,
	`C:\4.sys`, `C:\images[8].xml`, `C:\images8.xml`, `C:\report.pdf`, `C:\Temp\~DF12.tmp`, "C:\\x.exe\n",
}

// TestTailFilterNeverHidesAMatch: every value a pattern matches passes the
// filter, with the patterns loaded one by one and all together; and the
// filter does turn values away (else it would cost without saving).
func TestTailFilterNeverHidesAMatch(t *testing.T) {
	sets := [][]string{tailPatterns}
	for _, p := range tailPatterns {
		sets = append(sets, []string{p})
	}
	rejected := 0
	for _, set := range sets {
		s, errs := Load(writeLists(t, "", "", "", strings.Join(set, "\n")+"\n"), Options{})
		require.Empty(t, errs)
		require.NotZero(t, s.paths.tail.n, "every pattern is anchored: %q", set)
		c := s.NewCache()
		for _, v := range tailValues {
			matched := false
			for _, p := range set {
				matched = matched || regexp.MustCompile("(?i)"+p).MatchString(v)
			}
			may := s.paths.tail.mayMatch(v)
			if matched {
				assert.True(t, may, "%q matches %q but the filter turns it away", set, v)
			}
			if !may {
				rejected++
			}
			assert.Equal(t, matched, len(s.MatchPath(v, "Image", nil)) > 0, "%q %q", set, v)
			assert.Equal(t, matched, len(s.MatchWith(c, sysmon(11, "TargetFilename", v), nil)) > 0, "%q %q", set, v)
		}
	}
	assert.Greater(t, rejected, len(sets)*len(tailValues)/2)
}

// TestTailFilterKelvinSign: (?i)k matches the Kelvin sign, three bytes
// none of which is k; a key made of those bytes would turn the match away.
func TestTailFilterKelvinSign(t *testing.T) {
	s, errs := Load(writeLists(t, "", "", "", `\\mask$`+"\n"), Options{})
	require.Empty(t, errs)
	require.Equal(t, 5, s.paths.tail.n)
	assert.Len(t, s.MatchPath("C:\\MAS\u212A", "Image", nil), 1)
	assert.Len(t, s.MatchPath(`C:\MASK`, "Image", nil), 1)
	assert.Empty(t, s.MatchPath(`C:\MASKS`, "Image", nil))
	assert.False(t, s.paths.tail.mayMatch(`C:\MASKS`))
	assert.False(t, s.paths.tail.mayMatch(`mask`), "shorter than every tail")
}

// TestTailFilterOffUnlessAllAnchored: one pattern that can match before
// the end (no "$", or "$" of (?m) at a line end) leaves every value to the
// automaton.
func TestTailFilterOffUnlessAllAnchored(t *testing.T) {
	for _, other := range []string{`\\Users\\Public\\`, `(?m)\.pdf$`, `\z`} {
		s, errs := Load(writeLists(t, "", "", "", `\\f_1815ee$`+"\n"+other+"\n"), Options{})
		require.Empty(t, errs)
		assert.Zero(t, s.paths.tail.n, other)
		assert.True(t, s.paths.tail.mayMatch(`C:\report.pdf`), other)
	}
	s, errs := Load(writeLists(t, "", "", "", `(?m)\.pdf$`+"\n"), Options{})
	require.Empty(t, errs)
	assert.Len(t, s.MatchPath("C:\\report.pdf\nC:\\x", "Image", nil), 1)
}
