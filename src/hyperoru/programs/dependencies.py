"""Loaders for /api/programs routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from hyperoru.auth.dependencies import CurrentUser
from hyperoru.http.dependencies import DbSession
from hyperoru.programs import service
from hyperoru.programs.models import Program
from hyperoru.programs.sandbox.launcher import Sandbox

ProgramId = Annotated[int, Path(description="The program's id")]


async def owned_program(program_id: ProgramId, user: CurrentUser, db: DbSession) -> Program:
    return await service.load_owned_program(db, user=user, program_id=program_id)


async def get_sandbox(request: Request) -> Sandbox:
    return request.app.state.services.sandbox


OwnedProgram = Annotated[Program, Depends(owned_program)]
ProgramSandbox = Annotated[Sandbox, Depends(get_sandbox)]
