"""One self-contained HTML report: header tables, metrics, every figure and table.

plotly.js is embedded once, gzip-compressed in the page and unpacked by the
browser (`DecompressionStream`), so the page opens offline (an MLflow artifact
view, a laptop on a plane) and stays small: the cartesian bundle (about 0.7 MB
as embedded) when every trace is of a cartesian type, the full one otherwise.
Each figure's only title is its section heading. Tables are HTML, so they wrap,
sort (click a header) and show full column names. No file is written here: the
caller stores the string.
"""

from __future__ import annotations

import base64
import functools
import gzip
import html
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.offline import get_plotlyjs

from libs.plots._inputs import PlotInputError
from libs.plots._profiler_js import PROFILER_JS

# The trace types in plotly.js's cartesian bundle (its README lists them).
CARTESIAN_TRACES = frozenset(
    {
        "bar",
        "box",
        "contour",
        "heatmap",
        "histogram",
        "histogram2d",
        "histogram2dcontour",
        "image",
        "pie",
        "scatter",
        "scatterternary",
        "violin",
    }
)
_CARTESIAN_ASSET = "plotly-cartesian.min.js.gz"

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       margin: 0 auto; max-width: 1100px; padding: 1.5rem; color: #1f2933;
       background: #fff; line-height: 1.45; }
h1 { font-size: 1.6rem; margin: 0 0 0.3rem; }
p.subtitle { margin: 0 0 1rem; color: #52606d; }
h2 { font-size: 1.2rem; margin: 2rem 0 0.5rem; border-bottom: 1px solid #e4e7eb;
     padding-bottom: 0.25rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; min-width: 20rem; }
th, td { text-align: left; padding: 0.3rem 0.9rem 0.3rem 0; border-bottom: 1px solid #eef0f2;
         vertical-align: top; }
td { overflow-wrap: anywhere; }
th { font-weight: 600; color: #52606d; }
td.value { font-variant-numeric: tabular-nums; text-align: right; white-space: nowrap; }
tr:has(> td.value) > th { overflow-wrap: anywhere; }
table.data { font-size: 0.9rem; }
table.data th { cursor: pointer; user-select: none; vertical-align: bottom; }
table.data td { white-space: nowrap; overflow-wrap: normal; }
table.data th[aria-sort="ascending"]::after { content: " \\25B2"; }
table.data th[aria-sort="descending"]::after { content: " \\25BC"; }
table.data td.num { font-variant-numeric: tabular-nums; text-align: right; }
div.table-wrap { overflow-x: auto; }
p.caption { margin: 0.25rem 0; color: #52606d; }
.badge { display: inline-block; padding: 0.1rem 0.6rem; border-radius: 1rem;
         font-weight: 600; font-size: 0.9rem; }
.badge.yes { background: #e3f9e5; color: #05400a; }
.badge.no { background: #fff3c4; color: #513c06; }
section.figure { margin-bottom: 1.5rem; }
.empty { color: #7b8794; font-style: italic; }
""".strip()

_PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}

# Unpack the embedded bundle, then draw every figure from its JSON spec.
_LOADER = """
(async function () {
  const packed = document.getElementById("plotly-bundle").textContent.trim();
  const bytes = Uint8Array.from(atob(packed), (c) => c.charCodeAt(0));
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  const code = await new Response(stream).text();
  const script = document.createElement("script");
  script.textContent = code;
  document.head.appendChild(script);
  const config = JSON.parse(document.getElementById("plotly-config").textContent);
  for (const spec of document.querySelectorAll("script.figure-spec")) {
    const figure = JSON.parse(spec.textContent);
    await Plotly.newPlot(spec.dataset.target, figure.data, figure.layout, config);
    const meta = figure.layout.meta;
    if (meta && meta.profiler && window.mlopsProfiler) {
      window.mlopsProfiler(document.getElementById(spec.dataset.target), meta.profiler);
    }
  }
})();
""".strip()

# Click a data table's header to sort its rows by that column (numbers as numbers).
_SORTER = """
document.addEventListener("click", function (event) {
  const th = event.target.closest("table.data th");
  if (!th) return;
  const table = th.closest("table");
  const col = Array.from(th.parentNode.children).indexOf(th);
  const asc = th.getAttribute("aria-sort") !== "ascending";
  table.querySelectorAll("th").forEach((h) => h.removeAttribute("aria-sort"));
  th.setAttribute("aria-sort", asc ? "ascending" : "descending");
  const body = table.tBodies[0];
  const key = (row) => row.children[col].dataset.sort ?? row.children[col].textContent;
  const rows = Array.from(body.rows);
  rows.sort((a, b) => {
    const x = key(a), y = key(b), nx = parseFloat(x), ny = parseFloat(y);
    const cmp = !isNaN(nx) && !isNaN(ny) ? nx - ny : x.localeCompare(y);
    return asc ? cmp : -cmp;
  });
  rows.forEach((row) => body.appendChild(row));
});
""".strip()


@dataclass(frozen=True)
class Table:
    """A table section of the report: its rows (any values) and an optional caption."""

    frame: pd.DataFrame
    caption: str = ""


@dataclass(frozen=True)
class KeyValues:
    """A `label: value` block for the report's header (run details, config, data)."""

    rows: Sequence[tuple[str, str]]
    caption: str = ""


@dataclass(frozen=True)
class MetricRow:
    """One metric with its optional bootstrap interval."""

    name: str
    value: float
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class ReportHeader:
    """What the report answers first: which model, is it the champion, and why."""

    subtitle: str = ""
    badge: str = ""
    promoted: bool | None = None
    sections: Sequence[tuple[str, KeyValues | Table]] = field(default_factory=tuple)
    trailing: Sequence[tuple[str, KeyValues | Table]] = field(default_factory=tuple)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "figure"


def figure_div_id(index: int, name: str) -> str:
    """The element id a figure gets in the report: unique by position, readable by name."""
    return f"figure-{index}-{_slug(name)}"


def _as_number(name: str, value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise PlotInputError(f"metrics: value of {name!r} is not a number: {value!r}") from exc


def format_number(number: float) -> str:
    """Integers as integers, others to 6 significant digits, NaN and inf as words."""
    if math.isnan(number) or math.isinf(number):
        return str(number)
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return f"{number:.6g}"


def _table(rows: Sequence[tuple[str, str]], value_class: str = "") -> str:
    if not rows:
        return '<p class="empty">none</p>'
    cls = f' class="{value_class}"' if value_class else ""
    body = "\n".join(
        f"<tr><th>{html.escape(key)}</th><td{cls}>{html.escape(value)}</td></tr>"
        for key, value in rows
    )
    return f"<table>\n{body}\n</table>"


def _metrics_table(
    metrics: Mapping[str, float], intervals: Mapping[str, tuple[float, float]]
) -> str:
    rows = [
        MetricRow(str(k), _as_number(str(k), v), *intervals.get(str(k), (None, None)))
        for k, v in metrics.items()
    ]
    if not any(r.low is not None for r in rows):
        return _table([(r.name, format_number(r.value)) for r in rows], value_class="value")
    level = "95% bootstrap interval"
    head = f"<tr><th>metric</th><th>value</th><th>{level}</th></tr>"
    body = []
    for r in rows:
        span = (
            f"{format_number(r.low)} to {format_number(r.high)}"
            if r.low is not None and r.high is not None
            else ""
        )
        body.append(
            f'<tr><th>{html.escape(r.name)}</th><td class="value">{format_number(r.value)}</td>'
            f'<td class="value">{html.escape(span)}</td></tr>'
        )
    return "<table>\n" + head + "\n" + "\n".join(body) + "\n</table>"


def _cell(value: Any) -> tuple[str, str | None]:
    """A cell's text and, for numbers, the value it sorts by."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "", None
    if isinstance(value, bool):
        return str(value), None
    if isinstance(value, int | float) or hasattr(value, "dtype"):
        try:
            number = float(value)
        except (TypeError, ValueError):
            return str(value), None
        whole = number.is_integer() and abs(number) < 1e15
        return (str(int(number)) if whole else f"{number:.4g}"), repr(number)
    return str(value), None


def _breakable(name: str) -> str:
    """A column name that may wrap after its dots and underscores, never inside a word."""
    return re.sub(r"([._])", r"\1<wbr>", html.escape(name))


def data_table_html(frame: pd.DataFrame) -> str:
    """A sortable HTML table of `frame`: full column names, wrapping cells."""
    if not isinstance(frame, pd.DataFrame) or frame.shape[1] == 0:
        raise PlotInputError("frame: expected a DataFrame with at least one column")
    head = "".join(f'<th scope="col">{_breakable(str(c))}</th>' for c in frame.columns)
    body = []
    for row in frame.itertuples(index=False, name=None):
        cells = []
        for value in row:
            text, sort = _cell(value)
            if sort is None:
                cells.append(f"<td>{html.escape(text)}</td>")
            else:
                cells.append(f'<td class="num" data-sort="{sort}">{html.escape(text)}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        '<div class="table-wrap"><table class="data">\n'
        f"<thead><tr>{head}</tr></thead>\n<tbody>\n" + "\n".join(body) + "\n</tbody></table></div>"
    )


def _json_in_script(value: Any) -> str:
    """JSON safe inside a <script> element (no `</script>`, no comment openers)."""
    return (
        value.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        if isinstance(value, str)
        else _json_in_script(json.dumps(value))
    )


def _untitled(figure: go.Figure) -> go.Figure:
    """The figure without its own title (the section heading is its one title)."""
    copy = go.Figure(figure)
    # room above the plot for subplot titles on two lines (a long "a x<br>b")
    lines = max((str(a.text or "").count("<br>") for a in copy.layout.annotations), default=0)
    copy.update_layout(title=None, margin={"t": 30 + 16 * lines})
    return copy


def _figure_section(index: int, name: str, figure: go.Figure) -> str:
    target = figure_div_id(index, name)
    height = figure.layout.height or 450
    spec = pio.to_json(_untitled(figure), validate=False)
    return (
        f'<section class="figure">\n<h2>{html.escape(name)}</h2>\n'
        f'<div id="{target}" class="plotly-graph-div" '
        f'style="width:100%;height:{int(height)}px"></div>\n'
        f'<script type="application/json" class="figure-spec" data-target="{target}">'
        f"{_json_in_script(spec)}</script>\n</section>"
    )


def _block_section(name: str, block: KeyValues | Table) -> str:
    caption = f'<p class="caption">{html.escape(block.caption)}</p>\n' if block.caption else ""
    body = (
        _table(list(block.rows)) if isinstance(block, KeyValues) else data_table_html(block.frame)
    )
    return f'<section class="table">\n<h2>{html.escape(name)}</h2>\n{caption}{body}\n</section>'


def _has_profiler(figures: Sequence[go.Figure]) -> bool:
    """Whether a figure is a prediction profiler (`libs.plots.profiler`): its script is added."""
    return any(isinstance(f.layout.meta, dict) and "profiler" in f.layout.meta for f in figures)


def _trace_types(figures: Sequence[go.Figure]) -> set[str]:
    return {str(trace.type or "scatter") for figure in figures for trace in figure.data}


@functools.cache
def _cartesian_bundle() -> bytes | None:
    """The gzipped cartesian bundle, when it is the same plotly.js version as plotly's own."""
    asset = resources.files("libs.plots").joinpath("assets", _CARTESIAN_ASSET)
    try:
        packed = asset.read_bytes()
    except (FileNotFoundError, OSError):
        return None
    head = gzip.decompress(packed)[:200].decode("utf-8", "replace")
    ours = re.search(r"plotly\.js v(\S+)", get_plotlyjs()[:200])
    theirs = re.search(r"\) v(\S+)", head)
    if not ours or not theirs or ours.group(1) != theirs.group(1):
        return None
    return packed


@functools.cache
def _full_bundle() -> bytes:
    return gzip.compress(get_plotlyjs().encode("utf-8"), compresslevel=6, mtime=0)


def plotly_bundle(trace_types: set[str]) -> tuple[str, bytes]:
    """Which plotly.js bundle draws these traces, and its gzipped bytes."""
    if trace_types <= CARTESIAN_TRACES:
        packed = _cartesian_bundle()
        if packed is not None:
            return "cartesian", packed
    return "full", _full_bundle()


def model_importance_figure(
    names: Sequence[str], values: Sequence[float], kind: str, top: int = 20
) -> go.Figure:
    """The model's own importance per model-ready feature (`feature_importances_`, or
    |coef_| for a linear model), the largest on top; `kind` labels the axis."""
    if len(names) != len(values):
        raise PlotInputError(f"importance: {len(values)} values for {len(names)} feature names")
    if not len(values):
        raise PlotInputError("importance: no features")
    frame = pd.DataFrame({"feature": list(map(str, names)), "value": list(map(float, values))})
    shown = frame.sort_values("value", ascending=False, kind="stable").head(top).iloc[::-1]
    figure = go.Figure(
        go.Bar(x=shown["value"].to_numpy(), y=shown["feature"].tolist(), orientation="h")
    )
    figure.update_xaxes(title=kind)
    figure.update_yaxes(type="category")
    figure.update_layout(height=max(300, 120 + 24 * len(shown)))
    return figure


def render_report(
    title: str,
    metrics: Mapping[str, float],
    figures: Sequence[tuple[str, go.Figure | Table]],
    meta: Mapping[str, str] | None = None,
    *,
    header: ReportHeader | None = None,
    intervals: Mapping[str, tuple[float, float]] | None = None,
) -> str:
    """The report as one HTML string; every user-given text is HTML-escaped.

    Order: title (with the header's badge and subtitle), the header's
    sections, run details (`meta`), metrics (with `intervals` when given),
    the header's trailing sections, then `figures`, each a plotly figure or
    a `Table`.
    """
    header = header or ReportHeader()
    meta_rows = [(str(k), str(v)) for k, v in (meta or {}).items()]
    metrics_html = _metrics_table(metrics, intervals or {})
    plots = [f for _, f in figures if isinstance(f, go.Figure)]
    parts = []
    for index, (name, item) in enumerate(figures):
        if isinstance(item, Table):
            parts.append(_block_section(str(name), item))
        elif isinstance(item, go.Figure):
            parts.append(_figure_section(index, str(name), item))
        else:
            raise PlotInputError(f"figures: {name!r} is neither a plotly figure nor a Table")
    head_sections = "\n".join(_block_section(str(n), b) for n, b in header.sections)
    tail_sections = "\n".join(_block_section(str(n), b) for n, b in header.trailing)
    safe_title = html.escape(title)
    badge = ""
    if header.badge:
        kind = "yes" if header.promoted else "no"
        badge = f' <span class="badge {kind}">{html.escape(header.badge)}</span>'
    subtitle = (
        f'<p class="subtitle">{html.escape(header.subtitle)}</p>\n' if header.subtitle else ""
    )
    scripts = f"<script>\n{_SORTER}\n</script>\n"
    if plots:
        _, packed = plotly_bundle(_trace_types(plots))
        scripts = (
            '<script type="application/gzip+base64" id="plotly-bundle">\n'
            + base64.b64encode(packed).decode("ascii")
            + "\n</script>\n"
            + f'<script type="application/json" id="plotly-config">'
            f"{_json_in_script(_PLOTLY_CONFIG)}</script>\n"
            + (f"<script>\n{PROFILER_JS}\n</script>\n" if _has_profiler(plots) else "")
            + f"<script>\n{_LOADER}\n</script>\n"
            + scripts
        )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{safe_title}</title>
<style>
{_CSS}
</style>
</head>
<body>
<h1>{safe_title}{badge}</h1>
{subtitle}{head_sections}
<h2>Run</h2>
{_table(meta_rows)}
<h2>Metrics</h2>
{metrics_html}
{tail_sections}
{chr(10).join(parts)}
{scripts}</body>
</html>
"""


__all__ = [
    "CARTESIAN_TRACES",
    "KeyValues",
    "MetricRow",
    "ReportHeader",
    "Table",
    "data_table_html",
    "figure_div_id",
    "format_number",
    "model_importance_figure",
    "plotly_bundle",
    "render_report",
]
