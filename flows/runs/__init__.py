"""The `@flow` modules: per-framework training and its pipeline, the sweep, its
point runner and confirmation, batch scoring and the watch of served requests.

They take validated configs and plans from `flows.config` and wire tasks; the
command lines at the top of `flows/` call them.
"""
