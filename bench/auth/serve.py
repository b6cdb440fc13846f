"""One benchmark server: hyperoru's full app or a bare FastAPI app, served identically.

Both run in their own process under the same uvicorn settings as ``hyperoru serve``
(``hyperoru.serving``: one worker, no uvicorn access log, hyperoru's JSON logging on
stderr), so the only difference between the two is the application. ``--loop``/``--http``
choose the event loop and HTTP parser (default: what ``hyperoru serve`` picks).
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from hyperoru.api_types import ResponseModel, UtcTime
from hyperoru.app import create_app
from hyperoru.logging_setup import configure_logging
from hyperoru.serving import ServerStack, serve_stack, uvicorn_options
from hyperoru.settings import Settings

# High enough that no budget runs out during a run: the bench measures cost, not throttling.
UNTHROTTLED = 10**9
BENCH_SECRET_KEY = "bench-secret-key-not-for-production-0123456789"


class BareUser(ResponseModel):
    """The same five fields as hyperoru's ``UserOut``, built from constants."""

    id: int
    username: str
    email: str | None
    is_active: bool
    created_at: UtcTime


def bare_app() -> FastAPI:
    app = FastAPI()
    created = datetime(2026, 1, 1, tzinfo=UTC)

    @app.get("/api/users/profile", response_model=BareUser)
    async def profile() -> BareUser:
        return BareUser(
            id=1, username="bench", email="bench@example.com", is_active=True, created_at=created
        )

    return app


def bench_settings(data_dir: Path, database_url: str | None) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=data_dir,
        database_url=database_url,
        secret_key=BENCH_SECRET_KEY,
        log_level="INFO",
        rate_limit_user_per_minute=UNTHROTTLED,
        rate_limit_ip_per_minute=UNTHROTTLED,
        rate_limit_auth_per_minute=UNTHROTTLED,
    )


def hyperoru_app(settings: Settings) -> FastAPI:
    # As `hyperoru serve` builds it (src/hyperoru/cli.py).
    return create_app(settings, freeze_after_startup=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("app", choices=("hyperoru", "bare"))
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--database-url", help="hyperoru only; default: SQLite in --data-dir")
    parser.add_argument("--loop", choices=("uvloop", "asyncio"))
    parser.add_argument("--http", choices=("httptools", "h11"))
    args = parser.parse_args()

    configure_logging("INFO")
    settings = bench_settings(args.data_dir, args.database_url)
    app = hyperoru_app(settings) if args.app == "hyperoru" else bare_app()
    default = serve_stack()
    stack = ServerStack(loop=args.loop or default.loop, http=args.http or default.http)
    # The same options as `hyperoru serve` (src/hyperoru/serving.py).
    uvicorn.run(app, **uvicorn_options(settings, host="127.0.0.1", port=args.port, stack=stack))


if __name__ == "__main__":
    main()
