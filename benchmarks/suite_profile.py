"""Where the test suite's time goes, from the lines `MLOPS_TEST_PROFILE=FILE make test` writes.

    MLOPS_TEST_PROFILE=/tmp/suite.jsonl make test PYTEST_ARGS="-q -p no:cacheprovider"
    python -m benchmarks.suite_profile /tmp/suite.jsonl [--top 40] [--markdown OUT]

Prints the walls by folder (set-up, the tests themselves, teardown), the CPU
by folder (the workers' own and the processes the tests started and waited
for), and the slowest tests by wall and by CPU. The plugin is tests/suite_profile.py.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any


def read(path: Path) -> list[dict[str, Any]]:
    rows = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except ValueError:
            raise SystemExit(f"{path}:{number}: not a JSON line") from None
    return rows


def folder(test: str) -> str:
    parts = test.split("::", 1)[0].split("/")
    return "/".join(parts[:2]) if len(parts) > 2 else parts[0]


def wall(row: dict[str, Any]) -> float:
    return float(row["setup"] + row["call"] + row["teardown"])


def tables(rows: list[dict[str, Any]], top: int) -> str:
    sums: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for row in rows:
        s = sums[folder(row["test"])]
        s["tests"] += 1
        for key in ("setup", "call", "teardown", "cpu", "cpu_children"):
            s[key] += row[key]
    out = [
        "| folder | tests | set-up (s) | tests (s) | teardown (s) | wall (s) "
        "| CPU, workers (s) | CPU, processes (s) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    total: dict[str, float] = defaultdict(float)
    for name, s in sorted(sums.items(), key=lambda kv: -(kv[1]["setup"] + kv[1]["call"])):
        w = s["setup"] + s["call"] + s["teardown"]
        out.append(
            f"| {name} | {int(s['tests'])} | {s['setup']:.0f} | {s['call']:.0f} "
            f"| {s['teardown']:.0f} | {w:.0f} | {s['cpu']:.0f} | {s['cpu_children']:.0f} |"
        )
        for key, value in s.items():
            total[key] += value
    tw = total["setup"] + total["call"] + total["teardown"]
    out.append(
        f"| all | {int(total['tests'])} | {total['setup']:.0f} | {total['call']:.0f} "
        f"| {total['teardown']:.0f} | {tw:.0f} | {total['cpu']:.0f} | {total['cpu_children']:.0f} |"
    )
    for title, key in (("wall", wall), ("CPU", lambda r: r["cpu"] + r["cpu_children"])):
        out += ["", f"Slowest {top} by {title}:", "", "| s | set-up | call | CPU | test |"]
        out.append("|---|---|---|---|---|")
        for row in sorted(rows, key=key, reverse=True)[:top]:
            cpu = row["cpu"] + row["cpu_children"]
            out.append(
                f"| {key(row):.1f} | {row['setup']:.1f} | {row['call']:.1f} | {cpu:.1f} "
                f"| {row['test']} |"
            )
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.suite_profile", description=__doc__)
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--markdown", type=Path, help="also write the tables to this file")
    args = parser.parse_args(argv)
    if not args.profile.is_file():
        print(f"profile: no such file: {args.profile}", file=sys.stderr)
        return 2
    text = tables(read(args.profile), args.top)
    print(text, end="")
    if args.markdown:
        args.markdown.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
