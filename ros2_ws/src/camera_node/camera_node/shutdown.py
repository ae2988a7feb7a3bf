"""Graceful stop on Ctrl-C/SIGTERM for nodes that run their own loop."""

from __future__ import annotations

import signal
import threading


def stop_on_signals() -> threading.Event:
    """An event set by Ctrl-C or SIGTERM, in place of rclpy's handlers that shut the context down
    at any point (mid-publish included) and make the next rclpy call raise."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    return stop
