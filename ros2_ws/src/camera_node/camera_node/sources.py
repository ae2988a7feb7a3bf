"""Frame sources behind one small interface, chosen from the ``source`` parameter string.

Accepted forms (also listed in every "unknown source" error):

- ``/dev/videoN`` or ``N``: a V4L2 camera, through OpenCV;
- ``picamera2`` or ``picamera2:N``: a Raspberry Pi camera, through the ``picamera2`` module;
- ``rtsp://...``, ``rtsps://...``, ``http://...``, ``https://...``: a network stream (OpenCV/FFmpeg);
- a video file path: anything OpenCV/FFmpeg decodes;
- a folder of images: read in sorted file-name order;
- a rosbag2 bag: its folder, ``metadata.yaml``, ``.db3`` or ``.mcap`` file (sqlite3 or mcap storage).

Live sources (cameras, streams) are read continuously in a thread that keeps only the newest frame,
stamped with the wall clock when it was grabbed: a reader paced slower than the camera then gets
the current scene with its true capture time instead of a frame queued in the driver. Finite
sources (files, folders, bags) are read on demand and stamped when read, except bags, whose frames
keep the stamp recorded in their header (``bag_stamps="recorded"``) or get the read time (``"now"``).
A recording (video file, image folder) can instead carry its own time (:func:`open_recording`):
frame ``i`` at ``start + i / fps`` by a :class:`FrameClock`, so replaying a store day, through the
node or offline (``face_offline``), always gives the same stamps whatever the publishing pace.
All frames are BGR ``uint8`` arrays.
"""

from __future__ import annotations

import importlib
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import urlparse

import cv2
import numpy as np
from face_common.images import (
    ImageConversionError,
    compressed_msg_to_array,
    decode_image_file,
    image_msg_to_array,
)
from face_common.settings import setting
from face_common.timestamps import utc_ns

from camera_node.bag_files import (
    IMAGE_TYPE,
    TYPESTORE,
    BagError,
    image_connection,
    is_bag,
    open_reader,
    stamp_ns,
    with_stamp,
)
from camera_node.resize import ResizeMode

SOURCE_FORMS = (
    "'/dev/videoN' or 'N' (V4L2 camera), 'picamera2' or 'picamera2:N' (Raspberry Pi camera), "
    "'rtsp://...', 'rtsps://...', 'http://...' or 'https://...' (network stream), a video file, "
    "a folder of images, or a rosbag2 bag (folder, metadata.yaml, .db3 or .mcap)"
)
STREAM_SCHEMES = ("rtsp", "rtsps", "http", "https")
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".pgm", ".ppm"})
BAG_STAMPS = ("recorded", "now")
LIVE_FRAME_TIMEOUT_S = 5.0
DEFAULT_FOLDER_FPS = 1.0
"""An image folder's frame rate when none is given: a photo a second."""


@dataclass(frozen=True)
class CameraSettings:
    """What ``camera_node`` reads, at which rate and size it publishes, and when it stops."""

    camera_id: str = setting("cam1", "Camera id: header frame_id of every frame (and the namespace)")
    source: str = setting("", f"What to read: {SOURCE_FORMS}", any_type=True)
    fps: float = setting(12.0, "Frames per second published", 0.1, 240.0)
    width: int = setting(1280, "Published frame width (pixels)", 1, 8192)
    height: int = setting(720, "Published frame height (pixels)", 1, 8192)
    resize_mode: str = setting(
        "letterbox",
        "Fit to width x height: keep aspect and pad black, stretch, or leave as is",
        choices=tuple(ResizeMode),
    )
    loop: bool = setting(False, "Restart a finite source at its end")
    max_frames: int = setting(0, "Stop after this many frames (0 = unlimited)", 0, 2**31 - 1)
    topic: str = setting("", "Bag sources: image topic to replay (default: the only one)")
    bag_stamps: str = setting("recorded", "Bag sources: header stamps", choices=BAG_STAMPS)
    min_subscribers: int = setting(0, "Wait for this many subscribers before the first frame", 0, 100)
    recorded_start: str = setting(
        "",
        "Video files and image folders: the recording's own time, ISO 8601 (no zone = UTC): frame i "
        "is stamped recorded_start + i / recorded_fps, whatever the pace ('' = the capture clock)",
    )
    recorded_fps: float = setting(
        0.0,
        "With recorded_start: the recording's frame rate (0 = the video's own; 1 for an image folder)",
        0.0,
        240.0,
    )


V4L2_API = cv2.CAP_V4L2 if sys.platform.startswith("linux") else cv2.CAP_ANY


class SourceError(ValueError):
    """The source string names nothing that can be opened."""


class FrameError(RuntimeError):
    """One frame could not be read or decoded; the source itself goes on."""


@dataclass(frozen=True)
class StoredImage:
    """A bag's serialized bgr8 ``sensor_msgs/Image`` (packed rows), republishable byte for byte."""

    cdr: bytes
    frame_id: str


@dataclass
class Frame:
    image: np.ndarray
    """BGR, uint8, ``H x W x 3``."""
    stamp_ns: int
    """Capture time, nanoseconds since the Unix epoch."""
    stored: StoredImage | None = None


class FrameSource(Protocol):
    description: str
    finite: bool

    def read(self) -> Frame | None:
        """The next frame, or None at the end of the source. Raises FrameError for one bad frame."""

    def rewind(self) -> None:
        """Start again from the beginning (reconnect, for live sources)."""

    def close(self) -> None: ...


class Capture(Protocol):
    """A device or stream handle that yields stamped frames one by one."""

    def grab_frame(self) -> Frame | None: ...

    def release(self) -> None: ...


class OpenCvCapture:
    """``cv2.VideoCapture`` over a device index/path, a stream URL or a video file."""

    def __init__(
        self, target: int | str, api: int, description: str, width: int = 0, height: int = 0
    ) -> None:
        self._capture = cv2.VideoCapture(target, api)
        if not self._capture.isOpened():
            raise SourceError(f"cannot open {description}")
        if width > 0 and height > 0:  # cameras deliver the asked size when they can: no resize later
            self._capture.set(cv2.CAP_PROP_FRAME_WIDTH, width)
            self._capture.set(cv2.CAP_PROP_FRAME_HEIGHT, height)

    def grab_frame(self) -> Frame | None:
        if not self._capture.grab():
            return None
        stamp = time.time_ns()  # after grab, before decode: the closest to the exposure OpenCV offers
        ok, image = self._capture.retrieve()
        if not ok or image is None:
            raise FrameError("grabbed a frame that OpenCV could not decode")
        if image.ndim == 2:
            image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
        return Frame(image, stamp)

    def release(self) -> None:
        self._capture.release()


class PiCamera2Capture:
    """A Raspberry Pi camera through ``picamera2`` (libcamera)."""

    def __init__(self, index: int, width: int, height: int) -> None:
        picamera2 = import_picamera2()
        try:
            self._camera = picamera2.Picamera2(index)
            # picamera2's "RGB888" is stored B, G, R in memory: OpenCV's BGR order.
            size = (width, height) if width > 0 and height > 0 else (1280, 720)
            config = self._camera.create_video_configuration(main={"size": size, "format": "RGB888"})
            self._camera.configure(config)
            self._camera.start()
        except Exception as err:  # libcamera raises several types when a camera is absent or busy
            raise SourceError(f"cannot open Raspberry Pi camera {index}: {err}") from err

    def grab_frame(self) -> Frame | None:
        image = self._camera.capture_array("main")
        return Frame(np.ascontiguousarray(image[:, :, :3]), time.time_ns())

    def release(self) -> None:
        self._camera.stop()
        self._camera.close()


def import_picamera2() -> object:
    try:
        return importlib.import_module("picamera2")
    except ImportError as err:
        raise SourceError(
            "source 'picamera2' needs the picamera2 module, which is not installed: on Raspberry Pi OS "
            "run 'sudo apt install python3-picamera2' and create the venv with --system-site-packages"
        ) from err


class LiveSource:
    """Reads a capture continuously in a thread and hands out only the newest frame."""

    finite = False

    def __init__(self, open_capture: Callable[[], Capture], description: str) -> None:
        self.description = description
        self._open_capture = open_capture
        self._condition = threading.Condition()
        self._start()

    def _start(self) -> None:
        self._capture = self._open_capture()  # in the caller's thread, so open errors surface at once
        self._latest: Frame | None = None
        self._ended = False
        self._failure: Exception | None = None
        self._stopping = False
        self._thread = threading.Thread(target=self._grab_loop, name=self.description, daemon=True)
        self._thread.start()

    def _grab_loop(self) -> None:
        while not self._stopping:
            try:
                frame = self._capture.grab_frame()
            except FrameError:
                continue
            except Exception as err:  # a device that fails for good ends the source; read() reports why
                self._failure, frame = err, None
            with self._condition:
                if frame is None:
                    self._ended = True
                else:
                    self._latest = frame
                self._condition.notify_all()
            if frame is None:
                return

    def read(self) -> Frame | None:
        with self._condition:
            if not self._condition.wait_for(
                lambda: self._latest is not None or self._ended, timeout=LIVE_FRAME_TIMEOUT_S
            ):
                raise FrameError(f"no frame from {self.description} for {LIVE_FRAME_TIMEOUT_S:.0f} s")
            frame, self._latest = self._latest, None
            failure, self._failure = self._failure, None
        if frame is None and failure is not None:
            raise FrameError(f"{self.description} failed: {failure}")
        return frame

    def rewind(self) -> None:
        self.close()
        self._start()

    def close(self) -> None:
        self._stopping = True
        self._thread.join(timeout=LIVE_FRAME_TIMEOUT_S)
        self._capture.release()


class VideoFileSource:
    finite = True

    def __init__(self, path: Path) -> None:
        self.description = f"video file {path}"
        self._path = path
        self._capture = OpenCvCapture(str(path), cv2.CAP_ANY, self.description)

    def read(self) -> Frame | None:
        return self._capture.grab_frame()

    def rewind(self) -> None:
        self._capture.release()
        self._capture = OpenCvCapture(str(self._path), cv2.CAP_ANY, self.description)

    def close(self) -> None:
        self._capture.release()


class ImageFolderSource:
    finite = True

    def __init__(self, folder: Path) -> None:
        self.description = f"image folder {folder}"
        self.paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        if not self.paths:
            raise SourceError(f"{folder} has no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
        self._next = 0

    def read(self) -> Frame | None:
        if self._next >= len(self.paths):
            return None
        path = self.paths[self._next]
        self._next += 1
        try:  # not cv2.imread: it returns a truncated JPEG with grey rows instead of failing
            image = decode_image_file(path.read_bytes(), f"image {path.name}")
        except (ImageConversionError, OSError) as err:
            raise FrameError(str(err)) from err
        return Frame(image, time.time_ns())

    def rewind(self) -> None:
        self._next = 0

    def close(self) -> None:
        """Nothing is held open between reads."""


class BagSource:
    """Image messages of one topic of a rosbag2 bag, in recorded order."""

    finite = True

    def __init__(self, path: Path, topic: str = "", bag_stamps: str = "recorded") -> None:
        if bag_stamps not in BAG_STAMPS:
            raise SourceError(f"unknown bag_stamps {bag_stamps!r}; accepted: {', '.join(BAG_STAMPS)}")
        try:
            self._reader = open_reader(path)
            self._connection = image_connection(self._reader, topic)
        except BagError as err:
            raise SourceError(str(err)) from err
        self.description = f"bag {path} topic {self._connection.topic}"
        self._restamp = bag_stamps == "now"
        self.rewind()

    def read(self) -> Frame | None:
        item = next(self._messages, None)
        if item is None:
            return None
        _, _, cdr = item
        self._index += 1
        try:
            msg = TYPESTORE.deserialize_cdr(cdr, self._connection.msgtype)
            if self._connection.msgtype == IMAGE_TYPE:
                image = image_msg_to_array(msg, desired_encoding="bgr8")
            else:
                image = compressed_msg_to_array(msg, desired_encoding="bgr8")
        except (ImageConversionError, ValueError, IndexError) as err:
            raise FrameError(f"bag message {self._index} on {self._connection.topic}: {err}") from err
        stamp = time.time_ns() if self._restamp else stamp_ns(msg.header)
        stored = None
        if self._connection.msgtype == IMAGE_TYPE and msg.encoding == "bgr8" and msg.step == msg.width * 3:
            stored = StoredImage(with_stamp(cdr, stamp) if self._restamp else bytes(cdr), msg.header.frame_id)
        return Frame(image, stamp, stored)

    def rewind(self) -> None:
        self._messages = self._reader.messages(connections=[self._connection])
        self._index = 0

    def close(self) -> None:
        self._reader.close()


@dataclass(frozen=True)
class FrameClock:
    """Where a recording's frames sit in event time: frame ``i`` was captured at ``start + i / fps``."""

    start_ns: int
    fps: float

    def stamp_of(self, index: int) -> int:
        return self.start_ns + round(index * 1e9 / self.fps)

    def frame_of(self, stamp_ns: int) -> int:
        """The nearest frame (exact for this clock's stamps, nearest for a paced live camera)."""
        return round((stamp_ns - self.start_ns) * self.fps / 1e9)


def parse_start(text: str | None, source: Path) -> int:
    """A recording's start as UTC nanoseconds; a time without zone is UTC; None: the source's
    mtime. The node, offline processing and scoring read it alike, so they stamp the same frames."""
    if text is None:
        return source.stat().st_mtime_ns
    try:
        return utc_ns(text)
    except ValueError as err:
        raise ValueError(f"recording start: {err}") from err


def source_fps(source: Path) -> float:
    """Frame rate a recording was made at: the video's own, or 1 frame/s for an image folder."""
    if source.is_dir():
        return DEFAULT_FOLDER_FPS
    capture = cv2.VideoCapture(str(source))
    fps = capture.get(cv2.CAP_PROP_FPS)
    capture.release()
    if not fps or fps <= 0 or np.isnan(fps):
        raise ValueError(f"{source} has no frame rate; give the recording's frame rate")
    return fps


class RecordedTimeSource:
    """A video file or image folder whose frame ``i`` carries ``clock.stamp_of(i)`` (after a
    rewind, the count goes on: a looped recording moves forward in time)."""

    finite = True

    def __init__(self, source: VideoFileSource | ImageFolderSource, clock: FrameClock) -> None:
        self.clock = clock
        start = datetime.fromtimestamp(clock.start_ns / 1e9, UTC).isoformat()
        self.description = f"{source.description} (recorded from {start} at {clock.fps:g} fps)"
        self._source = source
        self._index = 0

    def read(self) -> Frame | None:
        index = self._index
        try:
            frame = self._source.read()
        except FrameError:
            self._index += 1  # a bad frame still takes its slot in time
            raise
        if frame is None:
            return None
        self._index += 1
        frame.stamp_ns = self.clock.stamp_of(index)
        return frame

    def rewind(self) -> None:
        self._source.rewind()

    def close(self) -> None:
        self._source.close()


def open_recording(source: str | Path, clock: FrameClock) -> RecordedTimeSource:
    """A video file or image folder stamped with its own time by ``clock`` (other sources have
    no frame rate of their own, and a bag has its recorded stamps)."""
    recording = open_source(str(source))
    if not isinstance(recording, VideoFileSource | ImageFolderSource):
        recording.close()
        raise SourceError(
            f"{recording.description} has no time of its own: only video files and image folders"
        )
    return RecordedTimeSource(recording, clock)


def open_camera_source(settings: CameraSettings) -> FrameSource:
    """``camera_node``'s source: stamped by the capture clock, or with ``recorded_start`` by the
    recording's own time."""
    s = settings
    if not s.recorded_start:
        return open_source(s.source, width=s.width, height=s.height, topic=s.topic, bag_stamps=s.bag_stamps)
    path = Path(s.source).expanduser()
    if not path.exists():
        raise SourceError(
            f"recorded_start needs a video file or image folder; no such file or folder {s.source!r}"
        )
    return open_recording(
        path, FrameClock(parse_start(s.recorded_start, path), s.recorded_fps or source_fps(path))
    )


def _without_credentials(url: str) -> str:
    """The URL for logs: a password in ``rtsp://user:password@host`` must never reach a log line."""
    parts = urlparse(url)
    host = parts.hostname or ""
    return parts._replace(netloc=f"{host}:{parts.port}" if parts.port else host).geturl()


def _device_index(text: str, prefix: str) -> int:
    index = text[len(prefix) :].removeprefix(":") or "0"
    if not index.isdigit():
        raise SourceError(f"{text!r}: expected {prefix} or {prefix}:N with N a camera index")
    return int(index)


def open_source(
    source: str | int, *, width: int = 0, height: int = 0, topic: str = "", bag_stamps: str = "recorded"
) -> FrameSource:
    """The frame source named by ``source`` (see the module docstring for the accepted forms).

    ``width``/``height`` are asked of cameras (they may deliver another size); ``topic`` and
    ``bag_stamps`` apply to bags.
    """
    text = str(source).strip()
    if not text:
        raise SourceError(f"empty source; accepted: {SOURCE_FORMS}")
    if text.isdigit() or text.startswith("/dev/video"):
        if not text.isdigit() and not Path(text).exists():
            raise SourceError(f"no such camera device {text}")
        target = int(text) if text.isdigit() else text
        description = f"V4L2 camera {text}"
        return LiveSource(lambda: OpenCvCapture(target, V4L2_API, description, width, height), description)
    if text == "picamera2" or text.startswith("picamera2:"):
        index = _device_index(text, "picamera2")
        import_picamera2()
        return LiveSource(lambda: PiCamera2Capture(index, width, height), f"Raspberry Pi camera {index}")
    if urlparse(text).scheme in STREAM_SCHEMES:
        description = f"stream {_without_credentials(text)}"
        return LiveSource(lambda: OpenCvCapture(text, cv2.CAP_FFMPEG, description), description)
    path = Path(text).expanduser()
    if not path.exists():
        raise SourceError(f"unknown source {text!r}: no such file or folder; accepted: {SOURCE_FORMS}")
    if is_bag(path):
        return BagSource(path, topic, bag_stamps)
    if path.is_dir():
        return ImageFolderSource(path)
    return VideoFileSource(path)
