from hyperoru.auth.mfa_router import router as mfa_router
from hyperoru.auth.router import public_router, router
from hyperoru.domain import Domain

DOMAIN = Domain(
    name="auth", protected_routers=(router, mfa_router), public_routers=(public_router,)
)
