package main

import (
	"bytes"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/edr-lab/edr/rules"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// expectFixture is a generated recording, a copy of the built-in Sigma
// rules to edit, and the paths of the expectations file.
func expectFixture(t *testing.T) (dir, rec, sig, file string) {
	t.Helper()
	dir = t.TempDir()
	rec = generated(t, dir, "20000", "--scenario-every", "4000")
	_, err := rules.Extract(filepath.Join(dir, "rules"))
	require.NoError(t, err)
	return dir, rec, filepath.Join(dir, "rules", "sigma"), filepath.Join(dir, "expect", "corpus.yml")
}

// generated writes dir/rec: `edr generate` of events events, seed 5.
func generated(t *testing.T, dir, events string, flags ...string) string {
	t.Helper()
	rec := filepath.Join(dir, "rec")
	out, code := edr(t, append([]string{"generate", "--out", rec, "--events", events, "--seed", "5", "--quiet"}, flags...)...)
	require.Equal(t, 0, code, out)
	return rec
}

// expectUpdate runs --update and returns the file it wrote.
func expectUpdate(t *testing.T, file, sig, rec string) string {
	t.Helper()
	out, code := edr(t, "test", "--expect", file, "--update", "--sigma", sig, rec)
	require.Equal(t, 0, code, out)
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	return string(b)
}

func TestExpectGolden(t *testing.T) {
	_, rec, sig, file := expectFixture(t)

	first := []byte(expectUpdate(t, file, sig, rec))
	require.Contains(t, string(first), "recording: ../rec\n", "recordings are named relative to the file")
	require.Contains(t, string(first), "rule: bcad7c2b-a283-4794-826e-4a03dc0f7ab6\n")
	require.Contains(t, string(first), "level: critical\n")

	// --update is byte-stable: again from the file's own list, and again
	// naming the recording.
	out, code := edr(t, "test", "--expect", file, "--update", "--sigma", sig)
	require.Equal(t, 0, code, out)
	second, err := os.ReadFile(file)
	require.NoError(t, err)
	require.Equal(t, string(first), string(second))

	out, code = edr(t, "test", "--expect", file, "--sigma", sig, rec)
	require.Equal(t, 0, code, out)
	require.Regexp(t, `(?m)^PASS: 1 recordings, [1-9]\d* rules as expected, 0 new, 0 missing, 0 changed$`, out)

	// A rule author changes a rule: one level, one id.
	edit := func(name, old, new string) string {
		p := filepath.Join(sig, name)
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		require.Contains(t, string(b), old)
		require.NoError(t, os.WriteFile(p, []byte(strings.Replace(string(b), old, new, 1)), 0o644))
		return p
	}
	levelFile := edit("proc_access_lsass_comsvcs_calltrace.yml", "\nlevel: critical\n", "\nlevel: high\n")
	edit("proc_creation_lsass_dump_comsvcs.yml", "\nid: bcad7c2b-a283-4794-826e-4a03dc0f7ab6\n", "\nid: bcad7c2b-0000-4794-826e-4a03dc0f7ab6\n")

	out, code = edr(t, "test", "--expect", file, "--sigma", sig, rec)
	require.Equal(t, 1, code, out)
	assert.Contains(t, out, `~ sigma 5e0d6f2a-91b4-4d7c-b3a8-6c1f0e9d2a47 "LSASS Opened From Comsvcs.dll": changed: level critical -> high`)
	assert.Contains(t, out, filepath.ToSlash(levelFile)+":2)", "the diff names the rule's file and id line")
	assert.Contains(t, out, `+ sigma bcad7c2b-0000-4794-826e-4a03dc0f7ab6 "LSASS Memory Dump via Comsvcs MiniDump": new: 1 alerts (level critical)`)
	assert.Contains(t, out, `- sigma bcad7c2b-a283-4794-826e-4a03dc0f7ab6 "LSASS Memory Dump via Comsvcs MiniDump": missing: expected 1 alerts`)
	assert.Regexp(t, `(?m)^FAIL: 1 recordings, \d+ rules as expected, 1 new, 1 missing, 1 changed`, out)

	// GitHub annotations: the changed and new rules on their id line, the
	// vanished id on its entry in the expectations file.
	out, code = edr(t, "test", "--format", "github", "--expect", file, "--sigma", sig, rec)
	require.Equal(t, 1, code, out)
	ann := regexp.MustCompile(`(?m)^::error file=([^,:]+),line=(\d+),title=([^,:]+)::(.*)$`).FindAllStringSubmatch(out, -1)
	require.Len(t, ann, 3, out)
	assert.Equal(t, filepath.ToSlash(levelFile), ann[0][1])
	assert.Equal(t, "2", ann[0][2])
	assert.Equal(t, "edr test%3A changed alert%3A LSASS Opened From Comsvcs.dll", ann[0][3])
	assert.Equal(t, filepath.ToSlash(file), ann[2][1])
	line, _ := strconv.Atoi(ann[2][2])
	assert.Equal(t, "- engine: sigma", strings.TrimSpace(strings.Split(string(first), "\n")[line-1]), "the missing entry's line")

	out, code = edr(t, "test", "--format", "junit", "--expect", file, "--sigma", sig, rec)
	require.Equal(t, 1, code, out)
	doc := checkJUnit(t, []byte(out))
	assert.Equal(t, 3, doc.Failures)

	out, code = edr(t, "test", "--format", "json", "--expect", file, "--sigma", sig, rec)
	require.Equal(t, 1, code, out)
	assert.Contains(t, out, `"status":"changed","changes":["level critical -\u003e high"]`)
	assert.Contains(t, out, `"new":1`)

	// --update accepts the change, and the run passes again.
	expectUpdate(t, file, sig, rec)
	out, code = edr(t, "test", "--expect", file, "--sigma", sig, rec)
	require.Equal(t, 0, code, out)
}

func TestExpectHostsAndRecords(t *testing.T) {
	dir, rec, sig, file := expectFixture(t)
	b := expectUpdate(t, file, sig, rec)
	require.NotContains(t, b, "records:", "record ids only where asked")

	// `records: []` asks --update for the record ids; then they are checked.
	withRecords := strings.Replace(b, "        count: 1\n", "        count: 1\n        records: []\n", 1)
	require.NoError(t, os.WriteFile(file, []byte(withRecords), 0o644))
	out, code := edr(t, "test", "--expect", file, "--sigma", sig, rec)
	require.Equal(t, 1, code, out)
	assert.Regexp(t, `changed: records -\[\] \+\[\d+\]`, out)
	b = expectUpdate(t, file, sig, rec)
	require.Regexp(t, `records: \[\d+\]\n`, b)
	out, code = edr(t, "test", "--expect", file, "--sigma", sig, rec)
	require.Equal(t, 0, code, out)

	// A wrong host is a change.
	require.NoError(t, os.WriteFile(file, []byte(strings.Replace(b, "hosts: [ws03.corp.example.com]", "hosts: [ws99]", 1)), 0o644))
	out, code = edr(t, "test", "--expect", file, "--sigma", sig, rec)
	require.Equal(t, 1, code, out)
	assert.Contains(t, out, "changed: hosts [ws99] -> [ws03.corp.example.com]")

	// A recording the file does not list fails; so does a new one.
	other := filepath.Join(dir, "other.yml")
	require.NoError(t, os.WriteFile(other, []byte("recordings: []\n"), 0o644))
	out, code = edr(t, "test", "--expect", other, "--sigma", sig, rec)
	require.Equal(t, 1, code, out)
	assert.Contains(t, out, "recording rec: not in "+other)
}

func TestExpectErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(s), 0o644))
		return p
	}
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"test", "--expect", filepath.Join(dir, "absent.yml"), dir}, "absent.yml"},
		{[]string{"test", "--expect", write("unknown.yml", "recordings:\n  - recording: r\n    alerts:\n      - engine: sigma\n        rule: x\n        count: 1\n        colour: red\n"), dir}, "line 7: field colour not found"},
		{[]string{"test", "--expect", write("zero.yml", "recordings:\n  - recording: r\n    alerts:\n      - engine: sigma\n        rule: x\n        count: 0\n")}, "zero.yml:4: rule x: count must be at least 1"},
		{[]string{"test", "--expect", write("dup.yml", "recordings:\n  - recording: r\n    alerts: []\n  - recording: r\n    alerts: []\n")}, "dup.yml:4: recording r is listed again (first at line 2)"},
		{[]string{"test", "--expect", write("empty.yml", "recordings: []\n")}, "no recording given and none in the file"},
		{[]string{"test", "--expect", write("ok.yml", "recordings: []\n"), filepath.Join(dir, "norec")}, "norec"},
		{[]string{"test", "--expect", write("ok2.yml", "recordings: []\n"), "--sigma-regression", dir}, "separate runs"},
		{[]string{"test", "--update", "--sigma-regression", dir}, "--update goes with --expect"},
		{[]string{"test", "--format", "xml", "--expect", write("ok3.yml", "recordings: []\n")}, "text, json, junit or github"},
	} {
		out, code := edr(t, c.args...)
		assert.Equal(t, 2, code, "%v: %s", c.args, out)
		assert.Contains(t, out, c.msg, c.args)
	}
}

func TestGitHubAnnotationEscaping(t *testing.T) {
	assert.Equal(t, "100%25 a%0D%0Ab: c, d", ghData("100% a\r\nb: c, d"))
	assert.Equal(t, "C%3A/rules/a%2Cb.yml 100%25%0A", ghProperty("C:/rules/a,b.yml 100%\n"))

	var b bytes.Buffer
	require.NoError(t, writeGitHub(&b, []testCase{
		{Status: "pass", Message: "not annotated"},
		{Status: "fail", File: "r/a,b.yml", Line: 7, Title: "t: x", Message: "m: 1%", Detail: "line 2"},
		{Status: "fail", Message: "no file"},
	}, "summary"))
	assert.Equal(t, "::error file=r/a%2Cb.yml,line=7,title=t%3A x::m: 1%25%0Aline 2\n::error::no file\nsummary\n", b.String())
}

func TestRuleLine(t *testing.T) {
	p := filepath.Join(t.TempDir(), "r.yml")
	require.NoError(t, os.WriteFile(p, []byte("title: A\nrelated:\n  - id: 11\nid: '22'\n---\ntitle: B\nid: 33\n"), 0o644))
	assert.Equal(t, 4, ruleLine(p, "22"), "the rule's own id, quoted, not a related id")
	assert.Equal(t, 7, ruleLine(p, "33"), "a later document")
	assert.Equal(t, 1, ruleLine(p, "44"), "unknown id: the first title")
	assert.Equal(t, 0, ruleLine(filepath.Join(t.TempDir(), "absent.yml"), "22"))
}

// junitDoc is the parsed report with what the JUnit schema (Jenkins'
// junit-10.xsd) requires.
type junitDoc struct {
	XMLName  xml.Name `xml:"testsuites"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Suites   []struct {
		Name     *string `xml:"name,attr"`
		Tests    *string `xml:"tests,attr"`
		Failures int     `xml:"failures,attr"`
		Skipped  int     `xml:"skipped,attr"`
		Inner    []byte  `xml:",innerxml"`
		Cases    []struct {
			Name    *string `xml:"name,attr"`
			Inner   []byte  `xml:",innerxml"`
			Failure []struct {
				Message string `xml:"message,attr"`
			} `xml:"failure"`
			Skipped []struct{} `xml:"skipped"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

// checkJUnit checks a JUnit report against the schema's rules: the root is
// testsuites; a testsuite has name and a numeric tests and only testcase
// children; a testcase has name and at most one skipped, then failures;
// the counts add up. With xmllint installed it also validates against
// testdata/junit.xsd.
func checkJUnit(t *testing.T, data []byte) junitDoc {
	t.Helper()
	var doc junitDoc
	require.NoError(t, xml.Unmarshal(data, &doc), string(data))
	total, failures := 0, 0
	for _, s := range doc.Suites {
		require.NotNil(t, s.Name, "testsuite@name is required")
		require.NotNil(t, s.Tests, "testsuite@tests is required")
		n, err := strconv.Atoi(*s.Tests)
		require.NoError(t, err)
		require.Equal(t, len(s.Cases), n)
		fails, skips := 0, 0
		for _, c := range s.Cases {
			require.NotNil(t, c.Name, "testcase@name is required")
			require.LessOrEqual(t, len(c.Skipped), 1)
			fails += min(len(c.Failure), 1)
			skips += len(c.Skipped)
			for _, el := range childElements(t, c.Inner) {
				require.Contains(t, []string{"skipped", "error", "failure", "system-out", "system-err"}, el)
			}
		}
		for _, el := range childElements(t, s.Inner) {
			require.Contains(t, []string{"properties", "testcase", "system-out", "system-err"}, el)
		}
		require.Equal(t, fails, s.Failures)
		require.Equal(t, skips, s.Skipped)
		total += n
		failures += fails
	}
	require.Equal(t, total, doc.Tests)
	require.Equal(t, failures, doc.Failures)

	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		t.Log("xmllint absent (Debian: libxml2-utils): schema validation skipped, structure checked above")
		return doc
	}
	p := filepath.Join(t.TempDir(), "report.xml")
	require.NoError(t, os.WriteFile(p, data, 0o644))
	out, err := exec.Command(xmllint, "--noout", "--schema", filepath.Join("testdata", "junit.xsd"), p).CombinedOutput()
	require.NoError(t, err, "%s", out)
	return doc
}

// childElements names the direct child elements of an element's inner XML.
func childElements(t *testing.T, inner []byte) []string {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(inner))
	var names []string
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		switch e := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				names = append(names, e.Name.Local)
			}
			depth++
		case xml.EndElement:
			depth--
		}
	}
	return names
}

func TestJUnitReportShape(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, writeJUnit(&b, "n", []testCase{
		{Suite: "a", Class: "a", Name: "one", Status: "pass"},
		{Suite: "a", Class: "a", Name: "two", Status: "fail", Message: "bad \x01 <x>", Detail: "d"},
		{Suite: "b", Class: "b", Name: "three", Status: "skip", Message: "absent"},
	}))
	doc := checkJUnit(t, b.Bytes())
	require.Len(t, doc.Suites, 2)
	assert.Equal(t, "bad  <x>", doc.Suites[0].Cases[1].Failure[0].Message, "C0 controls dropped (XML 1.0 cannot carry them)")
	assert.Equal(t, 1, doc.Suites[1].Skipped)
}
