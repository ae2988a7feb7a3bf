"""``face_offline``: recorded cameras (video files, image folders) through the graph's cores, no ROS.

Recorded footage and evaluations need the same events the live graph writes, so each frame goes
through the chain the nodes run, built by :func:`face_analytics.pipeline.open_pipeline` (detection
every few frames, tracks in between -> identity with the persistent gallery -> age/gender), into
``face_sink.schema.EventStore``. Frames are stamped from the file, not the clock (frame index /
fps after ``--start``, which defaults to the first source's modification time), so processing the
same footage twice writes the same natural keys and adds no rows. Several sources
(``CAMERA=PATH ...``, a store day's cameras) share one ``--start`` and run as the graph runs them:
a detector and tracker per camera, one gallery for all, frames in stamp order.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
from agegender_node.attribution import AttributionSettings
from camera_node.resize import ResizeMode, fit_to_size
from camera_node.sources import (
    FrameClock,
    FrameError,
    ImageFolderSource,
    SourceError,
    open_recording,
    parse_start,
    source_fps,
)
from face_common.faces import FrameRef
from face_common.settings import add_arguments, from_arguments
from face_detect_node.detection import DetectionConfig
from face_sink.mysql_store import add_visit_gap_option
from face_sink.schema import DEFAULT_SQLITE_PATH, open_sqlite_store
from identity_node.identification import IdentitySettings
from tqdm import tqdm

from face_analytics.pipeline import SourceFrame, interleave_by_stamp, open_pipeline, process_frames


@dataclass(frozen=True)
class FrameSize:
    """The camera node's output size and resize policy (its width/height/resize_mode)."""

    width: int
    height: int
    mode: ResizeMode


def source_frames(
    source: Path, camera_id: str, clock: FrameClock, size: FrameSize, every: int = 1
) -> Iterator[SourceFrame]:
    """Every ``every``-th frame of a recorded source, stamped by ``clock``.

    Frames come from camera_node's own sources, recorded-time stamping and resize policy, so
    offline processing sees exactly the images and stamps the camera node would publish for the
    same recording with ``recorded_start``.
    """
    frames = open_recording(source, clock)
    try:
        index = 0
        while True:
            try:
                frame = frames.read()
            except FrameError as err:
                image, stamp_ns, name = None, clock.stamp_of(index), f"frame {index}: {err}"
            else:
                if frame is None:
                    return
                image = fit_to_size(frame.image, size.width, size.height, size.mode)
                stamp_ns, name = frame.stamp_ns, f"frame {index}"
            if index % every == 0:
                yield SourceFrame(FrameRef(camera_id, stamp_ns), image, name)
            index += 1
    finally:
        frames.close()


def sampled_frame_count(source: Path, every: int) -> int | None:
    """How many frames the progress bar should expect (None when the container does not say)."""
    if source.is_dir():
        total = len(ImageFolderSource(source).paths)
    else:
        capture = cv2.VideoCapture(str(source))
        total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        capture.release()
        if total <= 0:
            return None
    return (total + every - 1) // every


@dataclass(frozen=True)
class CameraSource:
    """One camera's recording (a ``[CAMERA=]PATH`` argument)."""

    camera_id: str | None  # None: a bare path, which takes --camera-id
    path: Path

    @classmethod
    def parse(cls, text: str) -> CameraSource:
        """``CAMERA=PATH`` or a bare ``PATH`` (a path with '=' in it needs the ``CAMERA=`` prefix)."""
        camera_id, sep, path = text.partition("=")
        if not sep:
            return cls(None, Path(text))
        if not camera_id or "/" in camera_id or not path:
            raise argparse.ArgumentTypeError(f"{text!r}: expected [CAMERA=]PATH")
        return cls(camera_id, Path(path))


def camera_sources(sources: Sequence[CameraSource], default_camera_id: str) -> list[CameraSource]:
    """Every source with its camera id; raises ValueError on a bare path among several sources
    or a camera named twice."""
    if len(sources) > 1 and any(source.camera_id is None for source in sources):
        raise ValueError("with several sources, name each one's camera: CAMERA=PATH")
    named = [CameraSource(source.camera_id or default_camera_id, source.path) for source in sources]
    camera_ids = [source.camera_id for source in named]
    if len(set(camera_ids)) < len(camera_ids):
        raise ValueError(f"a camera named twice: {', '.join(camera_ids)}")
    return named


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="face_offline", description=__doc__.splitlines()[0])
    parser.add_argument(
        "sources",
        nargs="+",
        type=CameraSource.parse,
        metavar="[CAMERA=]PATH",
        help="video file or folder of images per camera; a bare path (one source only) is --camera-id's",
    )
    parser.add_argument("--database", type=Path, default=DEFAULT_SQLITE_PATH, help="SQLite event store")
    parser.add_argument("--gallery", type=Path, default=Path("face_gallery.sqlite"), help="face gallery file")
    add_visit_gap_option(parser, "per camera in the visits table, as the sink's visit_gap_s")
    parser.add_argument("--camera-id", default="camera", help="camera id of a bare PATH")
    parser.add_argument(
        "--start",
        help="capture time of every source's first frame, ISO 8601 (default: the first source's mtime)",
    )
    parser.add_argument(
        "--fps", type=float, help="frame rate of every source (default: each video's; 1 for a folder)"
    )
    parser.add_argument("--every", type=int, default=1, help="process every N-th frame")
    parser.add_argument("--width", type=int, default=1280, help="frame width, as camera_node's width")
    parser.add_argument("--height", type=int, default=720, help="frame height, as camera_node's height")
    parser.add_argument(
        "--resize-mode",
        type=ResizeMode.parse,
        default=ResizeMode.LETTERBOX,
        help="as camera_node's resize_mode",
    )
    # face_detect_node's settings; the frame rate is the source's (--fps / --every).
    add_arguments(parser, DetectionConfig, exclude={"frame_rate"})
    # identity_node's and agegender_node's settings. Both stages look at the same views of a track
    # and read the same model folder: one --max-views-per-track and one --model-dir for both.
    add_arguments(parser, IdentitySettings)
    add_arguments(
        parser,
        AttributionSettings,
        exclude={"max_views_per_track", "model_dir"},
        options={"backend": "--agegender-backend", "num_threads": "--threads"},
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    if args.every < 1:
        print("face_offline: --every must be >= 1", file=sys.stderr)
        return 2
    try:
        sources = camera_sources(args.sources, args.camera_id)
        for source in sources:
            if not source.path.exists():
                raise ValueError(f"no such file or folder {source.path}")
        start_ns = parse_start(args.start, sources[0].path)
        size = FrameSize(args.width, args.height, args.resize_mode)
        fps = {source.camera_id: args.fps or source_fps(source.path) for source in sources}
        cameras = [
            source_frames(
                source.path, source.camera_id, FrameClock(start_ns, fps[source.camera_id]), size, args.every
            )
            for source in sources
        ]
    except (SourceError, ValueError) as err:
        print(f"face_offline: {err}", file=sys.stderr)
        return 2
    detection = {
        camera_id: from_arguments(args, DetectionConfig, frame_rate=camera_fps / args.every)
        for camera_id, camera_fps in fps.items()
    }
    identity = from_arguments(args, IdentitySettings)
    attribution = from_arguments(
        args, AttributionSettings, max_views_per_track=args.max_views_per_track, model_dir=args.model_dir
    )
    counts = [sampled_frame_count(source.path, args.every) for source in sources]
    with open_pipeline(detection, identity, attribution, args.gallery) as pipeline:
        store = open_sqlite_store(args.database, visit_gap_s=args.visit_gap_s)
        progress = tqdm(
            interleave_by_stamp(cameras),
            total=None if None in counts else sum(counts),
            unit="frame",
            disable=args.no_progress,
        )
        try:
            counters = process_frames(progress, pipeline, store)
        finally:
            store.close()
    print(
        f"cameras {', '.join(fps)}: frames {counters.frames} (unreadable {counters.unreadable_frames}), "
        f"faces {counters.faces} (skipped by a stage {counters.skipped_faces}), "
        f"new events {counters.events_inserted} -> {args.database}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
