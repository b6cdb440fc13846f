"""Helpers of bench/runtime_scale.py."""
