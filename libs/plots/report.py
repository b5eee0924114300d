"""One self-contained HTML report: metrics, run details and every figure.

plotly.js is embedded once, in the head, so the page opens offline (an MLflow
artifact view, a laptop on a plane) and stays one bundle in size however many
figures it holds. No file is written here: the caller stores the string.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping, Sequence

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from libs.plots._inputs import PlotInputError

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       margin: 0 auto; max-width: 1100px; padding: 1.5rem; color: #1f2933;
       background: #fff; line-height: 1.45; }
h1 { font-size: 1.6rem; margin: 0 0 1rem; }
h2 { font-size: 1.2rem; margin: 2rem 0 0.5rem; border-bottom: 1px solid #e4e7eb;
     padding-bottom: 0.25rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; min-width: 20rem; }
th, td { text-align: left; padding: 0.3rem 0.9rem 0.3rem 0; border-bottom: 1px solid #eef0f2;
         vertical-align: top; }
th { font-weight: 600; color: #52606d; }
td.value { font-variant-numeric: tabular-nums; text-align: right; }
section.figure { margin-bottom: 1.5rem; }
.empty { color: #7b8794; font-style: italic; }
""".strip()

_PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "figure"


def figure_div_id(index: int, name: str) -> str:
    """The element id a figure gets in the report: unique by position, readable by name."""
    return f"figure-{index}-{_slug(name)}"


def _format_value(name: str, value: float) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise PlotInputError(f"metrics: value of {name!r} is not a number: {value!r}") from exc
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


def _figure_section(index: int, name: str, figure: go.Figure) -> str:
    div = figure.to_html(
        full_html=False,
        include_plotlyjs=False,
        div_id=figure_div_id(index, name),
        config=_PLOTLY_CONFIG,
        default_width="100%",
        default_height=f"{figure.layout.height or 450}px",
    )
    return f'<section class="figure">\n<h2>{html.escape(name)}</h2>\n{div}\n</section>'


def render_report(
    title: str,
    metrics: Mapping[str, float],
    figures: Sequence[tuple[str, go.Figure]],
    meta: Mapping[str, str] | None = None,
) -> str:
    """The report as one HTML string; every user-given text is HTML-escaped."""
    metric_rows = [(str(k), _format_value(str(k), v)) for k, v in metrics.items()]
    meta_rows = [(str(k), str(v)) for k, v in (meta or {}).items()]
    sections = "\n".join(
        _figure_section(index, str(name), figure) for index, (name, figure) in enumerate(figures)
    )
    safe_title = html.escape(title)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{safe_title}</title>
<style>
{_CSS}
</style>
<script type="text/javascript">{get_plotlyjs()}</script>
</head>
<body>
<h1>{safe_title}</h1>
<h2>Run</h2>
{_table(meta_rows)}
<h2>Metrics</h2>
{_table(metric_rows, value_class="value")}
{sections}
</body>
</html>
"""


__all__ = ["figure_div_id", "render_report"]
