"""Camera frame transport cost per 720p frame: bytes on the wire, Mbit/s per camera, and the
encode / serialise / decode time of each image format. No broker or second process needed.

Why: a storefront runs several cameras into one server, so the frame format sets the network
(raw ``bgr8`` at 12 fps is ~265 Mbit/s a camera) and the CPU spent packing and unpacking frames.
For each format a real frame (``video/`` clip, letterboxed to 1280x720 as ``camera_node`` does)
goes through the product's own conversions:

- encode: BGR array -> ``sensor_msgs/Image`` (``mono8`` includes the grey conversion) or
  ``sensor_msgs/CompressedImage`` (``array_to_image_msg`` / ``array_to_compressed_msg``);
- bytes: the CDR-serialised message (``rclpy.serialization``), what DDS or a bag carries;
- ser+de: serialise and deserialise the message (rclpy's cost per hop, both ends);
- decode: message -> the ``bgr8`` array the detector works on (``image_msg_to_array`` /
  ``compressed_msg_to_array``); this is the pipeline's decode stage.

    python bench/bench_transport.py [--frames 12] [--repeat 3] [--fps 12] [--json]
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

import cv2
from bench_common import (
    add_output_arguments,
    default_clip,
    describe_machine,
    emit,
    format_records,
    machine_info,
    median_ms,
    video_frames,
)
from face_common.images import (
    array_to_compressed_msg,
    array_to_image_msg,
    compressed_msg_to_array,
    image_msg_to_array,
)
from rclpy.serialization import deserialize_message, serialize_message
from sensor_msgs.msg import CompressedImage, Image

FORMATS = ("bgr8", "mono8", "jpeg50", "jpeg70", "jpeg85", "jpeg95")
"""Raw colour, raw grey (the seed's choice) and JPEG colour at four qualities."""


def encoder(name: str):
    """The BGR-frame -> message function and message class for a format name."""
    if name == "bgr8":
        return (lambda frame: array_to_image_msg(frame, "bgr8")), Image
    if name == "mono8":
        return (lambda frame: array_to_image_msg(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY), "mono8")), Image
    if name.startswith("jpeg"):
        quality = int(name.removeprefix("jpeg"))
        return (lambda frame: array_to_compressed_msg(frame, "jpeg", quality)), CompressedImage
    raise ValueError(f"unknown format {name!r}; known: {', '.join(FORMATS)}")


def round_trip(message, message_type):
    """What rclpy does to a message per hop: serialise at the publisher, deserialise at the reader."""
    return deserialize_message(serialize_message(message), message_type)


def bench_format(name: str, frames: list, repeat: int, fps: float) -> dict:
    encode, message_type = encoder(name)
    decode = image_msg_to_array if message_type is Image else compressed_msg_to_array
    sizes, encode_ms, wire_ms, decode_ms = [], [], [], []
    for frame in frames:
        message = encode(frame)
        sizes.append(len(serialize_message(message)))
        encode_ms.append(median_ms(lambda frame=frame: encode(frame), repeat))
        wire_ms.append(median_ms(lambda message=message: round_trip(message, message_type), repeat))
        decode_ms.append(median_ms(lambda message=message: decode(message, "bgr8"), repeat))
    kilobytes = statistics.median(sizes) / 1000
    return {
        "format": name,
        "kb_per_frame": round(kilobytes, 1),
        "kb_min": round(min(sizes) / 1000, 1),
        "kb_max": round(max(sizes) / 1000, 1),
        "mbit_s": round(kilobytes * 8 * fps / 1000, 1),
        "encode_ms": round(statistics.median(encode_ms), 2),
        "serde_ms": round(statistics.median(wire_ms), 2),
        "decode_ms": round(statistics.median(decode_ms), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--video", type=Path, default=None, help="clip (default: the street clip)")
    parser.add_argument("--frames", type=int, default=12, help="evenly spaced frames of the clip")
    parser.add_argument("--repeat", type=int, default=3, help="timed calls per frame and step (median)")
    parser.add_argument("--fps", type=float, default=12.0, help="camera rate for the Mbit/s column")
    parser.add_argument("--formats", default=",".join(FORMATS), help="comma-separated formats")
    add_output_arguments(parser)
    args = parser.parse_args()
    clip = args.video or default_clip()
    frames = video_frames([clip], args.frames)
    if not frames:
        raise SystemExit(f"no frames read from {clip}")
    rows = [bench_format(name, frames, args.repeat, args.fps) for name in args.formats.split(",")]
    report = {
        "machine": machine_info(),
        "clip": clip.name,
        "frames": len(frames),
        "frame": "x".join(map(str, frames[0].shape[1::-1])),
        "fps": args.fps,
        "repeat": args.repeat,
        "results": rows,
    }

    def table() -> str:
        columns = {
            "format": "format",
            "KB/frame": "kb_per_frame",
            "KB min": "kb_min",
            "KB max": "kb_max",
            f"Mbit/s @{args.fps:g}fps": "mbit_s",
            "encode ms": "encode_ms",
            "ser+de ms": "serde_ms",
            "decode ms": "decode_ms",
        }
        return (
            f"{describe_machine(report['machine'])}\n"
            f"{len(frames)} frames of {clip.name} letterboxed to {report['frame']}, "
            f"median over frames of the median of {args.repeat} calls\n" + format_records(columns, rows, 2)
        )

    emit(args, report, table)


if __name__ == "__main__":
    main()
