"""Loaded by a child process whose PYTHONPATH starts here (then the repository): it refuses,
and records in the file named by $NETGUARD_LOG, every DNS lookup or connection that would leave
loopback."""

from __future__ import annotations

import os

from tests.support.peers.audit import NetworkAudit

_log = os.environ.get("NETGUARD_LOG")
if _log:
    NetworkAudit(log_path=_log, block=True).install()
    with open(_log + ".loaded", "a", encoding="utf-8") as _marker:
        _marker.write(f"{os.getpid()}\n")  # shows the guard was really on in this process
