from hyperoru.domain import Domain
from hyperoru.metrics.router import router

# Public as far as sessions go: the route checks its own operator rule (router.py).
DOMAIN = Domain(name="metrics", public_routers=(router,))
