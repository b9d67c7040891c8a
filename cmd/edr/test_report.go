package main

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// testFormats are the output formats of every `edr test` mode.
var testFormats = []string{"text", "json", "junit", "github"}

func checkTestFormat(f string) error {
	for _, ok := range testFormats {
		if f == ok {
			return nil
		}
	}
	return exitf(2, "test: --format must be text, json, junit or github, not %q", f)
}

// testCase is one outcome of an `edr test` mode, in the shape the JUnit and
// GitHub writers share.
type testCase struct {
	Suite   string // JUnit testsuite (the regression run, a recording)
	Class   string // JUnit classname
	Name    string
	Status  string // pass, fail, skip
	Message string // one line: why it failed or was skipped
	Detail  string // the failure's body (JUnit) — may span lines
	File    string // annotation file (a rule, the expectations file); "" none
	Line    int    // annotation line; 0 none
	Title   string // annotation title
}

// junitSuites is the JUnit XML report in the shape CI systems read (the
// Ant/Jenkins junit-10.xsd): testsuites, then testsuite with name and
// tests, then testcase with name, then failure or skipped.
type junitSuites struct {
	XMLName xml.Name `xml:"testsuites"`
	junitCounts
	Suites []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	junitCounts
	Cases []junitCase `xml:"testcase"`
}

// junitCounts are the attributes testsuites and testsuite share.
type junitCounts struct {
	Name     string `xml:"name,attr"`
	Tests    int    `xml:"tests,attr"`
	Failures int    `xml:"failures,attr"`
	Errors   int    `xml:"errors,attr"`
	Skipped  int    `xml:"skipped,attr"`
	Time     string `xml:"time,attr"`
}

type junitCase struct {
	Name    string     `xml:"name,attr"`
	Class   string     `xml:"classname,attr"`
	Time    string     `xml:"time,attr"`
	Skip    *junitText `xml:"skipped,omitempty"` // the schema's order: skipped, error, failure
	Failure *junitText `xml:"failure,omitempty"`
}

type junitText struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Body    string `xml:",chardata"`
}

// writeJUnit writes the cases as one testsuites document, a testsuite per
// Suite in order of first appearance. Times are 0: the report is
// deterministic (the outcome, not the run, is what CI compares).
func writeJUnit(w io.Writer, name string, cases []testCase) error {
	doc := junitSuites{junitCounts: junitCounts{Name: name, Time: "0"}}
	index := map[string]int{}
	for _, c := range cases {
		i, ok := index[c.Suite]
		if !ok {
			i = len(doc.Suites)
			index[c.Suite] = i
			doc.Suites = append(doc.Suites, junitSuite{junitCounts: junitCounts{Name: c.Suite, Time: "0"}})
		}
		s := &doc.Suites[i]
		jc := junitCase{Name: c.Name, Class: c.Class, Time: "0"}
		switch c.Status {
		case "fail":
			jc.Failure = &junitText{Message: xmlSafe(c.Message), Type: "expectation", Body: xmlSafe(c.Detail)}
			s.Failures++
			doc.Failures++
		case "skip":
			jc.Skip = &junitText{Message: xmlSafe(c.Message)}
			s.Skipped++
			doc.Skipped++
		}
		s.Tests++
		doc.Tests++
		s.Cases = append(s.Cases, jc)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// xmlSafe drops the characters XML 1.0 cannot carry at all (most C0
// controls): encoding/xml escapes them as character references, which
// XML 1.0 parsers reject.
func xmlSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0xFFFE || r == 0xFFFF {
			return -1
		}
		return r
	}, s)
}

// writeGitHub writes a GitHub Actions workflow command per failed case
// (::error file=…,line=…,title=…::message), so that the failure shows on
// the rule's line in a pull request, then the summary as plain text.
func writeGitHub(w io.Writer, cases []testCase, summary string) error {
	for _, c := range cases {
		if c.Status != "fail" {
			continue
		}
		var props []string
		if c.File != "" {
			props = append(props, "file="+ghProperty(c.File))
			if c.Line > 0 {
				props = append(props, "line="+strconv.Itoa(c.Line))
			}
		}
		if c.Title != "" {
			props = append(props, "title="+ghProperty(c.Title))
		}
		msg := c.Message
		if c.Detail != "" {
			msg += "\n" + c.Detail
		}
		cmd := "::error"
		if len(props) > 0 {
			cmd += " " + strings.Join(props, ",")
		}
		if _, err := fmt.Fprintf(w, "%s::%s\n", cmd, ghData(msg)); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintln(w, summary)
	return err
}

// ghData escapes a workflow command's message: %, CR and LF.
func ghData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// ghProperty escapes a workflow command's property value: the message's
// escapes plus : and , (which separate properties).
func ghProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

// ruleLine is the 1-based line of a rule in its YAML file: the line of
// `id: <id>`, else the first `title:` line, else 0 (unknown). Annotations
// point there.
func ruleLine(path, id string) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	title := 0
	for n := 1; sc.Scan(); n++ {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), ":")
		if !ok {
			continue
		}
		v = strings.Trim(strings.TrimSpace(v), `'"`)
		switch {
		case k == "id" && id != "" && v == id:
			return n
		case k == "title" && title == 0:
			title = n
		}
	}
	return title
}
