"""Users, passwords and session tokens (contract §3).

Other domains import only ``CurrentUser``/``AuthContext`` from ``hyperoru.auth.dependencies``
and ``User`` from ``hyperoru.auth.models``.
"""
