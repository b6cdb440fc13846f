"""Performance analytics: the pure metrics, the trades behind every number, the routes."""
