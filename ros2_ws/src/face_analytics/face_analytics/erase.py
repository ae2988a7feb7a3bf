"""``face_erase FACE_ID``: forget one anonymous face everywhere the product keeps it.

The gallery (its descriptors, so the face is never recognised again), the event store (its event
and visit rows), the crop archive (its saved crops) and the saved annotated frames that show it.

The gallery belongs to the identity node while it runs, so then the node erases the ID itself
(its ``erase_service``, found when it answers within ``--service-timeout-s``) and announces it on
``/erased_faces``, where the annotator and the Kafka events bridge pick it up. When no node
answers, the command opens the gallery file itself. Everything is checked before anything is
erased and the gallery goes first: a missing gallery or database, a gallery held by a process that
does not answer, or a refusal by the node stops the command (exit 2) with nothing erased, so an
erasure is never half done. The erased ID itself stays retired and is never issued again.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import rclpy
from face_common.erasure import DEFAULT_ERASE_SERVICE
from face_detect_node.annotation import AnnotatedFrameWriter
from face_msgs.srv import EraseFace
from face_sink.crop_archive import CropArchive
from face_sink.mysql_store import (
    DatabaseUrlError,
    add_database_option,
    describe_database,
    open_existing_store,
)
from identity_node.descriptor import DEFAULT_DESCRIPTOR_BACKEND, DESCRIPTOR_BACKENDS, DESCRIPTOR_SIZE
from identity_node.gallery import FaceGallery
from identity_node.gallery_store import GalleryFormatError, GalleryInUseError
from rclpy.executors import SingleThreadedExecutor
from rclpy.signals import SignalHandlerOptions

DEFAULT_SERVICE_TIMEOUT_S = 3.0
"""Long enough for DDS discovery on one machine or a LAN; the price of an erasure with no node."""
REPLY_TIMEOUT_S = 30.0
"""The node answers between two frames; a frame takes well under a second."""


class ErasureRefused(RuntimeError):
    """Nothing was erased, and why."""


@dataclass(frozen=True)
class Erased:
    descriptors: int
    gallery: str  # where: the file, and whether the running node erased them
    events: int
    crops: int
    frames: int


def erase_in_running_node(face_id: int, service: str, timeout_s: float) -> EraseFace.Response | None:
    """The running identity node's answer to erasing ``face_id``; None when no node answers
    ``service`` within ``timeout_s`` (it is not running)."""
    context = rclpy.Context()
    rclpy.init(context=context, signal_handler_options=SignalHandlerOptions.NO)
    try:
        node = rclpy.create_node("face_erase", context=context)
        client = node.create_client(EraseFace, service)
        if not client.wait_for_service(timeout_sec=timeout_s):
            return None
        executor = SingleThreadedExecutor(context=context)
        executor.add_node(node)
        reply = client.call_async(EraseFace.Request(face_id=face_id))
        executor.spin_until_future_complete(reply, timeout_sec=REPLY_TIMEOUT_S)
        if not reply.done():
            raise ErasureRefused(f"the identity node did not answer {service} in {REPLY_TIMEOUT_S:g} s")
        return reply.result()
    finally:
        rclpy.try_shutdown(context=context)


def erase_gallery_file(face_id: int, gallery: Path, descriptor_kind: str) -> int:
    """Erase ``face_id`` from a gallery file; return how many descriptors went (none when there is
    no such file: the caller checks the path it was given, as ``face_erase`` does).

    :class:`GalleryInUseError` when a process holds the file."""
    if not gallery.is_file():
        return 0
    try:
        with FaceGallery(gallery, descriptor_kind, DESCRIPTOR_SIZE) as known_faces:
            return known_faces.erase(face_id)
    except GalleryFormatError as err:
        raise ErasureRefused(str(err)) from err


def erase_face(
    face_id: int,
    gallery: Path,
    database: str,
    crops_dir: Path,
    descriptor_kind: str,
    annotated_dir: Path | None = None,
    service: str = "",
    service_timeout_s: float = DEFAULT_SERVICE_TIMEOUT_S,
) -> Erased:
    """Erase ``face_id`` from the gallery (through the running node when it answers ``service``,
    else in the file), then the events and visits, the crops and the annotated frames.

    ``service`` '' (callers that predate the service) works on the gallery file only. Raises
    before erasing anything: :class:`DatabaseUrlError` (no such database), :class:`ErasureRefused`,
    :class:`GalleryInUseError` (a process holds the gallery and no node answered).
    """
    store = open_existing_store(database)  # checked before the gallery changes
    try:
        answer = erase_in_running_node(face_id, service, service_timeout_s) if service else None
        if answer is None:
            descriptors, where = erase_gallery_file(face_id, gallery, descriptor_kind), str(gallery)
        elif not answer.success:
            raise ErasureRefused(f"the identity node refused: {answer.message}")
        else:
            descriptors = answer.descriptors_removed
            where = f"{answer.gallery} (by the running identity node)"
        events = store.erase_face(face_id)
    finally:
        store.close()
    return Erased(
        descriptors=descriptors,
        gallery=where,
        events=events,
        # Erasing only: the archive's own retention is the sink's business, not this command's.
        crops=CropArchive(crops_dir, max_age_s=0).erase_face(face_id),
        frames=0 if annotated_dir is None else AnnotatedFrameWriter(annotated_dir).erase_face(face_id),
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="face_erase", description=__doc__.splitlines()[0])
    parser.add_argument("face_id", type=int, help="the anonymous face ID to forget")
    parser.add_argument(
        "--gallery",
        type=Path,
        default=Path("out/gallery.sqlite"),
        help="identity gallery file, used when no identity node answers (must exist)",
    )
    add_database_option(parser)
    parser.add_argument("--crops-dir", type=Path, default=Path("out/crops"), help="the sink's crops_dir")
    parser.add_argument(
        "--annotated-dir", type=Path, default=Path("out/annotated"), help="the annotator's annotated_dir"
    )
    parser.add_argument(
        "--service",
        default=DEFAULT_ERASE_SERVICE,
        help="the identity node's erase_service ('' = do not look for a running node)",
    )
    parser.add_argument(
        "--service-timeout-s",
        type=float,
        default=DEFAULT_SERVICE_TIMEOUT_S,
        help="how long to look for the running identity node before working on the gallery file",
    )
    parser.add_argument(
        "--descriptor-backend",
        choices=sorted(DESCRIPTOR_BACKENDS),
        default=DEFAULT_DESCRIPTOR_BACKEND,
        help="the backend that filled the gallery",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    kind = DESCRIPTOR_BACKENDS[args.descriptor_backend].name
    if not args.gallery.is_file():  # even when the node answers: the path names the wrong store
        print(f"face_erase: no gallery at {args.gallery}; nothing was erased", file=sys.stderr)
        return 2
    try:
        erased = erase_face(
            args.face_id,
            args.gallery,
            args.database,
            args.crops_dir,
            kind,
            args.annotated_dir,
            args.service,
            args.service_timeout_s,
        )
    except GalleryInUseError as err:
        answering = f"no identity node answered {args.service}" if args.service else "--service '': not asked"
        print(f"face_erase: {err} ({answering}); nothing was erased", file=sys.stderr)
        return 2
    except (DatabaseUrlError, ErasureRefused) as err:
        print(f"face_erase: {err}; nothing was erased", file=sys.stderr)
        return 2
    print(
        f"face {args.face_id} erased: {erased.descriptors} descriptors from {erased.gallery}, "
        f"{erased.events} events and their visits from {describe_database(args.database)}, "
        f"{erased.crops} crops from {args.crops_dir}, {erased.frames} annotated frames from "
        f"{args.annotated_dir}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
