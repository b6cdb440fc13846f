"""/api/programs: stored programs, validation, test runs and the developer guide.

``/{program_id}`` is one path segment without a trailing slash, so the fixed paths other
domains serve under /api/programs (``signal-pools/``, ``accounts/``, with their slash)
never reach these routes, whatever order the routers are included in.
"""

from __future__ import annotations

from fastapi import APIRouter

from hyperoru.auth.dependencies import CurrentUser
from hyperoru.http.dependencies import AppSettings, DbSession, Sessionmaker
from hyperoru.http.pagination import ListWindowQuery
from hyperoru.market.dependencies import Market
from hyperoru.market.errors import provider_errors
from hyperoru.programs import service
from hyperoru.programs.dependencies import OwnedProgram, ProgramSandbox
from hyperoru.programs.models import Program
from hyperoru.programs.schemas import (
    DevGuideOut,
    ProgramCreate,
    ProgramOut,
    ProgramUpdate,
    StatusOk,
    TestRunOut,
    TestRunRequest,
    ValidateOut,
    ValidateRequest,
    ValidationIssue,
)
from hyperoru.trading.dependencies import TraderExchange

router = APIRouter(prefix="/api/programs", tags=["programs"])


def _out(program: Program) -> ProgramOut:
    return ProgramOut.model_validate(program)


@router.get("/", response_model=list[ProgramOut])
async def list_programs(
    user: CurrentUser, db: DbSession, window: ListWindowQuery
) -> list[ProgramOut]:
    return [_out(p) for p in await service.list_programs(db, user=user, window=window)]


@router.post("/", status_code=201, response_model=ProgramOut)
async def create_program(body: ProgramCreate, user: CurrentUser, db: DbSession) -> ProgramOut:
    return _out(await service.create_program(db, user=user, data=body))


@router.post("/validate", response_model=ValidateOut)
async def validate_program(body: ValidateRequest) -> ValidateOut:
    errors = service.validate_code(body.code)
    return ValidateOut(
        valid=not errors,
        errors=[ValidationIssue(line=e.line, message=e.message) for e in errors],
    )


@router.post("/test-run", response_model=TestRunOut)
async def test_run(
    body: TestRunRequest,
    user: CurrentUser,
    db: DbSession,
    sessions: Sessionmaker,
    market: Market,
    exchange: TraderExchange,
    sandbox: ProgramSandbox,
    settings: AppSettings,
) -> TestRunOut:
    with provider_errors():
        outcome = await service.test_run(
            db,
            sessions,
            market,
            exchange,
            sandbox,
            user=user,
            data=body,
            with_factors=settings.factor_engine == "enabled",
        )
    return TestRunOut(
        status=outcome.status,
        result=outcome.result,
        logs=outcome.logs,
        execution_time_ms=outcome.execution_time_ms,
        error=outcome.error,
    )


@router.get("/dev-guide", response_model=DevGuideOut)
async def dev_guide() -> DevGuideOut:
    return DevGuideOut(guide=service.dev_guide())


@router.get("/{program_id}", response_model=ProgramOut)
async def get_program(program: OwnedProgram) -> ProgramOut:
    return _out(program)


@router.put("/{program_id}", response_model=ProgramOut)
async def update_program(body: ProgramUpdate, program: OwnedProgram, db: DbSession) -> ProgramOut:
    return _out(await service.update_program(db, program=program, data=body))


@router.delete("/{program_id}", response_model=StatusOk)
async def delete_program(program: OwnedProgram, db: DbSession) -> StatusOk:
    await service.delete_program(db, program=program)
    return StatusOk()
