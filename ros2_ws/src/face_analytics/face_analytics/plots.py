"""The report's figures as PNG files: age estimates by face ID (seed Fig. 10), gender by age (Fig. 11),
dwell time per camera and per age/gender bucket, and journeys (transitions between cameras).

Figures are built on ``matplotlib.figure.Figure`` directly, so nothing depends on pyplot's global
state or on a display: the report runs headless on a server.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
from face_sink.stats import GENDER_CLASSES, CustomerProfile, Summary
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from face_analytics.journeys import Pair, TransitionMatrix

GENDER_COLOURS = {"female": "tab:red", "male": "tab:blue", "unknown": "tab:gray"}
MAX_LABELLED_FACES = 40
MAX_PLOTTED_PAIRS = 20  # transit-time rows in journeys.png; more would not be readable


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


def plot_journeys(matrix: TransitionMatrix, seconds: dict[Pair, list[float]], path: str | Path) -> Path:
    """Transition counts between cameras as an annotated from/to heat map (left) and box plots of
    the transit seconds per camera pair (right, one row per pair with its count, p90 marked).

    Pairs run down the page so long camera names stay readable; past ``MAX_PLOTTED_PAIRS`` only the
    busiest pairs are drawn (the report's table lists them all)."""
    n = len(matrix.cameras)
    busiest = sorted(seconds, key=lambda pair: (-len(seconds[pair]), pair))[:MAX_PLOTTED_PAIRS]
    shown = {pair: seconds[pair] for pair in sorted(busiest, reverse=True)}  # first pair on top
    fig = Figure(
        figsize=(
            10.0 + 0.4 * n + 0.06 * max((len(a) + len(b) for a, b in shown), default=0),
            max(4.5, 2.0 + 0.5 * n, 1.5 + 0.35 * len(shown)),
        ),
        layout="constrained",
    )
    fig.suptitle("Journeys between cameras (consecutive stops within one store visit)")
    fig.get_layout_engine().set(wspace=0.08)  # keep the colour bar's label off the pair labels
    grid = fig.add_gridspec(1, 2, width_ratios=[1, 1.5])  # the pair labels need room
    ax = fig.add_subplot(grid[0, 0])
    if matrix.total:
        counts = np.array(matrix.counts)
        image = ax.imshow(counts, cmap="Blues", vmin=0)
        peak = counts.max()
        for (row, col), count in np.ndenumerate(counts):
            colour = "white" if count > peak / 2 else ("black" if count else "0.6")
            ax.text(col, row, str(count), ha="center", va="center", color=colour)
        rotate = {"rotation": 45, "ha": "right"} if n > 4 else {}
        ax.set_xticks(range(n), matrix.cameras, **rotate)
        ax.set_yticks(range(n), matrix.cameras)
        fig.colorbar(image, ax=ax, shrink=0.8, label="transitions", ticks=MaxNLocator(integer=True))
    else:
        _no_data(ax, "no transitions")
    ax.set_xlabel("to camera")
    ax.set_ylabel("from camera")
    ax.set_title("Transitions (from row to column)")
    ax = fig.add_subplot(grid[0, 1])
    if shown:
        positions = range(1, len(shown) + 1)
        labels = [f"{a} → {b} (n={len(s)})" for (a, b), s in shown.items()]
        boxes = ax.boxplot(
            list(shown.values()), positions=positions, tick_labels=labels, orientation="horizontal"
        )
        p90 = [np.percentile(s, 90) for s in shown.values()]
        marks = ax.scatter(p90, positions, marker="<", color="tab:red", zorder=3)
        ax.legend(
            [boxes["boxes"][0], boxes["medians"][0], marks],
            ["quartiles (box)", "median", "90th percentile"],
            loc="best",
        )
        ax.set_xlim(left=0)
    else:
        _no_data(ax, "no transitions")
    title = "Transit time per camera pair\nfrom leaving one camera to appearing on the next"
    if len(shown) < len(seconds):
        title += f"\n({len(shown)} busiest of {len(seconds)} pairs)"
    ax.set_title(title)
    ax.set_xlabel("transit time (s)")
    ax.set_ylabel("from camera → to camera (n: transitions)")
    return _save(fig, path)


def _no_data(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])


def _save(fig: Figure, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", dpi=100)
    return path
