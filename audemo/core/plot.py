r"""Pictures of predictions.

Emotion over time, conversations, the circumplex, confusions
(with matplotlib),
and transcripts tinted by emotion as HTML pages.
"""

from __future__ import annotations

from collections.abc import Iterator
from collections.abc import Sequence
import contextlib
import html

import numpy as np
import pandas as pd

from audemo.core.define import DIMENSIONS
from audemo.core.utils import argument_error
from audemo.core.utils import import_optional


COLORS = {"arousal": "#d62728", "dominance": "#2ca02c", "valence": "#1f77b4"}

LINE_STYLES = ("-", "--", ":", "-.")
r"""Line styles of speakers in a timeline, in the order of their first row."""

SPEAKER_COLORS = (
    "#4c72b0",
    "#dd8452",
    "#55a868",
    "#c44e52",
    "#8172b3",
    "#937860",
    "#da8bc3",
    "#8c8c8c",
    "#ccb974",
    "#64b5cd",
)
r"""Colours of speakers, in the order of their first row."""

TINTS = {"low": (44, 123, 182), "high": (215, 25, 28)}
r"""Colours (RGB) of low and high scores in :func:`transcript`."""

# words end a line of a word-level transcript at a pause this long (s)
LINE_PAUSE = 1.0


@contextlib.contextmanager
def plain_text() -> Iterator[None]:
    r"""Draw the texts of figures made in this block as they are.

    Labels come from data:
    file names, speakers, classes, columns and groups of a database.
    matplotlib draws text between two ``$`` as mathtext
    (``$\frac{1}{$`` aborts drawing,
    deeply nested braces exhaust the recursion limit)
    and runs LaTeX on every text if ``text.usetex`` is set.
    This turns both off for the texts made
    and the figures drawn in the block.

    Examples:
        >>> with plain_text():
        ...     ax = confusion(pd.DataFrame([[1]], ["$a}$"], ["$a}$"]))
        ...     ax.figure.tight_layout()

    """
    matplotlib = import_optional("matplotlib", purpose="plots")
    with matplotlib.rc_context({"text.parse_math": False, "text.usetex": False}):
        yield


@plain_text()
def timeline(
    frame: pd.DataFrame,
    *,
    file: str | None = None,
    dimensions: Sequence[str] = DIMENSIONS,
    ax=None,
):
    r"""Arousal, dominance and valence over time for one file.

    Each row of ``frame`` (a window, a speech segment or a turn)
    is drawn as a horizontal bar from its start to its end
    at its score;
    a thin line connects the centres,
    one line per speaker if ``frame`` has a ``speaker`` column
    (in the speaker's line style).

    Args:
        frame: results with a segmented index (``file``, ``start``, ``end``)
            or a signal index (``start``, ``end``),
            e.g. from ``Emotion(win_dur=...)``
            or ``Emotion(segment=audemo.VoiceActivity())``
        file: which file to show, needed if ``frame`` holds several
        dimensions: columns to draw
        ax: :class:`matplotlib.axes.Axes` to draw into,
            a new figure if ``None``

    Returns:
        the axes

    Raises:
        ImportError: if matplotlib is not installed
        ValueError: if ``frame`` has no start and end times
            or one row per file (nothing changes over time),
            holds several files and ``file`` is not given,
            or lacks a requested dimension

    Examples:
        >>> frame = pd.DataFrame(
        ...     {"arousal": [0.4, 0.6], "dominance": [0.5, 0.5], "valence": [0.3, 0.7]},
        ...     index=audformat.segmented_index(["a.wav"] * 2, [0, 1], [2, 3]),
        ... )
        >>> ax = timeline(frame)
        >>> ax.get_xlabel()
        'Time / s'

    """
    plt = import_optional("matplotlib.pyplot", purpose="plots")
    _check_over_time(frame)
    frame, starts, ends = _timed_rows(frame, file, dimensions)
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 4))
    # one line per speaker: a line must not join the turns of two speakers
    if "speaker" in frame.columns:
        speakers = frame["speaker"].astype("string").fillna("?").to_numpy()
    else:
        speakers = np.full(len(frame), "")
    names = list(dict.fromkeys(speakers))
    centres = (starts + ends) / 2
    for name in dimensions:
        values = frame[name].to_numpy(dtype=float)
        color = COLORS.get(name)
        ax.hlines(values, starts, ends, colors=color, linewidth=3, label=name)
        for number, speaker in enumerate(names):
            rows = np.flatnonzero(speakers == speaker)
            rows = rows[np.argsort(starts[rows], kind="stable")]
            ax.plot(
                centres[rows],
                values[rows],
                color=color,
                linewidth=0.8,
                alpha=0.6,
                linestyle=LINE_STYLES[number % len(LINE_STYLES)],
            )
    if len(names) > 1:
        for number, speaker in enumerate(names):
            # legend entries of the speakers' line styles
            ax.plot(
                [],
                [],
                color="grey",
                linestyle=LINE_STYLES[number % len(LINE_STYLES)],
                label=str(speaker),
            )
    ax.set_xlabel("Time / s")
    ax.set_ylabel("Score (about 0..1)")
    ax.set_ylim(min(0.0, np.nanmin(frame[list(dimensions)].to_numpy()) - 0.05), 1.05)
    ax.set_xlim(0, max(ends.max(), 1e-3))
    if file or "file" in frame.attrs:
        ax.set_title(file or frame.attrs["file"])
    ax.legend(loc="upper right")
    ax.grid(alpha=0.3)
    return ax


@plain_text()
def conversation(
    frame: pd.DataFrame,
    *,
    file: str | None = None,
    dimensions: Sequence[str] = DIMENSIONS,
):
    r"""Emotion of each speaker of a conversation over time.

    One lane per speaker,
    in the order in which they first speak,
    all on the same time axis.
    The time in which the speaker speaks
    (the union of the speaker's rows)
    is shaded in the speaker's colour.
    If each row is a turn (no ``turn`` column),
    its scores are marks from the start to the end of the turn;
    the scores of windows or segments inside turns
    are lines through the centres of the rows,
    broken where the speaker pauses
    (rows that neither touch nor overlap,
    or a new ``turn``).
    Long recordings keep readable:
    time is in minutes beyond ten minutes,
    and rows are drawn as one band and one line per lane,
    so an hour of windows draws in about a second.

    Args:
        frame: conversation frame with a ``speaker`` column
            on a segmented index,
            e.g. from :func:`audemo.process_turns`
        file: which file to show, needed if ``frame`` holds several
        dimensions: columns to draw

    Returns:
        the :class:`matplotlib.figure.Figure`,
        one axes per speaker

    Raises:
        ImportError: if matplotlib is not installed
        ValueError: if ``frame`` has no start and end times
            or no ``speaker`` column,
            holds several files and ``file`` is not given,
            or lacks a requested dimension

    Examples:
        >>> frame = pd.DataFrame(
        ...     {
        ...         "speaker": ["A", "B", "A"],
        ...         "arousal": [0.4, 0.6, 0.5],
        ...         "valence": [0.3, 0.7, 0.4],
        ...     },
        ...     index=audformat.segmented_index(["a.wav"] * 3, [0, 2, 4], [2, 4, 6]),
        ... )
        >>> figure = conversation(frame, dimensions=["arousal", "valence"])
        >>> [ax.get_ylabel() for ax in figure.axes]
        ['A', 'B']
        >>> figure.axes[-1].get_xlabel()
        'Time / s'

    """
    plt = import_optional("matplotlib.pyplot", purpose="plots")
    patches = import_optional("matplotlib.patches", purpose="plots")
    if "speaker" not in frame.columns:
        raise ValueError(
            f"A conversation plot needs a 'speaker' column, "
            f"the results have {list(frame.columns)}. "
            f"Process with audemo.process_turns()."
        )
    frame, starts, ends = _timed_rows(frame, file, dimensions)
    total = max(float(ends.max()), 1e-3) if len(ends) else 1.0
    scale, unit = (60.0, "min") if total > 600 else (1.0, "s")
    speakers = list(dict.fromkeys(frame["speaker"].astype("string").fillna("?")))
    values = frame[list(dimensions)].to_numpy(dtype=float)
    low = (
        min(0.0, np.nanmin(values) - 0.05)
        if values.size and not np.isnan(values).all()
        else 0.0
    )
    figure, axes = plt.subplots(
        max(len(speakers), 1),
        1,
        sharex=True,
        sharey=True,
        squeeze=False,
        figsize=(12, 1.2 + 1.6 * max(len(speakers), 1)),
    )
    axes = axes[:, 0]
    labels = frame["speaker"].astype("string").fillna("?").to_numpy()
    turns = frame["turn"].to_numpy() if "turn" in frame.columns else None
    for number, (ax, speaker) in enumerate(zip(axes, speakers)):
        rows = np.flatnonzero(labels == speaker)
        rows = rows[np.argsort(starts[rows], kind="stable")]
        color = SPEAKER_COLORS[number % len(SPEAKER_COLORS)]
        _speaker_rows(
            ax,
            starts[rows],
            ends[rows],
            values[rows],
            dimensions,
            turns=None if turns is None else turns[rows],
            color=color,
            scale=scale,
            low=low,
        )
        ax.set_ylabel(str(speaker))
        ax.grid(alpha=0.3)
    axes[0].set_ylim(low, 1.05)
    axes[0].set_xlim(0, total / scale)
    axes[-1].set_xlabel(f"Time / {unit}")
    shading = patches.Patch(facecolor="grey", alpha=0.18, label="speaking (shaded)")
    axes[0].legend(
        handles=[*axes[0].lines, shading],
        loc="lower left",
        bbox_to_anchor=(0, 1.0),
        ncol=len(dimensions) + 1,
        frameon=False,
    )
    if "file" in frame.attrs:
        axes[0].set_title(frame.attrs["file"], loc="right")
    figure.tight_layout()
    return figure


def _speaker_rows(
    ax,
    starts: np.ndarray,
    ends: np.ndarray,
    values: np.ndarray,
    dimensions: Sequence[str],
    *,
    turns: np.ndarray | None,
    color: str,
    scale: float,
    low: float,
):
    r"""Draw the rows of one speaker of :func:`conversation`, sorted by start."""
    # where the speaker speaks: the union of the rows,
    # so that overlapping windows do not stack into darker bands
    pauses = np.zeros(len(starts), dtype=bool)
    pauses[1:] = starts[1:] > np.maximum.accumulate(ends)[:-1]
    firsts = np.flatnonzero(pauses | (np.arange(len(starts)) == 0))
    span_starts = starts[firsts]
    span_ends = np.maximum.reduceat(ends, firsts) if len(starts) else firsts
    ax.broken_barh(
        list(zip(span_starts / scale, (span_ends - span_starts) / scale)),
        (low, 1.05 - low),
        facecolors=color,
        alpha=0.18,
        linewidth=0,
    )
    if turns is None:
        # each row is a turn: a mark from its start to its end
        x = np.stack([starts, ends, np.full(len(starts), np.nan)], axis=1).ravel()
        x = x / scale
    else:
        # windows: a line through their centres, broken between turns
        breaks = pauses.copy()
        breaks[1:] |= turns[1:] != turns[:-1]
        centres = (starts + ends) / 2 / scale
        x = np.insert(centres, np.flatnonzero(breaks), np.nan)
    for column, name in enumerate(dimensions):
        if turns is None:
            y = np.repeat(values[:, column], 3)
            y[2::3] = np.nan
        else:
            y = np.insert(values[:, column], np.flatnonzero(breaks), np.nan)
        ax.plot(
            x,
            y,
            color=COLORS.get(name),
            linewidth=2.0 if turns is None else 1.2,
            marker="." if turns is not None and len(starts) < 200 else None,
            markersize=3,
            label=name,
        )


@plain_text()
def circumplex(
    frame: pd.DataFrame,
    *,
    ax=None,
):
    r"""Files or segments in the valence-arousal plane.

    One point per row,
    coloured per speaker if ``frame`` has a ``speaker`` column
    (e.g. from :func:`audemo.process_turns`),
    else by dominance if it has that.
    Dashed lines at 0.5 split the plane into the quadrants
    of Russell's circumplex model.

    Args:
        frame: results with ``valence`` and ``arousal`` columns
        ax: :class:`matplotlib.axes.Axes` to draw into,
            a new figure if ``None``

    Returns:
        the axes

    Raises:
        ImportError: if matplotlib is not installed
        ValueError: if ``frame`` lacks valence or arousal

    Examples:
        >>> frame = pd.DataFrame(
        ...     {"arousal": [0.4, 0.6], "dominance": [0.5, 0.5], "valence": [0.3, 0.7]},
        ...     index=audformat.filewise_index(["a.wav", "b.wav"]),
        ... )
        >>> ax = circumplex(frame)
        >>> ax.get_xlabel(), ax.get_ylabel()
        ('Valence', 'Arousal')

    """
    plt = import_optional("matplotlib.pyplot", purpose="plots")
    for name in ("valence", "arousal"):
        if name not in frame.columns:
            raise ValueError(f"The results have no column '{name}'.")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 6))
    if "speaker" in frame.columns:
        speakers = frame["speaker"].astype("string").fillna("?")
        for number, speaker in enumerate(dict.fromkeys(speakers)):
            rows = frame[(speakers == speaker).to_numpy()]
            ax.scatter(
                rows["valence"],
                rows["arousal"],
                color=SPEAKER_COLORS[number % len(SPEAKER_COLORS)],
                edgecolors="black",
                linewidths=0.5,
                label=str(speaker),
            )
        ax.legend(title="Speaker", loc="center left", bbox_to_anchor=(1.02, 0.5))
    else:
        colors = frame["dominance"] if "dominance" in frame.columns else None
        points = ax.scatter(
            frame["valence"],
            frame["arousal"],
            c=colors,
            cmap="viridis",
            vmin=0,
            vmax=1,
            edgecolors="black",
            linewidths=0.5,
        )
        if colors is not None:
            ax.figure.colorbar(points, ax=ax, label="Dominance")
    ax.axhline(0.5, color="grey", linestyle="--", linewidth=0.8)
    ax.axvline(0.5, color="grey", linestyle="--", linewidth=0.8)
    for x, y, text in [
        (0.02, 0.98, "tense"),
        (0.98, 0.98, "excited"),
        (0.02, 0.02, "sad"),
        (0.98, 0.02, "calm"),
    ]:
        ax.text(
            x,
            y,
            text,
            transform=ax.transAxes,
            ha="left" if x < 0.5 else "right",
            va="top" if y > 0.5 else "bottom",
            color="grey",
        )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("Valence")
    ax.set_ylabel("Arousal")
    ax.set_aspect("equal")
    ax.set_title(f"{len(frame)} {'row' if len(frame) == 1 else 'rows'}")
    return ax


@plain_text()
def confusion(
    matrix: pd.DataFrame,
    *,
    normalize: bool = True,
    ax=None,
):
    r"""Confusion matrix of a categories classifier.

    One cell per pair of true class (row)
    and predicted class (column),
    coloured by the share of the true class's rows
    that went to the predicted class,
    so that the diagonal shows the recall of each class
    whatever the sizes of the classes.
    The title gives the unweighted average recall (UAR),
    the mean of the diagonal.

    Args:
        matrix: counts with true classes as rows
            and predicted classes as columns,
            e.g. the ``confusion`` of :func:`audemo.evaluate_categories`
        normalize: write the share of the true class into each cell,
            else the count
        ax: :class:`matplotlib.axes.Axes` to draw into,
            a new figure if ``None``

    Returns:
        the axes

    Raises:
        ImportError: if matplotlib is not installed
        ValueError: if ``matrix`` is not square with the same classes
            as rows and columns

    Examples:
        >>> matrix = pd.DataFrame(
        ...     [[8, 2], [1, 9]],
        ...     index=pd.Index(["happy", "sad"], name="truth"),
        ...     columns=pd.Index(["happy", "sad"], name="prediction"),
        ... )
        >>> ax = confusion(matrix)
        >>> ax.get_title()
        'UAR 0.850'
        >>> ax.get_xlabel(), ax.get_ylabel()
        ('Predicted', 'True')

    """
    plt = import_optional("matplotlib.pyplot", purpose="plots")
    if list(matrix.index) != list(matrix.columns):
        raise ValueError(
            "A confusion matrix needs the same classes as rows (true) "
            "and columns (predicted), in the same order."
        )
    counts = matrix.to_numpy(dtype=float)
    totals = counts.sum(axis=1, keepdims=True)
    # a class without rows has no recall: leave its row blank, not 0
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = np.where(totals > 0, counts / totals, np.nan)
    size = len(matrix)
    if ax is None:
        _, ax = plt.subplots(figsize=(1.2 * size + 2.5, 1.2 * size + 1.5))
    image = ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    ax.figure.colorbar(image, ax=ax, label="Share of the true class")
    for row in range(size):
        for column in range(size):
            value = shares[row, column] if normalize else counts[row, column]
            if np.isnan(value):
                continue
            ax.text(
                column,
                row,
                f"{value:.2f}" if normalize else f"{value:.0f}",
                ha="center",
                va="center",
                color="white" if shares[row, column] > 0.5 else "black",
            )
    labels = [str(name) for name in matrix.index]
    ax.set_xticks(range(size), labels, rotation=45, ha="right")
    ax.set_yticks(range(size), labels)
    ax.set_xlabel("Predicted")
    ax.set_ylabel("True")
    ax.set_title(f"UAR {np.nanmean(np.diag(shares)):.3f}")
    return ax


def save_figure(figure, target: object, **options):
    r"""Save a figure with every text drawn as it is.

    The figure's texts are drawn as :func:`plain_text` draws them,
    whether or not it was made in that block,
    and saved with :meth:`matplotlib.figure.Figure.savefig`.

    Args:
        figure: matplotlib figure
        target: file name or binary stream
        **options: options of :meth:`matplotlib.figure.Figure.savefig`

    Examples:
        >>> ax = confusion(pd.DataFrame([[1, 0], [0, 1]], ["$a", "b$"], ["$a", "b$"]))
        >>> save_figure(ax.figure, "confusion.png", dpi=50)

    """
    matplotlib = import_optional("matplotlib", purpose="plots")
    for text in figure.findobj(matplotlib.text.Text):
        text.set_parse_math(False)
        text.set_usetex(False)
    with plain_text():  # and the texts made while it is drawn (ticks)
        figure.savefig(target, **options)


def transcript(
    frame: pd.DataFrame,
    *,
    dimension: str = "valence",
    file: str | None = None,
    level: str | None = None,
    vmin: float | None = None,
    vmax: float | None = None,
) -> str:
    r"""The transcript of a recording as a page, tinted by emotion.

    One line per segment,
    with its start time and speaker,
    its text tinted by the score of ``dimension``:
    blue below the middle of the scale,
    red above it,
    the stronger the further from the middle;
    a legend shows the scale,
    and hovering a segment (or word) shows its score and time.
    With words (``level="word"``)
    each word is tinted on its own;
    a line holds the words of one speaker
    up to a word ending in ``.``, ``?`` or ``!``,
    a pause of more than 1 s,
    or another speaker.

    The page is one HTML file
    without scripts or anything loaded from elsewhere,
    its text escaped:
    a transcript of an hour (10,000 words) opens at once.

    Args:
        frame: emotion of a transcript,
            e.g. :func:`audemo.process_transcript`,
            with a ``text`` column on a segmented index
        dimension: the score that tints the text
        file: which file to show, needed if ``frame`` holds several
        level: ``"segment"`` or ``"word"``;
            default: ``"word"`` if no text holds white space
        vmin: score at the blue end of the scale,
            default: the lowest score shown
        vmax: score at the red end of the scale,
            default: the highest score shown

    Returns:
        the page as HTML

    Raises:
        ValueError: if ``frame`` has no ``text`` or ``dimension`` column,
            holds several files and ``file`` is not given,
            ``level`` is unknown,
            or ``vmin`` is not below ``vmax``

    Examples:
        >>> frame = pd.DataFrame(
        ...     {"text": ["Hello <there>", "Bye."], "valence": [0.3, 0.7]},
        ...     index=audformat.segmented_index(["a.wav"] * 2, [0, 2], [1.5, 3]),
        ... )
        >>> page = transcript(frame)
        >>> "Hello &lt;there&gt;" in page, "<script" in page
        (True, False)

    """
    if "text" not in frame.columns:
        raise ValueError(
            f"A transcript picture needs a 'text' column, the results have "
            f"{list(frame.columns)}: predict with --transcript "
            f"(audemo.process_transcript)."
        )
    if dimension not in frame.columns:
        raise ValueError(
            f"The results have no column {dimension!r} to tint the text with, "
            f"they have {list(frame.columns)}."
        )
    frame = _select_file(frame, file)
    file = frame.attrs.get("file", "")
    texts = frame["text"].astype("string").fillna("").to_numpy(str)
    if level is None:
        level = "segment" if any(" " in text.strip() for text in texts) else "word"
    if level not in ("segment", "word"):
        raise ValueError(f"level must be 'segment' or 'word', not {level!r}.")
    values = frame[dimension].to_numpy(float)
    low, high = _tint_scale(values, vmin, vmax)
    starts = frame.index.get_level_values("start").total_seconds().to_numpy()
    ends = frame.index.get_level_values("end").total_seconds().to_numpy()
    if "speaker" in frame.columns:
        speakers = frame["speaker"].astype("string").fillna("").to_numpy(str)
    else:
        speakers = np.full(len(frame), "", dtype=object)
    colours = {
        speaker: SPEAKER_COLORS[i % len(SPEAKER_COLORS)]
        for i, speaker in enumerate(dict.fromkeys(speakers))
    }
    pieces = [
        _transcript_line(
            line,
            texts,
            speakers,
            starts,
            ends,
            values,
            dimension,
            colours,
            low,
            high,
        )
        for line in _transcript_lines(level, texts, speakers, starts, ends)
    ]
    legend = (
        f'<div class="legend"><span>{dimension} {low:.2f}</span>'
        f'<span class="scale" style="background:linear-gradient(to right, '
        f'{_tint(0.0)}, {_tint(0.5)}, {_tint(1.0)})"></span>'
        f"<span>{high:.2f}</span></div>"
    )
    title = html.escape(f"{file} · {dimension}" if file else dimension)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{title}</title><style>{_TRANSCRIPT_CSS}</style></head>"
        f'<body><h1>{title}</h1>{legend}<div class="transcript">\n'
        + "\n".join(pieces)
        + "\n</div></body></html>\n"
    )


def _tint_scale(
    values: np.ndarray, vmin: float | None, vmax: float | None
) -> tuple[float, float]:
    r"""Scores at the blue and red ends of a transcript's scale."""
    valid = values[~np.isnan(values)]
    low = float(valid.min()) if vmin is None and len(valid) else vmin
    high = float(valid.max()) if vmax is None and len(valid) else vmax
    low, high = (0.0 if low is None else low), (1.0 if high is None else high)
    if vmin is None and vmax is None and low == high:
        low, high = low - 0.5, high + 0.5  # one score: the middle of a scale
    if not low < high:
        raise ValueError(f"vmin ({low:g}) must be below vmax ({high:g}).")
    return low, high


def _transcript_lines(
    level: str,
    texts: np.ndarray,
    speakers: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
) -> list[list[int]]:
    r"""Rows of each line of a transcript page (see :func:`transcript`)."""
    lines = []
    line = []
    for i in range(len(texts)):
        if line and (
            level == "segment"
            or speakers[i] != speakers[line[-1]]
            or starts[i] - ends[line[-1]] > LINE_PAUSE
            or texts[line[-1]].rstrip().endswith((".", "?", "!"))
        ):
            lines.append(line)
            line = []
        line.append(i)
    if line:
        lines.append(line)
    return lines


_TRANSCRIPT_CSS = (
    "body{font:15px/1.5 system-ui,sans-serif;margin:1.5em;color:#222}"
    "h1{font-size:1.2em}"
    ".legend{display:flex;align-items:center;gap:.5em;margin-bottom:1em}"
    ".scale{display:inline-block;width:12em;height:1em;border:1px solid #999}"
    ".line{display:flex;gap:.8em;padding:.15em 0}"
    ".time{color:#666;font-variant-numeric:tabular-nums;min-width:5.5em}"
    ".speaker{font-weight:600;min-width:6em}"
    ".text span{padding:0 .1em;border-radius:3px}"
    ".text .none{background:repeating-linear-gradient(45deg,#eee,#eee 3px,"
    "#fff 3px,#fff 6px)}"
)


def _transcript_line(
    line, texts, speakers, starts, ends, values, dimension, colours, low, high
) -> str:
    r"""One line of a transcript page: time, speaker, tinted text."""
    spans = []
    for i in line:
        value = values[i]
        time = f"{_clock(starts[i])}–{_clock(ends[i])}"
        if np.isnan(value):
            tint, hover = 'class="none"', f"{dimension}: no score, {time}"
        else:
            position = min(max((value - low) / (high - low), 0.0), 1.0)
            tint = f'style="background:{_tint(position)}"'
            hover = f"{dimension} {value:.3f}, {time}"
        spans.append(
            f'<span {tint} title="{html.escape(hover)}" '
            f'data-value="{value:.6g}">{html.escape(texts[i])}</span>'
        )
    speaker = speakers[line[0]]
    return (
        f'<div class="line"><span class="time">{_clock(starts[line[0]])}</span>'
        f'<span class="speaker" style="color:{colours[speaker]}">'
        f"{html.escape(speaker)}</span>"
        f'<span class="text">{" ".join(spans)}</span></div>'
    )


def _tint(position: float) -> str:
    r"""Background of a score at ``position`` (0..1) of the scale."""
    colour = TINTS["low"] if position < 0.5 else TINTS["high"]
    alpha = abs(position - 0.5) * 2 * 0.6
    return f"rgba({colour[0]},{colour[1]},{colour[2]},{alpha:.2f})"


def _clock(seconds: float) -> str:
    r"""Seconds as m:ss.s, or h:mm:ss.s from an hour on."""
    seconds = round(seconds, 1)  # 59.97 s is 1:00.0, not 0:60.0
    minutes, rest = divmod(seconds, 60)
    hours, minutes = divmod(int(minutes), 60)
    if hours:
        return f"{hours}:{minutes:02d}:{rest:04.1f}"
    return f"{minutes}:{rest:04.1f}"


def _timed_rows(
    frame: pd.DataFrame, file: str | None, dimensions: Sequence[str]
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    r"""Rows of one file with the dimensions, and their start and end in s."""
    frame = _select_file(frame, file)
    missing = [name for name in dimensions if name not in frame.columns]
    if missing:
        raise ValueError(f"The results have no column {missing}.")
    starts = frame.index.get_level_values("start").total_seconds().to_numpy()
    ends = frame.index.get_level_values("end").total_seconds().to_numpy()
    return frame, starts, ends


# arguments in braces: see argument_error
_OVER_TIME = (
    "results of windows ({win_dur=1.0}) or speech segments "
    "({segment=audemo.VoiceActivity()})"
)


def _check_over_time(frame: pd.DataFrame):
    r"""Refuse results of one row per file: a timeline has nothing to draw."""
    _check_timed(frame)
    if "file" not in frame.index.names or frame.empty:
        return
    rows = frame.index.get_level_values("file").value_counts()
    if (rows == 1).all():
        raise argument_error(
            f"The results hold one row per file (a score for the whole file): "
            f"a timeline shows how scores change within a file "
            f"and needs {_OVER_TIME}. "
            f"Scores of whole files fit the circumplex."
        )


def _check_timed(frame: pd.DataFrame):
    names = list(frame.index.names)
    if "start" not in names or "end" not in names:
        raise argument_error(f"A timeline needs start and end times: {_OVER_TIME}.")


def _select_file(frame: pd.DataFrame, file: str | None) -> pd.DataFrame:
    _check_timed(frame)
    if "file" not in frame.index.names:
        return frame
    files = list(dict.fromkeys(frame.index.get_level_values("file")))
    if file is None:
        if len(files) > 1:
            raise argument_error(
                f"The results hold {len(files)} files: choose one, "
                f"e.g. {{file={files[0]!r}}}."
            )
        file = files[0]
    if file not in files:
        raise ValueError(f"The results hold no file {file!r}.")
    selected = frame[frame.index.get_level_values("file") == file]
    selected.attrs = {"file": file}
    return selected
