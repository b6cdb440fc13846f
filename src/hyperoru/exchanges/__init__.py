"""Venue-neutral order execution: the ``ExchangeClient`` interface (paper now, live later)."""
