"""Route dependencies of the jobs domain: the app's one job runner (``Services.jobs``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from hyperoru.jobs.runner import JobRunner


async def get_job_runner(request: Request) -> JobRunner:
    return request.app.state.services.jobs


Runner = Annotated[JobRunner, Depends(get_job_runner)]
