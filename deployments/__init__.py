"""Serving, deploying and running workers: `make serve`, `make deploy`, `make worker`."""
