"""Analytics' place in the app: the /api/analytics routes (no background work)."""

from __future__ import annotations

from hyperoru.analytics.router import router
from hyperoru.domain import Domain

DOMAIN = Domain(name="analytics", protected_routers=(router,))
