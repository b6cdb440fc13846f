"""A worker's name in leases: host, process and a random suffix (pids are reused).

Kernel level so that every lease holder (jobs, the trader runtime, the signal runtime)
can use it without importing one another. ``runtime/identity.py`` still holds the same
function for the runtime's own readers until they are pointed here."""

from __future__ import annotations

import os
import secrets
import socket


def worker_identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
