"""The dashboard domain: public page and asset routes, no lifespan."""

from __future__ import annotations

from hyperoru.dashboard.router import router
from hyperoru.domain import Domain

DOMAIN = Domain(name="dashboard", public_routers=(router,))
