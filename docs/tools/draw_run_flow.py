"""Redraw assets/diagrams/run-flow.svg: one row per stage of a training run.

    python docs/tools/draw_run_flow.py

Kept as code so that a new stage is one line here, not hand-edited coordinates.
The output is committed; the build does not run this.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "assets" / "diagrams" / "run-flow.svg"
GREY, BLUE, AMBER, GREEN = "#5a6572", "#1f4e79", "#8a5200", "#2e7d32"
SANS = "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif"
MONO = "ui-monospace, 'DejaVu Sans Mono', monospace"

# (stage, is a Prefect task, what it leaves behind, colour of where it goes)
ROWS = [
    ("config", False, "defaults, YAML, --set: validated once; bad input exits 2", GREY),
    ("open-storage", True, "resolves the storage root and checks it before any work", GREY),
    ("ingest", True, "storage: snapshots/<dataset>/<digest>.parquet", AMBER),
    ("split", True, "seeded hold-out, stratified for classification", GREY),
    ("start-tracking", True, "MLflow: run, params, tags, train and test datasets", BLUE),
    ("preprocess", True, "feature pipeline fitted on the train rows only", GREY),
    ("train", True, "create_model(spec), then adapter.fit", GREY),
    ("evaluate · log-metrics", True, "MLflow: test metrics", BLUE),
    ("build-report · publish-report", True, "storage and MLflow: report/report.html", BLUE),
    ("log-model", True, "MLflow: model with signature, input example, requirements", BLUE),
    ("register", True, "registry: version and gate.* tags; champion alias if it passes", BLUE),
    ("finish-tracking · publish-summary", True, "MLflow: FINISHED; Prefect: artifacts", GREEN),
]


def draw(rows: list[tuple[str, bool, str, str]]) -> str:
    step, top = 40, 20
    height = top + step * len(rows) + 10
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 860 {height}" role="img" '
        f'aria-labelledby="run-title run-desc" font-family="{SANS}">',
        '  <title id="run-title">Data flow of one training run</title>',
        '  <desc id="run-desc">The stages of the scikit-learn training flow, in order, and what '
        "each one leaves in storage, MLflow and Prefect.</desc>",
        '  <defs><marker id="run-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="#7a8691"/></marker></defs>',
    ]
    for i, (name, is_task, leaves, colour) in enumerate(rows):
        y = top + i * step
        fill, dash = ("#f6f8fa", "") if is_task else ("#ffffff", ' stroke-dasharray="5 4"')
        out.append(
            f'  <rect x="20" y="{y}" width="300" height="28" rx="6" fill="{fill}" '
            f'stroke="{BLUE}"{dash}/>'
        )
        out.append(
            f'  <text x="34" y="{y + 19}" font-size="13" font-family="{MONO}" '
            f'fill="#1d232b">{escape(name)}</text>'
        )
        if i + 1 < len(rows):
            out.append(
                f'  <line x1="170" y1="{y + 28}" x2="170" y2="{y + step - 1}" stroke="#7a8691" '
                'stroke-width="1.5" marker-end="url(#run-arrow)"/>'
            )
        out.append(
            f'  <line x1="322" y1="{y + 14}" x2="352" y2="{y + 14}" stroke="{colour}" '
            'stroke-width="1.5" stroke-dasharray="3 3"/>'
        )
        out.append(
            f'  <text x="360" y="{y + 19}" font-size="13" fill="{colour}">{escape(leaves)}</text>'
        )
    out.append("</svg>")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    OUT.write_text(draw(ROWS), encoding="utf-8")
    print(f"wrote {OUT}")
