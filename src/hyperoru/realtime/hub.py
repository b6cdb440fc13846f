"""This process's sockets, and the bus subscriber that routes each event to them.

Trader events go only to sockets of the user in the event (looked up by that user, then
checked again per socket); prices go to every socket on ``prices``. Routing only
enqueues, so the bus is never held up by a socket.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime

from hyperoru.realtime.bus import AnyEvent
from hyperoru.realtime.connection import Connection
from hyperoru.realtime.events import CHANNEL_OF, AuthChangedEvent, PriceEvent
from hyperoru.realtime.limits import CLOSE_UNAUTHENTICATED
from hyperoru.realtime.protocol import push

log = logging.getLogger("hyperoru.realtime.hub")


class Hub:
    def __init__(self) -> None:
        self._by_user: defaultdict[int, set[Connection]] = defaultdict(set)
        self._latest_price: dict[str, datetime] = {}

    def attach(self, connection: Connection) -> None:
        self._by_user[connection.user_id].add(connection)

    def detach(self, connection: Connection) -> None:
        sockets = self._by_user.get(connection.user_id)
        if sockets is not None:
            sockets.discard(connection)
            if not sockets:
                del self._by_user[connection.user_id]

    def connections(self) -> list[Connection]:
        return [c for sockets in self._by_user.values() for c in sockets]

    def count(self) -> int:
        return sum(len(sockets) for sockets in self._by_user.values())

    def count_for(self, user_id: int) -> int:
        return len(self._by_user.get(user_id, ()))

    def _is_newest(self, event: PriceEvent) -> bool:
        # Several processes may publish the same feed: keep only moves forward in time.
        latest = self._latest_price.get(event.symbol)
        if latest is not None and event.observed_at <= latest:
            return False
        self._latest_price[event.symbol] = event.observed_at
        return True

    def close_sessions(self, *, user_id: int | None, session_ids: list[int] | None) -> None:
        """Close the sockets of ended sessions (all of a user's, or everyone's)."""
        sockets = self.connections() if user_id is None else list(self._by_user.get(user_id, ()))
        for connection in sockets:
            if session_ids is None or connection.identity.session_id in session_ids:
                connection.close(CLOSE_UNAUTHENTICATED, "session revoked")

    def route(self, event: AnyEvent) -> None:
        """The bus subscriber for pushes (session changes have their own subscriber)."""
        if isinstance(event, AuthChangedEvent):
            return
        channel = CHANNEL_OF[event.type]
        if isinstance(event, PriceEvent):
            if not self._is_newest(event):
                return
            targets = self.connections()
        else:
            targets = list(self._by_user.get(event.user_id, ()))
        frame: str | None = None
        for connection in targets:
            if not connection.wants(channel):
                continue
            if not isinstance(event, PriceEvent) and connection.user_id != event.user_id:
                log.error("refused to deliver an event to another user's socket")
                continue
            frame = frame or push(event)
            connection.offer(frame)
