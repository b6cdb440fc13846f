"""``GET /metrics``: Prometheus's text format, for the operator only.

Outside ``/api`` and without a user session: a scraper is not a user. Without
``HYPERORU_METRICS_TOKEN`` only a loopback client may read it, and only when no proxy
stands in between (a reverse proxy on the same machine connects from loopback on behalf
of anyone on the internet, and says so in its forwarding headers). With a token, any
client that sends it. ``hyperoru worker`` serves this same route on its own port
(``port.py``), under the same rule.
"""

from __future__ import annotations

import hmac
import ipaddress

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from hyperoru.errors import ApiError
from hyperoru.metrics.sources import sample
from hyperoru.offload import off_loop
from hyperoru.settings import Settings

router = APIRouter(tags=["operations"])

_FORWARDING_HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip")


def _is_loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def operator_token(settings: Settings) -> str | None:
    """The token a scraper must send, or None: loopback clients only. A blank value
    (``HYPERORU_METRICS_TOKEN=`` left empty in an env file) counts as unset, rather than
    as a token no client can send."""
    value = settings.metrics_token.get_secret_value() if settings.metrics_token else ""
    return value or None


def _allowed(request: Request) -> bool:
    token = operator_token(request.app.state.services.settings)
    if token is not None:
        sent = request.headers.get("authorization", "")
        expected = f"Bearer {token}"
        return hmac.compare_digest(sent.encode(), expected.encode())
    forwarded = any(name in request.headers for name in _FORWARDING_HEADERS)
    return not forwarded and _is_loopback(request.client.host if request.client else None)


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    if not _allowed(request):
        raise ApiError(
            403,
            "METRICS_FORBIDDEN",
            "Metrics are for the operator: read them from this machine, or send "
            "Authorization: Bearer <HYPERORU_METRICS_TOKEN>",
        )
    collected = request.app.state.metrics
    services = request.app.state.services
    await sample(
        collected, hub=services.ws_hub, engine=services.engine, sessions=services.sessionmaker
    )
    # Rendering walks every series: on a worker thread, so that the loop (a worker's runs
    # the trader cycles) goes on meanwhile. The registry locks each metric it reads.
    body = await off_loop(generate_latest, collected.registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
