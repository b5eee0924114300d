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
