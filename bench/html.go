package bench

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
)

// report.html.tmpl is the whole page: inline CSS, inline SVG charts and one
// inline script that only marks the page as rendered (the browser test
// checks the mark, so a script error shows). Nothing is fetched.
//
//go:embed report.html.tmpl
var htmlSource string

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"f0":  func(v float64) string { return fmt.Sprintf("%.0f", v) },
	"f1":  func(v float64) string { return fmt.Sprintf("%.1f", v) },
	"f3":  func(v float64) string { return fmt.Sprintf("%.3f", v) },
	"pct": func(v float64) string { return fmt.Sprintf("%.1f %%", 100*v) },
	"mib": func(v uint64) string { return fmt.Sprintf("%.1f MiB", float64(v)/(1<<20)) },
	"allocs": func(v *float64) string {
		if v == nil {
			return "–"
		}
		return fmt.Sprintf("%.2f", *v)
	},
}).Parse(htmlSource))

// bar is one bar of a chart: label, value and its length in pixels.
type bar struct {
	Label string
	Value string
	Y     int
	W     float64
	Red   bool
}

// chart is a horizontal bar chart in SVG units.
type chart struct {
	Bars   []bar
	Height int
}

const (
	barWidth = 520.0 // longest bar, px
	barStep  = 22
)

func newChart(labels []string, values []float64, text func(float64) string, red func(int) bool) chart {
	maxV := 0.0
	for _, v := range values {
		maxV = max(maxV, v)
	}
	c := chart{Height: barStep*len(values) + 4}
	for i, v := range values {
		b := bar{Label: labels[i], Value: text(v), Y: i * barStep, W: barWidth * div(v, maxV)}
		if red != nil {
			b.Red = red(i)
		}
		c.Bars = append(c.Bars, b)
	}
	return c
}

type htmlData struct {
	R          *Report
	C          *Comparison
	StageChart chart
	CeilChart  chart
	RuleChart  chart
	BaseChart  chart
}

// WriteHTML writes the report (and the comparison, when c is not nil) as
// one self-contained HTML page.
func WriteHTML(w io.Writer, r *Report, c *Comparison) error {
	d := htmlData{R: r, C: c}
	var labels []string
	var vals []float64
	for _, s := range r.Stages {
		labels, vals = append(labels, s.Name), append(vals, s.NsPerEvent)
	}
	ns := func(v float64) string { return fmt.Sprintf("%.1f ns/event", v) }
	d.StageChart = newChart(labels, vals, ns, nil)
	labels, vals = []string{"full pipeline"}, []float64{r.EventsPerSecond}
	for _, s := range r.Ceilings {
		labels, vals = append(labels, s.Name), append(vals, s.EventsPerSecond)
	}
	d.CeilChart = newChart(labels, vals, func(v float64) string { return fmt.Sprintf("%.0f events/s", v) }, nil)
	labels, vals = nil, nil
	for _, rc := range r.Rules {
		t := rc.Title
		if len([]rune(t)) > 40 {
			t = string([]rune(t)[:39]) + "…"
		}
		labels, vals = append(labels, t), append(vals, rc.NsPerEvent)
	}
	d.RuleChart = newChart(labels, vals, ns, nil)
	if c != nil {
		labels, vals = nil, nil
		for _, row := range c.Rows {
			labels, vals = append(labels, row.Name), append(vals, row.Ratio)
		}
		d.BaseChart = newChart(labels, vals, func(v float64) string {
			if v == 0 {
				return "–"
			}
			return fmt.Sprintf("×%.3f", v)
		}, func(i int) bool { return c.Rows[i].Regressed })
	}
	return htmlTemplate.Execute(w, d)
}
