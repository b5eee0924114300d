"""The prediction profiler's browser side (`libs.plots.profiler`), kept apart so the
report module carries it without importing the DOE libraries."""

# Moving a slider sets that factor's coded value and redraws every panel's band, curve and
# marker from the model in `layout.meta.profiler` (the same arithmetic as `predict`).
PROFILER_JS = """
window.mlopsProfiler = function (gd, p) {
  const x = p.grids.map((g, j) => g[p.active[j]]);
  const row = (v) => p.terms.map((t) => t.reduce((a, j) => a * v[j], 1));
  const predict = (v) => {
    const f = row(v);
    let mean = 0, varf = 0;
    for (let i = 0; i < f.length; i++) {
      mean += f[i] * p.beta[i];
      for (let m = 0; m < f.length; m++) varf += f[i] * p.cov[i][m] * f[m];
    }
    return [mean, p.t * Math.sqrt(Math.max(varf, 0))];
  };
  // the overall desirability D (libs.doe.desirability), from each response's predicted mean
  const dp = p.desirability;
  const ramp = (num, den, power) => Math.pow(Math.min(Math.max(num / den, 0), 1), power);
  const dOf = (g, y) => {
    if (!Number.isFinite(y)) return 0;
    if (g.goal === "maximize") return ramp(y - g.low, g.high - g.low, g.shape);
    if (g.goal === "minimize") return ramp(g.high - y, g.high - g.low, g.shape);
    if (y < g.low || y > g.high) return 0;
    if (y <= g.target) return g.target > g.low ? ramp(y - g.low, g.target - g.low, g.shape) : 1;
    return g.high > g.target ? ramp(g.high - y, g.high - g.target, g.shape_high) : 1;
  };
  const overall = (v) => {
    let sum = 0, weights = 0;
    for (let i = 0; i < dp.models.length; i++) {
      const m = dp.models[i], g = dp.goals[i];
      const mean = m.terms.reduce((a, t, c) => a + t.reduce((b, j) => b * v[j], 1) * m.beta[c], 0);
      const d = dOf(g, mean);
      if (d <= 0) return 0;
      sum += g.weight * Math.log(d); weights += g.weight;
    }
    return Math.exp(sum / weights);
  };
  const redraw = () => {
    const ys = [], idx = [];
    p.grids.forEach((grid, j) => {
      const hi = [], lo = [], mid = [];
      grid.forEach((g) => {
        const v = x.slice(); v[j] = g;
        const [m, h] = predict(v);
        hi.push(m + h); lo.push(m - h); mid.push(m);
      });
      const now = mid[grid.indexOf(x[j])];
      const base = j * p.traces;
      ys.push(hi, lo, mid, [now]); idx.push(base, base + 1, base + 2, base + 3);
      Plotly.restyle(gd, {"x": [[gd.data[base + 2].x[grid.indexOf(x[j])]]]}, [base + 3]);
      if (dp) {
        const d = grid.map((g) => { const v = x.slice(); v[j] = g; return overall(v); });
        const at = dp.first + j * dp.traces;
        ys.push(d, [d[grid.indexOf(x[j])]]); idx.push(at, at + 1);
        Plotly.restyle(gd, {"x": [[gd.data[at].x[grid.indexOf(x[j])]]]}, [at + 1]);
      }
    });
    Plotly.restyle(gd, {"y": ys}, idx);
  };
  gd.on("plotly_sliderchange", (e) => {
    const j = parseInt(String(e.slider.name).slice(1), 10);
    x[j] = p.grids[j][parseInt(e.step.value, 10)];
    redraw();
  });
};
""".strip()

__all__ = ["PROFILER_JS"]
