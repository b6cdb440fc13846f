"""Outbound HTTP to destinations chosen by users (LLM base URLs, later webhooks).

``policy`` decides which URLs and addresses are acceptable, ``resolver`` turns names into
addresses, ``client`` builds an httpx client that enforces the policy when it connects.
"""
