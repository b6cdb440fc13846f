"""Loaders for /api/prompts routes: a template id in the path becomes a template the
caller may read (built-in or own) or edit (own only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from hyperoru.auth.dependencies import CurrentUser
from hyperoru.http.dependencies import DbSession
from hyperoru.prompts import service
from hyperoru.prompts.models import PromptTemplate

PromptId = Annotated[int, Path(description="The prompt template's id")]


async def readable_prompt(prompt_id: PromptId, user: CurrentUser, db: DbSession) -> PromptTemplate:
    return await service.load_readable_prompt(db, user=user, prompt_id=prompt_id)


async def editable_prompt(prompt_id: PromptId, user: CurrentUser, db: DbSession) -> PromptTemplate:
    return await service.load_editable_prompt(db, user=user, prompt_id=prompt_id)


ReadablePrompt = Annotated[PromptTemplate, Depends(readable_prompt)]
EditablePrompt = Annotated[PromptTemplate, Depends(editable_prompt)]
