from hyperoru.auth.router import public_router, router
from hyperoru.domain import Domain

DOMAIN = Domain(name="auth", protected_routers=(router,), public_routers=(public_router,))
