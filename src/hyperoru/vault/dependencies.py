"""The app's SecretBox, opened once per app in the accounts domain's lifespan."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from hyperoru.vault.cipher import SecretBox


async def get_secret_box(request: Request) -> SecretBox:
    return request.app.state.secret_box


Vault = Annotated[SecretBox, Depends(get_secret_box)]
