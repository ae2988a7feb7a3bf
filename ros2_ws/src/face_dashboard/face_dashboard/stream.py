"""The live annotated picture of a camera while the graph runs: ``image_annotated`` to MJPEG.

Optional: only cameras listed in ``stream_cameras`` are subscribed, so a dashboard next to a bare
database needs no ROS. One rclpy node in the server process, spun by a thread of its own, keeps the
latest frame of each camera as a JPEG (encoded at most ``stream_fps`` times a second, whatever the
camera's rate, so a slow browser link or many viewers cost no extra encoding); each viewer's MJPEG
response sends a frame whenever a newer one is there. Annotated frames show faces: like the
charts, the stream needs a staff token, and nothing is stored.
"""

from __future__ import annotations

import os
import threading
import time
from functools import partial
from pathlib import Path

import cv2
from face_common.images import ImageConversionError, image_msg_to_array
from graph_launcher.dds_env import find_dds_profile, node_environment

JPEG_QUALITY = 80


class CameraStreams:
    """Latest JPEG per camera; :meth:`latest` gives ``(sequence number, JPEG bytes)``."""

    def __init__(self, cameras: list[str], topic: str, max_fps: float) -> None:
        self.cameras = tuple(cameras)
        self._topic = topic
        self._min_interval_s = 1.0 / max_fps
        self._frames: dict[str, tuple[int, bytes]] = {}
        self._encoded_s: dict[str, float] = {}
        self._lock = threading.Lock()
        self._context = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Join the DDS domain (``ROS_DOMAIN_ID``; the project's Fast DDS profile unless one is set,
        as graph_launch gives its nodes) and subscribe to each camera's annotated images."""
        if not self.cameras:
            return
        import rclpy
        from rclpy.executors import SingleThreadedExecutor
        from rclpy.qos import qos_profile_sensor_data
        from rclpy.signals import SignalHandlerOptions
        from sensor_msgs.msg import Image

        os.environ.update(node_environment(os.environ, find_dds_profile(Path.cwd())))
        self._context = rclpy.Context()
        rclpy.init(context=self._context, signal_handler_options=SignalHandlerOptions.NO)  # uvicorn's signals
        node = rclpy.create_node("face_dashboard", context=self._context)
        for camera in self.cameras:
            topic = self._topic.format(camera=camera)
            node.create_subscription(Image, topic, partial(self._on_image, camera), qos_profile_sensor_data)
        executor = SingleThreadedExecutor(context=self._context)
        executor.add_node(node)

        def spin() -> None:
            while self._context.ok():
                executor.spin_once(timeout_sec=0.1)
            executor.shutdown()
            node.destroy_node()

        self._thread = threading.Thread(target=spin, name="camera-streams", daemon=True)
        self._thread.start()

    def _on_image(self, camera: str, msg: object) -> None:
        now = time.monotonic()
        if now - self._encoded_s.get(camera, -1e9) < self._min_interval_s:
            return
        self._encoded_s[camera] = now
        try:
            image = image_msg_to_array(msg)
        except ImageConversionError:  # an encoding the annotator never sends: no picture, no crash
            return
        ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        if ok:
            with self._lock:
                sequence = self._frames.get(camera, (0, b""))[0] + 1
                self._frames[camera] = (sequence, jpeg.tobytes())

    def latest(self, camera: str) -> tuple[int, bytes] | None:
        with self._lock:
            return self._frames.get(camera)

    def stop(self) -> None:
        if self._context is not None:
            self._context.try_shutdown()
            if self._thread is not None:
                self._thread.join(timeout=5)
