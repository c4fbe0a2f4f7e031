"""A PNG picture of a dataset for the chat: rows per label and text length per label.

Made to be read on a phone: portrait, two panels stacked, large type, horizontal bars so long
label names stay readable. matplotlib's object API with the Agg canvas (no pyplot, no global
state), so charts can be drawn in worker threads at the same time; imported lazily because
importing matplotlib costs about half a second that a bot without deliveries need not pay.
The chat channels draw it in a child process (core/chart_process.py): see there why.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

#: More labels than this are drawn as the largest ones plus "other (N labels)".
MAX_LABELS = 15
WIDTH_INCHES, DPI = 6.0, 150  # 900 px wide: a phone shows it full width without zooming


def lengths_per_label(rows: Sequence[tuple[str, str]]) -> dict[str, list[int]]:
    """What the chart shows of the rows: the text lengths per label (the largest MAX_LABELS labels)."""
    lengths: dict[str, list[int]] = {}
    for label, text in rows:
        lengths.setdefault(label or "all rows", []).append(len(text))
    if len(lengths) <= MAX_LABELS:
        return lengths
    largest = sorted(lengths, key=lambda label: -len(lengths[label]))
    kept = {label: lengths[label] for label in largest[: MAX_LABELS - 1]}
    rest = largest[MAX_LABELS - 1 :]
    kept[f"other ({len(rest)} labels)"] = [n for label in rest for n in lengths[label]]
    return kept


def _short(label: str, limit: int = 24) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def render_chart(rows: Sequence[tuple[str, str]], title: str) -> bytes:
    """PNG bytes: (label, main text) pairs -> rows per label and length spread per label."""
    return draw(lengths_per_label(rows), title)


def draw(lengths: dict[str, list[int]], title: str) -> bytes:
    """PNG bytes of `lengths_per_label`'s figures."""
    from matplotlib.figure import Figure  # lazy: see the module's docstring

    lengths = lengths or {"no rows": []}
    labels = list(lengths)
    count = max(1, len(labels))
    height = max(7.0, 3.2 + 0.9 * count)  # portrait; each label gets a readable band in both panels
    figure = Figure(figsize=(WIDTH_INCHES, height), dpi=DPI, layout="constrained")
    figure.suptitle(_short(title or "Dataset", 40), fontsize=16, fontweight="bold")
    bars, spread = figure.subplots(2, 1, height_ratios=[1, 1.2])
    positions = list(range(count))[::-1]  # first label on top
    names = [_short(label) for label in labels]

    counts = [len(lengths[label]) for label in labels]
    drawn = bars.barh(positions, counts, color="#3b7dd8", height=0.6)
    bars.bar_label(drawn, labels=[f"{n:,}" for n in counts], padding=4, fontsize=13)
    bars.set_yticks(positions, names, fontsize=13)
    bars.set_title("Rows per label", fontsize=14, loc="left")
    bars.set_xlim(0, max([*counts, 1]) * 1.2)
    bars.tick_params(axis="x", labelsize=11)
    bars.spines[["top", "right"]].set_visible(False)

    spread.boxplot([lengths[label] or [0] for label in labels], positions=positions, vert=False, widths=0.6,
                   patch_artist=True, boxprops={"facecolor": "#a9c8f0"}, medianprops={"color": "#c0392b", "linewidth": 2},
                   showfliers=True, flierprops={"markersize": 3})
    spread.set_yticks(positions, names, fontsize=13)
    spread.set_title("Text length per label (characters)", fontsize=14, loc="left")
    spread.tick_params(axis="x", labelsize=11)
    spread.spines[["top", "right"]].set_visible(False)

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
