"""`hyperoru secrets …`: key rotation for secrets at rest."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from hyperoru.db.engine import create_engine, create_sessionmaker
from hyperoru.db.migrate import upgrade_database
from hyperoru.logging_setup import configure_logging
from hyperoru.settings import Settings
from hyperoru.vault.cipher import SecretBox
from hyperoru.vault.keys import VaultConfigError, load_keyring
from hyperoru.vault.rotation import RotationReport, rotate_secrets

secrets_app = typer.Typer(help="Secrets at rest", no_args_is_help=True)


async def _rotate(settings: Settings, box: SecretBox) -> RotationReport:
    engine = create_engine(settings)
    try:
        await upgrade_database(engine)
        async with create_sessionmaker(engine)() as session:
            return await rotate_secrets(session, box)
    finally:
        await engine.dispose()


@secrets_app.command("rotate")
def rotate(
    old_keys: Annotated[
        str,
        typer.Option(
            envvar="HYPERORU_OLD_SECRET_KEYS",
            help="Comma-separated previous keys (prefer the environment variable: "
            "command-line arguments are visible to other users of the machine)",
            show_default=False,
        ),
    ] = "",
) -> None:
    """Re-encrypt every stored secret under HYPERORU_SECRET_KEY.

    Old keys come from HYPERORU_OLD_SECRET_KEYS, from <data dir>/retired-secret-keys and
    from a development key file left in the data folder.
    """
    settings = Settings()
    configure_logging(settings.log_level)
    try:
        keyring = load_keyring(
            settings, old_keys=[k.strip() for k in old_keys.split(",") if k.strip()]
        )
    except VaultConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    report = asyncio.run(_rotate(settings, SecretBox(keyring)))
    if not report.ok:
        typer.echo(
            "nothing was changed: these secrets cannot be opened with the keys given:", err=True
        )
        for problem in report.unreadable:
            typer.echo(f"  {problem}", err=True)
        raise typer.Exit(1)
    typer.echo(
        f"re-encrypted {report.rewritten} secret(s) under key id {report.key_id}; "
        f"{report.already_current} already used it"
    )
