"""`python -m deployments.serving_alerts` refuses bad input in one line, before any Prefect call."""

from __future__ import annotations

import pytest

from deployments.serving_alerts import main, reload_names


def test_neither_a_block_nor_a_reload_url_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--model", "m"]) == 2
    assert capsys.readouterr().err.strip() == "error: --block or --reload-url: give at least one"


def test_a_reload_url_that_is_not_http_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--model", "m", "--reload-url", "127.0.0.1:5002"]) == 2
    assert "--reload-url: not an http(s) URL" in capsys.readouterr().err


def test_the_webhook_block_name_is_one_prefect_accepts() -> None:
    # given: a model name with capitals, dots and underscores (block names allow a-z, 0-9, -)
    block, automation = reload_names("Iris_Model.v2")
    assert block == "reload-iris-model-v2"
    assert automation == "reload-on-champion-Iris_Model.v2"
