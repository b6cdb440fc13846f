"""Custom factors (owner-checked), the catalogue as a user sees it, and reads of the
stored effectiveness."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hyperoru.auth.principal import Principal
from hyperoru.db.owned import load_owned_row
from hyperoru.errors import ApiError, not_found
from hyperoru.factors.catalogue import BUILTINS, BY_NAME
from hyperoru.factors.effectiveness import KINDS
from hyperoru.factors.expressions import compile_expression
from hyperoru.factors.functions import FUNCTIONS
from hyperoru.factors.language import SERIES, Node
from hyperoru.factors.models import (
    BUILTIN_SCOPE,
    CustomFactor,
    FactorEffectiveness,
    user_scope,
)
from hyperoru.quotas import ensure_room
from hyperoru.timeutils import utcnow

MAX_CUSTOM_FACTORS = 100
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


@dataclass(frozen=True, slots=True)
class FactorFields:
    name: str | None
    expression: str | None
    description: str | None


def _check_name(name: str) -> str:
    if not _NAME.match(name):
        raise ApiError(
            400,
            "VALIDATION_ERROR",
            "name must be 1-64 lowercase letters, digits or '_', starting with a letter",
            details={"fields": [{"field": "name", "message": "invalid factor name"}]},
        )
    if name in BY_NAME or name in FUNCTIONS or name in SERIES:
        raise ApiError(
            409, "FACTOR_NAME_TAKEN", f"{name!r} is a built-in factor, function or series name"
        )
    return name


def generated_name(expression: str) -> str:
    """A name for a factor created without one (the typed variant of the docs sends only
    an expression): stable for the same expression."""
    return "custom_" + hashlib.sha256(expression.encode()).hexdigest()[:10]


async def list_custom(session: AsyncSession, *, user: Principal) -> list[CustomFactor]:
    rows = await session.scalars(
        select(CustomFactor).where(CustomFactor.user_id == user.id).order_by(CustomFactor.id)
    )
    return list(rows)


async def load_owned(session: AsyncSession, *, user: Principal, factor_id: int) -> CustomFactor:
    """404 FACTOR_NOT_FOUND when missing, 403 FORBIDDEN when another user's."""
    return await load_owned_row(session, CustomFactor, "factor", owner_id=user.id, row_id=factor_id)


async def create_custom(
    session: AsyncSession, *, user: Principal, data: FactorFields
) -> CustomFactor:
    expression = data.expression or ""
    compile_expression(expression)
    name = _check_name(data.name if data.name is not None else generated_name(expression))
    await ensure_room(
        session,
        CustomFactor,
        CustomFactor.user_id == user.id,
        owner_id=user.id,
        limit=MAX_CUSTOM_FACTORS,
        code="FACTOR_LIMIT_REACHED",
        what="custom factors",
    )
    now = utcnow()
    row = CustomFactor(
        user_id=user.id,
        name=name,
        expression=expression,
        description=data.description,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await _commit_named(session, name)
    return row


async def update_custom(
    session: AsyncSession, *, factor: CustomFactor, data: FactorFields
) -> CustomFactor:
    renamed = data.name is not None and data.name != factor.name
    old_name = factor.name
    if data.expression is not None:
        compile_expression(data.expression)
        factor.expression = data.expression
    if data.name is not None:
        factor.name = _check_name(data.name)
    if data.description is not None:
        factor.description = data.description
    factor.updated_at = utcnow()
    # The stored effectiveness described the old expression (or name): it goes.
    await _forget(session, factor.user_id, old_name)
    await _commit_named(session, factor.name if renamed else old_name)
    return factor


async def delete_custom(session: AsyncSession, *, factor: CustomFactor) -> None:
    await _forget(session, factor.user_id, factor.name)
    await session.delete(factor)
    await session.commit()


async def _forget(session: AsyncSession, user_id: int, name: str) -> None:
    await session.execute(
        delete(FactorEffectiveness).where(
            FactorEffectiveness.scope == user_scope(user_id),
            FactorEffectiveness.factor_name == name,
        )
    )


async def _commit_named(session: AsyncSession, name: str) -> None:
    try:
        await session.commit()
    except IntegrityError as exc:
        await session.rollback()
        raise ApiError(
            409, "FACTOR_NAME_TAKEN", f"You already have a factor named {name!r}"
        ) from exc


async def custom_trees(
    session: AsyncSession, *, user_id: int | None
) -> list[tuple[CustomFactor, Node]]:
    """Custom factors with their trees: one user's, or every user's (``None``). A stored
    expression the language no longer accepts is skipped."""
    query = select(CustomFactor).order_by(CustomFactor.id)
    if user_id is not None:
        query = query.where(CustomFactor.user_id == user_id)
    out = []
    for row in await session.scalars(query):
        try:
            out.append((row, compile_expression(row.expression)))
        except ApiError:
            continue
    return out


async def resolve_names(
    session: AsyncSession, *, user_id: int, names: Sequence[str]
) -> dict[str, Node]:
    """Factor names (built-in, or the user's custom ones) → trees; unknown names are left
    out (the caller decides what a missing name means)."""
    trees: dict[str, Node] = {}
    custom: list[str] = []
    for name in names:
        if name in BY_NAME:
            trees[name] = compile_expression(BY_NAME[name].expression)
        else:
            custom.append(name)
    if custom:
        rows = await session.scalars(
            select(CustomFactor).where(
                CustomFactor.user_id == user_id, CustomFactor.name.in_(custom)
            )
        )
        for row in rows:
            try:
                trees[row.name] = compile_expression(row.expression)
            except ApiError:
                continue
    return trees


# --- effectiveness reads ---------------------------------------------------------------


def _scopes(user: Principal) -> Any:
    return or_(
        FactorEffectiveness.scope == BUILTIN_SCOPE,
        FactorEffectiveness.scope == user_scope(user.id),
    )


async def effectiveness_rows(
    session: AsyncSession, *, user: Principal
) -> list[FactorEffectiveness]:
    """Stored effectiveness of the built-ins and of the caller's own factors, built-ins
    first in catalogue order."""
    rows = list(await session.scalars(select(FactorEffectiveness).where(_scopes(user))))
    order = {factor.name: index for index, factor in enumerate(BUILTINS)}
    rows.sort(key=lambda r: (r.scope != BUILTIN_SCOPE, order.get(r.factor_name, 0), r.factor_name))
    return rows


async def effectiveness_of(
    session: AsyncSession, *, user: Principal, factor_name: str
) -> FactorEffectiveness:
    """The caller's own factor of that name wins over a built-in (it cannot share a
    built-in's name, so at most one exists)."""
    rows = await session.scalars(
        select(FactorEffectiveness).where(
            _scopes(user), FactorEffectiveness.factor_name == factor_name
        )
    )
    row = rows.first()
    if row is None:
        known = factor_name in BY_NAME or await session.scalar(
            select(CustomFactor.id).where(
                CustomFactor.user_id == user.id, CustomFactor.name == factor_name
            )
        )
        if not known:
            raise not_found("factor")
        raise ApiError(
            404,
            "EFFECTIVENESS_NOT_READY",
            f"No effectiveness computed yet for {factor_name!r}; "
            "POST /api/factors/effectiveness/compute starts a run",
        )
    return row


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise ApiError(
            400,
            "VALIDATION_ERROR",
            f"kind must be one of {', '.join(KINDS)}",
            details={"fields": [{"field": "kind", "message": "unknown kind"}]},
        )
    return kind


def summary_row(row: FactorEffectiveness, kind: str) -> dict[str, Any]:
    """One factor's stored effectiveness of ``kind`` as the list route and the assistant
    show it (``schemas.EffectivenessRow``)."""
    part = row.result[kind]
    basis = row.basis
    return {
        "factor_name": row.factor_name,
        "source": "builtin" if row.scope == BUILTIN_SCOPE else "custom",
        "kind": kind,
        **part["summary"],
        "half_life_bars": part["decay"]["half_life_bars"],
        "horizon_bars": basis["horizon_bars"],
        "period_bars": basis["period_bars"] if kind == "time_series" else 1,
        "interval": basis["interval"],
        "symbols": basis["symbols"],
        "computed_at": row.computed_at,
    }
