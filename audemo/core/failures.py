r"""Failed inputs with ``errors="coerce"``: found in results, warned once.

A failing input gives a :class:`audemo.core.process.Failure`
in the series of a process
instead of stopping the run.
:func:`failed_rows` takes the file and message of each,
the processing steps return them with their frame,
and the public call that started the run
warns once over all of them (:func:`warn_failures`).

"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from audemo.core.process import Failure
from audemo.core.utils import count
from audemo.core.utils import warn_items


FailedRow = tuple[str | None, str]
r"""File (``None`` for a signal) and message of a failed row."""


def failed_rows(series: pd.Series) -> list[FailedRow]:
    r"""File and message of each row of a process result that failed.

    Args:
        series: result of a process, one value per row

    Returns:
        file (``None`` for a signal) and message per failed row

    Examples:
        >>> index = audformat.segmented_index(["a.wav", "b.wav"], [0, 0], [1, 1])
        >>> failed_rows(pd.Series([Failure("broken"), 1.0], index=index))
        [('a.wav', 'broken')]

    """
    has_files = "file" in series.index.names
    return [
        (series.index[i][0] if has_files else None, value.message)
        for i, value in enumerate(series)
        if isinstance(value, Failure)
    ]


def row_unit(win_dur: object) -> str:
    r"""What a row is besides a file: ``"window"`` or ``"segment"``.

    Args:
        win_dur: window duration of the interface

    Returns:
        unit

    Examples:
        >>> row_unit(None), row_unit(1.0)
        ('segment', 'window')

    """
    return "window" if win_dur is not None else "segment"


def warn_failures(
    failures: list[FailedRow],
    files: Sequence[str],
    rows: int,
    unit: str,
    hint: str = "",
):
    r"""One warning over failures (file, message), counted per file.

    Args:
        failures: file (``None`` for a signal) and message of each failed row
        files: the distinct files of the input (empty for a signal)
        rows: number of rows of the result
        unit: what a row is besides a file: ``"segment"`` or ``"window"``
        hint: added after the summary

    Examples:
        >>> import warnings
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     warn_failures([("a.wav", "broken")], ["a.wav", "b.wav"], 2, "segment")
        >>> print(caught[0].message)
        1 of 2 files failed; its row holds NaN values (errors='coerce'):
          broken

    """
    failed_files = list(dict.fromkeys(file for file, _ in failures))
    if len(files) == 0 or failed_files == [None]:
        total, subject = 1, "The signal"
    else:
        total = len(files)
        subject = f"{len(failed_files)} of {count(total, 'file')}"
    summary = f"{subject} failed"
    if len(failures) != len(failed_files) or rows != total:
        summary += f" ({len(failures)} of {count(rows, unit)})"
    rows_of = "its row holds" if len(failures) == 1 else "their rows hold"
    summary += f"; {rows_of} NaN values (errors='coerce')"
    warn_items(summary, [message for _, message in failures], hint)


def warn_unsegmented(segment: object, files: Sequence[str], frame: pd.DataFrame):
    r"""Warn about files in which ``segment`` found no segment.

    Such files have no rows in the result.

    Args:
        segment: segmentation of the interface, ``None`` for none
        files: files of the input
        frame: result

    Examples:
        >>> frame = pd.DataFrame(index=audformat.segmented_index())
        >>> warn_unsegmented(None, ["a.wav"], frame)

    """
    if segment is None or len(files) == 0:
        return
    found = set(frame.index.get_level_values("file")) if len(frame) else set()
    silent = [file for file in dict.fromkeys(files) if file not in found]
    if silent:
        total = len(set(files))
        warn_items(
            f"{len(silent)} of {count(total, 'file')} "
            f"{'has' if len(silent) == 1 else 'have'} no segments "
            f"(no speech found) and therefore no rows",
            silent,
        )
