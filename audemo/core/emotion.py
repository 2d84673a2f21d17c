r"""Emotion: the emotion model as an audinterface feature extractor."""

from __future__ import annotations

import collections
from collections.abc import Sequence
import concurrent.futures
import concurrent.futures.process
import contextlib
import functools
import hashlib
import inspect
import json
import multiprocessing
import numbers
import os
import warnings

import numpy as np
import pandas as pd

import audeer
import audformat
import audinterface
import audobject
import audonnx

from audemo.core.cache import FILE_KEYS
from audemo.core.cache import concat_parts
from audemo.core.cache import make_folder
from audemo.core.cache import process_index_resumable
from audemo.core.define import DIMENSIONS
from audemo.core.define import MIN_SAMPLES
from audemo.core.define import OUTPUTS
from audemo.core.define import SAMPLING_RATE
from audemo.core.model import acquire_model
from audemo.core.model import check_device
from audemo.core.model import open_model
from audemo.core.precision import PRECISIONS
from audemo.core.process import Failure
from audemo.core.process import RobustProcess
from audemo.core.process import chunk_bounds
from audemo.core.process import combine_chunks
from audemo.core.resolver import ModelResolver
from audemo.core.segment import VoiceActivity
from audemo.core.utils import count


ERRORS = ("raise", "coerce")

BORROWED_ARGUMENTS = {
    "sampling_rate": "process",
    "resample": "process",
    "mixdown": "process",
    "segment": "process",
}
r"""Arguments audobject finds on the interface's process."""

RUNTIME_ARGUMENTS = (
    "model_cache_root",
    "cache_root",
    "device",
    "num_workers",
    "num_threads",
    "multiprocessing",
    "verbose",
)
r"""Hidden audobject arguments: settings of a run, not of the numbers."""

CHUNK_DUR = 20.0
r"""Default chunk length in seconds.

Inputs up to this length are processed whole.
The model was trained on 3 to 11 s segments of MSP-Podcast
and almost every utterance of an emotion corpus is shorter than 20 s,
while self-attention makes time and memory grow
quadratically beyond that
(about 4 GB for 60 s with onnxruntime).
"""


class Emotion(audinterface.Feature, audobject.Object):
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
    The runtime settings
    ``model_cache_root``, ``device``, ``num_workers``, ``num_threads``,
    ``multiprocessing`` and ``verbose``
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
        verbose: show progress bars
        cache_root: deprecated name of ``model_cache_root``
            (a :class:`FutureWarning` says so)

    Raises:
        ValueError: if an argument has an invalid value,
            e.g. ``win_dur`` or ``num_workers`` not positive
        RuntimeError: if the model cannot be obtained
            or its fingerprint differs from ``fingerprint``

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

    .. _`hidden arguments`: https://audeering.github.io/audobject/usage.html#hidden-arguments

    """  # noqa: E501

    @audobject.init_decorator(
        borrow=BORROWED_ARGUMENTS,
        hide=list(RUNTIME_ARGUMENTS),
        resolvers={"model": ModelResolver},
    )
    def __init__(
        self,
        model: str | None = None,
        *,
        outputs: str | Sequence[str] = "logits",
        precision: str = "fp32",
        fingerprint: str | None = None,
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
        verbose: bool = False,
        cache_root: str | None = None,
    ):
        model_cache_root = deprecated_cache_root(self, cache_root, model_cache_root)
        check_options(
            win_dur=win_dur,
            hop_dur=hop_dur,
            chunk_dur=chunk_dur,
            num_workers=num_workers,
            num_threads=num_threads,
        )
        output_names = _check_outputs(outputs)
        if sampling_rate != SAMPLING_RATE:
            raise ValueError(
                f"The model works at {SAMPLING_RATE} Hz, "
                f"sampling_rate must be {SAMPLING_RATE}, not {sampling_rate}."
            )
        if len(audeer.to_list(channels)) > 1 and not mixdown:
            raise ValueError(
                f"The model takes one channel, but channels={channels} "
                f"selects {len(audeer.to_list(channels))}: "
                f"set mixdown=True or select a single channel."
            )
        if errors not in ERRORS:
            raise ValueError(f"errors must be one of {ERRORS}, not '{errors}'.")
        if precision not in PRECISIONS:
            raise ValueError(
                f"precision must be one of {PRECISIONS}, not '{precision}'."
            )
        # before the download: a bad device or int8 on a GPU fails at once
        check_device(device, precision)

        if fingerprint is not None and not isinstance(fingerprint, str):
            # YAML reads an unquoted all-digit SHA256 as an integer,
            # whose leading zeros are lost
            raise ValueError(
                f"fingerprint must be a string of 64 hexadecimal characters, "
                f"not {type(fingerprint).__name__} {fingerprint!r}: "
                f"quote it in YAML (fingerprint: '...')."
            )
        if isinstance(segment, VoiceActivity):
            segment.errors = errors
        files = acquire_model(
            model,
            precision=precision,
            expected_fingerprint=fingerprint,
            cache_root=model_cache_root,
            verbose=verbose,
        )

        self.model = files.reference
        r"""Registered name, URL or folder of the model."""
        self.outputs = outputs
        r"""Requested outputs."""
        self.fingerprint = files.fingerprint
        r"""SHA256 of the model's ``model.onnx``."""
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
        # None means one worker per core: resolved once, so that audinterface
        # starts as many threads as the onnxruntime threads were sized for
        num_workers = num_workers or available_cores()
        self.num_workers = num_workers

        self.precision = precision
        r"""Precision the model runs in."""

        self._output_names = output_names
        self._model_root = files.run_root
        self._run_fingerprint = files.run_fingerprint
        self.num_threads = num_threads or _threads_per_worker(num_workers)
        r"""Number of onnxruntime threads per worker."""
        onnx_model = self._onnx_model()
        columns = []
        for name in output_names:
            if name == "logits":
                columns += list(DIMENSIONS)
            else:
                columns += onnx_model.labels(name)

        super().__init__(
            columns,
            process_func=self._predict,
            sampling_rate=sampling_rate,
            resample=resample,
            channels=channels,
            mixdown=mixdown,
            win_dur=win_dur,
            hop_dur=hop_dur,
            segment=segment,
            num_workers=1 if multiprocessing else num_workers,
            # audinterface would fork worker processes from a process
            # that runs onnxruntime threads, which can deadlock:
            # audemo starts its own workers with forkserver/spawn
            multiprocessing=False,
            verbose=verbose,
        )
        # audinterface fills in a Timedelta default for hop_dur,
        # which audobject cannot serialize: keep the user's values
        self.win_dur = win_dur
        self.hop_dur = hop_dur
        # Feature builds its Process itself; turning it into RobustProcess
        # keeps every argument Feature passed on to it
        self.process.__class__ = LabelledProcess
        self.process.errors = errors
        self.process.chunk_dur = chunk_dur
        self._deferred_failures = None

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
        hint = self._check_relative_files(files, root)

        def run() -> pd.DataFrame:
            with self._worker_pool() as pool:
                if cache_root is None:
                    return self._process(index, root, process_func_args, pool)
                return self._process_cached(
                    index, root, process_func_args, pool, cache_root, file_key
                )

        frame = self._collect_failures(run, files, hint)
        if preserve_index and self.process.segment is None and self.win_dur is None:
            frame.index = index
        self._check_segmented(files, frame)
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
        if not self.multiprocessing or len(files) == 0:
            unique = list(dict.fromkeys(files))
            hint = self._check_relative_files(unique, root)
            frame = self._collect_failures(
                lambda: super(Emotion, self).process_files(
                    files,
                    starts=starts,
                    ends=ends,
                    root=root,
                    process_func_args=process_func_args,
                ),
                unique,
                hint,
            )
            self._check_segmented(unique, frame)
            return frame
        if starts is None and ends is None:
            index = audformat.filewise_index(files)
        else:
            index = audformat.segmented_index(
                files,
                _broadcast(starts, len(files), 0.0),
                _broadcast(ends, len(files), pd.NaT),
            )
        return self.process_index(index, root=root, process_func_args=process_func_args)

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
        (case-sensitive) are processed.
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
            hint = _empty_folder_hint(audeer.path(root), filetype)
            if hint:
                warnings.warn(hint, UserWarning, stacklevel=_caller_stacklevel())
        return frame

    def _check_relative_files(self, files: Sequence[str], root: str | None) -> str:
        r"""Hint for relative paths that do not exist without ``root``.

        With ``errors="raise"`` the first missing file
        is an error before anything is processed.

        """
        if root is not None:
            return ""
        missing = [
            file
            for file in files
            if isinstance(file, str)
            and not os.path.isabs(file)
            and not os.path.exists(file)
        ]
        if not missing:
            return ""
        hint = (
            f"{count(len(missing), 'relative file path')} "
            f"{'does' if len(missing) == 1 else 'do'} not exist "
            f"in the current folder '{os.getcwd()}' and no root was given: "
            f"pass the folder the paths are relative to as root, "
            f"for an audformat database root=db.root "
            f"(process_index(db.files, root=db.root))."
        )
        if self.errors == "raise":
            raise FileNotFoundError(f"Audio file '{missing[0]}' does not exist. {hint}")
        return hint

    def _collect_failures(self, run, files: Sequence[str], hint: str = ""):
        r"""Run and warn once about all failures, counted per file."""
        if self._deferred_failures is not None:
            # an outer call collects them
            return run()
        self._deferred_failures = []
        try:
            frame = run()
            failures = self._deferred_failures
        finally:
            self._deferred_failures = None
        if failures:
            _warn_failures(failures, files, len(frame), self._row_unit(), hint)
        return frame

    def _row_unit(self) -> str:
        return "window" if self.win_dur is not None else "segment"

    def _check_segmented(self, files: Sequence[str], frame: pd.DataFrame):
        if self.process.segment is None or len(files) == 0:
            return
        found = set(frame.index.get_level_values("file")) if len(frame) else set()
        silent = [file for file in dict.fromkeys(files) if file not in found]
        if silent:
            total = len(set(files))
            _warn(
                f"{len(silent)} of {count(total, 'file')} "
                f"{'has' if len(silent) == 1 else 'have'} no segments "
                f"(no speech found) and therefore no rows",
                silent,
            )

    def _process(self, index, root, process_func_args, pool) -> pd.DataFrame:
        if pool is None:
            return super().process_index(
                index, root=root, process_func_args=process_func_args
            )
        positions = np.array_split(
            np.arange(len(index)), min(len(index), pool._max_workers * 4)
        )
        frames, failures = [], []
        try:
            futures = [
                pool.submit(_process_shard, self, index[rows], root, process_func_args)
                for rows in positions
            ]
            with audeer.progress_bar(
                total=len(index),
                desc=progress_description(index),
                disable=not self.verbose,
            ) as bar:
                for future, rows in zip(futures, positions):
                    frame, shard_failures = future.result()
                    frames.append(frame)
                    failures.extend(shard_failures)
                    bar.update(len(rows))
        except concurrent.futures.process.BrokenProcessPool:
            # the 85-line traceback of the pool hides the usual cause
            raise RuntimeError(_BROKEN_POOL_MESSAGE) from None
        frame = concat_parts(frames)
        frame.attrs["failures"] = len(failures)
        if failures:
            if self._deferred_failures is None:
                _warn_failures(
                    failures,
                    index.get_level_values("file").unique(),
                    len(frame),
                    self._row_unit(),
                )
            else:
                self._deferred_failures.extend(failures)
        return frame

    def _process_cached(
        self, index, root, process_func_args, pool, cache_root, file_key
    ):
        folder = make_folder(cache_root, self.cache_key())
        verbose = self.verbose

        def process_part(part: pd.Index) -> tuple[pd.DataFrame, bool]:
            frame = self._process(part, root, process_func_args, pool)
            # a part with failures is done again next time:
            # the file may have been fixed or the disk mounted again
            return frame, frame.attrs.get("failures", 0) == 0

        # one progress bar over all parts;
        # process_index warns once over all failures
        self.verbose = self.process.verbose = False
        try:
            return process_index_resumable(
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

    @contextlib.contextmanager
    def _worker_pool(self):
        if not self.multiprocessing:
            yield None
            return
        if getattr(multiprocessing.current_process(), "_inheriting", False):
            # a worker process that imports a script without a __main__ guard
            # runs it again and gets here: it ends quietly instead of
            # printing multiprocessing's traceback, and the caller's process
            # explains the guard (see _BROKEN_POOL_MESSAGE)
            raise SystemExit(1)
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context(
            "forkserver" if "forkserver" in methods else "spawn"
        )
        with concurrent.futures.ProcessPoolExecutor(
            self.num_workers, mp_context=context
        ) as pool:
            yield pool

    def cache_key(self) -> str:
        r"""Hash of everything that determines the numbers.

        Covers the model fingerprint, precision, outputs, windowing,
        segmentation, resampling, channel selection, chunking,
        ``errors`` and the version of the cache format.
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
        text = json.dumps(settings, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def _onnx_model(self) -> audonnx.Model:
        return _shared_model(
            self._model_root,
            self._run_fingerprint,
            self.device,
            self.num_threads,
            self.model_cache_root,
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

    def _series_to_frame(self, y: pd.Series) -> pd.DataFrame:
        has_files = "file" in y.index.names
        failures = [
            (y.index[i][0] if has_files else None, value.message)
            for i, value in enumerate(y)
            if isinstance(value, Failure)
        ]
        if failures:
            nan = np.full(len(self.column_names), np.nan, dtype=np.float32)
            y = pd.Series(
                [nan if isinstance(value, Failure) else value for value in y],
                index=y.index,
                dtype=object,
            )
            if self._deferred_failures is None:
                files = y.index.get_level_values("file").unique() if has_files else []
                _warn_failures(failures, files, len(y), self._row_unit())
            else:
                self._deferred_failures.extend(failures)
        frame = super()._series_to_frame(y)
        frame.attrs["failures"] = len(failures)
        return frame


class LabelledProcess(RobustProcess):
    r"""RobustProcess whose progress bar counts files or segments.

    audinterface labels the progress of every index "segments",
    also when its rows are whole files.

    """

    def _process_index_wo_segment(
        self,
        index: pd.Index,
        root: str | None,
        process_func_args: dict[str, object] | None = None,
    ) -> pd.Series:
        return process_index_labelled(self, index, root, process_func_args)


def process_index_labelled(
    process: audinterface.Process,
    index: pd.Index,
    root: str | None,
    process_func_args: dict[str, object] | None = None,
) -> pd.Series:
    r"""Run the rows of an index, with a progress bar that counts them right.

    audinterface's ``Process._process_index_wo_segment``
    with the label of :func:`progress_description`.

    Args:
        process: the process
        index: segmented index
        root: root folder to expand relative file paths
        process_func_args: arguments passed on to the processing function

    Returns:
        one value per row

    """
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
        process._process_file,
        params,
        num_workers=process.num_workers,
        multiprocessing=process.multiprocessing,
        progress_bar=process.verbose,
        task_description=progress_description(index),
        maximum_refresh_time=1,
    )
    y = [value for x in xs for value in x[0]]
    files = [value for x in xs for value in x[1]]
    starts = [value for x in xs for value in x[2]]
    ends = [value for x in xs for value in x[3]]
    return pd.Series(y, audformat.segmented_index(files, starts, ends))


def progress_description(index: pd.Index) -> str:
    r"""Progress bar label: "Process N files" or "Process N segments".

    Rows that cover whole files
    (a filewise index, or start 0 and end ``NaT``)
    are files, other rows are segments.

    Args:
        index: audformat index

    Returns:
        label

    Examples:
        >>> progress_description(audformat.filewise_index(["a.wav", "b.wav"]))
        'Process 2 files'
        >>> progress_description(audformat.segmented_index(["a.wav"], [0.5], [1.0]))
        'Process 1 segment'

    """
    if len(index.names) == 1:
        return f"Process {count(len(index), 'file')}"
    starts = index.get_level_values("start")
    ends = index.get_level_values("end")
    if bool(((starts == pd.Timedelta(0)) & ends.isna()).all()):
        return f"Process {count(len(index), 'file')}"
    return f"Process {count(len(index), 'segment')}"


def check_index(index: object):
    r"""Refuse what is not an audformat index, saying what to pass instead.

    Args:
        index: what was passed as ``index``

    Raises:
        TypeError: if ``index`` is not a pandas index
        ValueError: if ``index`` is not conform to audformat

    Examples:
        >>> check_index(audformat.filewise_index(["a.wav"]))
        >>> check_index(["a.wav"])
        Traceback (most recent call last):
        ...
        TypeError: index must be an audformat index, not a list: pass audformat.filewise_index(files), or use process_files(files) for a list of files.

    """  # noqa: E501
    use = (
        "pass audformat.filewise_index(files), "
        "or use process_files(files) for a list of files"
    )
    if isinstance(index, (pd.Series, pd.DataFrame)):
        raise TypeError(
            f"index must be an audformat index, not a {type(index).__name__}: "
            f"pass its .index (e.g. db['files'].get().index) or db.files."
        )
    if not isinstance(index, pd.Index):
        article = "an" if type(index).__name__[0] in "aeiou" else "a"
        raise TypeError(
            f"index must be an audformat index, "
            f"not {article} {type(index).__name__}: {use}."
        )
    names = list(index.names)
    if names not in (["file"], ["file", "start", "end"]):
        raise ValueError(
            f"index must be an audformat index with the level 'file' (filewise) "
            f"or 'file', 'start', 'end' (segmented), "
            f"not a pandas index with the levels {names}: {use}."
        )
    audformat.assert_index(index)


def available_cores() -> int:
    r"""Number of CPU cores this process may use.

    Returns:
        at least 1

    """
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def check_options(
    *,
    win_dur: object,
    hop_dur: object,
    chunk_dur: object,
    num_workers: object,
    num_threads: object,
):
    r"""Refuse options that would fail for every input.

    Shared by :class:`audemo.Emotion` and :class:`audemo.Categories`,
    so that a wrong option is an error at construction,
    not a failure blamed on each file.

    Args:
        win_dur: window duration
        hop_dur: hop duration
        chunk_dur: chunk duration
        num_workers: number of workers
        num_threads: number of threads per worker

    Raises:
        ValueError: if an option is invalid

    Examples:
        >>> check_options(
        ...     win_dur=1.0, hop_dur=None, chunk_dur=20.0, num_workers=None,
        ...     num_threads=None,
        ... )
        >>> check_options(
        ...     win_dur=0, hop_dur=None, chunk_dur=20.0, num_workers=1, num_threads=None
        ... )
        Traceback (most recent call last):
        ...
        ValueError: win_dur must be at least 0.025 s (the model needs 400 samples at 16000 Hz), not 0: pass a duration in seconds, e.g. win_dur=1.0, or win_dur=None for no windows.

    """  # noqa: E501
    minimum = MIN_SAMPLES / SAMPLING_RATE
    needs = f"the model needs {MIN_SAMPLES} samples at {SAMPLING_RATE} Hz"
    examples = {
        "win_dur": "win_dur=1.0, or win_dur=None for no windows",
        "hop_dur": "hop_dur=0.5, or hop_dur=None for win_dur / 2",
        "chunk_dur": "chunk_dur=20.0, or chunk_dur=None for no chunks",
    }
    for name, value, least in (
        ("win_dur", win_dur, minimum),
        ("hop_dur", hop_dur, 0.0),
        ("chunk_dur", chunk_dur, minimum),
    ):
        if value is None:
            continue
        seconds = _seconds(value)
        what = f"at least {least} s ({needs})" if least else "positive"
        if seconds is None or not seconds > 0 or seconds < least:
            raise ValueError(
                f"{name} must be {what}, not {value!r}: "
                f"pass a duration in seconds, e.g. {examples[name]}."
            )
    if hop_dur is not None and win_dur is None:
        raise ValueError(
            f"hop_dur={hop_dur!r} needs win_dur: "
            f"pass both (e.g. win_dur=1.0, hop_dur={hop_dur!r}) "
            f"or leave out hop_dur."
        )
    for name, value, none in (
        ("num_workers", num_workers, "one per CPU core"),
        ("num_threads", num_threads, "to share the CPU cores among the workers"),
    ):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, numbers.Integral)
        ):
            raise ValueError(
                f"{name} must be a positive integer or None ({none}), not {value!r}."
            )
        if value is not None and value < 1:
            raise ValueError(
                f"{name} must be a positive integer or None ({none}), "
                f"not {value}: e.g. {name}=1."
            )


def _seconds(value: object) -> float | None:
    r"""Duration in seconds, ``None`` if it is none."""
    if isinstance(value, bool):
        return None
    if isinstance(value, numbers.Real):
        return float(value) if np.isfinite(value) else None
    try:
        # audinterface also takes strings ("500ms") and Timedelta objects
        duration = audinterface.utils.to_timedelta(value, SAMPLING_RATE)
    except Exception:
        return None
    return duration.total_seconds() if not pd.isna(duration) else None


def deprecated_cache_root(
    interface: object, cache_root: str | None, model_cache_root: str | None
) -> str | None:
    r"""``model_cache_root``, or ``cache_root`` with a warning.

    Args:
        interface: the object whose class name the warning gives
        cache_root: the deprecated argument
        model_cache_root: the new argument

    Returns:
        the model cache folder

    Raises:
        ValueError: if both are given and differ

    """
    if cache_root is None:
        return model_cache_root
    name = type(interface).__name__
    if model_cache_root is not None and model_cache_root != cache_root:
        raise ValueError(
            f"{name}() got cache_root={cache_root!r} and "
            f"model_cache_root={model_cache_root!r}: "
            f"pass only model_cache_root (cache_root is its deprecated name)."
        )
    warnings.warn(
        f"{name}(cache_root=...) is deprecated: it is the cache of models, "
        f"pass model_cache_root={cache_root!r} instead "
        f"(the cache of results is process_index(cache_root=...)).",
        FutureWarning,
        stacklevel=_caller_stacklevel(),
    )
    return cache_root


def _process_shard(
    interface: Emotion,
    index: pd.Index,
    root: str | None,
    process_func_args: dict | None,
) -> tuple[pd.DataFrame, list[tuple[str | None, str]]]:
    # runs in a worker process: failures go back to the parent,
    # since warnings of worker processes are lost
    interface._deferred_failures = []
    frame = audinterface.Feature.process_index(
        interface, index, root=root, process_func_args=process_func_args
    )
    return frame, interface._deferred_failures


def _broadcast(values, length: int, default) -> list:
    if values is None:
        return [default] * length
    if isinstance(values, (str, int, float, pd.Timedelta)):
        return [values] * length
    return list(values)


def _warn_failures(
    failures: list[tuple[str | None, str]],
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

    """
    failed_files = list(dict.fromkeys(file for file, _ in failures))
    if len(files) == 0 or failed_files == [None]:
        total, subject = 1, "The signal"
        one = True
    else:
        total = len(files)
        subject = f"{len(failed_files)} of {count(total, 'file')}"
        one = len(failed_files) == 1
    summary = f"{subject} failed"
    if len(failures) != len(failed_files) or rows != total:
        summary += f" ({len(failures)} of {count(rows, unit)})"
    rows_of = "its row holds" if len(failures) == 1 else "their rows hold"
    if not one and len(failures) == 1:  # pragma: no cover - one row, two files
        rows_of = "their rows hold"
    summary += f"; {rows_of} NaN values (errors='coerce')"
    _warn(summary, [message for _, message in failures], hint)


_BROKEN_POOL_MESSAGE = (
    "A worker process of multiprocessing=True ended abruptly. "
    "Usually the script that runs audemo has no "
    'if __name__ == "__main__": guard: each worker process imports the script '
    "again and, without the guard, runs it (and starts workers) "
    "instead of processing. Put the code that processes under "
    'if __name__ == "__main__":, or pass multiprocessing=False. '
    "Otherwise the worker was killed, e.g. for lack of memory: "
    "use fewer num_workers."
)


def _warn(summary: str, items: list[str], hint: str = ""):
    r"""One warning: a summary line, one line per item, and a hint."""
    lines = "\n".join(f"  {item}" for item in items)
    hint = f"\n{hint}" if hint else ""
    warnings.warn(
        f"{summary}:\n{lines}{hint}",
        RuntimeWarning,
        stacklevel=_caller_stacklevel(),
    )


def _caller_stacklevel() -> int:
    r"""Stack level of the first frame outside audemo and audinterface.

    The warning then points at the user's call,
    not at the library code that found the failures.

    """
    frame = inspect.currentframe()
    level = 1
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if level > 1 and not module.startswith(
            ("audemo.", "audinterface.", "audeer.", "audobject.")
        ):
            return level - 1
        frame = frame.f_back
        level += 1
    return 1


# 2: parquet parts keyed on the files they read (1: pickle, keyed on names)
_CACHE_VERSION = 2


@functools.lru_cache(maxsize=8)
def _shared_model(
    root: str,
    fingerprint: str,
    device: str,
    threads: int,
    cache_root: str | None,
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
        num_workers=threads,
        cache_root=cache_root,
        expected_fingerprint=fingerprint,
    )


def _check_outputs(outputs: str | Sequence[str]) -> list[str]:
    names = audeer.to_list(outputs)
    invalid = [name for name in names if name not in OUTPUTS]
    if not names or invalid or len(set(names)) != len(names):
        raise ValueError(
            f"outputs must be 'logits', 'hidden_states' or a list of both, "
            f"not {outputs!r}."
        )
    return names


def _threads_per_worker(num_workers: int | None) -> int:
    cores = available_cores()
    return max(1, cores // max(1, num_workers or cores))


def _empty_folder_hint(root: str, filetype: str) -> str:
    r"""Why a folder has no files of ``filetype``, and what to do."""
    if os.path.exists(os.path.join(root, "db.yaml")):
        return (
            f"'{root}' holds an audformat database, not audio files to list: "
            f"load it with db = audformat.Database.load({root!r}) and process "
            f"interface.process_index(db.files, root=db.root)."
        )
    others = collections.Counter()
    nested = 0
    for folder, _, names in os.walk(root):
        for name in names:
            extension = audeer.file_extension(name)
            if folder == root:
                if extension.lower() in AUDIO_EXTENSIONS:
                    others[extension] += 1
            elif extension == filetype:
                nested += 1
    if not others and not nested:
        return ""
    found = ", ".join(
        f"{count(number, 'file')} .{extension}"
        for extension, number in others.most_common()
    )
    parts = [f"'{root}' holds no .{filetype} files (filetype={filetype!r}"]
    parts[0] += ", case-sensitive)"
    if found:
        suggestion = others.most_common(1)[0][0]
        parts.append(f"but {found}: pass filetype={suggestion!r} to process_folder()")
    if nested:
        parts.append(
            f"{'but' if not found else 'and'} {count(nested, 'file')} "
            f".{filetype} in sub-folders, which process_folder() does not search: "
            f"list them (e.g. audeer.list_file_names(root, filetype="
            f"{filetype!r}, recursive=True)) and use process_files()"
        )
    return " ".join(parts) + "."


AUDIO_EXTENSIONS = (
    "wav",
    "flac",
    "ogg",
    "mp3",
    "m4a",
    "aac",
    "opus",
    "wma",
    "aif",
    "aiff",
    "webm",
    "mp4",
)
