"""The performance harness (`make bench`): the platform against plain scripts."""
