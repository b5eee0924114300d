"""Each package's public face (`__all__`), pinned: a name added or dropped is a decision.

Every package of libs/, tasks/ and flows/ that names its face is pinned here, except
those pinned beside their own checks (`tasks.tracking` in test_tracking_public_face.py,
`deployments.runtime` in test_runtime_public_face.py); a new package with an `__all__`
fails the last test until it is added.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PINNED_ELSEWHERE = {"tasks.tracking"}

# The pinned faces, package -> its `__all__` in order: a data file, edited on purpose.
FACES: dict[str, list[str]] = json.loads((Path(__file__).parent / "public_faces.json").read_text())


@pytest.mark.parametrize("package", sorted(FACES))
def test_the_public_face_is_pinned_and_every_name_resolves(package: str) -> None:
    # when
    module = importlib.import_module(package)
    # then
    assert list(module.__all__) == FACES[package]
    assert len(set(module.__all__)) == len(module.__all__), "a name listed twice"
    for name in module.__all__:
        assert getattr(module, name, None) is not None, f"{package}.{name}"


def test_every_package_that_names_its_face_is_pinned() -> None:
    # given: the packages of libs/, tasks/ and flows/ whose __init__ defines __all__
    named = {
        ".".join(init.parent.relative_to(REPO).parts)
        for root in ("libs", "tasks", "flows")
        for init in (REPO / root).rglob("__init__.py")
        if "__all__" in init.read_text()
    }
    # then
    assert named == set(FACES) | PINNED_ELSEWHERE
