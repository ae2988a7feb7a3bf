"""The report's figures as PNG files: age estimates by face ID (seed Fig. 10), gender by age (Fig. 11),
dwell time per camera and per age/gender bucket.

Figures are built on ``matplotlib.figure.Figure`` directly, so nothing depends on pyplot's global
state or on a display: the report runs headless on a server.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from face_analytics.stats import GENDER_CLASSES, CustomerProfile, Summary

GENDER_COLOURS = {"female": "tab:red", "male": "tab:blue", "unknown": "tab:gray"}
MAX_LABELLED_FACES = 40


def plot_age_by_face(profiles: Iterable[CustomerProfile], path: str | Path) -> Path:
    """Every age estimate of every face ID as a jittered strip, with the ID's median as a bar."""
    profiles = [p for p in profiles if p.ages]
    fig = Figure(figsize=(max(6.0, 0.3 * len(profiles)), 4.0), layout="constrained")
    ax = fig.add_subplot()
    rng = np.random.default_rng(0)  # fixed jitter: the same data draws the same figure
    for x, profile in enumerate(profiles):
        ages = np.asarray(profile.ages)
        ax.scatter(x + rng.uniform(-0.2, 0.2, ages.size), ages, s=8, alpha=0.5, color="tab:blue")
        ax.hlines(profile.median_age, x - 0.3, x + 0.3, color="black", linewidth=2)
    if profiles:
        step = max(1, len(profiles) // MAX_LABELLED_FACES)
        ax.set_xticks(range(0, len(profiles), step), [str(p.face_id) for p in profiles[::step]])
    else:
        ax.text(0.5, 0.5, "no age estimates", ha="center", va="center", transform=ax.transAxes)
    ax.set_xlabel("face ID")
    ax.set_ylabel("estimated age (years)")
    ax.set_title("Age estimates by face ID (bar: median)")
    return _save(fig, path)


def plot_gender_by_age(summary: Summary, path: str | Path) -> Path:
    """Customers per age bucket, stacked by gender."""
    fig = Figure(figsize=(7.0, 4.0), layout="constrained")
    ax = fig.add_subplot()
    buckets = list(summary.gender_by_age)
    bottom = np.zeros(len(buckets))
    for gender in GENDER_CLASSES:
        counts = np.array([summary.gender_by_age[b][gender] for b in buckets])
        ax.bar(buckets, counts, bottom=bottom, label=gender, color=GENDER_COLOURS[gender])
        bottom += counts
    ax.set_xlabel("age bucket (median estimate per face ID)")
    ax.set_ylabel("customers")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title("Customers by age and gender")
    ax.legend()
    return _save(fig, path)


def plot_dwell(
    by_camera: dict[str, list[float]], by_bucket: dict[str, list[float]], path: str | Path
) -> Path:
    """Box plots of visit dwell seconds per camera (left) and per age/gender bucket (right), p90 marked."""
    fig = Figure(figsize=(max(8.0, 3.0 + 0.6 * (len(by_camera) + len(by_bucket))), 4.5), layout="constrained")
    fig.suptitle("Dwell time per visit (box: quartiles and median, red triangle: 90th percentile)")
    for ax, groups, title in (
        (fig.add_subplot(1, 2, 1), by_camera, "per camera"),
        (fig.add_subplot(1, 2, 2), by_bucket, "per age/gender bucket"),
    ):
        if groups:
            positions = range(1, len(groups) + 1)
            ax.boxplot(list(groups.values()), positions=positions, tick_labels=list(groups))
            p90 = [np.percentile(dwell, 90) for dwell in groups.values()]
            ax.scatter(positions, p90, marker="v", color="tab:red", zorder=3)
            ax.tick_params(axis="x", labelrotation=45)
        else:
            ax.text(0.5, 0.5, "no visits", ha="center", va="center", transform=ax.transAxes)
        ax.set_ylabel("dwell per visit (s)")
        ax.set_title(title)
    return _save(fig, path)


def _save(fig: Figure, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", dpi=100)
    return path
