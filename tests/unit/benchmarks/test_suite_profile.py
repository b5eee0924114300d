"""The suite's time profile: the plugin's lines read back into per-folder sums (issue 29)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.suite_profile import main, read, tables


def _line(test: str, setup: float, call: float, cpu: float, children: float) -> str:
    return json.dumps(
        {
            "test": test,
            "setup": setup,
            "call": call,
            "teardown": 0.5,
            "cpu": cpu,
            "cpu_children": children,
            "worker": "gw0",
            "load": 1.0,
        }
    )


def test_folders_sum_setup_tests_and_cpu_and_the_slowest_come_first(tmp_path: Path) -> None:
    # given: two tests in one folder and one in another
    profile = tmp_path / "suite.jsonl"
    profile.write_text(
        "\n".join(
            [
                _line("tests/cli/test_a.py::test_one", 10.0, 2.0, 1.0, 6.0),
                _line("tests/cli/test_a.py::test_two", 0.0, 3.0, 0.5, 0.0),
                _line("tests/unit/libs/test_b.py::test_three", 0.0, 0.25, 0.25, 0.0),
            ]
        )
        + "\n"
    )
    # when
    text = tables(read(profile), top=2)
    # then: the folder rows add up, and the whole row is their sum
    assert "| tests/cli | 2 | 10 | 5 | 1 | 16 | 2 | 6 |" in text
    assert "| all | 3 | 10 | 5 | 2 | 17 | 2 | 6 |" in text
    by_wall = text.split("Slowest 2 by wall:")[1].split("Slowest 2 by CPU:")[0]
    assert by_wall.index("test_one") < by_wall.index("test_two")
    assert "test_three" not in by_wall


def test_a_missing_or_damaged_profile_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(tmp_path / "none.jsonl")]) == 2
    assert "no such file" in capsys.readouterr().err
    damaged = tmp_path / "damaged.jsonl"
    damaged.write_text('{"test": 1\n')
    with pytest.raises(SystemExit, match=r"damaged\.jsonl:1: not a JSON line"):
        main([str(damaged)])
