r"""The one module that relies on audinterface's private API.

:class:`audinterface.Process` and :class:`audinterface.Feature`
have no public hooks for the steps audemo changes:
reading one file (failures that name the file, long files in chunks),
processing one signal (checks, signals shorter than a window),
running the processing function on a read signal,
running the rows of an index (a progress bar that counts files),
and turning results into a frame (failed rows, calibration, heads).
:class:`ProcessAdapter` and :class:`FeatureAdapter` override
audinterface's private methods of these steps
and hand them on to methods with audemo's own names,
so that no other module names a private method of audinterface.

``tests/test_audinterface_adapter.py`` checks the signatures in
:data:`PRIVATE_SIGNATURES` and the behaviour audemo relies on:
a new audinterface release that changes them fails there, loudly.
CONTRIBUTING.md says how to move the audinterface cap in ``pyproject.toml``.

"""

from __future__ import annotations

import numpy as np
import pandas as pd

import audeer
import audformat
import audinterface
from audinterface.core.utils import preprocess_signal
from audinterface.core.utils import segment_to_indices

from audemo.core.index import progress_description


__all__ = [
    "PRIVATE_SIGNATURES",
    "FeatureAdapter",
    "ProcessAdapter",
    # audinterface's own, for the other modules of audemo
    "preprocess_signal",
    "segment_to_indices",
]

PRIVATE_SIGNATURES = {
    "Process._call": (
        "signal",
        "sampling_rate",
        "*",
        "idx=0",
        "root=None",
        "file=None",
        "process_func_args=None",
    ),
    "Process._process_file": (
        "file",
        "*",
        "idx=0",
        "root=None",
        "start=None",
        "end=None",
        "process_func_args=None",
    ),
    "Process._process_signal": (
        "signal",
        "sampling_rate",
        "*",
        "idx=0",
        "root=None",
        "file=None",
        "start=None",
        "end=None",
        "process_func_args=None",
    ),
    "Process._process_index_wo_segment": ("index", "root", "process_func_args=None"),
    "Feature._series_to_frame": ("y",),
    "Feature._reshape_3d": ("features",),
    "core.utils.segment_to_indices": ("signal", "sampling_rate", "start", "end"),
    "core.utils.preprocess_signal": (
        "signal",
        "sampling_rate",
        "expected_rate",
        "resample",
        "channels",
        "mixdown",
    ),
}
r"""Private functions of audinterface that audemo relies on, with their parameters.

Parameters as :func:`inspect.signature` writes them, without annotations
and without ``self``;
``"*"`` marks where the keyword-only parameters begin.
"""


class ProcessAdapter(audinterface.Process):
    r"""audinterface's Process whose private steps have audemo's names.

    Subclasses override
    :meth:`process_file_rows`, :meth:`process_signal_rows`
    and :meth:`call_process_func`;
    by default each does what audinterface does.
    Their keyword arguments are those audinterface passes
    (``idx``, ``root``, ``file``, ``start``, ``end``, ``process_func_args``,
    see :data:`PRIVATE_SIGNATURES`).
    The rows of an index are run as audinterface runs them,
    with a progress bar that counts files or segments
    (:func:`audemo.core.index.progress_description`)
    where audinterface always counts segments.

    Args:
        kwargs: arguments of :class:`audinterface.Process`

    """

    def _call(self, signal: np.ndarray, sampling_rate: int, **kwargs) -> object:
        return self.call_process_func(signal, sampling_rate, **kwargs)

    def call_process_func(
        self, signal: np.ndarray, sampling_rate: int, **kwargs
    ) -> object:
        r"""Preprocess a signal as read and run the processing function on it.

        Args:
            signal: 2-d signal as read
            sampling_rate: sampling rate in Hz
            kwargs: ``idx``, ``root``, ``file``, ``process_func_args``

        Returns:
            result of the processing function

        """
        return super()._call(signal, sampling_rate, **kwargs)

    def _process_file(self, file: str, **kwargs) -> tuple[list, list, list, list]:
        return self.process_file_rows(file, **kwargs)

    def process_file_rows(self, file: str, **kwargs) -> tuple[list, list, list, list]:
        r"""Read a file (or a segment of it) and process it.

        Args:
            file: file path
            kwargs: ``idx``, ``root``, ``start``, ``end``, ``process_func_args``

        Returns:
            results, files, starts and ends of the rows

        """
        return super()._process_file(file, **kwargs)

    def _process_signal(
        self, signal: np.ndarray, sampling_rate: int, **kwargs
    ) -> tuple[list, list, list, list]:
        return self.process_signal_rows(signal, sampling_rate, **kwargs)

    def process_signal_rows(
        self, signal: np.ndarray, sampling_rate: int, **kwargs
    ) -> tuple[list, list, list, list]:
        r"""Process a signal (or a segment of it), in windows if there are.

        Args:
            signal: signal
            sampling_rate: sampling rate in Hz
            kwargs: ``idx``, ``root``, ``file``, ``start``, ``end``,
                ``process_func_args``

        Returns:
            results, files, starts and ends of the rows

        """
        return super()._process_signal(signal, sampling_rate, **kwargs)

    def _process_index_wo_segment(
        self,
        index: pd.Index,
        root: str | None,
        process_func_args: dict[str, object] | None = None,
    ) -> pd.Series:
        # audinterface's own, but with a label that counts files or segments
        if index.empty:
            return pd.Series(None, index=index, dtype=object)
        params = [
            (
                (file,),
                {
                    "idx": idx,
                    "root": root,
                    "start": start,
                    "end": end,
                    "process_func_args": process_func_args,
                },
            )
            for idx, (file, start, end) in enumerate(index)
        ]
        xs = audeer.run_tasks(
            self._process_file,
            params,
            num_workers=self.num_workers,
            multiprocessing=self.multiprocessing,
            progress_bar=self.verbose,
            task_description=progress_description(index),
            maximum_refresh_time=1,
        )
        y = [value for x in xs for value in x[0]]
        files = [value for x in xs for value in x[1]]
        starts = [value for x in xs for value in x[2]]
        ends = [value for x in xs for value in x[3]]
        return pd.Series(y, audformat.segmented_index(files, starts, ends))


class FeatureAdapter(audinterface.Feature):
    r"""audinterface's Feature whose private steps have audemo's names.

    Subclasses override ``_results_to_frame``;
    by default it does what audinterface does.

    Args:
        feature_names: names of the features
        kwargs: arguments of :class:`audinterface.Feature`

    """

    def _series_to_frame(self, y: pd.Series) -> pd.DataFrame:
        return self._results_to_frame(y)

    def _results_to_frame(self, y: pd.Series) -> pd.DataFrame:
        r"""Data frame of the results of processing, one row per segment.

        Args:
            y: results of the processing function, one per segment

        Returns:
            data frame with the features as columns

        """
        return super()._series_to_frame(y)

    def _features_3d(self, features: np.ndarray | pd.Series) -> np.ndarray:
        r"""Features in the shape audinterface returns from ``__call__``.

        Args:
            features: result of the processing function

        Returns:
            array of shape (channels, features, frames)

        """
        return self._reshape_3d(features)
