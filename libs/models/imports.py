"""Your own code by import path: resolve it, check its shape, and find where it lives.

A path such as `mypkg.models.MyRegressor` names a module importable from the
current directory, the Python path (`PYTHONPATH`) or an installed package,
then an attribute of it. Every failure is one InputError line naming the
config field and the path, raised before any run exists.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import sys
import sysconfig
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from libs.errors import InputError

# The platform's own packages travel with every logged model already.
_PLATFORM_ROOT = Path(__file__).resolve().parents[2]
_PLATFORM_PACKAGES = frozenset({"libs"})


def import_object(path: str, field: str) -> Any:
    """The object `path` names; one InputError line naming `field` and `path` if it
    does not import. The current directory is searched as `python -m` would."""
    module_name, _, attribute = path.rpartition(".")
    if not module_name or not attribute:
        raise InputError(f"{field}: '{path}' is not an import path (module.Name)")
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.append(cwd)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise InputError(
            f"{field}: cannot import '{path}': no module named '{exc.name}' (searched the "
            "current directory, PYTHONPATH and installed packages)"
        ) from None
    except Exception as exc:  # the user's module raised while importing
        raise InputError(
            f"{field}: importing '{module_name}' for '{path}' failed: {type(exc).__name__}: {exc}"
        ) from None
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise InputError(
            f"{field}: module '{module_name}' has no '{attribute}' ('{path}')"
        ) from None


def import_class(path: str, field: str, methods: tuple[str, ...]) -> type:
    """The class `path` names, checked to have each of `methods`."""
    obj = import_object(path, field)
    if not inspect.isclass(obj):
        raise InputError(f"{field}: '{path}' is a {type(obj).__name__}, not a class")
    missing = [m for m in methods if not callable(getattr(obj, m, None))]
    if missing:
        raise InputError(
            f"{field}: '{path}' has no {' or '.join(missing)} method: "
            f"it needs {', '.join(methods)} (the scikit-learn API)"
        )
    return obj


def import_function(path: str, field: str) -> Any:
    """The callable `path` names (a function or any callable object)."""
    obj = import_object(path, field)
    if not callable(obj) or inspect.isclass(obj):
        raise InputError(f"{field}: '{path}' is a {type(obj).__name__}, not a function")
    return obj


@dataclass(frozen=True)
class ShippedCode:
    """What a logged model needs besides the platform: your folders and your packages.

    `paths` are files or package folders outside site-packages, to copy into the
    model (MLflow `code_paths`); `requirements` are installed distributions,
    pinned; `modules` are the module names, for the run's `model.code` tag.
    """

    paths: list[str] = field(default_factory=list)
    requirements: list[str] = field(default_factory=list)
    modules: list[str] = field(default_factory=list)


def _installed_roots() -> list[Path]:
    roots = {sysconfig.get_paths()[k] for k in ("purelib", "platlib", "stdlib", "platstdlib")}
    return [Path(r).resolve() for r in roots if r]


def _location(top: str) -> Path | None:
    """The file or package folder of top-level module `top` (None: built in)."""
    spec = importlib.util.find_spec(top)
    if spec is None:
        return None
    if spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations))).resolve()
    if spec.origin and spec.origin not in ("built-in", "frozen"):
        return Path(spec.origin).resolve()
    return None


def modules_of(obj: Any) -> list[str]:
    """The modules of every class and function inside a (nested) scikit-learn estimator:
    a pipeline's steps, a column transformer's branches, a wrapper's estimator."""
    found: set[str] = set()
    seen: set[int] = set()

    def visit(value: Any) -> None:
        if id(value) in seen:
            return
        seen.add(id(value))
        if isinstance(value, list | tuple):
            for item in value:
                visit(item)
            return
        if isinstance(value, dict):
            for item in value.values():
                visit(item)
            return
        if inspect.isfunction(value) or inspect.isclass(value):
            found.add(value.__module__)
            return
        if value is None or isinstance(value, str | bytes | int | float | bool | np.generic):
            return
        found.add(type(value).__module__)  # any object pickled with the model needs its class
        if hasattr(value, "get_params"):
            try:
                params = value.get_params(deep=False)
            except Exception:  # an estimator whose get_params needs fitting
                params = {}
            for item in params.values():
                visit(item)
            for name in ("estimator_", "steps", "transformers_"):
                visit(getattr(value, name, None))

    visit(obj)
    return sorted(found)


def code_to_ship(modules: list[str], already_pinned: tuple[str, ...] = ()) -> ShippedCode:
    """Where each module in `modules` comes from: your folder (shipped as code) or an
    installed distribution (a pinned requirement). The standard library, the
    platform's own packages and distributions in `already_pinned` add nothing."""
    paths: list[str] = []
    requirements: list[str] = []
    kept: list[str] = []
    installed = _installed_roots()
    distributions = metadata.packages_distributions()
    for module in sorted(set(modules)):
        top = module.split(".")[0]
        if top in _PLATFORM_PACKAGES or top in sys.builtin_module_names or top == "__main__":
            continue
        where = _location(top)
        if where is None:
            continue
        inside = any(where.is_relative_to(root) for root in installed)
        if inside:
            for dist in distributions.get(top, []):
                if dist not in already_pinned:
                    pin = f"{dist}=={metadata.version(dist)}"
                    if pin not in requirements:
                        requirements.append(pin)
                    kept.append(module)
            continue
        if where.is_relative_to(_PLATFORM_ROOT) and top in {"flows", "tasks", "blocks"}:
            continue
        kept.append(module)
        if str(where) not in paths:
            paths.append(str(where))
    return ShippedCode(paths=paths, requirements=requirements, modules=sorted(set(kept)))


def code_digest(modules: list[str]) -> str:
    """sha256 over the source of your modules (their files, or their package's .py files)
    and the pinned versions of installed ones: a cache keyed on it misses when they change."""
    import hashlib

    shipped = code_to_ship(modules)
    h = hashlib.sha256()
    for pin in shipped.requirements:
        h.update(pin.encode())
    for path in map(Path, shipped.paths):
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for file in files:
            h.update(str(file.relative_to(path.parent)).encode())
            h.update(file.read_bytes())
    return h.hexdigest()


__all__ = [
    "ShippedCode",
    "code_digest",
    "code_to_ship",
    "import_class",
    "import_function",
    "import_object",
    "modules_of",
]
