"""make serve's MLflow server keeps one webhook-secret key per home, across restarts."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from deployments.runtime.mlflow_server import WEBHOOK_KEY_VARIABLE, webhook_key


def test_a_home_keeps_one_key_readable_by_its_owner_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: no key in the environment
    monkeypatch.delenv(WEBHOOK_KEY_VARIABLE, raising=False)
    # when: two starts of the same home ask for the key
    first, second = webhook_key(tmp_path), webhook_key(tmp_path)
    # then: the same Fernet key both times (a webhook saved before a restart still signs)
    assert first == second
    secret = Fernet(first.encode()).encrypt(b"webhook secret")
    assert Fernet(second.encode()).decrypt(secret) == b"webhook secret"
    mode = stat.S_IMODE((tmp_path / "mlflow-webhook.key").stat().st_mode)
    assert mode == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["mlflow-webhook.key"]  # no temp file left
    # and: another home has its own key
    other = tmp_path / "other"
    other.mkdir()
    assert webhook_key(other) != first


def test_a_key_in_the_environment_wins_and_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given
    given = Fernet.generate_key().decode()
    monkeypatch.setenv(WEBHOOK_KEY_VARIABLE, given)
    # when/then
    assert webhook_key(tmp_path) == given
    assert not (tmp_path / "mlflow-webhook.key").exists()
