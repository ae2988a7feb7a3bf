"""The annotated-frame writer on a full disk (issue 12): a frame that does not fit raises OSError
(``face_annotator`` counts it as ``write_failures``) and leaves no partial file, and the next
frame that fits is written. The disk is "full" through ``RLIMIT_FSIZE`` in a child process: a
real failed write, as on a full disk, with no root or mount tricks (Python ignores SIGXFSZ, so
the write fails with EFBIG instead of killing the process)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

CHILD = textwrap.dedent(
    """
    import resource, sys
    from pathlib import Path
    import numpy as np
    from face_common.faces import FrameFaces, FrameRef
    from face_detect_node.annotation import AnnotatedFrameWriter

    folder = Path(sys.argv[1])
    writer = AnnotatedFrameWriter(folder)
    resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))
    noise = np.random.default_rng(0).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    try:
        writer.write(noise, FrameFaces(FrameRef("cam", 1), []))
    except OSError as err:
        print("refused:", err)
    print("files after the failure:", sorted(p.name for p in folder.iterdir()))
    print("written:", writer.write(np.zeros((48, 64, 3), np.uint8), FrameFaces(FrameRef("cam", 2), [])).name)
    """
)


def test_a_frame_the_disk_cannot_hold_fails_cleanly_and_the_next_one_is_written(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "refused: OpenCV could not write" in result.stdout, result.stdout
    assert "files after the failure: []" in result.stdout  # no truncated JPEG left behind
    assert "written: cam_2.jpg" in result.stdout
    assert (tmp_path / "cam_2.jpg").stat().st_size > 0
