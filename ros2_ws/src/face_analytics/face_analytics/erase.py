"""``face_erase FACE_ID``: forget one anonymous face everywhere the product keeps it.

The gallery (its descriptors, so the face is never recognised again), the event store (its rows)
and the crop archive (its saved crops). The gallery goes first: it is locked by a running
identity node, and then nothing is erased anywhere and the command says to stop the node, so an
erasure is never half done. The erased ID itself stays retired and is never issued again.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from face_sink.crop_archive import CropArchive
from face_sink.mysql_store import add_database_option, describe_database, open_store
from identity_node.descriptor import DEFAULT_DESCRIPTOR_BACKEND, DESCRIPTOR_BACKENDS, DESCRIPTOR_SIZE
from identity_node.gallery import FaceGallery
from identity_node.gallery_store import GalleryInUseError


@dataclass(frozen=True)
class Erased:
    descriptors: int
    events: int
    crops: int


def erase_face(face_id: int, gallery: Path, database: str, crops_dir: Path, descriptor_kind: str) -> Erased:
    """Erase ``face_id`` from the gallery, then the events, then the crops; return the counts."""
    descriptors = 0
    if gallery.is_file():
        with FaceGallery(gallery, descriptor_kind, DESCRIPTOR_SIZE) as known_faces:
            descriptors = known_faces.erase(face_id)
    store = open_store(database)
    try:
        events = store.erase_face(face_id)
    finally:
        store.close()
    return Erased(descriptors, events, CropArchive(crops_dir).erase_face(face_id))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="face_erase", description=__doc__.splitlines()[0])
    parser.add_argument("face_id", type=int, help="the anonymous face ID to forget")
    parser.add_argument(
        "--gallery", type=Path, default=Path("out/gallery.sqlite"), help="identity gallery file"
    )
    add_database_option(parser)
    parser.add_argument("--crops-dir", type=Path, default=Path("out/crops"), help="the sink's crops_dir")
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
    try:
        erased = erase_face(args.face_id, args.gallery, args.database, args.crops_dir, kind)
    except GalleryInUseError as err:
        print(f"face_erase: {err}: stop the identity node first; nothing was erased", file=sys.stderr)
        return 2
    print(
        f"face {args.face_id} erased: {erased.descriptors} descriptors from {args.gallery}, "
        f"{erased.events} events from {describe_database(args.database)}, "
        f"{erased.crops} crops from {args.crops_dir}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
