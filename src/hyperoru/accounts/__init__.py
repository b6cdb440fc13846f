"""AI traders (the API calls them accounts): settings, risk limits, strategy, ownership."""
