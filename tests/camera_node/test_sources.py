"""Frame sources: each accepted form opens and reads real data; every bad form gives a clear error."""

from __future__ import annotations

import http.server
import itertools
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from camera_node.bag_files import TYPESTORE, ImageBagWriter
from camera_node.sources import (
    BagSource,
    FrameError,
    ImageFolderSource,
    LiveSource,
    SourceError,
    VideoFileSource,
    open_source,
)
from face_common.images import array_to_compressed_msg, array_to_image_msg
from rclpy.qos import qos_profile_sensor_data
from rclpy.serialization import serialize_message
from std_msgs.msg import Header

CLIP_FRAMES = 275


@pytest.fixture(scope="module")
def clip(face_data: Path) -> Path:
    return face_data / "video" / "short_hamilton_clip.mp4"


def test_video_file_reads_every_frame_then_ends_and_rewinds(clip: Path) -> None:
    source = open_source(str(clip))
    assert isinstance(source, VideoFileSource) and source.finite
    first = source.read()
    frames = 1
    last_stamp = first.stamp_ns
    while (frame := source.read()) is not None:
        assert frame.image.shape == (360, 640, 3) and frame.image.dtype == np.uint8
        assert frame.stamp_ns >= last_stamp
        last_stamp = frame.stamp_ns
        frames += 1
    assert frames == CLIP_FRAMES
    assert source.read() is None
    source.rewind()
    np.testing.assert_array_equal(source.read().image, first.image)
    assert abs(first.stamp_ns - time.time_ns()) < 60e9
    source.close()


def test_image_folder_is_read_in_sorted_order_and_skips_bad_files(tmp_path: Path) -> None:
    colours = {"b.png": 20, "a.png": 10, "c.jpg": 30}
    for name, value in colours.items():
        cv2.imwrite(str(tmp_path / name), np.full((30, 40, 3), value, np.uint8))
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / "broken.png").write_bytes(b"\x89PNG garbage")
    source = open_source(str(tmp_path))
    assert isinstance(source, ImageFolderSource)
    assert [p.name for p in source.paths] == ["a.png", "b.png", "broken.png", "c.jpg"]
    assert int(source.read().image.mean()) == 10
    assert int(source.read().image.mean()) == 20
    with pytest.raises(FrameError, match=r"cannot decode image broken\.png"):
        source.read()
    assert abs(int(source.read().image.mean()) - 30) <= 1
    assert source.read() is None
    source.rewind()
    assert int(source.read().image.mean()) == 10


def test_grey_images_come_out_bgr(tmp_path: Path) -> None:
    cv2.imwrite(str(tmp_path / "grey.png"), np.full((8, 8), 50, np.uint8))
    frame = open_source(str(tmp_path)).read()
    assert frame.image.shape == (8, 8, 3)


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ("", "empty source; accepted: '/dev/videoN'"),
        ("   ", "empty source"),
        ("no/such/clip.mp4", "unknown source 'no/such/clip.mp4': no such file or folder; accepted:"),
        ("ftp://example.invalid/x.mp4", "unknown source .* accepted: .*rtsp://"),
        ("/dev/video99", "no such camera device /dev/video99"),
        ("picamera2:front", "expected picamera2 or picamera2:N"),
    ],
)
def test_unknown_or_malformed_sources_are_refused_clearly(source: str, fragment: str) -> None:
    with pytest.raises(SourceError, match=fragment):
        open_source(source)


def test_error_lists_every_accepted_form() -> None:
    with pytest.raises(SourceError) as info:
        open_source("webcam please")
    for form in (
        "/dev/videoN",
        "picamera2",
        "rtsp://",
        "http://",
        "video file",
        "folder of images",
        "rosbag2",
    ):
        assert form in str(info.value)


def test_empty_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "readme.md").write_text("no images here")
    with pytest.raises(SourceError, match="has no images"):
        open_source(str(tmp_path))


def test_file_that_is_not_a_video_is_refused(tmp_path: Path) -> None:
    (tmp_path / "clip.mp4").write_text("not a video")
    with pytest.raises(SourceError, match="cannot open video file"):
        open_source(str(tmp_path / "clip.mp4"))


@pytest.mark.parametrize("source", ["picamera2", "picamera2:0", "picamera2:1"])
def test_missing_picamera2_gives_install_hint(monkeypatch: pytest.MonkeyPatch, source: str) -> None:
    monkeypatch.setitem(sys.modules, "picamera2", None)  # how Python marks a module as not importable
    with pytest.raises(
        SourceError, match=r"picamera2 module, which is not installed.*apt install python3-picamera2"
    ):
        open_source(source)


STREAM_FRAMES = 30


@pytest.fixture
def mjpeg_stream(clip: Path) -> Iterator[str]:
    """An MJPEG-over-HTTP stream (what IP cameras serve) of the clip's first frames at 30 fps."""
    capture = cv2.VideoCapture(str(clip))
    jpegs = [cv2.imencode(".jpg", capture.read()[1])[1].tobytes() for _ in range(STREAM_FRAMES)]
    capture.release()

    class MjpegHandler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
            self.end_headers()
            for jpeg in jpegs:
                part = b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n" % len(jpeg)
                self.wfile.write(part + jpeg + b"\r\n")
                time.sleep(1 / 30)

        def log_message(self, *args: object) -> None:
            """Keep the test output quiet."""

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), MjpegHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/video.mjpg"
    server.shutdown()
    thread.join()


def test_http_stream_is_a_live_source_with_fresh_frames(mjpeg_stream: str) -> None:
    source = open_source(mjpeg_stream)
    assert isinstance(source, LiveSource) and not source.finite
    assert source.description == f"stream {mjpeg_stream}"
    frames = []
    while (frame := source.read()) is not None:
        frames.append(frame)
        time.sleep(1 / 10)  # a reader slower than the camera gets the newest frames, not a backlog
    source.close()
    assert frames and all(f.image.shape == (360, 640, 3) for f in frames)
    assert 3 <= len(frames) < STREAM_FRAMES * 0.6
    gaps_ms = [(b.stamp_ns - a.stamp_ns) / 1e6 for a, b in itertools.pairwise(frames)]
    assert min(gaps_ms) > 50  # consecutive reads are ~100 ms apart, stamped at grab time


def test_stream_credentials_never_reach_messages() -> None:
    with pytest.raises(SourceError) as info:
        open_source("rtsp://viewer:s3cret@127.0.0.1:9/stream")
    assert "s3cret" not in str(info.value)
    assert "rtsp://127.0.0.1:9/stream" in str(info.value)


def make_image_msg(image: np.ndarray, encoding: str, stamp_ns: int, frame_id: str = "cam0") -> bytes:
    header = Header(frame_id=frame_id)
    header.stamp.sec, header.stamp.nanosec = divmod(stamp_ns, 1_000_000_000)
    return serialize_message(array_to_image_msg(image, encoding, header))


def write_bag(path: Path, topics: dict[str, list[bytes]], storage: str = "sqlite3") -> None:
    """A bag per topic list; several topics go into sibling bags merged by name (one writer each)."""
    for topic, messages in topics.items():
        msgtype = "sensor_msgs/msg/CompressedImage" if "compressed" in topic else "sensor_msgs/msg/Image"
        writer = ImageBagWriter(path, topic, msgtype, [qos_profile_sensor_data], storage)
        for i, cdr in enumerate(messages):
            writer.write(1_000 + i, cdr)
        writer.close()


STAMPS = [1_700_000_000_000_000_000 + k * 83_333_333 for k in range(5)]


def coloured(k: int) -> np.ndarray:
    image = np.zeros((36, 64, 3), np.uint8)
    image[:, :, k % 3] = 40 * (k + 1)
    return image


@pytest.mark.parametrize("storage", ["sqlite3", "mcap"])
@pytest.mark.parametrize("form", ["folder", "metadata.yaml", "storage file"])
def test_bag_frames_keep_recorded_stamps_and_bytes(tmp_path: Path, storage: str, form: str) -> None:
    bag = tmp_path / "bag"
    stored = [make_image_msg(coloured(k), "bgr8", stamp) for k, stamp in enumerate(STAMPS)]
    write_bag(bag, {"/cam0/image_raw": stored}, storage)
    path = {"folder": bag, "metadata.yaml": bag / "metadata.yaml"}.get(form) or next(
        p for p in bag.iterdir() if p.suffix in (".db3", ".mcap")
    )
    source = open_source(str(path))
    assert isinstance(source, BagSource) and source.finite
    frames = [source.read() for _ in STAMPS]
    assert source.read() is None
    assert [f.stamp_ns for f in frames] == STAMPS
    for k, frame in enumerate(frames):
        np.testing.assert_array_equal(frame.image, coloured(k))
        assert frame.stored.cdr == stored[k] and frame.stored.frame_id == "cam0"
    source.rewind()
    assert source.read().stamp_ns == STAMPS[0]
    source.close()


def test_bag_stamps_now_restamps_frames_and_stored_bytes(tmp_path: Path) -> None:
    write_bag(tmp_path / "bag", {"/image_raw": [make_image_msg(coloured(0), "bgr8", STAMPS[0])]})
    before = time.time_ns()
    frame = open_source(str(tmp_path / "bag"), bag_stamps="now").read()
    assert before <= frame.stamp_ns <= time.time_ns()
    header = TYPESTORE.deserialize_cdr(frame.stored.cdr, "sensor_msgs/msg/Image").header
    assert header.stamp.sec * 1_000_000_000 + header.stamp.nanosec == frame.stamp_ns


@pytest.mark.parametrize(
    ("encoding", "image"),
    [("rgb8", coloured(1)[:, :, ::-1].copy()), ("mono8", np.full((36, 64), 77, np.uint8))],
)
def test_bag_images_in_other_encodings_become_bgr_and_are_not_republished_as_is(
    tmp_path: Path, encoding: str, image: np.ndarray
) -> None:
    write_bag(tmp_path / "bag", {"/image_raw": [make_image_msg(image, encoding, STAMPS[0])]})
    frame = open_source(str(tmp_path / "bag")).read()
    expected = coloured(1) if encoding == "rgb8" else np.full((36, 64, 3), 77, np.uint8)
    np.testing.assert_array_equal(frame.image, expected)
    assert frame.stored is None


def test_compressed_bag_topic_is_decoded(tmp_path: Path) -> None:
    header = Header(frame_id="cam0")
    header.stamp.sec = 1_700_000_000
    msg = array_to_compressed_msg(coloured(2), fmt="png", header=header)
    write_bag(tmp_path / "bag", {"/image_raw/compressed": [serialize_message(msg)]})
    frame = open_source(str(tmp_path / "bag")).read()
    np.testing.assert_array_equal(frame.image, coloured(2))
    assert frame.stamp_ns == 1_700_000_000 * 1_000_000_000 and frame.stored is None


def test_bad_bag_message_is_one_frame_error(tmp_path: Path) -> None:
    good = make_image_msg(coloured(0), "bgr8", STAMPS[0])
    bad = array_to_image_msg(coloured(0), "bgr8")
    bad.height = 99  # data no longer matches height x step
    write_bag(tmp_path / "bag", {"/image_raw": [serialize_message(bad), good]})
    source = open_source(str(tmp_path / "bag"))
    with pytest.raises(FrameError, match="bag message 1 on /image_raw: data has"):
        source.read()
    assert source.read().stamp_ns == STAMPS[0]


@pytest.fixture
def two_topic_bag(tmp_path: Path) -> Path:
    """A bag with two image topics, written with rosbags directly (one writer, two connections)."""
    from rosbags.rosbag2 import Writer

    path = tmp_path / "bag"
    with Writer(path, version=9) as writer:
        for topic in ("/cam0/image_raw", "/cam1/image_raw"):
            conn = writer.add_connection(topic, "sensor_msgs/msg/Image", typestore=TYPESTORE)
            writer.write(conn, 1, make_image_msg(coloured(0), "bgr8", STAMPS[0], topic.split("/")[1]))
    return path


def test_bag_topic_is_chosen_by_parameter(two_topic_bag: Path) -> None:
    frame = open_source(str(two_topic_bag), topic="cam1/image_raw").read()
    assert frame.stored.frame_id == "cam1"


@pytest.mark.parametrize(
    ("topic", "fragment"),
    [
        (
            "",
            r"has 2 image topics \(/cam0/image_raw \(sensor_msgs/msg/Image\), /cam1/image_raw .*'topic'",
        ),
        ("/cam2/image_raw", "has no image topic '/cam2/image_raw'; image topics: /cam0/image_raw"),
    ],
)
def test_ambiguous_or_missing_bag_topic_is_refused(two_topic_bag: Path, topic: str, fragment: str) -> None:
    with pytest.raises(SourceError, match=fragment):
        open_source(str(two_topic_bag), topic=topic)


def test_storage_file_without_metadata_is_refused(tmp_path: Path) -> None:
    (tmp_path / "lonely.mcap").write_bytes(b"\x89MCAP0\r\n")
    with pytest.raises(SourceError, match=r"is not a rosbag2 bag: .*metadata\.yaml is missing"):
        open_source(str(tmp_path / "lonely.mcap"))


def test_unknown_bag_stamp_policy_is_refused(tmp_path: Path) -> None:
    write_bag(tmp_path / "bag", {"/image_raw": [make_image_msg(coloured(0), "bgr8", STAMPS[0])]})
    with pytest.raises(SourceError, match="unknown bag_stamps 'later'; accepted: recorded, now"):
        open_source(str(tmp_path / "bag"), bag_stamps="later")
