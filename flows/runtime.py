"""Process-level Prefect settings for flows started from the command line."""

from blocks.runtime import local_prefect, starting_local_prefect

__all__ = ["local_prefect", "starting_local_prefect"]
