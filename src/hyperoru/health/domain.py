from hyperoru.domain import Domain
from hyperoru.health.router import public_router

DOMAIN = Domain(name="health", public_routers=(public_router,))
