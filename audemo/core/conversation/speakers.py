r"""Emotion per speaker in conversations.

A conversation frame holds the emotion of speaker turns
(or of windows inside them):
an audformat segmented index,
a ``speaker`` column first,
then the dimensions (``arousal``, ``dominance``, ``valence``)
and optionally ``overlap`` (see :func:`~audemo.overlap_mask`),
``turn`` (an id of the turn a row belongs to)
and ``turn_start``, ``turn_end`` (the span of that turn).
:func:`process_turns` makes it from speaker turns,
:func:`speaker_summary` sums it up per file and speaker,
:func:`normalize_per_speaker` gives each speaker's scores
relative to their own mean.

"""

from __future__ import annotations

import numpy as np
import pandas as pd

import audformat
import audinterface

from audemo.core.conversation.turns import MIN_PIECE
from audemo.core.conversation.turns import check_segmented
from audemo.core.conversation.turns import check_turns
from audemo.core.conversation.turns import exclude_overlap as cut_overlap
from audemo.core.conversation.turns import overlap_mask
from audemo.core.conversation.turns import speaker_unions
from audemo.core.define import DIMENSIONS
from audemo.core.define import NORMALIZE
from audemo.core.define import OVERLAP
from audemo.core.results import read_time
from audemo.core.utils import argument_error
from audemo.core.utils import count
from audemo.core.utils import warn_items


STATISTICS = ("mean", "std", "trend", "min", "max")
r"""Statistics :func:`speaker_summary` gives per dimension."""

TURN_SPAN = ("turn_start", "turn_end")
r"""Columns with the start and end of the turn a window lies in."""


def process_turns(
    interface: audinterface.Feature,
    turns: pd.Series,
    *,
    root: str | None = None,
    cache_root: str | None = None,
    file_key: str | None = None,
    exclude_overlap: bool = False,
) -> pd.DataFrame:
    r"""Emotion of each speaker turn.

    Processes the segments of ``turns``
    with ``interface`` (e.g. :class:`audemo.Emotion`)
    and returns a conversation frame:
    a ``speaker`` column first,
    then the columns of the interface,
    then ``overlap``,
    which flags rows that overlap a turn of another speaker
    (:func:`~audemo.overlap_mask`).
    The scores are those of
    ``interface.process_index(turns.index)``,
    row for row.

    With ``win_dur`` (or ``segment``) set on the interface,
    each turn gives one row per window (or segment) inside it,
    which get the turn's speaker
    a ``turn`` column,
    the position of the turn in the sorted turns
    (0, 1, ...),
    and ``turn_start`` and ``turn_end``,
    the span of the turn
    (the windows need not reach its end;
    with ``exclude_overlap`` the turns are the pieces),
    after ``speaker``;
    a turn shorter than a window gives one row for the whole turn.
    Turns that overlap are processed in separate passes
    (as many as speakers speak at once at most),
    so that every window belongs to exactly one turn.

    Turns shorter than 25 ms,
    the shortest input the model can process,
    are an error with ``errors="raise"``
    (before anything is processed);
    with ``errors="coerce"``
    each gives a row of NaN scores
    with a warning over all of them.

    Args:
        interface: feature interface,
            e.g. :class:`audemo.Emotion`
        turns: speaker turns,
            e.g. from :func:`~audemo.read_rttm`
            or ``db["turns"]["speaker"].get()``
        root: folder the files of the turns are relative to,
            e.g. ``db.root``
        cache_root: cache folder of results,
            see :meth:`audemo.Emotion.process_index`
        file_key: how audio files enter the cache key,
            see :meth:`audemo.Emotion.process_index`
            (default: the interface's default)
        exclude_overlap: process only the parts of the turns
            in which one speaker speaks alone
            (:func:`~audemo.exclude_overlap`):
            the rows are those pieces,
            and no row overlaps

    Returns:
        conversation frame with a segmented index,
        sorted by file and start of the turns

    Raises:
        TypeError: if ``interface`` is not an
            :class:`audinterface.Feature`
        TypeError, ValueError: as :func:`~audemo.check_turns`
        ValueError: if a turn is shorter than 25 ms
            and the interface has ``errors="raise"``;
            others as :meth:`audemo.Emotion.process_index`

    Examples:
        >>> interface = audemo.Emotion(audemo.testing.create_model("model"))
        >>> index = audformat.segmented_index(
        ...     ["speech.wav"] * 3, [0.0, 1.5, 2.5], [2.0, 3.0, 4.0]
        ... )
        >>> turns = pd.Series(["A", "B", "A"], index=index)
        >>> frame = process_turns(interface, turns)
        >>> frame.round(2).reset_index(drop=True)
          speaker  arousal  dominance  valence  overlap
        0       A     0.59       0.52     0.54     True
        1       B     0.54       0.51     0.50     True
        2       A     0.55       0.52     0.54     True
        >>> alone = process_turns(interface, turns, exclude_overlap=True)
        >>> alone[["speaker", "overlap"]]
                                                          speaker  overlap
        file       start           end
        speech.wav 0 days 00:00:00 0 days 00:00:01.500000       A    False
                   0 days 00:00:02 0 days 00:00:02.500000       B    False
                   0 days 00:00:03 0 days 00:00:04.000000       A    False
        >>> windows = audemo.Emotion(
        ...     audemo.testing.create_model("model"), win_dur=1.0, hop_dur=0.5
        ... )
        >>> frame = process_turns(windows, turns)
        >>> frame.iloc[:4, :4].reset_index(["file", "start"], drop=True)
                               speaker  turn             turn_start        turn_end
        end
        0 days 00:00:01.000000       A     0 0 days 00:00:00.000000 0 days 00:00:02
        0 days 00:00:01.500000       A     0 0 days 00:00:00.000000 0 days 00:00:02
        0 days 00:00:02.000000       A     0 0 days 00:00:00.000000 0 days 00:00:02
        0 days 00:00:02.500000       B     1 0 days 00:00:01.500000 0 days 00:00:03

    """
    if not isinstance(interface, audinterface.Feature):
        raise TypeError(
            f"interface must be an audinterface.Feature such as audemo.Emotion, "
            f"not {type(interface).__name__}."
        )
    turns = check_turns(turns)
    if exclude_overlap:
        turns = cut_overlap(turns)
    durations = _durations(turns.index)
    short = durations < MIN_PIECE - 1e-9
    if short.any():
        labels = [
            f"{file} {start.total_seconds():g}-{end.total_seconds():g} s "
            f"({duration * 1000:.4g} ms)"
            for (file, start, end), duration in zip(
                turns.index[short], durations[short]
            )
        ]
        message = f"{count(int(short.sum()), 'turn')} shorter than 25 ms"
        fix = (
            "The model needs at least 400 samples at 16 kHz. "
            "Drop them from {turns}, "
            "or process with {errors='coerce'} for rows of NaN."
        )
        if getattr(interface, "errors", "raise") == "raise":
            raise argument_error(f"{message}: {', '.join(labels[:3])}. {fix}")
        warn_items(f"{message} hold NaN values (errors='coerce')", labels)
    windowed = (
        getattr(interface, "win_dur", None) is not None
        or interface.process.segment is not None
    )
    ids = np.arange(len(turns))
    cache = {"cache_root": cache_root}
    if file_key is not None:  # only Emotion knows it
        cache["file_key"] = file_key
    parts = [
        _process_layer(interface, turns, layer, root, cache, windowed)
        for layer in _layers(turns, ~short)
    ]
    if short.any():
        like = parts[0][0] if parts else interface.process_index(turns.index[:0])
        nan = pd.DataFrame(np.nan, index=turns.index[short], columns=like.columns)
        if parts:
            nan = nan.astype(like.dtypes.to_dict())
        parts.append((nan, ids[short]))
    frame = pd.concat([part for part, _ in parts])
    positions = np.concatenate([rows for _, rows in parts]).astype("int64")
    starts = frame.index.get_level_values("start").to_numpy("int64")
    order = np.lexsort((starts, positions))
    frame = frame.iloc[order]
    positions = positions[order]
    speakers = turns.to_numpy()[positions]
    if windowed:
        # the windows need not reach the end of their turn:
        # the turn's own span keeps the speaking time exact
        spans = turns.index[positions]
        for column in TURN_SPAN[::-1]:
            level = column.removeprefix("turn_")
            frame.insert(0, column, spans.get_level_values(level).to_numpy())
        frame.insert(0, "turn", positions)
    frame.insert(0, "speaker", pd.array(speakers, dtype="string"))
    frame["overlap"] = overlap_mask(frame, reference=turns).to_numpy()
    return frame


def speaker_summary(
    frame: pd.DataFrame,
    *,
    normalize: str | None = None,
    overlap: str = "include",
) -> pd.DataFrame:
    r"""Emotion per speaker of a conversation.

    One row per file and speaker with

    * ``turns``: number of turns of the speaker.
      With a ``turn`` column,
      the number of distinct turn ids;
      without one,
      rows of the speaker that overlap or touch in time
      count as one turn,
      so that windows inside a turn
      (several rows per turn)
      make one turn
      (two turns of a speaker that touch without a pause
      count as one, too;
      windows with gaps between them
      need a ``turn`` column)
    * ``speaking_time``: seconds of the speaker's turns
      (time in which turns of the speaker overlap counts once):
      with ``turn_start`` and ``turn_end`` columns
      (:func:`process_turns` with windows)
      the spans of the turns,
      whatever the windows cover;
      without them the seconds covered by the rows,
      which are the turns
      (with ``exclude_overlap``: the pieces of the turns
      in which the speaker speaks alone)
    * ``share``: ``speaking_time`` as a share of the speaking time
      of all speakers of the file
      (overlapping speech counts for each speaker,
      the shares of a file add up to 1)

    and for each dimension among
    ``arousal``, ``dominance``, ``valence``
    that the frame has
    statistics over the rows,
    weighted by their duration
    (with windows: window-weighted,
    time in which windows overlap counts for each of them):

    * ``<dimension>_mean``: mean weighted by the duration of the rows
    * ``<dimension>_std``: standard deviation
      weighted by the duration of the rows
      (population: 0 for a single row)
    * ``<dimension>_trend``: change per minute,
      the slope of a least-squares line through the rows' scores
      over the centre time of each row,
      weighted by the duration of the rows;
      NaN if all rows of the speaker have the same centre time
    * ``<dimension>_min``, ``<dimension>_max``:
      lowest and highest score of a row

    Rows with a missing score
    (e.g. a failed segment with ``errors="coerce"``)
    are left out of that dimension's statistics,
    but count for ``turns`` and ``speaking_time``.
    ``turns``, ``speaking_time`` and ``share``
    do not depend on ``normalize`` and ``overlap``.

    Args:
        frame: emotion of speaker turns
            with a ``speaker`` column
            on a segmented index
        normalize: ``"speaker"`` computes the statistics
            on scores relative to each speaker's mean
            (:func:`normalize_per_speaker`),
            ``None`` on the scores as they are
        overlap: ``"exclude"`` leaves rows
            flagged in the ``overlap`` column
            out of the emotion statistics
            (the voice of the other speaker is in them)
            and out of the means ``normalize`` subtracts;
            ``"include"`` uses all rows

    Returns:
        summary with index (``file``, ``speaker``)

    Raises:
        TypeError: if ``frame`` is not a :class:`pandas.DataFrame`
        ValueError: if the index is not segmented,
            the ``speaker`` column is missing,
            a row does not last longer than zero,
            ``normalize`` or ``overlap`` is unknown,
            or ``overlap="exclude"`` without an ``overlap`` column

    Examples:
        >>> index = audformat.segmented_index(
        ...     ["call.wav"] * 4, [0, 20, 40, 90], [20, 40, 60, 120]
        ... )
        >>> frame = pd.DataFrame(
        ...     {
        ...         "speaker": ["A", "B", "A", "B"],
        ...         "arousal": [0.2, 0.5, 0.4, 0.6],
        ...     },
        ...     index=index,
        ... )
        >>> summary = speaker_summary(frame)
        >>> summary[["turns", "speaking_time", "share"]].round(3)
                          turns  speaking_time  share
        file     speaker
        call.wav A            2           40.0  0.444
                 B            2           50.0  0.556
        >>> summary[["arousal_mean", "arousal_std", "arousal_trend"]].round(3)
                          arousal_mean  arousal_std  arousal_trend
        file     speaker
        call.wav A                 0.30        0.100           0.30
                 B                 0.56        0.049           0.08

    """
    if normalize not in NORMALIZE:
        raise ValueError(
            f"normalize must be one of {list(NORMALIZE)}, not {normalize!r}."
        )
    frame, dimensions, use = _check_frame(frame, overlap)
    if normalize == "speaker":
        frame = _normalize(frame, dimensions, use)
    index = frame.index
    durations = _durations(index)
    centres = (
        _seconds(index.get_level_values("start") + index.get_level_values("end")) / 2
    )
    unions = speaker_unions(_turn_spans(frame))
    keys = pd.MultiIndex.from_arrays(
        [index.get_level_values("file").astype("string"), frame["speaker"]],
        names=["file", "speaker"],
    )
    positions = pd.DataFrame(index=keys).groupby(level=[0, 1], sort=True).indices
    rows = []
    for (file, speaker), group in positions.items():
        union_starts, union_ends = unions[file][speaker]
        if "turn" in frame.columns:
            turns = frame["turn"].iloc[group].nunique(dropna=False)
        else:
            turns = len(union_starts)
        row = {
            "turns": turns,
            "speaking_time": _seconds(union_ends - union_starts).sum(),
        }
        for dimension in dimensions:
            values = frame[dimension].to_numpy(float)[group]
            valid = use[group] & ~np.isnan(values)
            row.update(
                _statistics(
                    dimension,
                    values[valid],
                    durations[group][valid],
                    centres[group][valid] / 60,
                )
            )
        rows.append(row)
    columns = ["turns", "speaking_time"] + [
        f"{dimension}_{statistic}"
        for dimension in dimensions
        for statistic in STATISTICS
    ]
    summary = pd.DataFrame(
        rows,
        index=pd.MultiIndex.from_tuples(list(positions), names=["file", "speaker"]),
        columns=columns,
    )
    summary.index = summary.index.set_levels(
        [level.astype("string") for level in summary.index.levels]
    )
    summary["turns"] = summary["turns"].astype("int64")
    summary["speaking_time"] = summary["speaking_time"].astype("float64")
    totals = summary.groupby(level="file")["speaking_time"].transform("sum")
    summary.insert(2, "share", summary["speaking_time"] / totals)
    return summary


def normalize_per_speaker(
    frame: pd.DataFrame,
    *,
    overlap: str = "include",
) -> pd.DataFrame:
    r"""Scores of each speaker relative to their own mean.

    From each score
    the mean of the speaker in that file is subtracted,
    weighted by the duration of the rows
    (the speaker's ``<dimension>_mean``
    of :func:`speaker_summary`).
    A score then says whether a speaker was
    more or less aroused, dominant or positive
    than usual for this speaker,
    which compares better between speakers
    than the raw scores:
    voices differ in how the model rates them.
    Speakers are told apart per file:
    ``A`` in two files are two speakers.

    Args:
        frame: emotion of speaker turns
            with a ``speaker`` column
            on a segmented index
        overlap: ``"exclude"`` leaves rows
            flagged in the ``overlap`` column
            out of the means
            (their scores are still normalized);
            ``"include"`` uses all rows

    Returns:
        copy of ``frame`` with the dimensions
        (``arousal``, ``dominance``, ``valence``, those it has)
        relative to each speaker's mean

    Raises:
        TypeError, ValueError: as :func:`speaker_summary`

    Examples:
        >>> index = audformat.segmented_index(
        ...     ["call.wav"] * 3, [0, 1, 3], [1, 3, 4]
        ... )
        >>> frame = pd.DataFrame(
        ...     {"speaker": ["A", "B", "A"], "valence": [0.2, 0.5, 0.4]},
        ...     index=index,
        ... )
        >>> normalize_per_speaker(frame)["valence"].round(2).tolist()
        [-0.1, 0.0, 0.1]

    """
    frame, dimensions, use = _check_frame(frame, overlap)
    return _normalize(frame, dimensions, use)


# ----- helpers ------------------------------------------------------------


def _check_frame(frame, overlap):
    r"""Checked frame, its dimensions, and the rows to use for statistics."""
    if overlap not in OVERLAP:
        raise ValueError(f"overlap must be one of {list(OVERLAP)}, not {overlap!r}.")
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(
            f"Expected a frame with a 'speaker' column and emotion scores "
            f"(e.g. the result of process_turns), not {type(frame).__name__}."
        )
    check_segmented(frame.index, "Conversation frames")
    if "speaker" not in frame.columns:
        raise ValueError(
            f"The frame needs a 'speaker' column, it has {list(frame.columns)}. "
            f"Add the speaker of each row: frame.insert(0, 'speaker', turns)."
        )
    check_turns(frame["speaker"])
    frame = frame.copy()
    frame["speaker"] = frame["speaker"].astype("string")
    dimensions = [dimension for dimension in DIMENSIONS if dimension in frame]
    use = np.ones(len(frame), dtype=bool)
    if overlap == "exclude":
        if "overlap" not in frame.columns:
            raise ValueError(
                "overlap='exclude' needs an 'overlap' column in the frame: "
                "frame['overlap'] = audemo.overlap_mask(frame)."
            )
        use = ~frame["overlap"].fillna(False).to_numpy(bool)
    return frame, dimensions, use


def _normalize(frame, dimensions, use):
    r"""Subtract each speaker's duration-weighted mean per file."""
    index = frame.index
    durations = _durations(index)
    keys = [index.get_level_values("file"), frame["speaker"].to_numpy()]
    for dimension in dimensions:
        values = frame[dimension].to_numpy(float)
        valid = use & ~np.isnan(values)
        weights = np.where(valid, durations, 0.0)
        weighted = pd.Series(np.where(valid, values * weights, 0.0))
        weights = pd.Series(weights)
        sums = weighted.groupby(keys).transform("sum").to_numpy()
        totals = weights.groupby(keys).transform("sum").to_numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            means = sums / totals
        frame[dimension] = values - means
    return frame


def _turn_spans(frame: pd.DataFrame) -> pd.Series:
    r"""Speaker of each row on the span of its turn, or of the row itself.

    ``turn_start`` and ``turn_end`` are durations,
    or seconds as numbers (a CSV file read without audemo).

    """
    if not all(column in frame.columns for column in TURN_SPAN):
        return frame["speaker"]
    start, end = (
        read_time(frame[column])
        if pd.api.types.is_numeric_dtype(frame[column])
        else frame[column]
        for column in TURN_SPAN
    )
    spans = audformat.segmented_index(
        frame.index.get_level_values("file"), start.to_numpy(), end.to_numpy()
    )
    return frame["speaker"].set_axis(spans)


def _layers(turns: pd.Series, keep: np.ndarray) -> list[np.ndarray]:
    r"""Positions of the kept turns in passes without overlap inside a file.

    Greedy interval colouring over the sorted turns:
    each turn goes into the first pass
    whose last turn in the same file has ended.

    """
    files = turns.index.get_level_values("file").to_numpy(str)
    starts = turns.index.get_level_values("start").to_numpy("int64")
    ends = turns.index.get_level_values("end").to_numpy("int64")
    layers, last = [], []  # positions per pass, {file: end} per pass
    for position in np.flatnonzero(keep):
        file = files[position]
        for layer, ended in zip(layers, last):
            if ended.get(file, -1) <= starts[position]:
                break
        else:
            layer, ended = [], {}
            layers.append(layer)
            last.append(ended)
        layer.append(position)
        ended[file] = ends[position]
    return [np.asarray(layer, dtype="int64") for layer in layers]


def _process_layer(interface, turns, layer, root, cache, windowed):
    r"""Result of turns that do not overlap, and the turn of each row."""
    index = turns.index[layer]
    frame = interface.process_index(index, root=root, **cache)
    if not windowed:
        # one row per turn, in the order of the index
        return frame, layer
    # every row lies inside exactly one turn of the pass
    positions = np.empty(len(frame), dtype="int64")
    row_files = frame.index.get_level_values("file").to_numpy(str)
    row_starts = frame.index.get_level_values("start").to_numpy("int64")
    files = index.get_level_values("file").to_numpy(str)
    starts = index.get_level_values("start").to_numpy("int64")
    for file in np.unique(row_files):
        rows = np.flatnonzero(row_files == file)
        mine = np.flatnonzero(files == file)
        k = np.searchsorted(starts[mine], row_starts[rows], side="right") - 1
        positions[rows] = layer[mine[k]]
    return frame, positions


def _durations(index: pd.MultiIndex) -> np.ndarray:
    r"""Duration of each row in seconds."""
    return _seconds(index.get_level_values("end") - index.get_level_values("start"))


def _seconds(timedeltas) -> np.ndarray:
    r"""Timedeltas (or nanoseconds) as float seconds."""
    return np.asarray(pd.to_timedelta(timedeltas).total_seconds(), dtype=float)


def _statistics(dimension, values, weights, times) -> dict:
    r"""Weighted mean, std, trend per minute, min and max."""
    names = [f"{dimension}_{statistic}" for statistic in STATISTICS]
    if len(values) == 0 or weights.sum() == 0:
        return dict.fromkeys(names, np.nan)
    mean = np.average(values, weights=weights)
    std = np.sqrt(np.average((values - mean) ** 2, weights=weights))
    time = np.average(times, weights=weights)
    spread = np.sum(weights * (times - time) ** 2)
    if spread > 0:
        trend = np.sum(weights * (times - time) * (values - mean)) / spread
    else:
        trend = np.nan
    return dict(zip(names, [mean, std, trend, values.min(), values.max()]))
