"""Every shell command the docs show is one the test suite runs, or says why it is not.

Commands come from ```bash, ```sh, ```shell and ```console blocks under
docs/content (console blocks: the lines after a `$ ` prompt). Each must be

- `make <target>` whose recipe is itself exercised (below), or `make test`,
  which is this suite;
- `python -m <module> ...` where the tests run that module with `-m` and use
  every `--flag` shown; for `flows.train` the arguments must also parse and the
  config they name must validate, so a renamed field breaks this test;
- `python <script>.py ...` for a script the tests run;
- a command whose exact text appears in the tests' sources; or
- marked with a trailing comment: `# interactive: <what it opens>` for a
  command that starts a UI and waits (only the UIs listed in INTERACTIVE), or
  `# needs an AWS account` for one that needs cloud credentials.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest
from docs_support import DOCS, REPO

SHELL_LANGUAGES = {"bash", "sh", "shell", "console"}
AWS_MARKER = "needs an AWS account"
INTERACTIVE_MARKER = "interactive"
# UIs a page may tell people to open; the flags must be ones the platform prints.
INTERACTIVE = {
    ("mlflow", "ui"): {"--backend-store-uri", "--default-artifact-root", "--port"},
    ("prefect", "server"): {"start", "--host", "--port"},
}
ENV_PREFIXES = ("MLOPS_", "PREFECT_", "MLFLOW_")
THIS_FILE = Path(__file__).resolve()


@dataclass(frozen=True)
class Command:
    source: str  # file:line
    text: str  # the command without its comment
    comment: str

    @property
    def tokens(self) -> list[str]:
        return shlex.split(self.text)


def split_comment(line: str) -> tuple[str, str]:
    """`cmd args  # note` -> ("cmd args", "note"); a `#` inside quotes is not a comment."""
    quote = ""
    for i, char in enumerate(line):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].rstrip(), line[i + 1 :].strip()
    return line.rstrip(), ""


def extract_commands(text: str, name: str) -> list[Command]:
    """The shell commands of one markdown page, with where they are."""
    commands: list[Command] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        opening = re.match(r"^(\s*)(`{3,}|~{3,})\s*([\w+-]*)", lines[i])
        if not opening:
            i += 1
            continue
        fence, language = opening.group(2), opening.group(3).lower()
        i += 1
        pending, start = "", 0
        while i < len(lines) and not lines[i].strip().startswith(fence):
            line = lines[i].strip()
            i += 1
            if language not in SHELL_LANGUAGES:
                continue
            if language == "console" and not pending:
                if not line.startswith("$ "):
                    continue  # output
                line = line[2:]
            if not pending:
                start = i
            if line.endswith("\\"):
                pending += line[:-1] + " "
                continue
            full = pending + line
            pending = ""
            body, comment = split_comment(full)
            if body:
                commands.append(Command(f"{name}:{start}", " ".join(body.split()), comment))
        i += 1
    return commands


def doc_commands() -> list[Command]:
    content = DOCS / "content"
    found: list[Command] = []
    for page in sorted(content.rglob("*.md")):
        rel = page.relative_to(REPO).as_posix()
        found += extract_commands(page.read_text(encoding="utf-8"), rel)
    return found


def suite_sources() -> str:
    """Every test module and helper of the suite, this file excepted."""
    paths = sorted(p for p in (REPO / "tests").rglob("*.py") if p.resolve() != THIS_FILE)
    return "\n".join(p.read_text(encoding="utf-8") for p in paths)


def normalise(tokens: list[str]) -> tuple[dict[str, str], list[str]]:
    """Split off leading `NAME=value` assignments; `.venv/bin/x` becomes `x`, `python3` `python`."""
    env: dict[str, str] = {}
    while tokens and re.match(r"^[A-Z_][A-Z0-9_]*=", tokens[0]):
        key, _, value = tokens[0].partition("=")
        env[key] = value
        tokens = tokens[1:]
    if tokens:
        program = re.sub(r"^(\.venv/bin/|\$\(BIN\)/)", "", tokens[0])
        tokens = ["python" if program in ("python3", "python") else program, *tokens[1:]]
    return env, tokens


def make_recipe(target: str) -> list[str] | None:
    """The command lines of a Makefile target, variables the user may pass dropped."""
    lines = (REPO / "Makefile").read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        if re.match(rf"^{re.escape(target)}\s*:", line):
            recipe = []
            for body in lines[i + 1 :]:
                if not body.startswith("\t"):
                    break
                command = body.strip().lstrip("@-")
                command = re.sub(r"\$\((ARGS|PYTEST_ARGS)\)", "", command).strip()
                recipe.append(command)
            return recipe
    return None


def check_module_args(module: str, args: list[str]) -> str | None:
    """Parse the arguments as the module would; for flows.train, validate the config too."""
    cli = pytest.importorskip(module)
    parse = getattr(cli, "parse_args", None)
    if parse is None:
        return None
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr):
            parsed = parse(args)
    except SystemExit:
        return f"arguments do not parse: {stderr.getvalue().strip().splitlines()[-1:]}"
    config = getattr(parsed, "config", None)
    if config and not (REPO / config).is_file():
        return f"--config {config}: no such file"
    if module == "flows.train" and not parsed.print_schema:
        from flows.config.train import load_train_config
        from libs.errors import InputError

        try:
            load_train_config(REPO / config if config else None, parsed.overrides)
        except InputError as exc:
            return f"config does not validate: {exc}"
    return None


def why_not_exercised(command: Command, sources: str, depth: int = 0) -> str | None:
    """None when the suite exercises `command` (or it is marked); else the reason it fails."""
    if AWS_MARKER in command.comment:
        return None
    env, tokens = normalise(command.tokens)
    if not tokens:
        return "empty command"
    foreign = [k for k in env if not k.startswith(ENV_PREFIXES)]
    if foreign:
        return f"environment {foreign} is not a platform, Prefect or MLflow setting"
    if any(t in ("|", "||", "&&", ";", ">", ">>") for t in tokens):
        return "show one command per line, without pipes or redirections"
    if command.comment.startswith(INTERACTIVE_MARKER):
        flags = INTERACTIVE.get(tuple(tokens[:2]))  # type: ignore[arg-type]
        if flags is None:
            return f"only {sorted(' '.join(k) for k in INTERACTIVE)} may be marked interactive"
        unknown = {t.split("=")[0] for t in tokens[2:] if t.startswith("-") or t.isalpha()}
        unknown -= flags
        return f"unexpected arguments {sorted(unknown)}" if unknown else None
    if tokens[0] == "make" and depth == 0:
        if len(tokens) != 2:
            return "show `make <target>` alone"
        if tokens[1] == "test":
            return None  # the test suite itself
        recipe = make_recipe(tokens[1])
        if not recipe:
            return f"no target {tokens[1]!r} with a recipe in the Makefile"
        for line in recipe:
            reason = why_not_exercised(Command(command.source, line, ""), sources, depth + 1)
            if reason:
                return f"recipe line {line!r}: {reason}"
        return None
    if tokens[:3] == ["python", "-m", "pytest"] and depth == 1:
        return None  # `make test`'s own recipe
    if tokens[0] == "python" and len(tokens) > 2 and tokens[1] == "-m":
        module, args = tokens[2], tokens[3:]
        pattern = rf"""["']-m["'],\s*["']{re.escape(module)}["']|-m {re.escape(module)}\b"""
        if not re.search(pattern, sources):
            return f"no test runs `python -m {module}`"
        for flag in (t.split("=")[0] for t in args if t.startswith("--")):
            if f'"{flag}"' not in sources and f"'{flag}'" not in sources:
                return f"no test passes {flag} to {module}"
        return check_module_args(module, args)
    if tokens[0] == "python" and len(tokens) > 1 and tokens[1].endswith(".py"):
        if not (REPO / tokens[1]).is_file():
            return f"no such script {tokens[1]}"
        return None if tokens[1] in sources else f"no test runs {tokens[1]}"
    if command.text in sources:
        return None
    return "not found in the tests' sources, and not marked"


def test_every_documented_command_is_exercised_or_marked() -> None:
    # given
    commands = doc_commands()
    sources = suite_sources()
    # when
    failures = [
        f"{c.source}: `{c.text}`: {reason}"
        for c in commands
        if (reason := why_not_exercised(c, sources))
    ]
    # then
    assert failures == []
    shown = {c.text for c in commands}
    assert {"make train", "make test"} <= shown
    assert len(commands) >= 10


def test_commands_are_found_in_all_shell_block_kinds() -> None:
    # given
    page = "\n".join(
        [
            "```bash",
            "make train   # set up and train",
            "",
            "# a comment line",
            ".venv/bin/python -m flows.train \\",
            "    --config configs/iris_random_forest.yaml",
            "```",
            "```console",
            "$ make test",
            "collected 3 items",
            "```",
            "```text",
            "not a command",
            "```",
            "  ```sh",
            "  echo '#not a comment'  # needs an AWS account",
            "  ```",
        ]
    )
    # when
    commands = extract_commands(page, "page.md")
    # then
    assert [(c.source, c.text, c.comment) for c in commands] == [
        ("page.md:2", "make train", "set up and train"),
        (
            "page.md:5",
            ".venv/bin/python -m flows.train --config configs/iris_random_forest.yaml",
            "",
        ),
        ("page.md:9", "make test", ""),
        ("page.md:16", "echo '#not a comment'", "needs an AWS account"),
    ]


@pytest.mark.parametrize(
    ("text", "comment", "reason"),
    [
        ("make no-such-target", "", "no target 'no-such-target'"),
        ("make train ARGS=--x", "", "`make <target>` alone"),
        ("python -m flows.train --no-such-flag", "", "no test passes --no-such-flag"),
        ("python -m flows.train --set model.nmae=svm", "", "model.nmae: unknown key"),
        ("python -m flows.train --config configs/nope.yaml", "", "no such file"),
        ("python -m flows.nothing", "", "no test runs `python -m flows.nothing`"),
        ("rm -rf .mlops", "", "not found in the tests' sources"),
        ("make train | tee log", "", "one command per line"),
        ("terraform apply", "interactive: plans", "may be marked interactive"),
        ("mlflow ui --workers 4", "interactive: the MLflow UI", "--workers"),
        ("AWS_PROFILE=x make train", "", "not a platform, Prefect or MLflow setting"),
    ],
)
def test_unexercised_commands_are_refused(text: str, comment: str, reason: str) -> None:
    # when
    why = why_not_exercised(Command("page.md:1", text, comment), suite_sources())
    # then
    assert why is not None and reason in why


def test_marked_and_exercised_commands_are_accepted() -> None:
    sources = suite_sources()
    for text, comment in [
        ("make train", ""),
        ("make test", ""),
        ("make docs", ""),
        (".venv/bin/python -m flows.train --print-schema", ""),
        ("python -m flows.train --config configs/wine_svm.yaml --set split.seed=1", ""),
        ("aws s3 ls s3://bucket", AWS_MARKER),
        ("mlflow ui --backend-store-uri sqlite:///x.db --port 5001", "interactive: MLflow UI"),
    ]:
        assert why_not_exercised(Command("page.md:1", text, comment), sources) is None, text


def test_argparse_is_what_the_train_cli_uses() -> None:
    # The module-argument check relies on flows.train exposing its parser this way.
    from flows import train

    assert isinstance(train.parse_args(["--print-schema"]), argparse.Namespace)
