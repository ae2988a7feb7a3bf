"""Durability: a process killed with SIGKILL at a random moment never loses an ID it returned."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from identity_node.gallery import FaceGallery

# Enrols random faces (and, every other time, a new view of a known one) forever, printing each
# returned face ID as soon as match_or_enrol returns, i.e. exactly when the node would publish it.
ENROL_FOREVER = """
import sys
import numpy as np
from identity_node.gallery import FaceGallery

rng = np.random.default_rng(int(sys.argv[2]))
with FaceGallery(sys.argv[1], descriptor_kind="synthetic", descriptor_size=128) as gallery:
    print("ready", flush=True)
    known = []
    while True:
        if known and rng.random() < 0.5:
            direction = rng.normal(size=128)
            vector = known[rng.integers(len(known))] + 0.45 * direction / np.linalg.norm(direction)
        else:
            vector = rng.normal(size=128)
            known.append(vector)
        print(gallery.match_or_enrol(vector).face_id, flush=True)
"""

KILLS = 4


def test_kill_9_during_enrolment_keeps_every_printed_id(tmp_path: Path):
    path = tmp_path / "gallery.sqlite"
    rng = random.Random(20240607)
    printed_before: set[int] = set()
    for round_no in range(KILLS):
        process = subprocess.Popen(
            [sys.executable, "-c", ENROL_FOREVER, str(path), str(round_no)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert process.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.05, 0.5))
        os.kill(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        lines = output.splitlines()
        # the last line may be cut mid-write by the kill: only complete lines were "published"
        printed = {int(line) for line in (lines if output.endswith("\n") else lines[:-1])}
        assert printed, "the process printed no ID before it was killed; raise the sleep"
        with FaceGallery(path, descriptor_kind="synthetic", descriptor_size=128) as gallery:
            missing = (printed | printed_before) - gallery.face_ids()
            assert not missing, f"round {round_no}: IDs published but lost: {sorted(missing)}"
            assert gallery.last_face_id >= max(printed)
        assert min(printed) > max(printed_before, default=0), "an ID was issued twice across restarts"
        printed_before |= printed
        print(f"round {round_no}: killed after {len(printed)} IDs, gallery loads with all of them")


def test_store_rows_round_trip_as_float32(tmp_path: Path):
    vector = np.linspace(-1, 1, 128, dtype=np.float32)
    with FaceGallery(tmp_path / "g.sqlite", descriptor_kind="synthetic") as gallery:
        face_id = gallery.match_or_enrol(vector).face_id
    with FaceGallery(tmp_path / "g.sqlite", descriptor_kind="synthetic") as gallery:
        match = gallery.match_or_enrol(vector)
    assert (match.face_id, match.distance, match.new_face) == (face_id, 0.0, False)
