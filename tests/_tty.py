"""Run a command in a real pseudo-terminal of a given size, as a person at a terminal would."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import termios
from collections.abc import Sequence

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r")


def in_terminal(
    argv: Sequence[str], env: dict[str, str], *, columns: int = 80, rows: int = 60,
    timeout: float = 300,
) -> tuple[int, str, str]:  # fmt: skip
    """Exit code, everything the terminal showed (escape codes removed) and the raw bytes
    decoded; stdout and stderr both go to the terminal, which is ``columns`` wide."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    env = {k: v for k, v in env.items() if k not in ("COLUMNS", "LINES")}
    proc = subprocess.Popen(
        list(argv), stdin=slave, stdout=slave, stderr=slave, env={**env, "TERM": "xterm"},
        close_fds=True,
    )  # fmt: skip
    os.close(slave)
    chunks: list[bytes] = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the terminal's other side closed
            break
        if not data:
            break
        chunks.append(data)
    code = proc.wait(timeout=timeout)
    os.close(master)
    raw = b"".join(chunks).decode("utf-8", errors="replace")
    return code, _ANSI.sub("", raw), raw
