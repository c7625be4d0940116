package main

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"strings"

	"github.com/breakeven-go/breakeven/internal/benchutil"
)

// writeHTML writes a self-contained report: no scripts, no external files,
// one inline SVG chart per workload, a summary table first.
func writeHTML(w io.Writer, rep Report) error {
	return page.Execute(w, rep)
}

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"chart":        func(s SuiteResult, wr WorkloadResult) template.HTML { return template.HTML(chartSVG(s, wr)) },
	"ratioChart":   func(s SuiteResult, wr WorkloadResult) template.HTML { return template.HTML(ratioSVG(s, wr)) },
	"ratio":        benchutil.Ratio,
	"ns":           formatNs,
	"at":           pointAt,
	"date":         func(m Machine) string { return m.Date.Format("2006-01-02 15:04 UTC") },
	"summary":      summarize,
	"tie":          func() float64 { return benchutil.TieBand * 100 },
	"verdictClass": verdictClass,
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>breakeven report: {{.Machine.CPU}}</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;max-width:960px;margin:2em auto;padding:0 1em;color:#1a1a1a}
h1{font-size:1.5em;margin-bottom:.2em} h2{margin-top:2em;border-bottom:1px solid #ddd}
.machine{color:#555} table{border-collapse:collapse;margin:.6em 0}
td,th{padding:.25em .7em;border-bottom:1px solid #eee;text-align:right} th{background:#f6f6f6}
td.l,th.l{text-align:left} .win{color:#1a7f37} .lose{color:#b42318} .mixed{color:#9a6700} .par,.tie{color:#555} .undecided,.inconclusive{color:#7c3aed}
.verdict{background:#f3f7ff;border-left:4px solid #2f6fed;padding:.5em .8em}
svg{max-width:100%;height:auto}
</style></head><body>
<h1>breakeven report</h1>
<p class="machine">Measured on {{.Machine.CPU}}, {{.Machine.Cores}} cores, GOMAXPROCS={{.Machine.GOMAXPROCS}},
{{.Machine.GOOS}}/{{.Machine.GOARCH}}, {{.Machine.Go}}, {{date .Machine}}; {{.Mode}} run.
Costs are wall-clock ns per operation with all goroutines running (lower is better), except where a
section names another measure (p99 latency, goodput); ratios are primitive over baseline, the median of
per-round ratios (each round runs every implementation once, in a shuffled order), with a 95% confidence
interval. A point is a win or a loss only when its whole interval lies outside {{printf "%.0f" tie}}% of 1, a tie
when it lies inside, and inconclusive when it straddles an edge (rerun with -full).</p>
<h2>Summary</h2>
<table><tr><th class="l">primitive</th><th class="l">baseline</th><th class="l">where it wins (best ratio)</th><th class="l">where it loses (worst ratio)</th><th class="l">undecided (rerun with -full)</th></tr>
{{range summary .Suites}}<tr><td class="l"><a href="#{{.Name}}">{{.Primitive}}</a></td><td class="l">{{.Baseline}}</td>
<td class="l {{if .Wins}}win{{else}}par{{end}}">{{or .Wins "none"}}</td><td class="l {{if .Losses}}lose{{else}}par{{end}}">{{or .Losses "none"}}</td><td class="l undecided">{{.Undecided}}</td></tr>
{{end}}</table>
<h2>Every workload</h2>
<table><tr><th class="l">primitive</th><th class="l">workload</th><th class="l">verdict</th></tr>
{{range $s := .Suites}}{{range .Workloads}}<tr><td class="l"><a href="#{{$s.Name}}">{{$s.Primitive}}</a></td>
<td class="l">{{.Name}}</td><td class="l {{verdictClass .Verdict}}">{{.Sentence}}</td></tr>
{{end}}{{end}}</table>
{{range $s := .Suites}}<h2 id="{{.Name}}">{{.Primitive}} vs {{.BaselineDesc}}</h2>
{{range $w := .Workloads}}<h3>{{$s.Name}}/{{.Name}}</h3>
<p class="verdict">{{.Sentence}}</p>
{{chart $s $w}}
{{ratioChart $s $w}}
<table><tr><th>{{$s.XLabel}}</th>{{range .Series}}<th>{{.Impl}} {{$s.Unit}}</th>{{end}}<th>{{$s.Impl}}/{{$s.Baseline}}</th><th>95% CI</th><th>class</th><th>rounds</th></tr>
{{range $p := .Verdict.Points}}<tr><td>{{$p.X}}</td>{{range $w.Series}}<td>{{ns (at .Points $p.X)}}</td>{{end}}<td>{{ratio $p.Ratio}}</td><td>{{ratio $p.Lo}}–{{ratio $p.Hi}}</td><td class="{{$p.Class}}">{{$p.Class}}</td><td>{{len $p.Rounds}}</td></tr>
{{end}}</table>
{{end}}{{end}}
<p class="machine">Regenerate: <code>go run github.com/breakeven-go/breakeven/cmd/breakeven@latest -out DIR</code></p>
</body></html>
`))

// chartSVG draws the suite's unit against its sweep, one line per implementation: the
// primitive and the baseline bold and coloured, the others thin and grey.
func chartSVG(s SuiteResult, wr WorkloadResult) string {
	const W, H, left, right, top, bottom = 680.0, 300.0, 60.0, 170.0, 20.0, 40.0
	gs := wr.Verdict.Xs
	if len(gs) == 0 {
		return ""
	}
	maxNs := 0.0
	for _, ser := range wr.Series {
		for _, p := range ser.Points {
			maxNs = math.Max(maxNs, p.Value)
			if len(p.Samples) > 1 {
				// Leave room for the interval, but not for a wild outlier.
				_, _, hi, _ := benchutil.MedianCI(p.Samples, benchutil.Confidence)
				maxNs = math.Max(maxNs, math.Min(hi, 2*p.Value))
			}
		}
	}
	yMax := niceCeil(maxNs * 1.05)
	x := func(i int) float64 {
		if len(gs) == 1 {
			return left + (W-left-right)/2
		}
		return left + float64(i)*(W-left-right)/float64(len(gs)-1)
	}
	y := func(ns float64) float64 { return top + (H-top-bottom)*(1-ns/yMax) }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %g %g" width="%g" height="%g" role="img" aria-label="%s">`,
		W, H, W, H, template.HTMLEscapeString(s.Name+"/"+wr.Name+": "+s.Unit+" against "+s.XLabel))
	fmt.Fprintf(&b, `<rect width="%g" height="%g" fill="#fff"/>`, W, H)
	for i := 0; i <= 4; i++ {
		v := yMax * float64(i) / 4
		fmt.Fprintf(&b, `<line x1="%g" x2="%g" y1="%.1f" y2="%.1f" stroke="#e5e5e5"/>`, left, W-right, y(v), y(v))
		fmt.Fprintf(&b, `<text x="%g" y="%.1f" font-size="11" text-anchor="end" fill="#555">%s</text>`, left-6, y(v)+4, tickLabel(v))
	}
	for i, g := range gs {
		fmt.Fprintf(&b, `<text x="%.1f" y="%g" font-size="11" text-anchor="middle" fill="#555">%d</text>`, x(i), H-bottom+16, g)
	}
	fmt.Fprintf(&b, `<text x="%g" y="%g" font-size="11" text-anchor="middle" fill="#333">%s</text>`, left+(W-left-right)/2, H-6, template.HTMLEscapeString(s.XLabel))
	fmt.Fprintf(&b, `<text x="14" y="%g" font-size="11" fill="#333" transform="rotate(-90 14 %g)" text-anchor="middle">%s</text>`, top+(H-top-bottom)/2, top+(H-top-bottom)/2, template.HTMLEscapeString(s.Unit))
	legendY := top + 10
	for _, ser := range wr.Series {
		color, width, dash := "#999", 1.5, ` stroke-dasharray="4 3"`
		switch ser.Impl {
		case s.Impl:
			color, width, dash = "#2f6fed", 3, ""
		case s.Baseline:
			color, width, dash = "#d9480f", 3, ""
		}
		var pts []string
		for i, g := range gs {
			if ns := pointAt(ser.Points, g); ns > 0 {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(i), y(ns)))
			}
			// The interval of the median of this implementation's samples
			// (min to max when there are too few for 95%).
			if p, ok := pointFor(ser.Points, g); ok && len(p.Samples) > 1 {
				_, lo, hi, _ := benchutil.MedianCI(p.Samples, benchutil.Confidence)
				fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="%s" stroke-width="1.5"/>`, x(i), x(i), y(lo), y(math.Min(hi, yMax)), color)
			}
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="%g"%s points="%s"/>`, color, width, dash, strings.Join(pts, " "))
		for _, pt := range pts {
			cx, cy, _ := strings.Cut(pt, ",")
			fmt.Fprintf(&b, `<circle cx="%s" cy="%s" r="3" fill="%s"/>`, cx, cy, color)
		}
		label := ser.Impl
		if ser.Impl == s.Baseline {
			label += " (baseline)"
		}
		fmt.Fprintf(&b, `<line x1="%g" x2="%g" y1="%g" y2="%g" stroke="%s" stroke-width="%g"%s/>`, W-right+10, W-right+30, legendY, legendY, color, width, dash)
		fmt.Fprintf(&b, `<text x="%g" y="%g" font-size="12" fill="#333">%s</text>`, W-right+35, legendY+4, template.HTMLEscapeString(label))
		legendY += 18
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// ratioSVG draws the primitive's ratio to the baseline at each x on a log
// scale: a dot at the median, a bar over its 95% interval, coloured by
// class, and the tie band shaded around 1, so a reader sees at a glance how
// noisy each point was and why it got its class.
func ratioSVG(s SuiteResult, wr WorkloadResult) string {
	const W, H, left, right, top, bottom = 680.0, 170.0, 60.0, 170.0, 12.0, 34.0
	ps := wr.Verdict.Points
	if len(ps) == 0 {
		return ""
	}
	lo, hi := 1-benchutil.TieBand, 1+benchutil.TieBand
	for _, p := range ps {
		if p.Lo > 0 {
			lo = math.Min(lo, p.Lo)
		}
		hi = math.Max(hi, p.Hi)
	}
	lmin, lmax := math.Log10(lo)-0.05, math.Log10(hi)+0.05
	x := func(i int) float64 {
		if len(ps) == 1 {
			return left + (W-left-right)/2
		}
		return left + float64(i)*(W-left-right)/float64(len(ps)-1)
	}
	y := func(r float64) float64 {
		if r <= 0 {
			r = lo
		}
		return top + (H-top-bottom)*(1-(math.Log10(r)-lmin)/(lmax-lmin))
	}
	colors := map[benchutil.Class]string{benchutil.Win: "#1a7f37", benchutil.Lose: "#b42318", benchutil.Tie: "#555", benchutil.Inconclusive: "#7c3aed"}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %g %g" width="%g" height="%g" role="img" aria-label="%s">`,
		W, H, W, H, template.HTMLEscapeString(s.Name+"/"+wr.Name+": ratio "+s.Impl+"/"+s.Baseline+" with 95% intervals"))
	fmt.Fprintf(&b, `<rect width="%g" height="%g" fill="#fff"/>`, W, H)
	fmt.Fprintf(&b, `<rect x="%g" y="%.1f" width="%g" height="%.1f" fill="#eee"/>`, left, y(1+benchutil.TieBand), W-left-right, y(1-benchutil.TieBand)-y(1+benchutil.TieBand))
	fmt.Fprintf(&b, `<line x1="%g" x2="%g" y1="%.1f" y2="%.1f" stroke="#999"/>`, left, W-right, y(1), y(1))
	fmt.Fprintf(&b, `<text x="%g" y="%.1f" font-size="11" text-anchor="end" fill="#555">1x</text>`, left-6, y(1)+4)
	fmt.Fprintf(&b, `<text x="%g" y="%.1f" font-size="11" text-anchor="end" fill="#555">%s</text>`, left-6, y(math.Pow(10, lmax))+10, benchutil.Ratio(hi))
	fmt.Fprintf(&b, `<text x="%g" y="%.1f" font-size="11" text-anchor="end" fill="#555">%s</text>`, left-6, y(math.Pow(10, lmin)), benchutil.Ratio(lo))
	for i, p := range ps {
		c := colors[p.Class]
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="%s" stroke-width="3"/>`, x(i), x(i), y(p.Lo), y(p.Hi), c)
		fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="4" fill="%s"><title>%s: %s [%s, %s] %s</title></circle>`, x(i), y(p.Ratio), c,
			template.HTMLEscapeString(benchutil.XPoint(s.XLabel, p.X)), benchutil.Ratio(p.Ratio), benchutil.Ratio(p.Lo), benchutil.Ratio(p.Hi), p.Class)
		fmt.Fprintf(&b, `<text x="%.1f" y="%g" font-size="11" text-anchor="middle" fill="#555">%d</text>`, x(i), H-bottom+16, p.X)
	}
	fmt.Fprintf(&b, `<text x="%g" y="%g" font-size="11" text-anchor="middle" fill="#333">%s</text>`, left+(W-left-right)/2, H-4, template.HTMLEscapeString(s.XLabel))
	legendY := top + 10
	for _, c := range []benchutil.Class{benchutil.Win, benchutil.Lose, benchutil.Tie, benchutil.Inconclusive} {
		fmt.Fprintf(&b, `<circle cx="%g" cy="%g" r="4" fill="%s"/><text x="%g" y="%g" font-size="12" fill="#333">%s</text>`,
			W-right+20, legendY, colors[c], W-right+30, legendY+4, c)
		legendY += 18
	}
	fmt.Fprintf(&b, `<text x="%g" y="%g" font-size="11" fill="#555">ratio, log scale;</text>`, W-right+10, legendY+8)
	fmt.Fprintf(&b, `<text x="%g" y="%g" font-size="11" fill="#555">grey: within %.0f%%</text>`, W-right+10, legendY+22, benchutil.TieBand*100)
	b.WriteString(`</svg>`)
	return b.String()
}

// tickLabel formats an axis value: 0 as "0", others as formatNs does.
func tickLabel(v float64) string {
	if v == 0 {
		return "0"
	}
	return formatNs(v)
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten, for axis ticks.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}
