package bench

import (
	"fmt"
	"html"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// series is one line of a chart: a workload and mode over the concurrencies.
type series struct {
	name   string
	color  string
	dash   string // stroke-dasharray: "" for API lines, dashed for the ceiling, dotted with the token check
	points map[int]Row
}

func (s *series) dashAttr() string {
	if s.dash == "" {
		return ""
	}
	return ` stroke-dasharray="` + s.dash + `"`
}

var dashOf = map[string]string{ModeCeiling: "6,4", ModeCeilingToken: "2,3"}

var palette = []string{"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"}

// WriteChart draws the read and mixed rows as two SVG panels side by side: requests/s and P95
// latency against concurrency (one colour per endpoint, API solid, ceiling dashed, ceiling+token dotted). Concurrencies
// are spaced evenly: they are steps of a sweep, not a continuous scale.
func WriteChart(w io.Writer, rows []Row) error {
	var concs []int
	bySeries := map[string]*series{}
	var order []string
	colors := map[string]string{} // endpoint -> colour: its API and ceiling lines share it
	for _, r := range rows {
		if r.Scenario != "read" && r.Scenario != "mixed" {
			continue
		}
		if !slices.Contains(concs, r.Concurrency) {
			concs = append(concs, r.Concurrency)
		}
		name := r.Endpoint + " " + r.Mode
		s := bySeries[name]
		if s == nil {
			if _, ok := colors[r.Endpoint]; !ok {
				colors[r.Endpoint] = palette[len(colors)%len(palette)]
			}
			s = &series{name: name, color: colors[r.Endpoint], dash: dashOf[r.Mode], points: map[int]Row{}}
			bySeries[name] = s
			order = append(order, name)
		}
		s.points[r.Concurrency] = r
	}
	slices.Sort(concs)
	const (
		panelW, panelH = 460, 320
		left, right    = 60, 20
		top, bottom    = 40, 50
		legendH        = 20
	)
	height := panelH + legendH*((len(order)+2)/3) + 10
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`+"\n", 2*panelW, height)
	b.WriteString(`<rect width="100%" height="100%" fill="white"/>` + "\n")
	panels := []struct {
		title string
		value func(Row) float64
		unit  string
	}{
		{"Throughput (2xx requests/s, log scale)", func(r Row) float64 { return r.RPS }, "req/s"},
		{"P95 latency (ms, log scale)", func(r Row) float64 { return r.P95MS }, "ms"},
	}
	for p, panel := range panels {
		x0 := p * panelW
		plotW, plotH := panelW-left-right, panelH-top-bottom
		maxV := 0.0
		minV := math.Inf(1)
		for _, s := range bySeries {
			for _, r := range s.points {
				maxV = math.Max(maxV, panel.value(r))
				if v := panel.value(r); v > 0 {
					minV = math.Min(minV, v)
				}
			}
		}
		// Log scales: the endpoints differ by tens of times in throughput and latency.
		logScale := true
		if maxV <= 0 || len(concs) == 0 {
			continue
		}
		lo, hi := 0.0, niceCeil(maxV)
		if logScale {
			lo, hi = math.Pow(10, math.Floor(math.Log10(minV))), math.Pow(10, math.Ceil(math.Log10(maxV)))
			if hi <= lo {
				hi = lo * 10
			}
		}
		yOf := func(v float64) float64 {
			f := (v - lo) / (hi - lo)
			if logScale {
				f = (math.Log10(math.Max(v, lo)) - math.Log10(lo)) / (math.Log10(hi) - math.Log10(lo))
			}
			return float64(top) + float64(plotH)*(1-f)
		}
		xOf := func(i int) float64 {
			if len(concs) == 1 {
				return float64(x0+left) + float64(plotW)/2
			}
			return float64(x0+left) + float64(plotW)*float64(i)/float64(len(concs)-1)
		}
		fmt.Fprintf(&b, `<text x="%d" y="20" font-size="14" font-weight="bold">%s</text>`+"\n", x0+left, html.EscapeString(panel.title))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#999"/>`+"\n", x0+left, top, plotW, plotH)
		var ticks []float64
		if logScale {
			for v := lo; v <= hi*1.001; v *= 10 {
				ticks = append(ticks, v)
			}
		} else {
			for k := 0; k <= 4; k++ {
				ticks = append(ticks, lo+(hi-lo)*float64(k)/4)
			}
		}
		for _, v := range ticks {
			y := yOf(v)
			fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#eee"/>`+"\n", x0+left, x0+left+plotW, y, y)
			fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", x0+left-5, y+4, strconv.FormatFloat(v, 'f', -1, 64))
		}
		for i, c := range concs {
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%d</text>`+"\n", xOf(i), top+plotH+18, c)
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">concurrency (closed loop)</text>`+"\n", x0+left+plotW/2, top+plotH+38)
		for _, name := range order {
			s := bySeries[name]
			var pts []string
			for i, c := range concs {
				if r, ok := s.points[c]; ok && (!logScale || panel.value(r) > 0) {
					pts = append(pts, fmt.Sprintf("%.1f,%.1f", xOf(i), yOf(panel.value(r))))
				}
			}
			color := s.color
			fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"%s/>`+"\n", strings.Join(pts, " "), color, s.dashAttr())
			for _, pt := range pts {
				xy := strings.Split(pt, ",")
				fmt.Fprintf(&b, `<circle cx="%s" cy="%s" r="3" fill="%s"/>`+"\n", xy[0], xy[1], color)
			}
		}
	}
	for k, name := range order {
		s := bySeries[name]
		x := 20 + (k%3)*300
		y := panelH + legendH*(k/3) + 5
		color := s.color
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="%s" stroke-width="2"%s/>`+"\n", x, x+30, y, y, color, s.dashAttr())
		fmt.Fprintf(&b, `<text x="%d" y="%d">%s</text>`+"\n", x+36, y+4, html.EscapeString(name))
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}
