"""The error a feature spec raises when it does not fit the data."""

from __future__ import annotations

from libs.errors import InputError


class FeatureSpecError(InputError):
    """A feature spec names a column that is missing, of the wrong dtype, or listed twice."""


__all__ = ["FeatureSpecError"]
