"""tasks.tracking's public face, pinned; its private modules stay small and single-purpose."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tasks import tracking
from tasks.tracking import _links

REPO = Path(__file__).resolve().parents[3]


def test_the_public_face_is_pinned_and_every_name_resolves() -> None:
    # then
    assert tracking.__all__ == sorted(tracking.__all__, key=lambda n: (not n.isupper(), n))
    assert {
        "RunHandle",
        "start_run",
        "start_sweep_run",
        "end_run",
        "failing_on_error",
        "link_tags",
        "log_dataset",
        "log_input_source",
        "log_sklearn_model",
        "log_keras_model",
        "register_version",
        "set_champion",
        "champion",
        "registry_lock",
        "reconcile_abandoned_runs",
        "settle_abandoned_versions",
        "resolve_model_version",
        "sweep_point_runs",
        "find_child_run",
        "training_data",
    } <= set(tracking.__all__)
    for name in tracking.__all__:
        assert getattr(tracking, name) is not None, name


def test_each_private_module_stays_under_three_hundred_lines() -> None:
    # given
    modules = sorted((REPO / "tasks" / "tracking").glob("*.py"))
    # then
    assert len(modules) >= 8
    for path in modules:
        assert len(path.read_text().splitlines()) < 300, path.name


def test_link_tags_name_the_flow_run_and_the_commit_when_known(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given
    monkeypatch.setattr(_links, "git_commit", lambda: "abc123")
    # when
    full = tracking.link_tags("fr-1", flow_run_name="brisk-otter", flow_run_url="http://ui/fr-1")
    bare = tracking.link_tags("fr-1")
    outside = tracking.link_tags(None, flow_run_name="ignored", flow_run_url="http://ignored")
    # then
    assert full == {
        "prefect.flow_run_id": "fr-1",
        "prefect.flow_run_name": "brisk-otter",
        "prefect.flow_run_url": "http://ui/fr-1",
        "mlflow.source.git.commit": "abc123",
    }
    assert bare == {"prefect.flow_run_id": "fr-1", "mlflow.source.git.commit": "abc123"}
    assert outside == {"mlflow.source.git.commit": "abc123"}


def test_link_tags_leave_out_the_commit_outside_a_checkout(tmp_path: Path) -> None:
    # given: a folder that is no git work tree
    subprocess.run(["git", "--version"], check=True, capture_output=True)
    # then
    assert _links.git_commit(tmp_path) is None
    assert tracking.git_commit() == _links.git_commit(REPO)


def test_run_links_open_mlflow_in_its_model_training_view() -> None:
    # given: a store served over HTTP
    from libs.settings import PlatformSettings
    from tasks.tracking._client import run_url

    settings = PlatformSettings(tracking_uri="http://127.0.0.1:5391")
    # when
    url = run_url(settings, "1", "abc")
    # then: not MLflow 3's default GenAI view (traces, tokens)
    assert url == "http://127.0.0.1:5391/#/experiments/1/runs/abc?workflowType=machine_learning"
