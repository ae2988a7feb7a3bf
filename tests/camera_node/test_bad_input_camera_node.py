"""camera_node survives unreadable files in an image folder (issue 12): a truncated JPEG, random
bytes, an empty file and a JPEG whose header claims 30000 x 30000 (OpenCV would allocate 2.7 GB
for it) are each counted as ``failed`` (WARN on ``/diagnostics``), and the good image after each
is published. ``cv2.imread`` used to return the truncated JPEG with grey rows, uncounted."""

from __future__ import annotations

import struct
from pathlib import Path

import cv2
import numpy as np
from camera_ros_helpers import collect_images
from face_common.health import Level
from ros_processes import RosProcesses, exit_counters, finish, reported, status_values, wait_until

CAMERA = "cam_files"


def _jpeg(value: int) -> bytes:
    """A 160x90 JPEG: a gradient so it is not all one DC block, ``value`` as its mean level."""
    ramp = np.tile(np.linspace(-20, 20, 160), (90, 1))
    image = np.clip(value + ramp, 0, 255).astype(np.uint8)
    return cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_GRAY2BGR))[1].tobytes()


def _claiming(width: int, height: int) -> bytes:
    data = bytearray(_jpeg(100))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def test_unreadable_files_are_counted_and_the_next_image_published(
    ros_graph: RosProcesses, tmp_path: Path
) -> None:
    files = {  # read in name order: good, bad, good, bad, ...
        "0_good.jpg": _jpeg(40),
        "1_truncated.jpg": _jpeg(60)[:-300],  # cut in the scan data
        "2_good.jpg": _jpeg(80),
        "3_random.jpg": bytes(np.random.default_rng(3).integers(0, 256, 2000, dtype=np.uint8)),
        "4_good.jpg": _jpeg(120),
        "5_empty.png": b"",
        "6_good.jpg": _jpeg(160),
        "7_bomb.jpg": _claiming(30_000, 30_000),
        "8_good.jpg": _jpeg(200),
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    health = ros_graph.diagnostics(f"/{CAMERA}/camera_node")
    process = ros_graph.start(
        "camera_node",
        "camera_node",
        namespace=CAMERA,
        camera_id=CAMERA,
        source=tmp_path,
        fps=3.0,  # long enough for /diagnostics (once a second) to report while it runs
        width=160,
        height=90,
        resize_mode="none",
        min_subscribers=1,
    )
    frames = collect_images(ros_graph, f"/{CAMERA}/image_raw", process)
    warning = reported(health, Level.WARN, "failed +", timeout_s=30)
    code, log = finish(process)
    assert code == 0, log
    assert "Traceback" not in log
    counters = exit_counters(log)
    assert (counters["published"], counters["failed"]) == (5, 4), log
    assert int(status_values(warning)["failed"]) >= 1
    assert "frame skipped: cannot decode image 1_truncated.jpg" in log
    assert wait_until(lambda: len(frames) == 5, timeout_s=10), len(frames)
    first = frames[0].data.reshape(90, 160, 3)
    assert abs(first.mean() - 40) < 3  # the first good image (only the first frame keeps its pixels)
