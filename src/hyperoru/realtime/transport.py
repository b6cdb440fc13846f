"""uvicorn's WebSocket protocol with one addition: a socket that is open and writable
accepts a ready-made frame (``OutgoingFrame.wire``) straight onto its transport.

Through ASGI every socket pays for its own ``websocket.send``: a writer task wakes, the
text is encoded and framed again, and the send passes through every middleware. A
fan-out to thousands of sockets multiplies that by the socket count. The extension
``PREBUILT_FRAMES`` in the socket's scope offers ``write(frame) -> bool``: True when the
frame was written, False when the caller must use ``websocket.send`` instead (closing,
closed, the write buffer above its high-water mark, or an extension such as compression
that changes the bytes). Any other server simply has no such extension.

Frames written this way are whole frames, so they interleave safely with uvicorn's own
pings and close frame on the same transport.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.websockets import WebSocket
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.protocol import State

PREBUILT_FRAMES = "hyperoru.prebuilt_frames"

WriteFrame = Callable[[bytes], bool]


class PrebuiltFrameProtocol(WebSocketsSansIOProtocol):
    def write_frame(self, frame: bytes) -> bool:
        if (
            self.close_sent
            or self.disconnected
            or not self.writable.is_set()
            or self.transport.is_closing()
            or self.conn.state is not State.OPEN
            or self.conn.extensions
        ):
            return False
        self.transport.write(frame)
        return True

    async def run_asgi(self) -> None:
        extensions: dict[str, Any] = self.scope.setdefault("extensions", {}) or {}
        extensions[PREBUILT_FRAMES] = {"write": self.write_frame}
        self.scope["extensions"] = extensions
        await super().run_asgi()


def frame_writer(websocket: WebSocket) -> WriteFrame | None:
    """The socket's direct frame writer, when its server offers one."""
    extension = (websocket.scope.get("extensions") or {}).get(PREBUILT_FRAMES)
    return None if extension is None else extension["write"]
