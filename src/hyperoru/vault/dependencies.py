"""The app's SecretBox (``Services.secret_box``), opened once per app at start-up."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from hyperoru.vault.cipher import SecretBox


async def get_secret_box(request: Request) -> SecretBox:
    return request.app.state.services.secret_box


Vault = Annotated[SecretBox, Depends(get_secret_box)]
