"""Running the benchmark's child processes: plain runs, and runs measured for wall time and
peak memory.

Peak memory comes from os.wait4(), which returns the rusage of the one child it reaps.
Linux fills it as getrusage(RUSAGE_BOTH) of that child, so ru_maxrss is the larger of the
child's own peak and that of the descendants it waited for (mewe's wasm-ld): the peak of
the whole pipeline, not of the biggest process the benchmark ever started, which is what
getrusage(RUSAGE_CHILDREN) deltas would give.
"""

import dataclasses
import os
import signal
import subprocess
import threading
import time

# A hung child must not hang the benchmark; the slowest step (a traced workload run 100
# times) takes a few minutes.
TIMEOUT = 1200


class StepError(Exception):
    """A build or run step failed; the message says which and shows its output."""


@dataclasses.dataclass
class Measured:
    """One measured child: exit code, wall seconds and peak resident set in MiB."""
    returncode: int
    wall_s: float
    peak_mib: float
    log: str


def _tail(path, limit=3000):
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - limit))
            return f.read().decode(errors="replace")
    except OSError:
        return ""


def spawn_measured(cmd, log_path, timeout=TIMEOUT):
    """Runs cmd with stdout and stderr to log_path and stdin from /dev/null; returns a
    Measured. posix_spawn and wait4 rather than subprocess, whose wait() would reap the
    child and lose its rusage."""
    cmd = [str(c) for c in cmd]
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, str(log_path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644),
        (os.POSIX_SPAWN_DUP2, 1, 2),
    ]
    start = time.perf_counter()
    pid = os.posix_spawnp(cmd[0], cmd, os.environ, file_actions=actions)
    killer = threading.Timer(timeout, lambda: _kill(pid))
    killer.start()
    try:
        _, status, usage = os.wait4(pid, 0)
    finally:
        killer.cancel()
    wall = time.perf_counter() - start
    # ru_maxrss is in KiB on Linux.
    return Measured(os.waitstatus_to_exitcode(status), wall, usage.ru_maxrss / 1024.0,
                    str(log_path))


def _kill(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def must_measured(cmd, log_path, what):
    """spawn_measured, raising StepError when the child fails."""
    m = spawn_measured(cmd, log_path)
    if m.returncode != 0:
        raise StepError(f"{what} failed with status {m.returncode}:\n  {_quote(cmd)}\n"
                        f"{_tail(log_path)}")
    return m


def run(cmd, what, timeout=TIMEOUT, check=True, **kwargs):
    """subprocess.run with text capture; raises StepError on failure when check is set."""
    cmd = [str(c) for c in cmd]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kwargs)
    except subprocess.TimeoutExpired as e:
        raise StepError(f"{what} timed out after {timeout} s:\n  {_quote(cmd)}") from e
    if check and p.returncode != 0:
        raise StepError(f"{what} failed with status {p.returncode}:\n  {_quote(cmd)}\n"
                        f"{p.stderr[-3000:]}{p.stdout[-1500:]}")
    return p


def _quote(cmd):
    return " ".join(str(c) for c in cmd)
