"""The live annotated picture: images published on a camera's image_annotated topic (a real DDS
domain of the test's own) come out of /api/stream/<camera>.mjpg as JPEG parts of the same picture."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request

import cv2
import numpy as np
import pytest
from face_common.images import array_to_image_msg
from rclpy.qos import qos_profile_sensor_data
from ros_processes import wait_until
from sensor_msgs.msg import Image
from store_day import STAFF_TOKEN

AUTH = {"Authorization": f"Bearer {STAFF_TOKEN}"}


def first_jpeg(url: str, received: list[np.ndarray]) -> None:
    """Read MJPEG parts until one JPEG is whole; keep it decoded."""
    request = urllib.request.Request(url, headers=AUTH)
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.headers["Content-Type"] == "multipart/x-mixed-replace; boundary=frame"
        data = b""
        while (end := data.find(b"\xff\xd9")) < 0:
            data += response.read1(65536)
        start = data.index(b"\xff\xd8")
        received.append(cv2.imdecode(np.frombuffer(data[start : end + 2], np.uint8), cv2.IMREAD_COLOR))


def test_annotated_images_stream_as_mjpeg(serve, ros_graph):
    url = serve(ros_graph.env, stream_cameras=["cam1"], stream_fps=10.0)
    request = urllib.request.Request(f"{url}/api/streams", headers=AUTH)
    assert urllib.request.urlopen(request).read() == b'["cam1"]'
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(urllib.request.Request(f"{url}/api/stream/cam9.mjpg", headers=AUTH))
    assert missing.value.code == 404

    received: list[np.ndarray] = []
    reader = threading.Thread(target=first_jpeg, args=(f"{url}/api/stream/cam1.mjpg", received), daemon=True)
    reader.start()
    picture = np.zeros((240, 320, 3), np.uint8)
    picture[:, :160] = (0, 0, 255)  # left half red, right half black (bgr8)
    publisher = ros_graph.node.create_publisher(Image, "/cam1/image_annotated", qos_profile_sensor_data)
    message = array_to_image_msg(picture, "bgr8")
    assert wait_until(lambda: publisher.publish(message) or bool(received), timeout_s=45, poll_s=0.2)
    (jpeg,) = received
    assert jpeg.shape == picture.shape
    assert np.abs(jpeg.astype(int) - picture).mean() < 3
