"""Shared fixtures: where the labelled face data lives; the Fast DDS set-up of the test process;
a ROS domain of a test's own and the node processes in it (``ros_processes``).

Developers have ``../shared/data`` next to the clone; a user's clone may not, and then the
small permissively licensed samples committed under ``samples/`` (same layout) stand in, so the
test command passes everywhere. ``FACE_SHARED_DATA=none`` hides the shared data (CI runs the
tests so, as a user's clone runs them; see ``face_eval.data_paths``).

Fast DDS reads its XML profile once per process, when the first participant is made, so the
launcher's set-up (``ros_processes.DDS_SETTINGS``: 32 MB shared memory for 720p frames, no TCP)
is put in the environment here, before any test makes one; node processes inherit it.

A test run started in the background (``cmd &``, nohup, some CI runners) inherits SIGINT
*ignored*, and an ignored signal stays ignored across exec: every process a test starts would
then shrug off the Ctrl-C the stop tests send. ``graph_launch`` sets its own SIGINT handler, which
exec resets to the default in its nodes; the test process does the same here.

Property tests (Hypothesis) run under the ``ci`` profile unless ``HYPOTHESIS_PROFILE`` names
another: a fixed number of examples, derandomized and without an example database, so every run
tries the same inputs and a failure reproduces; ``HYPOTHESIS_PROFILE=dev`` searches ten times longer.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from face_eval.data_paths import data_root
from hypothesis import HealthCheck, settings
from ros_processes import DDS_SETTINGS, RosProcesses, claim_domain_id
from three_camera_day import make_day

os.environ.pop("FASTDDS_BUILTIN_TRANSPORTS", None)
os.environ.update(DDS_SETTINGS)
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

REPO_ROOT = Path(__file__).resolve().parents[1]

# too_slow depends on the machine's load, so it would make a deterministic run flaky.
settings.register_profile(
    "ci",
    max_examples=150,
    deadline=5000,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=1500, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def face_data() -> Path:
    """Root of the labelled data: ``../shared/data`` when present and not hidden, else ``samples/``."""
    return data_root(REPO_ROOT)


@pytest.fixture(scope="session")
def three_camera_day(face_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder of the three-camera store day and its events (``three_camera_day``), made once."""
    folder = tmp_path_factory.mktemp("three_cameras")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OMP_NUM_THREADS", "1")
        make_day(face_data / "identity" / "labels.csv", folder)
    return folder


@pytest.fixture
def ros_domain_id() -> Iterator[int]:
    """A ROS_DOMAIN_ID that no other test on this machine uses while this one runs."""
    with claim_domain_id() as domain_id:
        yield domain_id


@pytest.fixture
def ros_graph(ros_domain_id: int) -> Iterator[RosProcesses]:
    """Node processes in the test's own domain, and a node in this process that talks to them;
    the processes still running at the end are killed."""
    graph = RosProcesses(ros_domain_id)
    yield graph
    graph.close()
