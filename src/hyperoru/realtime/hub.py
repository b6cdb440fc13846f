"""This process's sockets, and the bus subscriber that routes each event to them.

Sockets are indexed by what they listen to, ``(channel, owner)``: a trader event looks up
the sockets of its owner on its channel, a price the sockets on ``prices`` (owner None,
the channel is public). Routing never scans sockets that do not want the event, encodes
each event once (``OutgoingFrame``, shared by every socket), and only writes or enqueues,
so the bus is never held up by a socket.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime

from hyperoru.realtime.bus import AnyEvent
from hyperoru.realtime.connection import Connection, SocketIdentity
from hyperoru.realtime.events import CHANNEL_OF, AuthChangedEvent, Channel, PriceEvent, TraderEvent
from hyperoru.realtime.frames import OutgoingFrame
from hyperoru.realtime.limits import CLOSE_UNAUTHENTICATED
from hyperoru.realtime.protocol import push

log = logging.getLogger("hyperoru.realtime.hub")

PushEvent = TraderEvent | PriceEvent
# Channels every authenticated socket may hear; the others carry one user's traders.
PUBLIC_CHANNELS: frozenset[Channel] = frozenset({"prices"})

ListenKey = tuple[Channel, int | None]


def encode_push(event: PushEvent) -> OutgoingFrame:
    return OutgoingFrame(push(event))


def _key(channel: Channel, user_id: int) -> ListenKey:
    return (channel, None if channel in PUBLIC_CHANNELS else user_id)


class Hub:
    def __init__(self, encode: Callable[[PushEvent], OutgoingFrame] = encode_push) -> None:
        # Called once per routed event that has at least one listener.
        self.encode = encode
        self._by_user: defaultdict[int, set[Connection]] = defaultdict(set)
        self._listening: defaultdict[ListenKey, set[Connection]] = defaultdict(set)
        self._latest_price: dict[str, datetime] = {}
        # Sockets the server closed since start-up, by close code (read by /metrics).
        self.drops: Counter[int] = Counter()

    def attach(self, connection: Connection) -> None:
        self._by_user[connection.user_id].add(connection)
        self._index(connection, connection.channels)

    def detach(self, connection: Connection) -> None:
        sockets = self._by_user.get(connection.user_id)
        if sockets is not None:
            sockets.discard(connection)
            if not sockets:
                del self._by_user[connection.user_id]
        self._unindex(connection, connection.channels)

    def ended(self, connection: Connection) -> None:
        """A socket's handler is done with it: off the hub, and counted if we dropped it."""
        self.detach(connection)
        if connection.dropped and connection.close_code is not None:
            self.drops[connection.close_code] += 1

    def switch_identity(self, connection: Connection, identity: SocketIdentity) -> None:
        """Move a socket to another session (``switch_user``) with its channels: from this
        call on, routing reads the new user's index only, so not one more push of the old
        user's traders reaches it. Its chosen trader was the old user's and is forgotten."""
        attached = connection in self._by_user.get(connection.user_id, ())
        if attached:
            self.detach(connection)
        connection.identity = identity
        connection.account_id = None
        if attached:
            self.attach(connection)

    def subscribe(self, connection: Connection, channels: Iterable[Channel]) -> None:
        added = set(channels) - connection.channels
        connection.channels |= added
        if connection in self._by_user.get(connection.user_id, ()):
            self._index(connection, added)

    def unsubscribe(self, connection: Connection, channels: Iterable[Channel]) -> None:
        removed = connection.channels & set(channels)
        connection.channels -= removed
        self._unindex(connection, removed)

    def _index(self, connection: Connection, channels: Iterable[Channel]) -> None:
        for channel in channels:
            self._listening[_key(channel, connection.user_id)].add(connection)

    def _unindex(self, connection: Connection, channels: Iterable[Channel]) -> None:
        for channel in channels:
            key = _key(channel, connection.user_id)
            listeners = self._listening.get(key)
            if listeners is not None:
                listeners.discard(connection)
                if not listeners:
                    del self._listening[key]

    def connections(self) -> list[Connection]:
        return [c for sockets in self._by_user.values() for c in sockets]

    def count(self) -> int:
        return sum(len(sockets) for sockets in self._by_user.values())

    def count_for(self, user_id: int) -> int:
        return len(self._by_user.get(user_id, ()))

    def count_listening(self, channel: Channel, user_id: int | None = None) -> int:
        """Sockets an event on ``channel`` (of ``user_id``'s trader) would be routed to."""
        key = (channel, None) if channel in PUBLIC_CHANNELS else (channel, user_id)
        return len(self._listening.get(key, ()))

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
        owner: int | None = None
        if isinstance(event, PriceEvent):
            if not self._is_newest(event):
                return
        else:
            owner = event.user_id
        listeners = self._listening.get((CHANNEL_OF[event.type], owner))
        if not listeners:
            return
        frame = self.encode(event)
        # A copy: offering never detaches a socket today, but a set must not change
        # while it is iterated.
        for connection in tuple(listeners):
            if owner is not None and connection.user_id != owner:
                log.error("refused to deliver an event to another user's socket")
                continue
            connection.offer(frame)
