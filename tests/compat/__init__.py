"""Documented variants of requests (issue 16, compatibility sweep)."""
