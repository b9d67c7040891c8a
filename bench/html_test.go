package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// writeSmallHTML writes the small report against a baseline it is 50 %
// slower than (so the page shows a regression) into the test's artifact
// directory, kept with `go test -artifacts`.
func writeSmallHTML(t *testing.T) (string, *Report) {
	r := small(t)
	c := Compare(scaled(r, 1/1.5), r, "baseline.json", 0.10)
	require.NotEmpty(t, c.Regressed)
	p := filepath.Join(t.ArtifactDir(), "bench.html")
	var buf bytes.Buffer
	require.NoError(t, WriteHTML(&buf, r, c))
	require.NoError(t, os.WriteFile(p, buf.Bytes(), 0o644))
	t.Logf("report page: %s", p)
	return p, r
}

// TestHTMLSelfContained: the page fetches nothing (no src or href, no
// URL but the SVG namespace, which is a name, not a fetch).
func TestHTMLSelfContained(t *testing.T) {
	p, r := writeSmallHTML(t)
	data, err := os.ReadFile(p)
	require.NoError(t, err)
	page := string(data)
	assert.NotRegexp(t, `(?i)\s(src|href)\s*=`, page)
	assert.NotContains(t, page, "@import")
	urls := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}[^"'\s<]*`).FindAllString(page, -1)
	for _, u := range urls {
		assert.Equal(t, "http://www.w3.org/2000/svg", u)
	}
	assert.Contains(t, page, fmt.Sprintf("%.0f", r.EventsPerSecond))
	assert.Contains(t, page, fmt.Sprintf(`<b id="clock-overhead">%.1f</b>`, r.RuleClockOverheadNs))
	assert.Contains(t, page, "Regressed: total")
}

// TestHTMLRendersInChromium loads the page in headless Debian chromium: the
// DOM it dumps must hold the inline script's mark (set only when no script
// error stopped it), the charts' bars and the figures; the screenshot is
// saved beside the page.
func TestHTMLRendersInChromium(t *testing.T) {
	bin := chromium()
	if bin == "" {
		t.Skip("chromium not installed (apt-get install chromium; CI installs it through scripts/deps.sh --with-node)")
	}
	p, r := writeSmallHTML(t)
	url := "file://" + p
	dom, logs := runChromium(t, bin, "--dump-dom", url)
	assert.Empty(t, scriptErrors(logs), "no script error")
	bars := len(r.Stages) + len(r.Ceilings) + 1 + len(r.Rules) + len(r.Stages) + len(r.Ceilings) + 1
	mark := fmt.Sprintf(`id="js-status">rendered %d bars<`, bars)
	assert.True(t, strings.Contains(dom, mark), "the inline script ran to its end: no %s in the DOM", mark)
	assert.Contains(t, dom, fmt.Sprintf(`<b id="eps">%.0f</b>`, r.EventsPerSecond))
	for _, s := range append(append([]Stage(nil), r.Stages...), r.Ceilings...) {
		assert.Contains(t, dom, ">"+s.Name+"<", "stage %s shown", s.Name)
	}
	for _, rc := range r.Rules {
		assert.Contains(t, dom, rc.ID)
		assert.Contains(t, dom, fmt.Sprintf("<td>%d</td><td>%d</td>", rc.Ns, rc.NsRaw), "ns and ns raw of %s", rc.ID)
	}
	assert.Contains(t, dom, fmt.Sprintf(`<b id="clock-overhead">%.1f</b>`, r.RuleClockOverheadNs))
	assert.Contains(t, dom, `id="verdict">Regressed: total`)

	shot := filepath.Join(filepath.Dir(p), "bench.png")
	_, logs = runChromium(t, bin, "--screenshot="+shot, "--window-size=1200,2000", "--hide-scrollbars", url)
	assert.Empty(t, scriptErrors(logs))
	st, err := os.Stat(shot)
	require.NoError(t, err, "screenshot written")
	assert.Positive(t, st.Size())
	t.Logf("screenshot: %s", shot)
}

// scriptErrors are the log lines of uncaught script errors.
func scriptErrors(log string) []string {
	var out []string
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, "Uncaught") {
			out = append(out, line)
		}
	}
	return out
}

func chromium() string {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// runChromium runs headless chromium with a fresh profile and no network
// services, returning stdout and its log (stderr).
func runChromium(t *testing.T, bin string, args ...string) (string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--enable-logging=stderr", "--v=0",
		"--user-data-dir=" + t.TempDir()}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	require.NoError(t, err, "chromium %s: %s", strings.Join(args, " "), stderr.String())
	return stdout.String(), stderr.String()
}
