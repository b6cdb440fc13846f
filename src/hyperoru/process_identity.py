"""A worker's name in leases: host, process and a random suffix (pids are reused).

Kernel level so that every lease holder (jobs, the trader runtime, the signal runtime)
can use it without importing one another."""

from __future__ import annotations

import os
import secrets
import socket


def worker_identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
