"""libs.serving.serving_problem: what a scoring server's health check finds, in one line."""

from __future__ import annotations

from libs.serving import serving_problem


def test_a_server_serving_its_champion_is_healthy() -> None:
    body = {"model": "m", "version": "3", "served": ["2", "3"], "rejected": {}}
    assert serving_problem("3", status=200, version_body=body) is None


def test_a_switch_in_progress_is_not_a_failure() -> None:
    # given: the champion moved to v4, the server still on v3 and nothing refused
    body = {"version": "3", "rejected": {}}
    assert serving_problem("4", version_body=body) is None


def test_no_answer_and_a_bad_status_are_named() -> None:
    assert serving_problem("3", error="ConnectError: refused") == (
        "the scoring server did not answer: ConnectError: refused"
    )
    assert serving_problem("3", status=503) == "the scoring server answered 503"


def test_a_refused_champion_names_the_reason_and_the_version_still_served() -> None:
    # given: v4 failed its smoke test, so the server keeps v3
    body = {"version": "3", "rejected": {"4": "NotFittedError: not fitted"}}
    problem = serving_problem("4", version_body=body)
    assert (
        problem == "v4 is champion but was refused (NotFittedError: not fitted); v3 is still served"
    )
    # and an old refusal does not make a healthy server unhealthy
    assert serving_problem("3", version_body=body) is None
