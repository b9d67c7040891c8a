package sigma_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/edr-lab/edr/detect/sigma"
	"github.com/edr-lab/edr/event"
	"github.com/stretchr/testify/require"
)

// Conformance tests. Every expected result comes from the Sigma
// specification v2.1.0 (reference/sigma-specification); the spec section is
// named per case. Sections: R = sigma-rules-specification.md, M =
// sigma-appendix-modifiers.md, C = sigma-correlation-rules-specification.md,
// F = sigma-filters-specification.md.

// ruleYAML wraps a detection into a process_creation rule.
func ruleYAML(detection string) string {
	return "title: t\nid: 00000000-0000-4000-8000-000000000001\nlogsource:\n    product: windows\n    category: process_creation\ndetection:\n" + indent(detection) + "level: high\n"
}

func indent(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		b.WriteString("    " + l + "\n")
	}
	return b.String()
}

// absent marks a field that must not be set on the event.
const absent = "\x00absent"

func procEvent(fields map[string]string) *event.Event {
	ev := &event.Event{Channel: event.ChannelSysmon, Provider: event.ProviderSysmon, EventID: 1}
	for k, v := range fields {
		if v != absent {
			ev.SetByName(k, v)
		}
	}
	return ev
}

func mustLoad(t *testing.T, yml string, opts sigma.Options) *sigma.Ruleset {
	t.Helper()
	rs, errs := sigma.LoadBytes("test.yml", []byte(yml), opts)
	for _, e := range errs {
		t.Fatalf("load: %v", e)
	}
	return rs
}

func matchIDs(rs *sigma.Matcher, ev *event.Event) []string {
	var ids []string
	for _, m := range rs.Match(ev, nil) {
		ids = append(ids, m.Rule.ID)
	}
	return ids
}

type confCase struct {
	spec      string // section of the specification the expectation comes from
	detection string
	fields    map[string]string
	want      bool
}

func runCases(t *testing.T, cases []confCase, opts sigma.Options) {
	for i, c := range cases {
		t.Run(fmt.Sprintf("%02d %s", i, c.spec), func(t *testing.T) {
			for _, noPF := range []bool{false, true} { // with and without the prefilter
				o := opts
				o.NoPrefilter = noPF
				rs := mustLoad(t, ruleYAML(c.detection), o)
				got := len(rs.NewMatcher().Match(procEvent(c.fields), nil)) == 1
				require.Equal(t, c.want, got, "prefilter off=%v\n%s\nfields %q", noPF, c.detection, c.fields)
			}
		})
	}
}

func TestConformanceValues(t *testing.T) {
	runCases(t, []confCase{
		// R "General": all values are case-insensitive strings
		{"R General: case-insensitive", "sel:\n    Image: 'C:\\Windows\\System32\\whoami.exe'\ncondition: sel", map[string]string{"Image": `c:\windows\system32\WHOAMI.EXE`}, true},
		{"R General: exact, not substring", "sel:\n    Image: 'whoami.exe'\ncondition: sel", map[string]string{"Image": `C:\whoami.exe`}, false},
		// R "String Wildcard"
		{"R String Wildcard: * any run", "sel:\n    Image: '*\\cmd.exe'\ncondition: sel", map[string]string{"Image": `C:\Windows\cmd.exe`}, true},
		{"R String Wildcard: * inside", "sel:\n    Image: 'C:\\Windows*\\cmd.exe'\ncondition: sel", map[string]string{"Image": `C:\Windows\System32\cmd.exe`}, true},
		{"R Escape: \\\\* after a path separator is backslash + wildcard", "sel:\n    Image: 'C:\\Windows\\\\*\\cmd.exe'\ncondition: sel", map[string]string{"Image": `C:\Windows\System32\cmd.exe`}, true},
		{"R Escape: \\* after a path separator is a plain *", "sel:\n    Image: 'C:\\Windows\\*\\cmd.exe'\ncondition: sel", map[string]string{"Image": `C:\Windows\System32\cmd.exe`}, false},
		{"R String Wildcard: ? one char", "sel:\n    Image: 'prog?.exe'\ncondition: sel", map[string]string{"Image": `progA.exe`}, true},
		{"R String Wildcard: ? is mandatory", "sel:\n    Image: 'prog?.exe'\ncondition: sel", map[string]string{"Image": `prog.exe`}, false},
		{"R String Wildcard: ? one non-ASCII char", "sel:\n    Image: 'prog?.exe'\ncondition: sel", map[string]string{"Image": `progé.exe`}, true},
		{"R String Wildcard: * matches empty", "sel:\n    Image: 'a*b'\ncondition: sel", map[string]string{"Image": `ab`}, true},
		// R "Escape Character"
		{"R Escape: \\* is a plain *", "sel:\n    CommandLine: 'a\\*b'\ncondition: sel", map[string]string{"CommandLine": `a*b`}, true},
		{"R Escape: \\* does not wildcard", "sel:\n    CommandLine: 'a\\*b'\ncondition: sel", map[string]string{"CommandLine": `axxb`}, false},
		{"R Escape: \\? is a plain ?", "sel:\n    CommandLine: 'a\\?'\ncondition: sel", map[string]string{"CommandLine": `a?`}, true},
		{"R Escape: \\? does not wildcard", "sel:\n    CommandLine: 'a\\?'\ncondition: sel", map[string]string{"CommandLine": `ab`}, false},
		{"R Escape: \\\\* is backslash then wildcard", "sel:\n    CommandLine: 'a\\\\*'\ncondition: sel", map[string]string{"CommandLine": `a\anything`}, true},
		{"R Escape: \\\\\\* is backslash and plain *", "sel:\n    CommandLine: 'a\\\\\\*'\ncondition: sel", map[string]string{"CommandLine": `a\*`}, true},
		{"R Escape: \\\\\\* does not wildcard", "sel:\n    CommandLine: 'a\\\\\\*'\ncondition: sel", map[string]string{"CommandLine": `a\x`}, false},
		{"R Escape: \\\\\\\\ is two backslashes", "sel:\n    CommandLine|startswith: '\\\\\\\\srv'\ncondition: sel", map[string]string{"CommandLine": `\\srv\share`}, true},
		{"R Escape: \\\\\\\\ is not four", "sel:\n    CommandLine: '\\\\\\\\srv'\ncondition: sel", map[string]string{"CommandLine": `\\\\srv`}, false},
		{"R Escape: single \\ before a letter is plain", "sel:\n    Image: 'C:\\Temp\\x.exe'\ncondition: sel", map[string]string{"Image": `C:\Temp\x.exe`}, true},
		// R "Lists" and M "all"
		{"R Lists: values are OR-ed", "sel:\n    Image|endswith:\n        - '\\a.exe'\n        - '\\b.exe'\ncondition: sel", map[string]string{"Image": `C:\b.exe`}, true},
		{"M all: values are AND-ed (all present)", "sel:\n    CommandLine|contains|all:\n        - ' -a'\n        - ' -b'\ncondition: sel", map[string]string{"CommandLine": `x -b -a`}, true},
		{"M all: values are AND-ed (one missing)", "sel:\n    CommandLine|contains|all:\n        - ' -a'\n        - ' -b'\ncondition: sel", map[string]string{"CommandLine": `x -a`}, false},
		{"R Lists: list of maps is OR-ed", "sel:\n    - Image|endswith: '\\a.exe'\n    - Description|contains: 'Test executable'\ncondition: sel", map[string]string{"Image": `C:\x.exe`, "Description": "a test executable"}, true},
		{"R Maps: map entries are AND-ed", "sel:\n    Image|endswith: '\\a.exe'\n    Description|contains: 'Test'\ncondition: sel", map[string]string{"Image": `C:\a.exe`, "Description": "prod"}, false},
		// R "Special Field Values": '' and null are distinct
		{"R Special: '' matches an empty value", "sel:\n    ParentCommandLine: ''\ncondition: sel", map[string]string{"ParentCommandLine": ""}, true},
		{"R Special: '' does not match an absent field", "sel:\n    ParentCommandLine: ''\ncondition: sel", map[string]string{"ParentCommandLine": absent}, false},
		{"R Special: null matches an absent field", "sel:\n    ParentCommandLine: null\ncondition: sel", map[string]string{"ParentCommandLine": absent}, true},
		{"R Special: null does not match an empty value", "sel:\n    ParentCommandLine: null\ncondition: sel", map[string]string{"ParentCommandLine": ""}, false},
		{"R Special: null does not match a value", "sel:\n    ParentCommandLine: null\ncondition: sel", map[string]string{"ParentCommandLine": "x"}, false},
		{"R Special: not null (negated selection)", "sel:\n    Image: '*'\nfilter:\n    ParentCommandLine: null\ncondition: sel and not filter", map[string]string{"Image": "x", "ParentCommandLine": "y"}, true},
		// R "Field Existence" / M exists
		{"M exists: true on an empty field", "sel:\n    ParentUser|exists: true\ncondition: sel", map[string]string{"ParentUser": ""}, true},
		{"M exists: true on an absent field", "sel:\n    ParentUser|exists: true\ncondition: sel", map[string]string{"ParentUser": absent}, false},
		{"M exists: false on an absent field", "sel:\n    ParentUser|exists: false\ncondition: sel", map[string]string{"ParentUser": absent}, true},
		{"M exists: false on a present field", "sel:\n    ParentUser|exists: false\ncondition: sel", map[string]string{"ParentUser": "x"}, false},
		// numbers (R "Maps": key/value is a string or integer value)
		{"R Maps: integer value", "sel:\n    TerminalSessionId: 1\ncondition: sel", map[string]string{"TerminalSessionId": "1"}, true},
		{"R Maps: integer value vs other number", "sel:\n    TerminalSessionId: 1\ncondition: sel", map[string]string{"TerminalSessionId": "10"}, false},
		{"R Maps: integer value vs hex rendering", "sel:\n    LogonId: 0x3e7\ncondition: sel", map[string]string{"LogonId": "0x3e7"}, true},
		// Unicode simple case folding (R General: case-insensitive; edr folds
		// with Unicode simple folding, docs/architecture.md)
		{"R General: non-ASCII case-insensitive (Cyrillic)", "sel:\n    CommandLine|contains: 'ПРИВЕТ'\ncondition: sel", map[string]string{"CommandLine": "echo привет"}, true},
		{"R General: non-ASCII case-insensitive (Greek)", "sel:\n    CommandLine|endswith: 'ΣΟΦΊΑ'\ncondition: sel", map[string]string{"CommandLine": "σοφία"}, true},
		{"R General: Kelvin sign folds with k", "sel:\n    CommandLine|contains: 'KEY'\ncondition: sel", map[string]string{"CommandLine": "\u212aey"}, true},
		{"R General: folding does not equate different letters", "sel:\n    CommandLine|contains: 'ПРИВЕТ'\ncondition: sel", map[string]string{"CommandLine": "echo привед"}, false},
	}, sigma.Options{})
}

func TestConformanceModifiers(t *testing.T) {
	runCases(t, []confCase{
		{"M contains", "sel:\n    CommandLine|contains: 'whoami'\ncondition: sel", map[string]string{"CommandLine": `cmd /c WHOAMI /all`}, true},
		{"M startswith", "sel:\n    CommandLine|startswith: 'cmd'\ncondition: sel", map[string]string{"CommandLine": `x cmd`}, false},
		{"M endswith", "sel:\n    CommandLine|endswith: '/all'\ncondition: sel", map[string]string{"CommandLine": `whoami /ALL`}, true},
		// trap: a contains value with * keeps * as a wildcard (M contains
		// "puts * wildcards around the values"; R String Wildcard)
		{"M contains: inner * is a wildcard", "sel:\n    CommandLine|contains: 'net*user'\ncondition: sel", map[string]string{"CommandLine": `c:\net.exe localgroup user x`}, true},
		{"M contains: inner * needs both sides", "sel:\n    CommandLine|contains: 'net*user'\ncondition: sel", map[string]string{"CommandLine": `net localgroup`}, false},
		{"M contains: escaped * is literal", "sel:\n    CommandLine|contains: 'a\\*b'\ncondition: sel", map[string]string{"CommandLine": `xa*by`}, true},
		{"M contains: escaped * is not a wildcard", "sel:\n    CommandLine|contains: 'a\\*b'\ncondition: sel", map[string]string{"CommandLine": `xaZby`}, false},
		// M cased
		{"M cased: same case", "sel:\n    CommandLine|cased|contains: 'Whoami'\ncondition: sel", map[string]string{"CommandLine": `Whoami`}, true},
		{"M cased: other case", "sel:\n    CommandLine|contains|cased: 'Whoami'\ncondition: sel", map[string]string{"CommandLine": `whoami`}, false},
		// M re and sub-modifiers
		{"M re: case-sensitive by default", "sel:\n    CommandLine|re: 'Who[a-z]+'\ncondition: sel", map[string]string{"CommandLine": `whoami`}, false},
		{"M re|i", "sel:\n    CommandLine|re|i: 'Who[a-z]+'\ncondition: sel", map[string]string{"CommandLine": `whoami`}, true},
		{"M re: unanchored", "sel:\n    CommandLine|re: 'am'\ncondition: sel", map[string]string{"CommandLine": `whoami`}, true},
		{"M re|m: ^ matches at line starts", "sel:\n    CommandLine|re|m: '^b'\ncondition: sel", map[string]string{"CommandLine": "a\nb"}, true},
		{"M re: without m, ^ is the text start", "sel:\n    CommandLine|re: '^b'\ncondition: sel", map[string]string{"CommandLine": "a\nb"}, false},
		{"M re|s: dot matches newline", "sel:\n    CommandLine|re|s: 'a.b'\ncondition: sel", map[string]string{"CommandLine": "a\nb"}, true},
		{"M re: without s, dot does not match newline", "sel:\n    CommandLine|re: 'a.b'\ncondition: sel", map[string]string{"CommandLine": "a\nb"}, false},
		// M Encoding
		{"M base64", "sel:\n    CommandLine|base64|contains: 'http://'\ncondition: sel", map[string]string{"CommandLine": `x aHR0cDovLw== y`}, true},
		{"M base64offset: offset 0 (Invoke-Mimikatz)", "sel:\n    CommandLine|base64offset|contains: 'Invoke-Mimikatz'\ncondition: sel", map[string]string{"CommandLine": `-e SW52b2tlLU1pbWlrYXR6`}, true},
		{"M base64offset: offset 1 (Invoke-Mimikatz)", "sel:\n    CommandLine|base64offset|contains: 'Invoke-Mimikatz'\ncondition: sel", map[string]string{"CommandLine": `-e QUludm9rZS1NaW1pa2F0ekE=`}, true},
		{"M base64offset: offset 2 (Invoke-Mimikatz)", "sel:\n    CommandLine|base64offset|contains: 'Invoke-Mimikatz'\ncondition: sel", map[string]string{"CommandLine": `-e QUFJbnZva2UtTWltaWthdHo=`}, true},
		{"M base64offset: other text", "sel:\n    CommandLine|base64offset|contains: 'Invoke-Mimikatz'\ncondition: sel", map[string]string{"CommandLine": `-e SW52b2tlLUV4cHJlc3Npb24=`}, false},
		{"M utf16le (wide) + base64offset", "sel:\n    CommandLine|wide|base64offset|contains: 'ping'\ncondition: sel", map[string]string{"CommandLine": `powershell -enc cABpAG4AZwAgADEAMgA3AC4AMAAuADAALgAxAA==`}, true},
		{"M utf16le + base64", "sel:\n    CommandLine|utf16le|base64: 'cmd'\ncondition: sel", map[string]string{"CommandLine": `YwBtAGQA`}, true},
		{"M utf16be + base64 (cmd > 00 63 00 6d 00 64)", "sel:\n    CommandLine|utf16be|base64: 'cmd'\ncondition: sel", map[string]string{"CommandLine": `AGMAbQBk`}, true},
		{"M utf16 + base64 (cmd > FF FE 63 00 6d 00 64 00)", "sel:\n    CommandLine|utf16|base64: 'cmd'\ncondition: sel", map[string]string{"CommandLine": `//5jAG0AZAA=`}, true},
		// M windash, with contains (trap)
		{"M windash: hyphen", "sel:\n    CommandLine|contains|windash: ' -exec '\ncondition: sel", map[string]string{"CommandLine": `x -exec bypass`}, true},
		{"M windash: slash", "sel:\n    CommandLine|contains|windash: ' -exec '\ncondition: sel", map[string]string{"CommandLine": `x /exec bypass`}, true},
		{"M windash: en dash", "sel:\n    CommandLine|contains|windash: ' -exec '\ncondition: sel", map[string]string{"CommandLine": "x \u2013exec bypass"}, true},
		{"M windash: em dash", "sel:\n    CommandLine|contains|windash: ' -exec '\ncondition: sel", map[string]string{"CommandLine": "x \u2014exec bypass"}, true},
		{"M windash: horizontal bar", "sel:\n    CommandLine|contains|windash: ' -exec '\ncondition: sel", map[string]string{"CommandLine": "x \u2015exec bypass"}, true},
		{"M windash: other character", "sel:\n    CommandLine|contains|windash: ' -exec '\ncondition: sel", map[string]string{"CommandLine": "x +exec bypass"}, false},
		{"M windash: written with slash", "sel:\n    CommandLine|windash|contains: '/c'\ncondition: sel", map[string]string{"CommandLine": "cmd.exe \u2014c dir"}, true},
		{"M windash: endswith", "sel:\n    CommandLine|endswith|windash: ' -s'\ncondition: sel", map[string]string{"CommandLine": "x /s"}, true},
		{"M windash: each dash position independently", "sel:\n    CommandLine|contains|windash: '-a -b'\ncondition: sel", map[string]string{"CommandLine": "/a \u2013b"}, true},
		// M cidr
		{"M cidr: IPv4 inside", "sel:\n    ParentCommandLine|cidr: '10.0.0.0/8'\ncondition: sel", map[string]string{"ParentCommandLine": "10.20.30.40"}, true},
		{"M cidr: IPv4 outside", "sel:\n    ParentCommandLine|cidr: '10.0.0.0/8'\ncondition: sel", map[string]string{"ParentCommandLine": "11.0.0.1"}, false},
		{"M cidr: IPv6", "sel:\n    ParentCommandLine|cidr: '2001:db8::/32'\ncondition: sel", map[string]string{"ParentCommandLine": "2001:db8:1::5"}, true},
		{"M cidr: not an IP", "sel:\n    ParentCommandLine|cidr: '10.0.0.0/8'\ncondition: sel", map[string]string{"ParentCommandLine": "-"}, false},
		{"M cidr: one of several ranges", "sel:\n    ParentCommandLine|cidr:\n        - '192.168.0.0/16'\n        - '10.0.0.0/8'\ncondition: sel", map[string]string{"ParentCommandLine": "10.1.1.1"}, true},
		{"M cidr with all: inside every range", "sel:\n    ParentCommandLine|cidr|all:\n        - '10.0.0.0/8'\n        - '10.20.0.0/16'\ncondition: sel", map[string]string{"ParentCommandLine": "10.20.30.40"}, true},
		{"M cidr with all: outside one range", "sel:\n    ParentCommandLine|cidr|all:\n        - '10.0.0.0/8'\n        - '10.20.0.0/16'\ncondition: sel", map[string]string{"ParentCommandLine": "10.21.0.1"}, false},
		{"M cidr with neq: outside every range", "sel:\n    ParentCommandLine|cidr|neq:\n        - '10.0.0.0/8'\n        - '192.168.0.0/16'\ncondition: sel", map[string]string{"ParentCommandLine": "11.0.0.1"}, true},
		{"M cidr with neq: inside one range", "sel:\n    ParentCommandLine|cidr|neq:\n        - '10.0.0.0/8'\n        - '192.168.0.0/16'\ncondition: sel", map[string]string{"ParentCommandLine": "192.168.4.5"}, false},
		{"M cidr with neq: not an IP differs from every range", "sel:\n    ParentCommandLine|cidr|neq: '10.0.0.0/8'\ncondition: sel", map[string]string{"ParentCommandLine": "-"}, true},
		{"M cidr: IPv4-mapped IPv6 address", "sel:\n    ParentCommandLine|cidr: '10.0.0.0/8'\ncondition: sel", map[string]string{"ParentCommandLine": "::ffff:10.1.2.3"}, true},
		// M Numeric
		{"M gt: numeric, not lexical", "sel:\n    TerminalSessionId|gt: 9\ncondition: sel", map[string]string{"TerminalSessionId": "10"}, true},
		{"M gt: equal is not greater", "sel:\n    TerminalSessionId|gt: 10\ncondition: sel", map[string]string{"TerminalSessionId": "10"}, false},
		{"M gte", "sel:\n    TerminalSessionId|gte: 10\ncondition: sel", map[string]string{"TerminalSessionId": "10"}, true},
		{"M lt", "sel:\n    TerminalSessionId|lt: 2\ncondition: sel", map[string]string{"TerminalSessionId": "10"}, false},
		{"M lte", "sel:\n    TerminalSessionId|lte: 10\ncondition: sel", map[string]string{"TerminalSessionId": "10"}, true},
		{"M gt: hex rendering read as a number", "sel:\n    LogonId|gt: 999\ncondition: sel", map[string]string{"LogonId": "0x3e8"}, true},
		{"M gt: not a number", "sel:\n    TerminalSessionId|gt: 1\ncondition: sel", map[string]string{"TerminalSessionId": "-"}, false},
		// M neq
		{"M neq: different value", "sel:\n    IntegrityLevel|neq: 'Medium'\ncondition: sel", map[string]string{"IntegrityLevel": "High"}, true},
		{"M neq: same value (case-insensitive)", "sel:\n    IntegrityLevel|neq: 'Medium'\ncondition: sel", map[string]string{"IntegrityLevel": "medium"}, false},
		{"M neq: different from all values", "sel:\n    IntegrityLevel|neq:\n        - 'Medium'\n        - 'Low'\ncondition: sel", map[string]string{"IntegrityLevel": "Low"}, false},
		{"M neq with all: different from every value", "sel:\n    IntegrityLevel|neq|all:\n        - 'Medium'\n        - 'Low'\n    Image: x\ncondition: sel", map[string]string{"IntegrityLevel": "Low", "Image": "x"}, false},
		{"M neq with contains", "sel:\n    CommandLine|contains|neq: 'debug'\ncondition: sel", map[string]string{"CommandLine": "run --fast"}, true},
		{"M neq: numeric", "sel:\n    TerminalSessionId|neq: 1\ncondition: sel", map[string]string{"TerminalSessionId": "2"}, true},
		// M fieldref (and with neq)
		{"M fieldref: equal fields", "sel:\n    ParentImage|fieldref: Image\ncondition: sel", map[string]string{"Image": `C:\a.exe`, "ParentImage": `c:\A.exe`}, true},
		{"M fieldref: different fields", "sel:\n    ParentImage|fieldref: Image\ncondition: sel", map[string]string{"Image": `C:\a.exe`, "ParentImage": `C:\b.exe`}, false},
		{"M fieldref: referenced field absent", "sel:\n    ParentImage|fieldref: Image\ncondition: sel", map[string]string{"ParentImage": `C:\b.exe`}, false},
		{"M fieldref|neq", "sel:\n    ParentImage|fieldref|neq: Image\ncondition: sel", map[string]string{"Image": `C:\a.exe`, "ParentImage": `C:\b.exe`}, true},
		{"M fieldref|contains", "sel:\n    CommandLine|fieldref|contains: Image\ncondition: sel", map[string]string{"Image": `C:\a.exe`, "CommandLine": `"C:\a.exe" -x`}, true},
	}, sigma.Options{})
}

func TestConformanceExpand(t *testing.T) {
	opts := sigma.Options{Placeholders: map[string][]string{"Admins": {"adm_*", "root"}, "Servers": {"srv01"}}}
	runCases(t, []confCase{
		// M expand / R Placeholders
		{"M expand: placeholder value with wildcard", "sel:\n    User|expand: '%Admins%'\ncondition: sel", map[string]string{"User": "adm_john"}, true},
		{"M expand: second placeholder value", "sel:\n    User|expand: '%Admins%'\ncondition: sel", map[string]string{"User": "ROOT"}, true},
		{"M expand: no value matches", "sel:\n    User|expand: '%Admins%'\ncondition: sel", map[string]string{"User": "bob"}, false},
		{"R Placeholders: without expand %name% is literal", "sel:\n    User: '%Admins%'\ncondition: sel", map[string]string{"User": "%Admins%"}, true},
		{"R Placeholders: \\% is a plain percent", "sel:\n    User|expand: '\\%plain%Servers%'\ncondition: sel", map[string]string{"User": "%plainsrv01"}, true},
		{"M expand with contains", "sel:\n    CommandLine|contains|expand: '\\\\%Servers%\\'\ncondition: sel", map[string]string{"CommandLine": `copy x \\srv01\c$`}, true},
	}, opts)
	_, errs := sigma.LoadBytes("t.yml", []byte(ruleYAML("sel:\n    User|expand: '%Nope%'\ncondition: sel")), opts)
	require.Len(t, errs, 1, "R Placeholders: a tool that cannot handle a placeholder must reject the rule")
	require.Contains(t, errs[0].Error(), "%Nope%")
}

func TestConformanceKeywords(t *testing.T) {
	runCases(t, []confCase{
		// R "Keywords search": strings searched across the event
		{"R Keywords: any value (OR)", "keywords:\n    - 'event::clear'\n    - 'event::drop'\ncondition: keywords", map[string]string{"CommandLine": "mimikatz EVENT::DROP exit"}, true},
		{"R Keywords: in any field", "keywords:\n    - 'event::clear'\ncondition: keywords", map[string]string{"ParentCommandLine": "x event::clear"}, true},
		{"R Keywords: none present", "keywords:\n    - 'event::clear'\ncondition: keywords", map[string]string{"CommandLine": "whoami"}, false},
		{"R Keywords: |all needs every value", "keywords_cmdlet:\n    '|all':\n        - 'OabVirtualDirectory'\n        - ' -ExternalUrl '\ncondition: keywords_cmdlet", map[string]string{"CommandLine": "Set-OabVirtualDirectory -ExternalUrl http://x"}, true},
		{"R Keywords: |all with one missing", "keywords_cmdlet:\n    '|all':\n        - 'OabVirtualDirectory'\n        - ' -ExternalUrl '\ncondition: keywords_cmdlet", map[string]string{"CommandLine": "Set-OabVirtualDirectory -InternalUrl"}, false},
		{"R Keywords: |all across fields", "keywords:\n    '|all':\n        - 'alpha'\n        - 'beta'\ncondition: keywords", map[string]string{"CommandLine": "alpha", "ParentCommandLine": "beta"}, true},
	}, sigma.Options{})
}

func TestConformanceConditions(t *testing.T) {
	sels := "sel_a:\n    CommandLine|contains: 'aaa'\nsel_b:\n    CommandLine|contains: 'bbb'\nsel_c:\n    CommandLine|contains: 'ccc'\n"
	cmd := func(s string) map[string]string { return map[string]string{"CommandLine": s} }
	runCases(t, []confCase{
		{"R Condition: and", sels + "condition: sel_a and sel_b", cmd("aaa bbb"), true},
		{"R Condition: or", sels + "condition: sel_a or sel_b", cmd("bbb"), true},
		{"R Condition: not", sels + "condition: sel_a and not sel_b", cmd("aaa bbb"), false},
		{"R Condition: precedence and over or", sels + "condition: sel_a or sel_b and sel_c", cmd("aaa"), true},
		{"R Condition: precedence and over or (2)", sels + "condition: sel_a or sel_b and sel_c", cmd("bbb"), false},
		{"R Condition: brackets", sels + "condition: (sel_a or sel_b) and sel_c", cmd("aaa"), false},
		{"R Condition: not binds tighter than and", sels + "condition: not sel_a and sel_b", cmd("bbb"), true},
		{"R Condition: not binds tighter than or", sels + "condition: not sel_a or sel_b", cmd("aaa bbb"), true},
		{"R Condition: keywords are case-insensitive", sels + "condition: sel_a AND NOT sel_b", cmd("aaa"), true},
		{"R Condition: 1 of pattern", sels + "condition: 1 of sel_*", cmd("ccc"), true},
		{"R Condition: all of pattern", sels + "condition: all of sel_*", cmd("aaa ccc"), false},
		{"R Condition: all of pattern (all)", sels + "condition: all of sel_*", cmd("aaa bbb ccc"), true},
		{"R Condition: pattern with * in the middle", sels + "condition: 1 of sel*c", cmd("ccc"), true},
		{"R Condition: N of (2 of 3)", sels + "condition: 2 of sel_*", cmd("aaa ccc"), true},
		{"R Condition: N of (2 of 3, one)", sels + "condition: 2 of sel_*", cmd("ccc"), false},
		{"R Condition: any of", sels + "condition: any of sel_*", cmd("bbb"), true},
		{"R Condition: condition list is OR-ed", sels + "condition:\n    - sel_a\n    - sel_b", cmd("bbb"), true},
		{"R Condition: 1 of them", sels + "condition: 1 of them", cmd("bbb"), true},
		{"R Condition: pattern with digits before *", "selection_1a:\n    CommandLine|contains: 'x1'\nselection_2:\n    CommandLine|contains: 'x2'\ncondition: 1 of selection_1*", cmd("x1"), true},
		{"R Condition: pattern with digits excludes others", "selection_1a:\n    CommandLine|contains: 'x1'\nselection_2:\n    CommandLine|contains: 'x2'\ncondition: 1 of selection_1*", cmd("x2"), false},
		// trap: them skips identifiers starting with '_'
		{"R Condition: all of them skips _ identifiers", "sel:\n    CommandLine|contains: 'aaa'\n_helper:\n    CommandLine|contains: 'zzz'\ncondition: all of them", cmd("aaa"), true},
		{"R Condition: 1 of them skips _ identifiers", "sel:\n    CommandLine|contains: 'aaa'\n_helper:\n    CommandLine|contains: 'zzz'\ncondition: 1 of them", cmd("zzz"), false},
		{"R Condition: _ identifiers usable by name", "sel:\n    CommandLine|contains: 'aaa'\n_helper:\n    CommandLine|contains: 'zzz'\ncondition: sel or _helper", cmd("zzz"), true},
		{"R Condition: identifiers with - and .", "sel-a.b:\n    CommandLine|contains: 'aaa'\ncondition: sel-a.b", cmd("aaa"), true},
	}, sigma.Options{})
}

// A second rule with an id or name already loaded is refused (correlations
// and filters refer to rules by them).
func TestDuplicateID(t *testing.T) {
	yml := ruleYAML("sel:\n    Image: x\ncondition: sel")
	rs, errs := sigma.LoadBytes("d.yml", []byte(yml+"---\n"+yml), sigma.Options{})
	require.Len(t, errs, 1)
	require.Contains(t, errs[0].Error(), "already used")
	require.Equal(t, 2, errs[0].Doc)
	require.Len(t, rs.Rules(), 1)
}

// Constructs edr does not support are load errors naming the construct.
func TestUnsupportedConstructs(t *testing.T) {
	for _, c := range []struct{ detection, construct string }{
		{"sel:\n    Image: x\ntimeframe: 5m\ncondition: sel", "timeframe"},
		{"sel:\n    Image: x\ncondition: sel | count() > 5", "aggregation"},
		{"sel:\n    Image|foo: x\ncondition: sel", `unknown modifier "foo"`},
		{"sel:\n    Image|hour: 3\ncondition: sel", "time modifier hour"},
		{"sel:\n    Image: x\ncondition: sel and missing", `unknown search identifier "missing"`},
		{"sel:\n    Image: x\ncondition: 1 of nothing*", "matches no search identifier"},
		{"sel:\n    Image|re: '(unclosed'\ncondition: sel", "regex"},
		{"sel:\n    Image|base64|contains: 'a*b'\ncondition: sel", "base64 of a value with wildcards"},
		{"sel:\n    Image|contains|startswith: x\ncondition: sel", "exclude each other"},
		{"sel:\n    Image|cidr: 'not-a-net'\ncondition: sel", "cidr"},
	} {
		_, errs := sigma.LoadBytes("bad.yml", []byte(ruleYAML(c.detection)), sigma.Options{})
		require.Len(t, errs, 1, c.detection)
		require.Contains(t, errs[0].Error(), c.construct)
		require.Contains(t, errs[0].Error(), "bad.yml")
		require.Contains(t, errs[0].Error(), "00000000-0000-4000-8000-000000000001")
	}
}

func TestLoadPlaceholders(t *testing.T) {
	p := t.TempDir() + "/ph.yml"
	require.NoError(t, os.WriteFile(p, []byte("Admins: ['adm_*', root]\nServers: srv01\n"), 0o644))
	ph, err := sigma.LoadPlaceholders(p)
	require.NoError(t, err)
	require.Equal(t, map[string][]string{"Admins": {"adm_*", "root"}, "Servers": {"srv01"}}, ph)
	require.NoError(t, os.WriteFile(p, []byte("Admins: []\n"), 0o644))
	_, err = sigma.LoadPlaceholders(p)
	require.ErrorContains(t, err, "Admins")
}

// The metadata of R "Components" is kept as written.
func TestRuleMetadata(t *testing.T) {
	yml := `title: Whoami Execution
id: 929a690e-bef0-4204-a928-ef5e620d6fcc
name: whoami_exec
related:
    - id: 08fbc97d-0a2f-491c-ae21-8ffcfd3174e9
      type: derived
status: test
description: Detects a whoami.exe execution
license: DRL-1.1
references:
    - https://example.org/whoami
author: Florian Roth, Someone Else
date: 2019-10-23
modified: 2024-03-05
tags:
    - attack.discovery
    - attack.t1033
logsource:
    category: process_creation
    product: windows
    definition: Sysmon 1
detection:
    selection:
        Image: 'C:\Windows\System32\whoami.exe'
    condition: selection
fields:
    - CommandLine
falsepositives: Admins
level: high
regression_tests_path: regression_data/x/info.yml
`
	rs := mustLoad(t, yml, sigma.Options{Ruleset: "sigmahq/rules"})
	require.Len(t, rs.Rules(), 1)
	r := rs.Rules()[0]
	require.Equal(t, "929a690e-bef0-4204-a928-ef5e620d6fcc", r.ID)
	require.Equal(t, "whoami_exec", r.Name)
	require.Equal(t, "Whoami Execution", r.Title)
	require.Equal(t, "Detects a whoami.exe execution", r.Description)
	require.Equal(t, "test", r.Status)
	require.Equal(t, "high", r.Level)
	require.Equal(t, "DRL-1.1", r.License)
	require.Equal(t, "Florian Roth, Someone Else", r.Author)
	require.Equal(t, "2019-10-23", r.Date)
	require.Equal(t, "2024-03-05", r.Modified)
	require.Equal(t, []string{"attack.discovery", "attack.t1033"}, r.Tags)
	require.Equal(t, []string{"https://example.org/whoami"}, r.References)
	require.Equal(t, []string{"Admins"}, r.FalsePositives)
	require.Equal(t, []string{"CommandLine"}, r.Fields)
	require.Equal(t, []sigma.Related{{ID: "08fbc97d-0a2f-491c-ae21-8ffcfd3174e9", Type: "derived"}}, r.Related)
	require.Equal(t, sigma.Logsource{Product: "windows", Category: "process_creation", Definition: "Sysmon 1"}, r.Logsource)
	require.Equal(t, "test.yml", r.Path)
	require.Equal(t, "sigmahq/rules", r.Ruleset)
	require.Equal(t, "regression_data/x/info.yml", r.RegressionTestsPath)
	require.Equal(t, []string{"selection"}, r.Conditions)
	require.True(t, r.Standalone)
	require.Empty(t, r.Unsupported)
	image, _ := event.FieldByName("Image")
	require.True(t, rs.References(image))
	require.Contains(t, rs.ReferencedFields(), image)
}
