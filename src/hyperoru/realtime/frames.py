"""A server frame built once and shared by every socket it goes to.

``text`` is what an ASGI server is handed (``websocket.send``); ``wire`` is the complete
RFC 6455 frame (server frames are never masked, and /ws negotiates no compression, so
the bytes are the same for every socket). The wire form is built on first use, once.
"""

from __future__ import annotations

from websockets.frames import Frame, Opcode


class OutgoingFrame:
    __slots__ = ("_wire", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._wire: bytes | None = None

    @property
    def wire(self) -> bytes:
        if self._wire is None:
            self._wire = Frame(Opcode.TEXT, self.text.encode()).serialize(mask=False)
        return self._wire
