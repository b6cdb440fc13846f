"""The sandbox process dies with the server that started it.

``die_with_parent`` runs first thing in the child (the runners call it from
``limit_self``). It asks the kernel for SIGKILL when the parent goes
(``prctl(PR_SET_PDEATHSIG)``). It has to run here, in the child itself: the setting is
cleared whenever the process's user or group changes, and the child has just become
``nobody`` (``unshare --setuid`` or Popen's ``user=``), after anything the server could
have set before exec. The kernel sends that signal whatever the credentials.

A parent that died between the fork and this call sends nothing, so the child then
checks that its parent is still the server that started it, and exits if not.
Standard library only: it runs inside the sandbox.
"""

from __future__ import annotations

import ctypes
import os
import signal

_PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int | None) -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):
        pass  # no prctl here: the server's start-up sweep still finds an orphan
    if parent_pid is not None and os.getppid() != parent_pid:
        os._exit(70)  # the server is already gone: nobody will read the answer
