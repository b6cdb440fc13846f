"""/api/prompts: prompt templates, their copies, and previews rendered with live data."""

from __future__ import annotations

from fastapi import APIRouter

from hyperoru.auth.dependencies import CurrentUser
from hyperoru.http.dependencies import DbSession, Sessionmaker
from hyperoru.http.pagination import ListWindowQuery
from hyperoru.market.dependencies import Market
from hyperoru.market.errors import provider_errors
from hyperoru.prompts import service
from hyperoru.prompts.dependencies import (
    EditablePrompt,
    ReadablePrompt,
)
from hyperoru.prompts.models import PromptTemplate
from hyperoru.prompts.schemas import (
    PreviewOut,
    PreviewRequest,
    PromptCreate,
    PromptOut,
    PromptRename,
    PromptUpdate,
    StatusOk,
)
from hyperoru.trading.dependencies import TraderExchange

router = APIRouter(prefix="/api/prompts", tags=["prompts"])


def _prompt_out(prompt: PromptTemplate) -> PromptOut:
    variables, unknown = service.template_variables(prompt.content)
    return PromptOut(
        id=prompt.id,
        prompt_id=prompt.id,
        name=prompt.name,
        description=prompt.description,
        content=prompt.content,
        template_text=prompt.content,
        is_system=prompt.is_system,
        system_key=prompt.system_key,
        user_id=prompt.user_id,
        variables=variables,
        unknown_variables=unknown,
        created_at=prompt.created_at,
        updated_at=prompt.updated_at,
    )


@router.get("/", response_model=list[PromptOut])
async def list_prompts(
    user: CurrentUser, db: DbSession, window: ListWindowQuery
) -> list[PromptOut]:
    return [_prompt_out(p) for p in await service.list_prompts(db, user=user, window=window)]


@router.post("/", status_code=201, response_model=PromptOut)
async def create_prompt(body: PromptCreate, user: CurrentUser, db: DbSession) -> PromptOut:
    return _prompt_out(await service.create_prompt(db, user=user, data=body))


# Fixed paths come before "/{prompt_id}" so "preview" is never read as an id.
@router.post("/preview", response_model=PreviewOut)
async def preview_prompt(
    body: PreviewRequest,
    user: CurrentUser,
    db: DbSession,
    sessions: Sessionmaker,
    market: Market,
    exchange: TraderExchange,
) -> PreviewOut:
    with provider_errors():
        rendered = await service.preview_prompt(
            db, sessions, market, exchange, user=user, data=body
        )
    return PreviewOut(
        rendered=rendered.rendered,
        variables_used=list(rendered.variables_used),
        unknown_variables=list(rendered.unknown_variables),
    )


@router.get("/{prompt_id}", response_model=PromptOut)
async def get_prompt(prompt: ReadablePrompt) -> PromptOut:
    return _prompt_out(prompt)


@router.put("/{prompt_id}", response_model=PromptOut)
async def update_prompt(body: PromptUpdate, prompt: EditablePrompt, db: DbSession) -> PromptOut:
    return _prompt_out(await service.update_prompt(db, prompt=prompt, data=body))


@router.delete("/{prompt_id}", response_model=StatusOk)
async def delete_prompt(prompt: EditablePrompt, db: DbSession) -> StatusOk:
    await service.delete_prompt(db, prompt=prompt)
    return StatusOk()


@router.post("/{prompt_id}/copy", status_code=201, response_model=PromptOut)
async def copy_prompt(prompt: ReadablePrompt, user: CurrentUser, db: DbSession) -> PromptOut:
    return _prompt_out(await service.copy_prompt(db, user=user, source=prompt))


@router.patch("/{prompt_id}/name", response_model=PromptOut)
async def rename_prompt(body: PromptRename, prompt: EditablePrompt, db: DbSession) -> PromptOut:
    return _prompt_out(await service.rename_prompt(db, prompt=prompt, name=body.name))
