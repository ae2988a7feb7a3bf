"""One frame's faces in, the same faces with age and gender out: the age/gender stage without ROS.

The node and offline processing both call :meth:`FaceAttributor.attribute`, so they estimate
the same way: every face of the frame that has a crop, in one batched model call.
"""

from __future__ import annotations

from face_common.faces import FrameFaces

from agegender_node.estimators import AgeGenderEstimator


class FaceAttributor:
    """Fills ``age``, ``gender`` and ``p_female`` of a frame's faces with one estimator call."""

    def __init__(self, estimator: AgeGenderEstimator) -> None:
        self.estimator = estimator

    def attribute(self, frame_faces: FrameFaces) -> list[str]:
        """Estimate every face with a crop in place; return, per skipped face, why."""
        with_crop, problems = [], []
        for face in frame_faces.faces:
            if face.crop is None or face.crop_box is None:
                problems.append(f"face {face.index}: no crop")
            else:
                with_crop.append(face)
        estimates = self.estimator.estimate(
            [face.crop for face in with_crop], [face.box_in_crop() for face in with_crop]
        )
        for face, estimate in zip(with_crop, estimates, strict=True):
            face.age, face.gender, face.p_female = estimate.age, estimate.gender, estimate.p_female
        return problems
