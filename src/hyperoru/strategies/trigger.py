"""Why a trader runs a decision cycle: schedule, signal pool or a manual request."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from hyperoru.timeutils import isoformat_z

TriggerKind = Literal["scheduled", "signal", "manual"]


@dataclass(frozen=True, slots=True)
class Trigger:
    kind: TriggerKind
    at: datetime
    pool_id: int | None = None
    # The fired signals and their values, passed to prompts as ``trigger_context``.
    values: dict[str, Any] = field(default_factory=dict)
    # Which of the trader's strategies runs: one of its bindings, or (None) its primary
    # strategy, the one ``/api/account/{id}/strategy`` configures.
    binding_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "type": self.kind,
            "at": isoformat_z(self.at),
            "pool_id": self.pool_id,
            "binding_id": self.binding_id,
            "values": self.values,
        }


@dataclass(frozen=True, slots=True)
class CycleOutcome:
    """What the runtime needs to know about a finished cycle. A cycle *fails* when the
    trader could not decide (model error, unparseable answer, execution error); a risk
    rejection is a decision, not a failure. ``ran`` is False when nothing ran at all (the
    binding was switched off or deleted after the cycle was started): neither a success
    nor a failure."""

    ok: bool
    error: str | None = None
    ran: bool = True
