"""Error types shared by every layer.

`InputError` marks a problem with what the user gave us (a config, a data file,
a URI, credentials). The CLI turns it into one line on stderr and exit code 2;
anything else is a bug or an outage and keeps its traceback.
"""

from __future__ import annotations


class InputError(ValueError):
    """Bad user input. The message is one line that names the field or file."""

    def __init__(self, message: str) -> None:
        # Collapse to one line: the CLI promises a single-line error.
        super().__init__(" ".join(str(message).split()))


__all__ = ["InputError"]
