"""How lineage reads on a terminal: one version on one screen, two side by side."""

from __future__ import annotations

from typing import Any

from libs.lineage.record import flatten
from libs.metrics.cost import COST_METRICS

_MISSING = "-"


def _text(value: Any) -> str:
    if value is None or value == "":
        return _MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _rows(rows: list[tuple[str, Any]], indent: str = "  ") -> list[str]:
    return [f"{indent}{label + ':':<18} {_text(value)}".rstrip() for label, value in rows]


def _wrapped(items: list[str], indent: str = "  ", width: int = 100) -> list[str]:
    """`key=value` items packed into lines of at most `width` characters."""
    lines: list[str] = []
    line = ""
    for item in items:
        if line and len(indent) + len(line) + 2 + len(item) > width:
            lines.append(indent + line)
            line = ""
        line = f"{line}  {item}" if line else item
    if line:
        lines.append(indent + line)
    return lines


def render_show(record: dict[str, Any]) -> str:
    """One version's lineage: gate, metrics, data, config, code, environment and runs."""
    model, gate = record["model"], record["gate"]
    aliases = ", ".join(model.get("aliases") or []) or "none"
    lines = [f"{model['name']} version {model['version']} (aliases: {aliases})"]
    lines += _rows(
        [
            ("Description", model.get("description")),
            ("Logged model", model.get("model_id")),
            ("Gate", _gate_line(gate)),
        ]
    )
    metrics = record.get("metrics") or {}
    lines.append("Metrics")
    lines += _wrapped([f"{k}={_text(v)}" for k, v in sorted(metrics.items())]) or ["  (none)"]
    data = record["data"]
    lines.append("Data")
    lines += _rows(
        [
            ("Source", data.get("source_uri")),
            ("Source sha256", data.get("source_sha256")),
            ("Snapshot", data.get("snapshot_uri")),
            ("Snapshot sha256", data.get("snapshot_sha256")),
            ("Rows", data.get("rows")),
        ]
    )
    config = record["config"]
    lines.append("Config")
    lines += _rows([("Digest", config.get("digest")), ("Artifact", config.get("artifact"))])
    values = flatten(config.get("values") or {})
    lines += _wrapped([f"{k}={v or 'null'}" for k, v in values.items()])
    code, env = record["code"], record["environment"]
    lines.append("Code")
    lines += _rows([("Commit", code.get("commit")), ("Dirty tree", code.get("dirty"))])
    lines.append("Environment")
    lines += _rows(
        [("Python", env.get("python"))]
        + [(name, version) for name, version in (env.get("packages") or {}).items()]
        + [("Artifact", env.get("artifact"))]
    )
    run, flow_run = record["mlflow_run"], record["prefect_flow_run"]
    lines.append("Runs")
    lines += _rows(
        [
            (
                "MLflow run",
                f"{run.get('id')} ({run.get('status')}, experiment '{run.get('experiment')}')",
            ),
            ("MLflow page", run.get("url")),
            ("Prefect flow run", _flow_run_line(flow_run)),
            ("Prefect page", flow_run.get("url") or flow_run.get("note")),
        ]
    )
    sweep = record.get("sweep")
    if sweep:
        lines += _rows(
            [
                ("Sweep", sweep.get("sweep_id")),
                ("Sweep run", sweep.get("parent_run_id")),
                ("Point", sweep.get("point")),
            ]
        )
    lines.append("Champion history")
    history = record.get("champion_history") or []
    if not history:
        lines.append("  (never champion)")
    for entry in history:
        until = entry.get("until") or "now"
        by = f" (replaced by v{entry['replaced_by']})" if entry.get("replaced_by") else ""
        lines.append(f"  v{entry['version']:<6} {_text(entry.get('since'))} -> {until}{by}")
    return "\n".join(lines)


def _gate_line(gate: dict[str, Any]) -> str:
    if gate.get("promote") is None:
        return gate.get("reason") or "no gate decision recorded"
    word = "passed" if gate["promote"] else "not promoted"
    return f"{word}: {gate.get('reason') or _MISSING}"


def _flow_run_line(flow_run: dict[str, Any]) -> str:
    if not flow_run.get("id"):
        return _MISSING
    name = f" ({flow_run['name']})" if flow_run.get("name") else ""
    return f"{flow_run['id']}{name}"


def compare_rows(a: dict[str, Any], b: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """`(section, key, a, b)` for every field that differs: config, data, metrics, code."""
    rows: list[tuple[str, str, str, str]] = []
    config_a = flatten(a["config"].get("values") or {})
    config_b = flatten(b["config"].get("values") or {})
    for key in sorted(set(config_a) | set(config_b)):
        if config_a.get(key) != config_b.get(key):
            rows.append(("config", key, config_a.get(key, _MISSING), config_b.get(key, _MISSING)))
    if a["config"].get("digest") != b["config"].get("digest"):
        rows.append(
            (
                "config",
                "digest",
                _short(a["config"].get("digest")),
                _short(b["config"].get("digest")),
            )
        )
    for key in ("source_uri", "source_sha256", "snapshot_sha256", "rows"):
        va, vb = a["data"].get(key), b["data"].get(key)
        if va != vb:
            rows.append(("data", key, _text(va), _text(vb)))
    metrics_a, metrics_b = a.get("metrics") or {}, b.get("metrics") or {}
    for key in sorted(set(metrics_a) | set(metrics_b)):
        va, vb = metrics_a.get(key), metrics_b.get(key)
        if va != vb:
            delta = f" ({vb - va:+.6g})" if va is not None and vb is not None else ""
            rows.append(("metric", key, _text(va), _text(vb) + delta))
    for key in ("commit", "dirty"):
        va, vb = a["code"].get(key), b["code"].get(key)
        if va != vb:
            rows.append(("code", key, _text(va), _text(vb)))
    return rows


def _short(digest: str | None) -> str:
    return digest[:16] if digest else _MISSING


def render_compare(a: dict[str, Any], b: dict[str, Any]) -> str:
    """The differing fields of two versions as a table; says so when nothing differs."""
    head_a = f"{a['model']['name']}/{a['model']['version']}"
    head_b = f"{b['model']['name']}/{b['model']['version']}"
    rows = compare_rows(a, b)
    if not rows:
        return f"{head_a} and {head_b}: same config, data, metrics and code"
    return table([("section", "field", head_a, head_b), *rows])


def metric_diff_rows(
    original: dict[str, float], reproduced: dict[str, float]
) -> list[tuple[str, str, str, str]]:
    """`(metric, original, reproduced, difference)` for every metric of either run.

    The cost metrics (training time, latency, model size) are measurements of
    the machine as much as of the model: their difference is shown, marked
    `measured`, and never counts as a failed reproduction.
    """
    rows = []
    for key in sorted(set(original) | set(reproduced)):
        va, vb = original.get(key), reproduced.get(key)
        if va is None or vb is None:
            diff = "missing"
        elif va == vb:
            diff = "identical"
        else:
            diff = f"{vb - va:+.3g}"
        if key in COST_METRICS and va is not None and vb is not None:
            diff = f"measured ({diff})"
        rows.append((key, _exact(va), _exact(vb), diff))
    return rows


def _exact(value: float | None) -> str:
    return _MISSING if value is None else repr(float(value))


def table(rows: list[tuple[str, ...]]) -> str:
    """Rows as aligned columns, the first row a header underlined."""
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


__all__ = ["compare_rows", "metric_diff_rows", "render_compare", "render_show", "table"]
