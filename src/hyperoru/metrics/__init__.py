"""Prometheus metrics of one process, served at ``/metrics`` (docs/OPERATIONS.md)."""
