"""Frame hop between two processes: 720p bgr8 sensor_msgs/Image over Fast DDS, per transport set-up.

Why: the camera -> detector hop carries full frames (2.76 MB each). Fast DDS's defaults lose and
delay them between processes; ``config/fastdds_profile.xml`` (what ``graph_launch`` sets) should
deliver every frame quickly. This measures it, for

- ``default``: Fast DDS as it comes (512 KiB shared-memory segment + UDPv4),
- ``profile``: the project's XML profile (32 MB shared-memory segment + UDPv4),
- ``large_data``: ``FASTDDS_BUILTIN_TRANSPORTS=LARGE_DATA`` (Fast DDS's own large-data set),

each at the camera's rate (12 Hz, ``--frames`` frames) and at the publisher's maximum rate (for
as long as those frames take at 12 Hz). A subscriber process (sensor-data QoS, like the
detector) records, per frame, receipt time minus the header stamp (same host clock); the table
shows medians over repeats of delivery ratio, latency p50/p95 and frames per second published
and received (the max-rate row's "recv fps" is the sustained hop throughput).

    python bench/bench_hop.py [--frames 60] [--repeats 3] [--json]
"""

from __future__ import annotations

import argparse
import array
import itertools
import json
import math
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench_common import (
    REPO_ROOT,
    add_output_arguments,
    describe_machine,
    emit,
    format_table,
    machine_info,
    percentile,
)
from graph_launcher.dds_env import DDS_CHOICE_VARIABLES, find_dds_profile, node_environment

WIDTH, HEIGHT, CHANNELS = 1280, 720, 3
CAMERA_RATE_HZ = 12.0
MATCH_TIMEOUT_S = 20.0
SETTLE_S = 0.5
"""Pause after the publisher sees the subscriber, so that the reader side has matched too."""
MEASURED_FRAME_ID = "measured"
WARMUP_FRAME_ID = "warmup"
"""Frames sent first and not counted: connections (LARGE_DATA's TCP) are set up lazily, and a
camera publishes for hours, so the steady state is what matters."""
LINGER_S = 1.0
"""The publisher stays this long after its last frame, so asynchronous transports can deliver it."""
DRAIN_S = 2.0
"""How long the subscriber may keep receiving after the publisher is done."""
TOPIC = "bench_image"


def transport_environments(base: dict[str, str]) -> dict[str, dict[str, str]]:
    """The node environment for each transport set-up, built the way graph_launch builds it."""
    clean = {key: value for key, value in base.items() if key not in DDS_CHOICE_VARIABLES}
    profile = find_dds_profile(REPO_ROOT)
    if profile is None:
        raise SystemExit("config/fastdds_profile.xml not found")
    return {
        "default": node_environment(clean, None),
        "profile": node_environment(clean, profile),
        "large_data": node_environment({**clean, "FASTDDS_BUILTIN_TRANSPORTS": "LARGE_DATA"}, None),
    }


# --- the two roles, each in its own process ---


def run_publisher(frames: int, warmup: int, rate_hz: float) -> None:
    """Publish ``warmup`` uncounted frames, then ``frames`` at ``rate_hz``; at rate 0, as fast as
    possible for as long as ``frames`` take at the camera rate. Prints what it sent as JSON."""
    import rclpy
    from rclpy.qos import qos_profile_sensor_data
    from sensor_msgs.msg import Image

    rclpy.init()
    node = rclpy.create_node("bench_hop_publisher")
    publisher = node.create_publisher(Image, TOPIC, qos_profile_sensor_data)
    message = Image(height=HEIGHT, width=WIDTH, encoding="bgr8", step=WIDTH * CHANNELS)
    message.data = array.array("B", bytes(range(256)) * (WIDTH * HEIGHT * CHANNELS // 256))
    deadline = time.monotonic() + MATCH_TIMEOUT_S
    while publisher.get_subscription_count() < 1:
        if time.monotonic() > deadline:
            raise SystemExit("publisher: no subscriber matched")
        time.sleep(0.05)
    time.sleep(SETTLE_S)

    def publish(frame_id: str) -> None:
        message.header.frame_id = frame_id
        message.header.stamp.sec, message.header.stamp.nanosec = divmod(time.time_ns(), 1_000_000_000)
        publisher.publish(message)

    period = 1.0 / rate_hz if rate_hz > 0 else 0.0
    next_due = time.monotonic()
    for _ in range(warmup):
        time.sleep(max(0.0, next_due - time.monotonic()))
        publish(WARMUP_FRAME_ID)
        next_due += period
    start = time.monotonic()
    window_end = start + frames / CAMERA_RATE_HZ
    published = 0
    while published < frames if rate_hz > 0 else time.monotonic() < window_end:
        time.sleep(max(0.0, next_due - time.monotonic()))
        publish(MEASURED_FRAME_ID)
        published += 1
        next_due += period
    seconds = time.monotonic() - start
    time.sleep(LINGER_S)
    print(json.dumps({"published": published, "seconds": seconds, "publish_fps": published / seconds}))
    node.destroy_node()
    rclpy.shutdown()


def run_subscriber(stop_after: int) -> None:
    """Receive until ``stop_after`` measured frames (0: until SIGINT); print latency stats as JSON."""
    import rclpy
    from rclpy.executors import ExternalShutdownException
    from rclpy.qos import qos_profile_sensor_data
    from sensor_msgs.msg import Image

    rclpy.init()
    node = rclpy.create_node("bench_hop_subscriber")
    latencies_ms: list[float] = []
    bad_sizes = 0

    def on_image(message: Image) -> None:
        nonlocal bad_sizes
        now_ns = time.time_ns()
        if message.header.frame_id != MEASURED_FRAME_ID:
            return
        stamp_ns = message.header.stamp.sec * 1_000_000_000 + message.header.stamp.nanosec
        latencies_ms.append((now_ns - stamp_ns) / 1e6)
        bad_sizes += len(message.data) != WIDTH * HEIGHT * CHANNELS

    node.create_subscription(Image, TOPIC, on_image, qos_profile_sensor_data)
    print("READY", flush=True)
    try:
        while not stop_after or len(latencies_ms) < stop_after:
            rclpy.spin_once(node, timeout_sec=0.1)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    result = {
        "received": len(latencies_ms),
        "bad_sizes": bad_sizes,
        "p50_ms": percentile(latencies_ms, 0.50),
        "p95_ms": percentile(latencies_ms, 0.95),
    }
    print(json.dumps(result), flush=True)
    node.destroy_node()
    rclpy.try_shutdown()


# --- the orchestrator ---


def measure(
    environment: dict[str, str], frames: int, warmup: int, rate_hz: float, domain_id: int
) -> dict[str, object]:
    """One publisher/subscriber run; the subscriber is stopped DRAIN_S after the publisher ends."""
    env = {**environment, "ROS_DOMAIN_ID": str(domain_id)}
    script = [sys.executable, str(Path(__file__).resolve())]
    stop_after = frames if rate_hz > 0 else 0
    subscriber = subprocess.Popen(
        [*script, "--role", "sub", "--frames", str(stop_after)], env=env, stdout=subprocess.PIPE, text=True
    )
    assert subscriber.stdout is not None
    if subscriber.stdout.readline().strip() != "READY":
        raise RuntimeError("subscriber did not start")
    publisher = subprocess.run(
        [*script, "--role", "pub", "--frames", str(frames), "--warmup", str(warmup), "--rate", str(rate_hz)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if publisher.returncode != 0:
        subscriber.kill()
        raise RuntimeError(f"publisher failed: {publisher.stderr.strip()}")
    try:
        subscriber.wait(timeout=DRAIN_S)
    except subprocess.TimeoutExpired:
        subscriber.send_signal(signal.SIGINT)
    received = json.loads(subscriber.communicate(timeout=30)[0].strip().splitlines()[-1])
    sent = json.loads(publisher.stdout.strip().splitlines()[-1])
    return {
        **sent,
        **received,
        "delivered": received["received"] / sent["published"],
        "receive_fps": received["received"] / sent["seconds"],
    }


def median(runs: list[dict[str, object]], key: str) -> float:
    values = [float(run[key]) for run in runs if not math.isnan(float(run[key]))]
    return statistics.median(values) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=60, help="frames per 12 Hz run (default 60: 5 s)")
    parser.add_argument("--warmup", type=int, default=12, help="uncounted frames sent first (default 12)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per set-up and rate (median reported)")
    parser.add_argument("--transports", default="default,profile,large_data", help="comma-separated set-ups")
    add_output_arguments(parser)
    parser.add_argument("--role", choices=["pub", "sub"], help=argparse.SUPPRESS)
    parser.add_argument("--rate", type=float, default=CAMERA_RATE_HZ, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.role == "pub":
        run_publisher(options.frames, options.warmup, options.rate)
        return
    if options.role == "sub":
        run_subscriber(options.frames)
        return

    environments = transport_environments(dict(os.environ))
    # A fresh domain per run: a run never sees the previous run's participants or TCP ports.
    domain_ids = itertools.count(100 + os.getpid() % 50)
    rows = []
    for transport in options.transports.split(","):
        for rate_label, rate_hz in (("12 Hz", CAMERA_RATE_HZ), ("max", 0.0)):
            runs, failures = [], []
            for _ in range(options.repeats):
                try:
                    runs.append(
                        measure(
                            environments[transport], options.frames, options.warmup, rate_hz, next(domain_ids)
                        )
                    )
                except RuntimeError as error:
                    failures.append(str(error))
            rows.append({"transport": transport, "rate": rate_label, "runs": runs, "failures": failures})
            print(
                f"... {transport} {rate_label}: delivered {[round(float(r['delivered']), 2) for r in runs]}"
                + (f", failed runs: {failures}" if failures else ""),
                file=sys.stderr,
            )

    keys = ("delivered", "p50_ms", "p95_ms", "receive_fps", "publish_fps")
    summary = [dict(row) | {key: median(row["runs"], key) for key in keys} for row in rows]
    report = {
        "machine": machine_info(),
        "frames": options.frames,
        "warmup": options.warmup,
        "repeats": options.repeats,
        "rows": summary,
    }

    def table() -> str:
        headers = ["transport", "rate", "delivered", "p50 ms", "p95 ms", "recv fps", "pub fps", "runs ok"]
        cells = [
            [
                row["transport"],
                row["rate"],
                f"{row['delivered']:.0%}",
                row["p50_ms"],
                row["p95_ms"],
                row["receive_fps"],
                row["publish_fps"],
                f"{len(row['runs'])}/{len(row['runs']) + len(row['failures'])}",
            ]
            for row in summary
        ]
        return (
            f"{describe_machine(report['machine'])}\n"
            f"720p bgr8 ({WIDTH * HEIGHT * CHANNELS / 1e6:.2f} MB) frames, {options.frames} per run "
            f"after {options.warmup} warm-up frames, median of {options.repeats} runs\n"
            + format_table(headers, cells)
        )

    emit(options, report, table)


if __name__ == "__main__":
    main()
