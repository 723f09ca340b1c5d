"""Tests of real images against a real Docker daemon: run by `make test-images` (run.sh), not by `make test`."""
