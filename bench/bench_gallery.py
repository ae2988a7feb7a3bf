"""Identity speed: gallery match time per query as the gallery grows, enrolment commit time, and
descriptor time per face.

Matching: median ms per query of :meth:`DescriptorMatrix.nearest` (what ``match_or_enrol`` runs;
squared-norm trick = one matrix-vector product) against the direct ``np.linalg.norm(M - q)``
over the same matrix, at 1k / 100k / 1M identities (one 128-D descriptor each; an ID keeps up to
``max_descriptors_per_id`` rows, so 1M rows is also ~125k IDs with 8 views). Enrolment: median ms
of ``match_or_enrol`` for a new face on a file gallery (one fsync'ed SQLite commit). Descriptor:
median ms per face of a descriptor backend (built from ``IdentitySettings`` as the identity stage
builds it) on real crops (each labelled identity photo's largest HOG face, cut as evaluation cuts
photos), one face per call and batched.

Run: ``OMP_NUM_THREADS=1 python bench/bench_gallery.py [--sizes 1000,100000,1000000] [--json]``.
The 1M row needs ~1.5 GB of memory (matrix + the direct method's temporary).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import cv2
import numpy as np
from bench_common import (
    DATA_ROOT,
    REPO_ROOT,
    add_output_arguments,
    describe_machine,
    emit,
    format_records,
    machine_info,
    median_ms,
)
from face_common.faces import Box
from face_eval.photo_faces import PhotoFaceFinder
from identity_node.descriptor import DEFAULT_DESCRIPTOR_BACKEND, DESCRIPTOR_BACKENDS, DESCRIPTOR_SIZE
from identity_node.gallery import DescriptorMatrix, FaceGallery
from identity_node.identification import IdentitySettings


def descriptors_like_dlib(rng: np.random.Generator, n: int) -> np.ndarray:
    """Random vectors with the scale of dlib descriptors (norm ~0.5); timing ignores the values."""
    vectors = rng.normal(size=(n, DESCRIPTOR_SIZE)).astype(np.float32)
    vectors *= 0.5 / np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors


def bench_match(size: int, queries: int, rng: np.random.Generator) -> dict:
    matrix = DescriptorMatrix(DESCRIPTOR_SIZE, initial_capacity=size)
    ids = np.arange(size, dtype=np.int64)
    vectors = descriptors_like_dlib(rng, size)
    matrix.extend(ids, ids, vectors)
    probes = iter(descriptors_like_dlib(rng, 2 * queries + 2))
    trick = median_ms(lambda: matrix.nearest(next(probes)), queries)
    direct_repeat = max(3, queries // 10)
    direct = median_ms(lambda: np.linalg.norm(vectors - next(probes), axis=1).argmin(), direct_repeat)
    return {
        "identities": size,
        "queries": queries,
        "nearest_ms": round(trick, 4),
        "direct_norm_ms": round(direct, 4),
    }


def bench_enrol(enrolments: int, rng: np.random.Generator) -> float:
    vectors = iter(rng.normal(size=(enrolments + 1, DESCRIPTOR_SIZE)))  # far apart: all new faces
    with (
        tempfile.TemporaryDirectory() as folder,
        FaceGallery(Path(folder) / "bench.sqlite", descriptor_kind="bench") as gallery,
    ):
        return median_ms(lambda: gallery.match_or_enrol(next(vectors)), enrolments)


def real_faces(count: int) -> list[tuple[np.ndarray, Box]]:
    """Largest-face crops of the first labelled identity images, as evaluation cuts them."""
    faces = []
    finder = PhotoFaceFinder("hog")
    for path in sorted((DATA_ROOT / "identity" / "images").rglob("*.jp*g")):
        found = finder.largest_face(cv2.imread(str(path)), whole_image_fallback=False)
        if found is not None:
            faces.append((found.face.crop, found.face.box_in_crop()))
        if len(faces) == count:
            break
    return faces


def bench_descriptor(backend: str, batch: int, repeat: int) -> dict:
    settings = IdentitySettings(descriptor_backend=backend, model_dir=str(REPO_ROOT / "models"))
    descriptor = settings.make_descriptor()
    faces = real_faces(batch)
    one = median_ms(lambda: descriptor.describe(*faces[0]), repeat)
    batched = median_ms(lambda: descriptor.describe_many(faces), max(1, repeat // 2)) / len(faces)
    return {
        "backend": descriptor.name,
        "ms_per_face": round(one, 1),
        "batch": len(faces),
        "ms_per_face_batched": round(batched, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,100000,1000000", help="comma-separated gallery sizes")
    parser.add_argument("--queries", type=int, default=50, help="queries timed per size")
    parser.add_argument("--enrolments", type=int, default=50)
    parser.add_argument(
        "--descriptor-backend", choices=sorted(DESCRIPTOR_BACKENDS), default=DEFAULT_DESCRIPTOR_BACKEND
    )
    parser.add_argument("--descriptor-repeat", type=int, default=10)
    parser.add_argument("--descriptor-batch", type=int, default=4)
    add_output_arguments(parser)
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    matches = [bench_match(int(size), args.queries, rng) for size in args.sizes.split(",")]
    enrol_ms = round(bench_enrol(args.enrolments, rng), 2)
    descriptor = bench_descriptor(args.descriptor_backend, args.descriptor_batch, args.descriptor_repeat)
    machine = machine_info()
    report = {"machine": machine, "match": matches, "enrol_ms": enrol_ms, "descriptor": descriptor}

    def table() -> str:
        columns = {"identities": "identities", "nearest ms": "nearest_ms", "direct norm ms": "direct_norm_ms"}
        return (
            f"{describe_machine(machine)}\n{format_records(columns, matches, 3)}\n"
            f"enrol (new ID, fsync'ed SQLite commit): {enrol_ms:.2f} ms median\n"
            f"descriptor {descriptor['backend']}: {descriptor['ms_per_face']:.1f} ms/face alone, "
            f"{descriptor['ms_per_face_batched']:.1f} ms/face in a batch of {descriptor['batch']}"
        )

    emit(args, report, table)


if __name__ == "__main__":
    main()
