"""Markdown helpers for generated pages: keep docstring text from turning into HTML."""

from __future__ import annotations

import re

_CODE_SPAN = re.compile(r"(`+)(.+?)\1")


def escape_text(text: str) -> str:
    """Escape `<`, `>` and `&` outside code spans and indented code blocks.

    Docstrings say things like `<home>/data`; outside backticks Goldmark would
    read that as raw HTML (which the build refuses). Indented blocks stay
    verbatim because Markdown already shows them literally.
    """
    out: list[str] = []
    in_fence = False
    for line in text.splitlines():
        stripped = line.lstrip()
        if stripped.startswith("```"):
            in_fence = not in_fence
            out.append(line)
            continue
        if in_fence or line.startswith("    "):
            out.append(line)
            continue
        out.append(_escape_line(line))
    return "\n".join(out)


def _escape_line(line: str) -> str:
    parts: list[str] = []
    last = 0
    for match in _CODE_SPAN.finditer(line):
        parts.append(_escape_plain(line[last : match.start()]))
        parts.append(match.group(0))
        last = match.end()
    parts.append(_escape_plain(line[last:]))
    return "".join(parts)


def _escape_plain(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    # A `{{<` or `{{%` would open a Hugo shortcode.
    return text.replace("{{", "{&#123;")
