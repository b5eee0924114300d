"""A registered version's few tags and its run's `gate.json`, read back by lineage; versions
registered before `gate.json` (all `gate.*` and lineage tags) still read the same.

A real MLflow store on SQLite in the test's home; no training (a run and a version made
by hand), so it takes a second or two.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from libs.gate import GateSpec, decide, gate_line
from libs.settings import PlatformSettings
from tasks import tracking


@pytest.fixture
def settings(platform_home: Path) -> PlatformSettings:
    return PlatformSettings()


def _version(settings: PlatformSettings, name: str, tags: dict[str, str]) -> tracking.RunHandle:
    run = tracking.start_run(
        settings,
        experiment="version-tags",
        artifact_root=None,
        run_name="r",
        params={},
        tags={"data.source_uri": "bundled://iris", "data.rows": "150"},
        flow_run_id=None,
    )
    client = tracking.client_for(settings)
    client.log_text(run.run_id, "model", "model/MLmodel")
    client.create_registered_model(name)
    client.create_model_version(name, f"runs:/{run.run_id}/model", run.run_id, tags=tags)
    return run


def test_legacy_gate_tags_still_read(settings: PlatformSettings) -> None:
    # given: a version registered before gate.json, with every field a tag
    legacy = {
        "gate.promote": "False",
        "gate.reason": "accuracy 0.8000 >= 0.5; does not beat champion v1 (0.9000)",
        "gate.metric": "accuracy",
        "gate.candidate": "0.8",
        "gate.threshold": "0.5",
        "gate.champion_version": "1",
        "gate.state": "done",
        "git.commit": "a" * 40,
        "data.source_sha256": "f00d",
    }
    run = _version(settings, "legacy-tags", legacy)
    tracking.end_run(run)
    # when
    ref = tracking.resolve_model_version(settings, "legacy-tags", version="1")
    record = tracking.version_lineage(settings, ref, None)
    # then
    assert record["gate"] == {
        "promote": False,
        "reason": legacy["gate.reason"],
        "metric": "accuracy",
        "candidate": 0.8,
        "threshold": 0.5,
        "champion_version": "1",
        "state": "done",
    }
    assert record["code"]["commit"] == "a" * 40
    assert record["data"]["source_sha256"] == "f00d"
    assert tracking.recorded_decision(legacy) == (False, legacy["gate.reason"])


def test_a_new_version_keeps_few_tags_and_reads_its_gate_json(settings: PlatformSettings) -> None:
    # given: what register_model writes: the kept tags, then gate.json, then the gate line
    decision = decide(
        GateSpec(threshold=0.5), metric="accuracy", greater_is_better=True, candidate=0.9
    )
    kept, rest = tracking.split_version_tags(
        {
            "config_digest": "c0ffee",
            "data.snapshot_sha256": "5eed",
            "git.commit": "b" * 40,
            "git.dirty": "false",
            "data.source_sha256": "f00d",
            "prefect.flow_run_id": "fr-1",
        }
    )
    run = _version(settings, "new-tags", {**kept, "gate.state": "pending"})
    tracking.record_gate(run, "new-tags", "1", decision.as_record(), rest)
    tracking.tag_version(run, "new-tags", "1", {"gate": gate_line(True, decision.reason)})
    tracking.finish_gate(run, "new-tags", "1")
    tracking.end_run(run)
    # when
    mv = tracking.client_for(settings).get_model_version("new-tags", "1")
    ref = tracking.resolve_model_version(settings, "new-tags", version="1")
    record = tracking.version_lineage(settings, ref, None)
    # then: the registry page shows four tags; lineage reads the rest from gate.json
    assert mv.tags == {
        "config_digest": "c0ffee",
        "data.snapshot_sha256": "5eed",
        "gate": "promoted: accuracy 0.9000 >= 0.5; no champion yet",
        "gate.state": "done",
    }
    assert record["gate"]["promote"] is True and record["gate"]["candidate"] == 0.9
    assert record["gate"]["threshold"] == 0.5 and record["gate"]["state"] == "done"
    assert record["code"]["commit"] == "b" * 40 and record["code"]["dirty"] is False
    assert record["data"]["source_sha256"] == "f00d"
    assert record["config"]["digest"] == "c0ffee"
    assert record["prefect_flow_run"]["id"] == "fr-1"
