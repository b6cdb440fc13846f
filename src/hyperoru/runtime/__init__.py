"""The trader runtime: which worker runs which trader, when, and what happens on failure."""
