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

import os
import typing

import numpy as np
import pandas as pd

import audeer
import audformat

from audemo.core.storage import atomic_path


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
r"""Starts of a cell that a spreadsheet runs as a formula."""

TIME_FORMATS = ("seconds", "timedelta")
r"""How ``start`` and ``end`` are written to CSV."""


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
        ValueError: if the file has no ``file`` column

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
    if audeer.file_extension(path).lower() == "parquet":
        return pd.read_parquet(path)
    frame = pd.read_csv(path, converters={"file": csv_unquote})
    frame.columns = [csv_unquote(str(column)) for column in frame.columns]
    if "file" not in frame.columns:
        raise ValueError(f"Results file '{path}' has no 'file' column.")
    if "start" in frame.columns and "end" in frame.columns:
        index = audformat.segmented_index(
            frame["file"], read_time(frame["start"]), read_time(frame["end"])
        )
        frame = frame.drop(columns=["file", "start", "end"])
    else:
        index = audformat.filewise_index(frame["file"])
        frame = frame.drop(columns=["file"])
    frame.index = index
    return frame


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

    def write(target: str | typing.TextIO):
        if file_format == "parquet":
            frame.to_parquet(target)
        else:
            csv_safe(frame, time_format).to_csv(target, index=False)

    if isinstance(output, str):
        with atomic_path(output) as tmp:
            write(tmp)
    else:
        write(output)


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
        for column in ("start", "end"):
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
