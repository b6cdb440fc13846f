"""Tests of the trading domain."""
