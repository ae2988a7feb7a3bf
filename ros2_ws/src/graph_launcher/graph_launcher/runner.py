"""Supervising the node processes of one graph, with the shutdown rules of ``ros2 launch``.

Each node runs in its own process group, so a Ctrl-C in the terminal reaches only the launcher,
which then stops the nodes in order (SIGINT, then SIGTERM, then SIGKILL, each after a timeout)
instead of every process racing its own shutdown. Rules:

- a node that exits non-zero on its own stops the graph, and the launcher exits 1;
- a node marked ``on_exit: shutdown`` that exits 0 stops the graph, and the launcher exits 0
  (a camera at the end of a clip ends the run);
- any other node exiting 0 leaves the rest running; when all have exited the launcher exits 0;
- SIGINT/SIGTERM to the launcher stops the graph and exits 0 (exit codes of nodes the launcher
  stopped itself are reported, not judged).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import IO

POLL_SECONDS = 0.1


@dataclass(frozen=True)
class ProcessPlan:
    """One process to run: ``label`` prefixes its output lines."""

    label: str
    argv: tuple[str, ...]
    shutdown_on_exit: bool = False


def describe_exit(returncode: int) -> str:
    """Human-readable exit status (Popen reports death by signal N as -N)."""
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exited with code {returncode}"


class GraphRunner:
    """Starts the planned processes, relays their output and stops them by the rules above."""

    def __init__(
        self,
        plans: Sequence[ProcessPlan],
        environment: Mapping[str, str],
        *,
        sigint_timeout: float = 5.0,
        sigterm_timeout: float = 5.0,
        shutdown_grace: float = 0.0,
        stdout: IO[str] = sys.stdout,
        stderr: IO[str] = sys.stderr,
    ) -> None:
        self._plans = list(plans)
        self._environment = dict(environment)
        self._sigint_timeout = sigint_timeout
        self._sigterm_timeout = sigterm_timeout
        self._shutdown_grace = shutdown_grace
        self._stdout = stdout
        self._stderr = stderr
        self._write_lock = threading.Lock()
        self._stop_requested = threading.Event()
        self._processes: list[tuple[ProcessPlan, subprocess.Popen[bytes]]] = []
        self._pumps: list[threading.Thread] = []

    def request_stop(self) -> None:
        """Ask for a clean shutdown; safe to call from a signal handler."""
        self._stop_requested.set()

    def run(self) -> int:
        """Run the graph to its end; returns the launcher's exit code."""
        failed = not self._start_all()
        finished: set[int] = set()
        stop_at: float | None = None
        while not failed and not self._stop_requested.is_set():
            for plan, process in self._processes:
                if process.pid in finished or process.poll() is None:
                    continue
                finished.add(process.pid)
                self._log(f"{plan.label} {describe_exit(process.returncode)}")
                if process.returncode != 0:
                    failed = True
                elif plan.shutdown_on_exit and stop_at is None:
                    self._log(f"{plan.label} has on_exit: shutdown; stopping the graph")
                    stop_at = time.monotonic() + self._shutdown_grace
                elif plan.shutdown_on_exit:  # a second one ending means the work is done: no more grace
                    self._log(f"{plan.label} has on_exit: shutdown too; stopping the graph now")
                    stop_at = time.monotonic()
            if failed or len(finished) == len(self._processes):
                break
            if stop_at is not None and time.monotonic() >= stop_at:
                break
            self._stop_requested.wait(POLL_SECONDS)
        self._stop_all()
        for pump in self._pumps:
            pump.join(timeout=2.0)
        return 1 if failed else 0

    def _start_all(self) -> bool:
        for plan in self._plans:
            try:
                process = subprocess.Popen(
                    plan.argv,
                    env=self._environment,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    process_group=0,
                )
            except OSError as error:
                self._log(f"cannot start {plan.label} ({plan.argv[0]}): {error}")
                return False
            self._processes.append((plan, process))
            self._log(f"started {plan.label} [pid {process.pid}]")
            for pipe, sink in ((process.stdout, self._stdout), (process.stderr, self._stderr)):
                pump = threading.Thread(target=self._relay, args=(plan.label, pipe, sink), daemon=True)
                pump.start()
                self._pumps.append(pump)
        return True

    def _stop_all(self) -> None:
        for sig, timeout in (
            (signal.SIGINT, self._sigint_timeout),
            (signal.SIGTERM, self._sigterm_timeout),
            (signal.SIGKILL, None),
        ):
            alive = [(plan, process) for plan, process in self._processes if process.poll() is None]
            if not alive:
                return
            for plan, process in alive:
                if sig != signal.SIGINT:
                    self._log(f"{plan.label} still running; sending {sig.name}")
                try:
                    os.killpg(process.pid, sig)
                except ProcessLookupError:
                    continue
            deadline = None if timeout is None else time.monotonic() + timeout
            for plan, process in alive:
                remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
                try:
                    process.wait(timeout=remaining)
                except subprocess.TimeoutExpired:
                    continue
                self._log(f"{plan.label} {describe_exit(process.returncode)} after {sig.name}")

    def _relay(self, label: str, pipe: IO[bytes], sink: IO[str]) -> None:
        for raw_line in iter(pipe.readline, b""):
            line = raw_line.decode("utf-8", errors="replace").rstrip("\n")
            self._write(sink, f"[{label}] {line}\n")
        pipe.close()

    def _log(self, message: str) -> None:
        self._write(self._stderr, f"[graph_launch] {message}\n")

    def _write(self, sink: IO[str], text: str) -> None:
        with self._write_lock:
            sink.write(text)
            sink.flush()
