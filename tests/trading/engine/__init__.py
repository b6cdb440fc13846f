"""Tests of the pure paper engine."""
