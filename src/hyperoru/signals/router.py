"""/api/signals (definitions, pools, trigger log), /api/bindings, and the two pickers of
/api/programs that list what a program binding can use."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Response

from hyperoru.api_types import ResourceId
from hyperoru.auth.dependencies import CurrentUser
from hyperoru.http.dependencies import DbSession
from hyperoru.http.pagination import ListWindowQuery
from hyperoru.signals import service
from hyperoru.signals.models import SignalDefinition, SignalPool, StrategyBinding
from hyperoru.signals.schemas import (
    AccountSummary,
    BindingCreate,
    BindingFields,
    BindingOut,
    DefinitionCreate,
    DefinitionOut,
    DefinitionUpdate,
    PoolCreate,
    PoolOut,
    PoolSummary,
    PoolUpdate,
    SignalsOverview,
    TriggerOut,
)

signals_router = APIRouter(prefix="/api/signals", tags=["signals"])
bindings_router = APIRouter(prefix="/api/bindings", tags=["bindings"])
programs_router = APIRouter(prefix="/api/programs", tags=["programs"])


def _definition_out(row: SignalDefinition) -> DefinitionOut:
    return DefinitionOut.model_validate(row)


def _pool_out(pool: SignalPool, last_fired_at: datetime | None) -> PoolOut:
    return PoolOut(
        id=pool.id,
        user_id=pool.user_id,
        name=pool.name,
        signal_ids=pool.signal_ids,
        signals_count=len(pool.signal_ids),
        symbols=pool.symbols,
        logic=pool.logic,
        enabled=pool.enabled,
        cooldown_seconds=pool.cooldown_seconds,
        last_fired_at=last_fired_at,
        created_at=pool.created_at,
        updated_at=pool.updated_at,
    )


async def _pools_out(db: DbSession, pools: list[SignalPool]) -> list[PoolOut]:
    fired = await service.last_fired(db, [p.id for p in pools])
    return [_pool_out(p, fired.get(p.id)) for p in pools]


# --- /api/signals ----------------------------------------------------------------------------


@signals_router.get("/", response_model=SignalsOverview)
async def overview(user: CurrentUser, db: DbSession) -> SignalsOverview:
    definitions = await service.list_definitions(db, user=user)
    pools = await service.list_pools(db, user=user)
    return SignalsOverview(
        definitions=[_definition_out(d) for d in definitions], pools=await _pools_out(db, pools)
    )


@signals_router.post("/definitions", status_code=201, response_model=DefinitionOut)
async def create_definition(
    body: DefinitionCreate, user: CurrentUser, db: DbSession
) -> DefinitionOut:
    return _definition_out(await service.create_definition(db, user=user, data=body))


@signals_router.get("/definitions/{signal_id}", response_model=DefinitionOut)
async def get_definition(signal_id: ResourceId, user: CurrentUser, db: DbSession) -> DefinitionOut:
    return _definition_out(await service.load_owned_definition(db, user=user, signal_id=signal_id))


@signals_router.put("/definitions/{signal_id}", response_model=DefinitionOut)
async def update_definition(
    signal_id: ResourceId, body: DefinitionUpdate, user: CurrentUser, db: DbSession
) -> DefinitionOut:
    row = await service.load_owned_definition(db, user=user, signal_id=signal_id)
    return _definition_out(await service.update_definition(db, definition=row, data=body))


@signals_router.delete("/definitions/{signal_id}", status_code=204, response_class=Response)
async def delete_definition(signal_id: ResourceId, user: CurrentUser, db: DbSession) -> Response:
    row = await service.load_owned_definition(db, user=user, signal_id=signal_id)
    await service.delete_definition(db, definition=row)
    return Response(status_code=204)


@signals_router.post("/pools", status_code=201, response_model=PoolOut)
async def create_pool(body: PoolCreate, user: CurrentUser, db: DbSession) -> PoolOut:
    return _pool_out(await service.create_pool(db, user=user, data=body), None)


@signals_router.get("/pools/{pool_id}", response_model=PoolOut)
async def get_pool(pool_id: ResourceId, user: CurrentUser, db: DbSession) -> PoolOut:
    pool = await service.load_owned_pool(db, user=user, pool_id=pool_id)
    return (await _pools_out(db, [pool]))[0]


@signals_router.put("/pools/{pool_id}", response_model=PoolOut)
async def update_pool(
    pool_id: ResourceId, body: PoolUpdate, user: CurrentUser, db: DbSession
) -> PoolOut:
    pool = await service.load_owned_pool(db, user=user, pool_id=pool_id)
    pool = await service.update_pool(db, user=user, pool=pool, data=body)
    return (await _pools_out(db, [pool]))[0]


@signals_router.delete("/pools/{pool_id}", status_code=204, response_class=Response)
async def delete_pool(pool_id: ResourceId, user: CurrentUser, db: DbSession) -> Response:
    pool = await service.load_owned_pool(db, user=user, pool_id=pool_id)
    await service.delete_pool(db, pool=pool)
    return Response(status_code=204)


@signals_router.get("/pools/{pool_id}/triggers", response_model=list[TriggerOut])
async def pool_triggers(
    pool_id: ResourceId, user: CurrentUser, db: DbSession, window: ListWindowQuery
) -> list[TriggerOut]:
    pool = await service.load_owned_pool(db, user=user, pool_id=pool_id)
    rows = await service.list_triggers(db, pool=pool, window=window)
    return [TriggerOut.model_validate(row) for row in rows]


# --- /api/bindings -----------------------------------------------------------------------


def _binding_out(row: StrategyBinding) -> BindingOut:
    return BindingOut.model_validate(row)


@bindings_router.get("", response_model=list[BindingOut])
async def list_bindings(
    user: CurrentUser, db: DbSession, window: ListWindowQuery
) -> list[BindingOut]:
    return [_binding_out(b) for b in await service.list_bindings(db, user=user, window=window)]


@bindings_router.post("", status_code=201, response_model=BindingOut)
async def create_binding(body: BindingCreate, user: CurrentUser, db: DbSession) -> BindingOut:
    return _binding_out(await service.create_binding(db, user=user, data=body))


@bindings_router.get("/{binding_id}", response_model=BindingOut)
async def get_binding(binding_id: ResourceId, user: CurrentUser, db: DbSession) -> BindingOut:
    return _binding_out(await service.live_binding(db, user=user, binding_id=binding_id))


@bindings_router.put("/{binding_id}", response_model=BindingOut)
async def update_binding(
    binding_id: ResourceId, body: BindingFields, user: CurrentUser, db: DbSession
) -> BindingOut:
    binding = await service.live_binding(db, user=user, binding_id=binding_id)
    return _binding_out(await service.update_binding(db, user=user, binding=binding, data=body))


@bindings_router.delete("/{binding_id}", status_code=204, response_class=Response)
async def delete_binding(binding_id: ResourceId, user: CurrentUser, db: DbSession) -> Response:
    binding = await service.live_binding(db, user=user, binding_id=binding_id)
    await service.delete_binding(db, binding=binding)
    return Response(status_code=204)


# --- /api/programs pickers -----------------------------------------------------------------


@programs_router.get("/signal-pools/", response_model=list[PoolSummary])
async def program_signal_pools(user: CurrentUser, db: DbSession) -> list[PoolSummary]:
    pools = await service.list_pools(db, user=user)
    return [PoolSummary(id=p.id, name=p.name, signals_count=len(p.signal_ids)) for p in pools]


@programs_router.get("/accounts/", response_model=list[AccountSummary])
async def program_accounts(user: CurrentUser, db: DbSession) -> list[AccountSummary]:
    traders = await service.list_traders(db, user=user)
    return [AccountSummary(id=a.id, name=a.name, account_type=a.account_type) for a in traders]
