r"""Result files of ``audemo predict``: CSV and parquet, written and read back.

A results file holds the frame that :class:`audemo.Emotion` returns,
its audformat index as the columns ``file``, ``start`` and ``end``
(or ``file`` alone).
In CSV files
``start`` and ``end`` are seconds (default) or pandas durations,
and text that a spreadsheet would run as a formula
gets a leading ``'`` (:func:`csv_quote`),
which :func:`read_results` removes again.

"""

from __future__ import annotations

import json
import os
import typing

import numpy as np
import pandas as pd

import audeer
import audformat

from audemo.core.storage import atomic_path


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
r"""Starts of a cell that a spreadsheet runs as a formula."""

WHAT_RESULTS_ARE = (
    "a results file is a CSV or parquet file "
    "as audemo predict writes it (-o results.csv), "
    "with a column file, optionally start and end, and the scores."
)
r"""What :func:`read_results` reads, for its errors."""

TIME_COLUMNS = ("start", "end", "turn_start", "turn_end")
r"""Columns of durations: the index and the span of a speaker turn."""

CALIBRATION = "calibration"
r"""Key in ``frame.attrs`` and column in CSV files of the calibration marker.

Calibrated results (``audemo predict --calibration``)
carry :attr:`audemo.Calibration.marker`
in ``frame.attrs["calibration"]``;
CSV files hold it as JSON in a column ``calibration``
(the same on every row),
parquet files in their ``attrs``.
"""


def read_results(path: str) -> pd.DataFrame:
    r"""Read results written by ``audemo predict``.

    ``start`` and ``end`` in CSV files may be seconds
    (``--time-format seconds``, the default)
    or pandas durations such as ``0 days 00:00:01.5``
    (``--time-format timedelta``, and audemo before 1.1).
    In CSV files,
    ``audemo predict`` writes text cells
    starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return
    with a leading ``'``
    (spreadsheets show them as text instead of running a formula);
    it is removed here,
    so that file names and columns are read back as they were.

    :func:`audformat.utils.read_csv` is not used:
    it converts seconds with :func:`pandas.to_timedelta`,
    which is a nanosecond off for about 2 % of the values
    that ``audemo predict`` writes
    (:func:`read_time` rounds them to the nanosecond),
    and it keeps the leading ``'``.

    Args:
        path: CSV or parquet file

    Returns:
        results with their audformat index

    Raises:
        FileNotFoundError: if ``path`` does not exist
        ValueError: if the file is not CSV or parquet
            (e.g. an audio file)
            or has no ``file`` column

    Examples:
        >>> with open("results.csv", "w") as file:
        ...     _ = file.write("file,start,end,arousal\n'=a.wav,0.0,1.5,0.6\n")
        >>> frame = read_results("results.csv")
        >>> frame.index[0]
        ('=a.wav', Timedelta('0 days 00:00:00'), Timedelta('0 days 00:00:01.500000'))
        >>> frame["arousal"].tolist()
        [0.6]

    """
    if not os.path.exists(path):
        raise FileNotFoundError(f"Results file '{path}' does not exist.")
    try:
        if audeer.file_extension(path).lower() == "parquet":
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_csv(path, converters={"file": csv_unquote})
    except ValueError:
        # not text, not CSV, not parquet (UnicodeDecodeError, ParserError and
        # ArrowInvalid are ValueErrors): e.g. an audio file given as results
        raise ValueError(
            f"'{path}' is not a results file: {WHAT_RESULTS_ARE}"
        ) from None
    if audeer.file_extension(path).lower() == "parquet":
        return _marker_from_column(frame, path)
    frame.columns = [csv_unquote(str(column)) for column in frame.columns]
    if "file" not in frame.columns:
        raise ValueError(
            f"Results file '{path}' has no 'file' column: {WHAT_RESULTS_ARE}"
        )
    for column in TIME_COLUMNS[2:]:  # the span of a turn (audemo.process_turns)
        if column in frame.columns:
            frame[column] = read_time(frame[column])
    if "start" in frame.columns and "end" in frame.columns:
        index = audformat.segmented_index(
            frame["file"], read_time(frame["start"]), read_time(frame["end"])
        )
        frame = frame.drop(columns=["file", "start", "end"])
    else:
        index = audformat.filewise_index(frame["file"])
        frame = frame.drop(columns=["file"])
    frame.index = index
    return _marker_from_column(frame, path)


def write_results(
    frame: pd.DataFrame,
    output: str | typing.TextIO,
    *,
    file_format: str = "csv",
    time_format: str = "seconds",
):
    r"""Write results as ``audemo predict`` does.

    Args:
        frame: results with an audformat index
        output: file name, or an open text stream for CSV
            (e.g. :data:`sys.stdout`);
            a file is written under a temporary name
            and renamed when complete
            (see :func:`audemo.core.storage.atomic_path`),
            so a killed run leaves the old file or none,
            never a part
        file_format: ``"csv"``
            (text cells quoted with :func:`csv_safe`)
            or ``"parquet"``
            (the frame as it is, index included)
        time_format: ``start`` and ``end`` in CSV:
            ``"seconds"`` or ``"timedelta"``
            (pandas durations)

    Examples:
        >>> frame = pd.DataFrame(
        ...     {"arousal": [0.6]},
        ...     index=audformat.segmented_index(["a.wav"], [0], [1.5]),
        ... )
        >>> write_results(frame, "results.csv")
        >>> print(open("results.csv").read().strip())
        file,start,end,arousal
        a.wav,0.0,1.5,0.6
        >>> read_results("results.csv").equals(frame)
        True

    """
    marker = calibration_marker(frame)
    if file_format != "parquet" and marker is not None:
        frame = frame.copy()
        frame[CALIBRATION] = json.dumps(marker, sort_keys=True)

    def write(target: str | typing.TextIO):
        if file_format == "parquet":
            frame.to_parquet(target)  # with its attrs
        else:
            csv_safe(frame, time_format).to_csv(target, index=False)

    if isinstance(output, str):
        with atomic_path(output) as tmp:
            write(tmp)
    else:
        write(output)


def calibration_marker(frame: pd.DataFrame) -> dict | None:
    r"""The calibration that results are calibrated with, if any.

    Args:
        frame: results,
            e.g. of :class:`audemo.Emotion` with a calibration
            or :func:`read_results`

    Returns:
        :attr:`audemo.Calibration.marker`
        from ``frame.attrs["calibration"]``
        (``truth_range`` as a tuple),
        ``None`` for results that are not calibrated

    Raises:
        ValueError: if the marker is not one
            that :attr:`audemo.Calibration.marker` writes

    Examples:
        >>> frame = pd.DataFrame({"valence": [3.2]})
        >>> calibration_marker(frame) is None
        True
        >>> frame.attrs["calibration"] = {
        ...     "dimensions": ["valence"],
        ...     "truth_range": [1, 5],
        ...     "method": "linear",
        ...     "samples": 20,
        ...     "sha256": "0" * 64,
        ... }
        >>> calibration_marker(frame)["truth_range"]
        (1.0, 5.0)

    """
    marker = frame.attrs.get(CALIBRATION)
    if marker is None:
        return None
    try:
        dimensions = [str(name) for name in marker["dimensions"]]
        truth_range = marker["truth_range"]
        if truth_range is not None:
            low, high = (float(value) for value in truth_range)
            truth_range = (low, high)
        checked = {
            "dimensions": dimensions,
            "truth_range": truth_range,
            "method": str(marker["method"]),
            "samples": int(marker["samples"]),
            "sha256": str(marker["sha256"]),
        }
    except (KeyError, TypeError, ValueError):
        raise ValueError(
            f"The calibration marker of the results is broken: {marker!r}. "
            f"Write the results again with audemo predict --calibration."
        ) from None
    return checked


def describe_calibration(marker: dict) -> str:
    r"""Words that name a calibration and its scale.

    Args:
        marker: :func:`calibration_marker` of results

    Returns:
        description

    Examples:
        >>> describe_calibration(
        ...     {
        ...         "dimensions": ["valence"],
        ...         "truth_range": (1.0, 5.0),
        ...         "method": "linear",
        ...         "samples": 20,
        ...         "sha256": "0123456789ab" + "0" * 52,
        ...     }
        ... )
        'calibrated to the gold scale 1..5 (linear calibration sha256 0123456789ab, fitted on 20 samples)'

    """  # noqa: E501
    if marker["truth_range"] is None:
        scale = "calibrated to the scale of the gold labels (range not recorded)"
    else:
        low, high = marker["truth_range"]
        scale = f"calibrated to the gold scale {low:g}..{high:g}"
    return (
        f"{scale} ({marker['method']} calibration sha256 {marker['sha256'][:12]}, "
        f"fitted on {marker['samples']} samples)"
    )


def _marker_from_column(frame: pd.DataFrame, path: str) -> pd.DataFrame:
    r"""Results with the calibration column of a CSV file in their attrs."""
    if CALIBRATION not in frame.columns:
        return frame
    values = frame[CALIBRATION].dropna().unique()
    try:
        if len(values) != 1:
            raise ValueError(f"{len(values)} different values")
        marker = json.loads(values[0])
        frame = frame.drop(columns=CALIBRATION)
        frame.attrs[CALIBRATION] = marker
        calibration_marker(frame)
    except ValueError as ex:
        raise ValueError(
            f"Results file '{path}' has a column '{CALIBRATION}' that is not "
            f"the one calibration audemo predict --calibration writes on every "
            f"row ({ex}). Write the results again, or rename the column."
        ) from None
    return frame


def read_time(column: pd.Series) -> pd.Series:
    r"""Seconds (numbers) or pandas durations (text) as durations.

    Seconds are rounded to whole nanoseconds,
    the resolution of a :class:`pandas.Timedelta`,
    so that ``1.428020833`` becomes 1428020833 ns, not one less.

    Args:
        column: ``start`` or ``end`` as read from CSV

    Returns:
        durations, with the index of ``column``

    Examples:
        >>> read_time(pd.Series([1.428020833]))[0].value
        1428020833
        >>> read_time(pd.Series(["0 days 00:00:01.5"])).tolist()
        [Timedelta('0 days 00:00:01.500000')]

    """
    if pd.api.types.is_numeric_dtype(column):
        nanoseconds = np.round(column.to_numpy(dtype="float64") * 1e9)
        return pd.Series(pd.to_timedelta(nanoseconds, unit="ns"), index=column.index)
    return pd.to_timedelta(column)


def csv_safe(frame: pd.DataFrame, time_format: str = "seconds") -> pd.DataFrame:
    r"""Results as columns, text cells quoted against formula injection.

    A spreadsheet runs a cell starting with ``=``, ``+``, ``-``, ``@``,
    tab or carriage return as a formula
    (a file named ``=HYPERLINK(...).wav`` becomes a link).
    Such text cells and column names get a leading ``'``
    (:func:`csv_quote`),
    which spreadsheets show as text.
    Numbers (e.g. ``-0.2``) are left as they are.
    With ``time_format="seconds"``,
    ``start`` and ``end`` become seconds
    rounded to the nanosecond (the resolution of a duration),
    which the CSV writer prints in the fewest digits that read back exactly.

    Args:
        frame: results with an audformat index
        time_format: ``"seconds"`` or ``"timedelta"``
            (durations left as they are)

    Returns:
        the index as columns, followed by the columns of ``frame``

    Examples:
        >>> frame = pd.DataFrame(
        ...     {"arousal": [-0.2]},
        ...     index=audformat.segmented_index(["=1+2.wav"], [0], [1.5]),
        ... )
        >>> csv_safe(frame)
                file  start  end  arousal
        0  '=1+2.wav    0.0  1.5     -0.2

    """
    frame = frame.reset_index()
    if time_format == "seconds":
        for column in TIME_COLUMNS:
            if column in frame.columns:
                frame[column] = np.round(frame[column].dt.total_seconds(), 9)
    for column in frame.columns:
        if frame[column].dtype == object or pd.api.types.is_string_dtype(frame[column]):
            frame[column] = frame[column].map(csv_quote)
    return frame.rename(columns=lambda column: csv_quote(str(column)))


def csv_quote(value: object) -> object:
    r"""Text a spreadsheet would run as a formula, with a leading ``'``.

    Text starting with ``'`` followed by a formula start or ``'``
    gets one too,
    so that :func:`csv_unquote` removes exactly one
    and reads every text back as it was.

    Args:
        value: cell or column name

    Returns:
        ``value``, quoted if it is such a text

    Examples:
        >>> csv_quote("=1+2.wav"), csv_quote("'=a.wav"), csv_quote("'a.wav")
        ("'=1+2.wav", "''=a.wav", "'a.wav")
        >>> csv_quote(-0.2)
        -0.2

    """
    if isinstance(value, str) and (value.startswith(FORMULA_STARTS) or _quoted(value)):
        return "'" + value
    return value


def csv_unquote(value: str) -> str:
    r"""Text as it was before :func:`csv_quote`.

    Args:
        value: cell or column name read from CSV

    Returns:
        ``value`` without the leading ``'`` that :func:`csv_quote` added

    Examples:
        >>> csv_unquote("'=1+2.wav"), csv_unquote("''=a.wav"), csv_unquote("'a.wav")
        ('=1+2.wav', "'=a.wav", "'a.wav")

    """
    return value[1:] if _quoted(value) else value


def _quoted(value: str) -> bool:
    r"""Whether text is ``'`` followed by a formula start or ``'``."""
    return value.startswith("'") and value[1:].startswith((*FORMULA_STARTS, "'"))
