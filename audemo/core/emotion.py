r"""Emotion: the emotion model as an audinterface feature extractor.

The pieces :class:`Emotion` is built from live in modules of their own:

* :mod:`audemo.core.options`: checks of the options, shared audobject settings
* :mod:`audemo.core.index`: checks and labels of indices, files and folders
* :mod:`audemo.core.process`: the process that reads real-world input
* :mod:`audemo.core.audinterface_adapter`: the steps of audinterface
  that audemo replaces, and the progress label
* :mod:`audemo.core.failures`: failed inputs, warned once per call
* :mod:`audemo.core.workers`: worker processes of ``multiprocessing=True``
* :mod:`audemo.core.cache`: the resumable cache of results

"""

from __future__ import annotations

from collections.abc import Sequence
import functools
import hashlib
import json
import os
import typing
import warnings

import numpy as np
import pandas as pd

import audeer
import audinterface
import audobject

from audemo.core.audinterface_adapter import FeatureAdapter
from audemo.core.cache import FILE_KEYS
from audemo.core.cache import make_folder
from audemo.core.cache import process_index_resumable
from audemo.core.define import CHUNK_DUR
from audemo.core.define import DIMENSIONS
from audemo.core.define import MIN_SAMPLES
from audemo.core.define import SAMPLING_RATE
from audemo.core.failures import FailedRow
from audemo.core.failures import failed_rows
from audemo.core.failures import row_unit
from audemo.core.failures import warn_failures
from audemo.core.failures import warn_unsegmented
from audemo.core.index import check_index
from audemo.core.index import check_relative_files
from audemo.core.index import empty_folder_hint
from audemo.core.index import files_index
from audemo.core.index import progress_description
from audemo.core.index import skipped_files_hint
from audemo.core.model.api import acquire_model
from audemo.core.model.api import open_model
from audemo.core.model.resolver import ModelResolver
from audemo.core.options import CHECKED
from audemo.core.options import calibration_option
from audemo.core.options import check_options
from audemo.core.options import deprecated_cache_root
from audemo.core.options import interface_init
from audemo.core.options import output_names
from audemo.core.options import threads_per_worker
from audemo.core.process import Failure
from audemo.core.process import RobustProcess
from audemo.core.process import chunk_bounds
from audemo.core.process import combine_chunks
from audemo.core.segment import segment_with_errors
from audemo.core.utils import available_cores
from audemo.core.utils import caller_stacklevel
from audemo.core.workers import process_in_pool
from audemo.core.workers import worker_pool


if typing.TYPE_CHECKING:  # pragma: no cover - annotations only
    # audonnx imports onnx (0.5 s): audemo.core.model.api imports it
    # where a model is opened, not with this module
    import audonnx


__all__ = [
    "Emotion",
]


# 2: parquet parts keyed on the files they read (1: pickle, keyed on names)
_CACHE_VERSION = 2


class Emotion(FeatureAdapter, audobject.Object):
    r"""Arousal, dominance and valence, and the model's embedding.

    Runs the emotion model of :cite:`wagner2023`
    (wav2vec2-large-robust pruned to 12 layers,
    fine-tuned on MSP-Podcast)
    on signals, files, folders and audformat indices
    with the :class:`audinterface.Feature` API.
    The model is downloaded on first use
    (see :func:`audemo.download_model`).

    With ``outputs="logits"`` (default)
    the columns are ``arousal``, ``dominance`` and ``valence``,
    each roughly in the range 0..1 (not clipped);
    with ``outputs="hidden_states"``
    they are the model's mean-pooled last transformer layer
    (``hidden_states-0``, ... ``hidden_states-1023``),
    an embedding for transfer learning.
    Asking for both gives both
    from a **single** model run per segment.

    The returned values are exactly what
    ``audemo.load_model(model, num_workers=num_threads)(signal, 16000)``
    returns for the (resampled, mono) signal.

    :class:`Emotion` is an :class:`audobject.Object`:
    :meth:`to_yaml` writes a pipeline
    that records the model
    (registered name, URL,
    or folder relative to the YAML file)
    and its fingerprint (SHA256 of ``model.onnx``).
    :func:`audobject.from_yaml` rebuilds the same pipeline
    and refuses a model with a different fingerprint.
    A ``calibration`` is written into the pipeline with its mappings.
    The runtime settings
    ``model_cache_root``, ``device``, ``num_workers``, ``num_threads``,
    ``multiprocessing``, ``share_weights`` and ``verbose``
    are not serialized
    (`hidden arguments`_).

    Args:
        model: model reference: ``None`` for the default model,
            a registered name, a local model folder,
            or an ``http(s)://`` URL of a zip archive,
            see :func:`audemo.download_model`
        outputs: ``"logits"``, ``"hidden_states"``,
            or a list of both
        precision: ``"fp32"`` runs the model as published;
            ``"int8"`` runs a copy whose matrix multiplications
            have 8-bit weights, made once and cached
            (faster and smaller, numbers differ slightly:
            check with :func:`audemo.compare_precision`)
        fingerprint: expected SHA256 of the model's ``model.onnx``
            (the published float32 file) as a string;
            ``None`` accepts the model as it is
            and records its fingerprint
        calibration: :class:`audemo.Calibration`
            or the path of its YAML file
            (read as plain YAML, only a calibration accepted):
            arousal, dominance and valence are returned
            on the scale of the calibration
            (its pooled mappings),
            all other columns as they are.
            A calibration fitted on another model's scores is refused;
            one without fingerprint is taken as it is.
            Needs ``"logits"`` in ``outputs``
        win_dur: window duration in seconds
            to get one row per window (emotion over time),
            at least 0.025 s (the model's 400 samples)
        hop_dur: hop duration in seconds, defaults to ``win_dur / 2``;
            needs ``win_dur``
        chunk_dur: inputs longer than this (in seconds)
            are split into the fewest chunks of equal length
            not longer than ``chunk_dur``,
            each chunk runs through the model,
            and the outputs are averaged weighted by chunk duration.
            Time then grows linearly with duration
            and memory stays bounded.
            Long WAV, FLAC, OGG and MP3 files are also read chunk by chunk
            (each chunk resampled on its own).
            ``None`` processes every input whole;
            otherwise at least 0.025 s
        sampling_rate: sampling rate the model expects (16000)
        resample: resample signals of other sampling rates
        channels: channel selection, see :func:`audresample.remix`
        mixdown: mix the selected channels down to mono
        segment: :class:`audinterface.Segment` object;
            if given, one row per segment it finds
        errors: ``"raise"`` to stop at the first failing input,
            ``"coerce"`` for a row of NaN and a warning instead
        model_cache_root: cache folder of downloaded models,
            see :func:`audemo.download_model`
            (not the cache of results,
            which is the ``cache_root`` of :meth:`process_index`)
        device: ``"cpu"``, ``"cuda"`` or ``"cuda:<id>"``
        num_workers: number of files processed in parallel;
            ``None`` uses one worker per CPU core
        num_threads: number of onnxruntime threads per worker;
            ``None`` shares the CPU cores among the workers.
            The thread count can change the last bit of the results
            (float32 sums in another order)
        multiprocessing: use processes instead of threads
            for ``num_workers``
        share_weights: run the model on the CPU
            from an optimized copy in the model cache:
            onnxruntime writes the optimized model
            and its prepacked weights once
            (twice the model file on disk),
            and every process maps that file,
            so that worker processes hold one copy of the weights,
            and a session starts in about half the time
            (see :ref:`performance:Memory of workers`).
            The results are the same, bit for bit.
            ``False`` loads the model file in every process
        verbose: show progress bars
        cache_root: deprecated name of ``model_cache_root``
            (a :class:`FutureWarning` says so)

    Raises:
        TypeError: if ``win_dur``, ``hop_dur`` or ``chunk_dur``
            is no duration (e.g. the text ``"2"``,
            which audinterface counts as samples: pass ``2`` or ``"2s"``)
        ValueError: if an argument has an invalid value,
            e.g. ``win_dur`` or ``num_workers`` not positive,
            ``calibration`` is no valid calibration,
            was fitted on another model's scores,
            or ``outputs`` has no ``"logits"`` for it
        RuntimeError: if the model cannot be obtained
            or its fingerprint differs from ``fingerprint``
        FileNotFoundError: if the file of ``calibration`` does not exist

    Examples:
        The examples run on a small test model
        (:func:`audemo.testing.create_model`):
        its numbers are **not** emotion predictions.
        Leave out ``model`` to use the real model.

        >>> root = audemo.testing.create_model("model")
        >>> interface = Emotion(root)
        >>> interface.process_file("speech.wav").round(3)
                                                  arousal  dominance  valence
        file       start  end
        speech.wav 0 days 0 days 00:00:04.197000     0.57      0.521    0.526
        >>> interface = Emotion(root, outputs=["logits", "hidden_states"])
        >>> interface.process_file("speech.wav").shape
        (1, 35)

        With a calibration
        the scores are on the user's scale,
        here a made-up one:

        >>> calibration = audemo.Calibration(
        ...     method="linear",
        ...     mappings={
        ...         "valence": {
        ...             "pooled": {
        ...                 "method": "linear",
        ...                 "slope": 4.0,
        ...                 "intercept": 1.0,
        ...                 "samples": 20,
        ...             },
        ...             "groups": {},
        ...         }
        ...     },
        ...     samples=20,
        ... )
        >>> interface = Emotion(root, calibration=calibration)
        >>> interface.process_file("speech.wav").round(3)
                                                  arousal  dominance  valence
        file       start  end
        speech.wav 0 days 0 days 00:00:04.197000     0.57      0.521    3.106

    .. _`hidden arguments`: https://audeering.github.io/audobject/usage.html#hidden-arguments

    """  # noqa: E501

    @interface_init(model=ModelResolver)
    def __init__(
        self,
        model: str | None = None,
        *,
        outputs: str | Sequence[str] = "logits",
        precision: str = "fp32",
        fingerprint: str | None = None,
        calibration: audobject.Object | str | None = None,
        win_dur: float | None = None,
        hop_dur: float | None = None,
        chunk_dur: float | None = CHUNK_DUR,
        sampling_rate: int = SAMPLING_RATE,
        resample: bool = True,
        channels: int | Sequence[int] = 0,
        mixdown: bool = False,
        segment: audinterface.Segment | None = None,
        errors: str = "raise",
        model_cache_root: str | None = None,
        device: str = "cpu",
        num_workers: int | None = 1,
        num_threads: int | None = None,
        multiprocessing: bool = False,
        share_weights: bool = True,
        verbose: bool = False,
        cache_root: str | None = None,
    ):
        model_cache_root = deprecated_cache_root(self, cache_root, model_cache_root)
        # the options that can fail for every input, by name, before anything
        # is fetched (the command line checks the same table)
        arguments = locals()
        check_options(**{name: arguments[name] for name in CHECKED})
        # before the model is fetched
        calibration = calibration_option(calibration, outputs)
        files = acquire_model(
            model,
            precision=precision,
            expected_fingerprint=fingerprint,
            cache_root=model_cache_root,
            verbose=verbose,
        )
        if calibration is not None:
            calibration.check_fingerprint(files.fingerprint)
        # None means one worker per core: resolved once, so that audinterface
        # starts as many threads as the onnxruntime threads were sized for
        num_workers = num_workers or available_cores()

        self.model = files.reference
        r"""Registered name, URL or folder of the model."""
        self.outputs = outputs
        r"""Requested outputs."""
        self.fingerprint = files.fingerprint
        r"""SHA256 of the model's ``model.onnx``."""
        self.calibration = calibration
        r"""Calibration of arousal, dominance and valence, or ``None``."""
        self.precision = precision
        r"""Precision the model runs in."""
        self.channels = channels
        r"""Channel selection."""
        self.errors = errors
        r"""What to do with inputs that fail."""
        self.chunk_dur = chunk_dur
        r"""Maximum duration in seconds processed in one model run."""
        self.model_cache_root = model_cache_root
        r"""Cache folder of downloaded models."""
        self.device = device
        self.multiprocessing = multiprocessing
        self.num_workers = num_workers
        self.share_weights = share_weights
        r"""Whether worker processes share the weights, ``None`` for automatic."""
        self.num_threads = num_threads or threads_per_worker(num_workers)
        r"""Number of onnxruntime threads per worker."""
        self._output_names = output_names(outputs)
        self._model_root = files.run_root
        self._run_fingerprint = files.run_fingerprint

        processing = {
            "process_func": self._predict,
            "sampling_rate": sampling_rate,
            "resample": resample,
            "channels": channels,
            "mixdown": mixdown,
            "win_dur": win_dur,
            "hop_dur": hop_dur,
            # the caller's segment object is not changed
            "segment": segment_with_errors(segment, errors),
            "num_workers": 1 if multiprocessing else num_workers,
            # audinterface would fork worker processes from a process
            # that runs onnxruntime threads, which can deadlock:
            # audemo starts its own workers (see audemo.core.workers)
            "multiprocessing": False,
            "verbose": verbose,
        }
        super().__init__(self._columns(), **processing)
        # audinterface fills in a Timedelta default for hop_dur,
        # which audobject cannot serialize: keep the user's values
        self.win_dur = win_dur
        self.hop_dur = hop_dur
        # Feature builds a plain Process: audemo's handles real-world input
        self.process = RobustProcess(errors=errors, chunk_dur=chunk_dur, **processing)

    @property
    def model_root(self) -> str:
        r"""Local folder of the model."""
        return self._model_root

    @property
    def cache_root(self) -> str | None:
        r"""Deprecated name of :attr:`model_cache_root`."""
        warnings.warn(
            f"{type(self).__name__}.cache_root is deprecated: "
            f"use {type(self).__name__}.model_cache_root "
            f"(the cache of models; the cache of results is "
            f"process_index(cache_root=...)).",
            FutureWarning,
            stacklevel=2,
        )
        return self.model_cache_root

    def process_index(
        self,
        index: pd.Index,
        *,
        preserve_index: bool = False,
        root: str | None = None,
        cache_root: str | None = None,
        process_func_args: dict[str, object] | None = None,
        file_key: str = "stat",
    ) -> pd.DataFrame:
        r"""Process files or segments of an audformat index.

        With ``cache_root``,
        results are stored in parts of
        100 rows
        as soon as each part is done,
        as parquet files (reading them runs no code).
        A part is found again by a key that covers
        everything that determines its numbers:

        * the settings (:meth:`cache_key`: model fingerprint, outputs,
          windowing, segmentation, resampling, channels, chunking,
          ``errors``, cache format version)
        * the whole index and the rows of the part
          (file, start, end as given)
        * every audio file of the part:
          with ``file_key="stat"`` its absolute path
          (``root`` joined, symbolic links resolved),
          size and modification time (``st_mtime_ns``);
          with ``file_key="content"`` the SHA256 of its bytes
          instead, so a moved or copied database keeps its cache
          (every file is read once more per run to hash it)
        * the storage format and pandas major version

        So the same file names under another ``root``
        and a file recorded again in place
        are processed anew.
        ``"stat"`` misses a change that keeps size and modification time
        (e.g. a copy with ``cp -p``); ``"content"`` does not.
        A run that was interrupted resumes
        with the parts that are missing;
        a part with failed inputs is not cached,
        and a part that cannot be read is processed and written again.
        ``cache_root`` and the folders and files below it
        must belong to you (or root)
        and not be writable by others
        (folders with the sticky bit excepted),
        since whoever can write there decides the results.

        Args:
            index: index conform to audformat_,
                e.g. ``db.files`` or ``audformat.filewise_index(files)``
            preserve_index: if ``True`` and neither ``segment``
                nor ``win_dur`` is set, return the original index
            root: root folder to expand relative file paths,
                ``db.root`` for the files of an audformat database
            cache_root: cache folder of results (see above)
            process_func_args: arguments passed on to the processing function
            file_key: how audio files enter the cache key:
                ``"stat"`` or ``"content"`` (see above)

        Returns:
            data frame with one row per file, segment or window

        Raises:
            TypeError: if ``index`` is not a pandas index
                (e.g. a list of files: use :meth:`process_files`)
            ValueError: if ``index`` is not conform to audformat_,
                ``cache_root`` is given
                but ``segment`` is not an :class:`audobject.Object`,
                or ``file_key`` is invalid
            FileNotFoundError: if relative file paths do not exist,
                no ``root`` is given,
                and ``errors`` is ``"raise"``
            PermissionError: if other users can write
                the cache folder or a part in it
            RuntimeError: if a worker process of ``multiprocessing``
                ended abruptly

        .. _audformat: https://audeering.github.io/audformat/data-format.html

        """
        check_index(index)
        if file_key not in FILE_KEYS:
            raise ValueError(f"file_key must be one of {FILE_KEYS}, not {file_key!r}.")
        if len(index) == 0:
            return super().process_index(index, preserve_index=preserve_index)
        files = index.get_level_values("file").unique()
        hint = check_relative_files(files, root, self.errors)
        with worker_pool(self.num_workers, self.multiprocessing) as pool:
            if cache_root is None:
                frame, failures = self._process(index, root, process_func_args, pool)
            else:
                frame, failures = self._process_cached(
                    index, root, process_func_args, pool, cache_root, file_key
                )
        self._warn_failures(failures, files, frame, hint)
        if preserve_index and self.process.segment is None and self.win_dur is None:
            frame.index = index
        warn_unsegmented(self.process.segment, files, frame)
        return frame

    def process_files(
        self,
        files: Sequence[str],
        *,
        starts: float | Sequence[float] | None = None,
        ends: float | Sequence[float] | None = None,
        root: str | None = None,
        process_func_args: dict[str, object] | None = None,
    ) -> pd.DataFrame:
        r"""Process a list of files.

        Args:
            files: file paths
            starts: segment start positions in seconds,
                a scalar applies to all files
            ends: segment end positions in seconds,
                a scalar applies to all files
            root: root folder to expand relative file paths
            process_func_args: arguments passed on to the processing function

        Returns:
            data frame with one row per file, segment or window

        Raises:
            TypeError: if ``files`` is a single path
                or an index instead of a list
            FileNotFoundError: if relative file paths do not exist,
                no ``root`` is given,
                and ``errors`` is ``"raise"``

        """
        if isinstance(files, str) or isinstance(files, pd.MultiIndex):
            what = "a string" if isinstance(files, str) else "a segmented index"
            use = (
                "process_file(file)"
                if isinstance(files, str)
                else "process_index(index)"
            )
            raise TypeError(
                f"files must be a list of file paths, not {what}: use {use}."
            )
        if self.multiprocessing and len(files) > 0:
            return self.process_index(
                files_index(files, starts, ends),
                root=root,
                process_func_args=process_func_args,
            )
        unique = list(dict.fromkeys(files))
        hint = check_relative_files(unique, root, self.errors)
        series = self.process.process_files(
            files,
            starts=starts,
            ends=ends,
            root=root,
            process_func_args=process_func_args,
        )
        frame = self._to_frame_warned(series, unique, hint)
        warn_unsegmented(self.process.segment, unique, frame)
        return frame

    def process_folder(
        self,
        root: str,
        *,
        filetype: str = "wav",
        include_root: bool = True,
        process_func_args: dict[str, object] | None = None,
    ) -> pd.DataFrame:
        r"""Process the audio files in a folder (not in its sub-folders).

        Only files whose name ends in ``.<filetype>``
        (case-sensitive) are processed;
        a warning names the audio files this leaves out
        (other audio types, audio in sub-folders),
        which ``audemo predict FOLDER`` would process.
        If there are none,
        a warning names what the folder holds instead:
        files of another type
        (pass ``filetype``, e.g. ``filetype="flac"``),
        audio in sub-folders,
        or an audformat database
        (load it with :meth:`audformat.Database.load`
        and process ``db.files`` with :meth:`process_index`).

        Args:
            root: folder
            filetype: file extension without dot, case-sensitive
            include_root: if ``True``
                the file paths in the index are absolute
            process_func_args: arguments passed on to the processing function

        Returns:
            data frame with one row per file, segment or window

        Raises:
            FileNotFoundError: if ``root`` does not exist

        """
        frame = super().process_folder(
            root,
            filetype=filetype,
            include_root=include_root,
            process_func_args=process_func_args,
        )
        if len(frame) == 0:
            hint = empty_folder_hint(audeer.path(root), filetype)
        else:
            hint = skipped_files_hint(audeer.path(root), filetype)
        if hint:
            warnings.warn(hint, UserWarning, stacklevel=caller_stacklevel())
        return frame

    def process_file(
        self,
        file: str,
        *,
        start: float | pd.Timedelta | None = None,
        end: float | pd.Timedelta | None = None,
        root: str | None = None,
        process_func_args: dict[str, object] | None = None,
    ) -> pd.DataFrame:
        r"""Process an audio file.

        Args:
            file: file path
            start: start processing at this position,
                in seconds if a number
            end: end processing at this position,
                in seconds if a number
            root: root folder to expand a relative file path
            process_func_args: arguments passed on to the processing function

        Returns:
            data frame with one row per file, segment or window

        Raises:
            FileNotFoundError: if the file does not exist
                and ``errors`` is ``"raise"``

        """
        series = self.process.process_file(
            file,
            start=start,
            end=end,
            root=root,
            process_func_args=process_func_args,
        )
        return self._to_frame_warned(series)

    def process_signal(
        self,
        signal: np.ndarray,
        sampling_rate: int,
        *,
        file: str | None = None,
        start: float | pd.Timedelta | None = None,
        end: float | pd.Timedelta | None = None,
        process_func_args: dict[str, object] | None = None,
    ) -> pd.DataFrame:
        r"""Process a signal.

        With a ``file`` the index has the levels
        ``file``, ``start`` and ``end``,
        otherwise ``start`` and ``end``.

        Args:
            signal: signal values, shape ``(channels, samples)``;
                float (full scale -1 to 1, at most 64 in magnitude)
                or 8-, 16- or 32-bit integer PCM,
                scaled as audiofile reads it from a file
                (divided by 128, 32768 or 2147483648)
            sampling_rate: sampling rate in Hz
            file: file path
            start: start processing at this position,
                in seconds if a number
            end: end processing at this position,
                in seconds if a number
            process_func_args: arguments passed on to the processing function

        Returns:
            data frame with one row per signal, segment or window

        Raises:
            ValueError: if the signal cannot be processed
                (e.g. integer samples of another type, see above)
                and ``errors`` is ``"raise"``

        """
        series = self.process.process_signal(
            signal,
            sampling_rate,
            file=file,
            start=start,
            end=end,
            process_func_args=process_func_args,
        )
        return self._to_frame_warned(series)

    def process_signal_from_index(
        self,
        signal: np.ndarray,
        sampling_rate: int,
        index: pd.MultiIndex,
        process_func_args: dict[str, object] | None = None,
    ) -> pd.DataFrame:
        r"""Process the segments of a signal given by an index.

        Args:
            signal: signal values, shape ``(channels, samples)``
            sampling_rate: sampling rate in Hz
            index: index with the levels ``start`` and ``end``,
                see :func:`audinterface.utils.signal_index`
            process_func_args: arguments passed on to the processing function

        Returns:
            data frame with one row per segment or window

        Raises:
            ValueError: if a segment cannot be processed
                and ``errors`` is ``"raise"``

        """
        series = self.process.process_signal_from_index(
            signal,
            sampling_rate,
            index,
            process_func_args=process_func_args,
        )
        return self._to_frame_warned(series)

    def _process(
        self, index, root, process_func_args, pool
    ) -> tuple[pd.DataFrame, list[FailedRow]]:
        r"""Result and failures of an index, in worker processes with a pool."""
        if pool is None:
            return self._process_rows(index, root, process_func_args)
        return process_in_pool(pool, self, index, root, process_func_args)

    def _process_rows(
        self, index, root, process_func_args
    ) -> tuple[pd.DataFrame, list[FailedRow]]:
        r"""Result and failures of an index, in this process.

        The processing step of every call,
        also of worker processes (:func:`audemo.core.workers.process_shard`).

        """
        series = self.process.process_index(
            index, root=root, process_func_args=process_func_args
        )
        return self._to_frame(series)

    def _process_cached(
        self, index, root, process_func_args, pool, cache_root, file_key
    ) -> tuple[pd.DataFrame, list[FailedRow]]:
        r"""Result and failures of an index, cached in parts."""
        folder = make_folder(cache_root, self.cache_key())
        verbose = self.verbose
        failures = []

        def process_part(part: pd.Index) -> tuple[pd.DataFrame, bool]:
            frame, part_failures = self._process(part, root, process_func_args, pool)
            failures.extend(part_failures)
            # a part with failures is done again next time:
            # the file may have been fixed or the disk mounted again
            return frame, not part_failures

        # one progress bar over all parts;
        # process_index warns once over all failures
        self.verbose = self.process.verbose = False
        try:
            frame = process_index_resumable(
                process_part,
                index,
                folder,
                root=root,
                file_key=file_key,
                verbose=verbose,
                description=progress_description(index),
            )
        finally:
            self.verbose = self.process.verbose = verbose
        return frame, failures

    def _to_frame(self, series: pd.Series) -> tuple[pd.DataFrame, list[FailedRow]]:
        r"""Frame of a process result, and its failed rows."""
        return self._results_to_frame(series), failed_rows(series)

    def _to_frame_warned(
        self, series: pd.Series, files: Sequence[str] | None = None, hint: str = ""
    ) -> pd.DataFrame:
        r"""Frame of a process result, warning once about its failed rows."""
        frame, failures = self._to_frame(series)
        if files is None and "file" in series.index.names:
            files = series.index.get_level_values("file").unique()
        self._warn_failures(failures, files if files is not None else [], frame, hint)
        return frame

    def _warn_failures(
        self,
        failures: list[FailedRow],
        files: Sequence[str],
        frame: pd.DataFrame,
        hint: str = "",
    ):
        # the model that made them travels with the results,
        # e.g. for audemo.Calibration.fit
        frame.attrs["fingerprint"] = self.fingerprint
        if self.calibration is not None:
            # the scale of the calibrated dimensions travels with them too
            frame.attrs["calibration"] = self.calibration.marker
        if failures:
            warn_failures(failures, files, len(frame), row_unit(self.win_dur), hint)

    def process_turns(
        self,
        turns: pd.Series,
        *,
        root: str | None = None,
        cache_root: str | None = None,
        file_key: str = "stat",
        exclude_overlap: bool = False,
    ) -> pd.DataFrame:
        r"""Emotion of each speaker turn of a conversation.

        See :func:`audemo.process_turns`:
        a ``speaker`` column first
        (and ``turn`` with ``win_dur`` or ``segment``),
        then the columns of :meth:`process_index`,
        then ``overlap``;
        the scores are those of ``self.process_index(turns.index)``,
        row for row.
        Turns shorter than 25 ms are an error with ``errors="raise"``,
        rows of NaN with a warning with ``errors="coerce"``.

        Args:
            turns: speaker turns on a segmented index,
                e.g. from :func:`audemo.read_rttm`
                or ``db["turns"]["speaker"].get()``
            root: folder the files of the turns are relative to
            cache_root: cache folder of results, see :meth:`process_index`
            file_key: how audio files enter the cache key,
                see :meth:`process_index`
            exclude_overlap: process only the parts of the turns
                in which one speaker speaks alone

        Returns:
            conversation frame, sorted by file and start of the turns

        Raises:
            TypeError: if ``turns`` is not a series of speaker turns
            ValueError: if the turns are not on a segmented index,
                or a turn is shorter than 25 ms with ``errors="raise"``

        Examples:
            >>> interface = Emotion(audemo.testing.create_model("model"))
            >>> index = audformat.segmented_index(
            ...     ["speech.wav"] * 3, [0.0, 1.5, 2.5], [2.0, 3.0, 4.0]
            ... )
            >>> turns = pd.Series(["A", "B", "A"], index=index)
            >>> interface.process_turns(turns).round(2).reset_index(drop=True)
              speaker  arousal  dominance  valence  overlap
            0       A     0.59       0.52     0.54     True
            1       B     0.54       0.51     0.50     True
            2       A     0.55       0.52     0.54     True

        """
        # lazy: conversations (analysis layer) build on this module
        from audemo.core.conversation.speakers import process_turns

        return process_turns(
            self,
            turns,
            root=root,
            cache_root=cache_root,
            file_key=file_key,
            exclude_overlap=exclude_overlap,
        )

    def cache_key(self) -> str:
        r"""Hash of everything that determines the numbers.

        Covers the model fingerprint, precision, outputs, windowing,
        segmentation, resampling, channel selection, chunking,
        ``errors``, the calibration
        and the version of the cache format.
        The files and rows of an index
        are covered by the key of each cached part,
        see :meth:`process_index`.

        Returns:
            16 hexadecimal characters

        Raises:
            ValueError: if ``segment`` is not an :class:`audobject.Object`

        """
        segment = self.process.segment
        if segment is not None and not isinstance(segment, audobject.Object):
            raise ValueError(
                "Results can be cached only when the segmentation "
                "can be serialized: use a segment object that is an "
                "audobject.Object (e.g. audemo.VoiceActivity)."
            )
        settings = {
            "fingerprint": self.fingerprint,
            "precision": self.precision,
            "model_file": self._run_fingerprint,
            "outputs": self._output_names,
            "win_dur": str(self.win_dur),
            "hop_dur": str(self.hop_dur),
            "sampling_rate": self.process.sampling_rate,
            "resample": self.process.resample,
            "channels": str(self.channels),
            "mixdown": self.process.mixdown,
            "segment": (segment.to_yaml_s(include_version=False) if segment else None),
            "errors": self.errors,
            "chunk_dur": self.chunk_dur,
            "version": _CACHE_VERSION,
        }
        if self.calibration is not None:
            # only then: keys of caches without calibration stay as they were
            settings["calibration"] = self.calibration.to_yaml_s(include_version=False)
        text = json.dumps(settings, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def _onnx_model(self) -> audonnx.Model:
        return _shared_model(
            self._model_root,
            self._run_fingerprint,
            self.device,
            self.num_threads,
            self.model_cache_root,
            self.share_weights,
            os.getpid(),
        )

    def _predict(
        self,
        signal: np.ndarray,
        sampling_rate: int,
        file: str | None = None,
        split: bool = True,
    ) -> np.ndarray:
        where = f"'{file}'" if file else "the signal"
        num_samples = signal.shape[-1]
        if num_samples < MIN_SAMPLES:
            raise ValueError(
                f"Cannot process {where}: it has {num_samples} samples "
                f"({num_samples / sampling_rate:.4f} s) at {sampling_rate} Hz, "
                f"but the model needs at least {MIN_SAMPLES} "
                f"({MIN_SAMPLES / SAMPLING_RATE * 1000:.0f} ms)."
            )
        if not np.isfinite(signal).all():
            raise ValueError(
                f"Cannot process {where}: it contains NaN or infinite samples."
            )
        signal = np.asarray(signal, dtype=np.float32).reshape(1, -1)
        if split and self.chunk_dur is not None:
            bounds = chunk_bounds(num_samples, sampling_rate, self.chunk_dur)
        else:
            bounds = [0, num_samples]
        outputs = [
            self._run_model(signal[:, begin:end], where)
            for begin, end in zip(bounds[:-1], bounds[1:])
        ]
        return combine_chunks(outputs, np.diff(bounds).tolist())

    def _run_model(self, signal: np.ndarray, where: str) -> np.ndarray:
        try:
            result = self._onnx_model()(
                signal, SAMPLING_RATE, outputs=list(self._output_names)
            )
        except Exception as ex:  # onnxruntime raises its own exception types
            raise RuntimeError(f"The model failed on {where}: {ex}") from ex
        return np.concatenate([result[name].reshape(-1) for name in self._output_names])

    def _columns(self) -> list[str]:
        r"""Column names of the requested outputs."""
        onnx_model = self._onnx_model()
        columns = []
        for name in self._output_names:
            if name == "logits":
                columns += list(DIMENSIONS)
            else:
                columns += onnx_model.labels(name)
        return columns

    def _results_to_frame(self, y: pd.Series) -> pd.DataFrame:
        r"""Data frame of the results, a failed row as a row of NaN, calibrated.

        Args:
            y: results of the processing function, one per segment

        Returns:
            data frame with the outputs as columns

        """
        # a failed row becomes a row of NaN;
        # the caller takes the failures from y (failed_rows)
        failed = [isinstance(value, Failure) for value in y]
        if any(failed):
            nan = np.full(len(self.column_names), np.nan, dtype=np.float32)
            y = pd.Series(
                [nan if fail else value for fail, value in zip(failed, y)],
                index=y.index,
                dtype=object,
            )
        frame = super()._results_to_frame(y)
        if self.calibration is not None:
            calibrated = self.calibration(frame)
            for dimension in self.calibration.dimensions:
                # in the dtype of the other columns
                frame[dimension] = calibrated[dimension].astype(frame[dimension].dtype)
        frame.attrs["failures"] = sum(failed)
        return frame


@functools.lru_cache(maxsize=8)
def _shared_model(
    root: str,
    fingerprint: str,
    device: str,
    threads: int,
    cache_root: str | None,
    share_weights: bool,
    pid: int,
) -> audonnx.Model:
    # Emotion objects hold no session, so they pickle for worker processes,
    # which load the model once. Keyed on the fingerprint, so a model
    # replaced in its folder is loaded anew, and on the process id,
    # so a session inherited through fork is not used;
    # the folder is checked against the fingerprint recorded at construction
    return open_model(
        root,
        device=device,
        num_threads=threads,
        cache_root=cache_root,
        expected_fingerprint=fingerprint,
        share_weights=share_weights,
    )
