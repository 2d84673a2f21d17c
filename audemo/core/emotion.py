r"""Emotion: the emotion model as an audinterface feature extractor."""

from __future__ import annotations

from collections.abc import Sequence
import concurrent.futures
import contextlib
import functools
import hashlib
import inspect
import json
import multiprocessing
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
from audemo.core.model import DEFAULT_MODEL
from audemo.core.model import download_model
from audemo.core.model import fingerprint as model_fingerprint
from audemo.core.model import open_model
from audemo.core.precision import PRECISIONS
from audemo.core.precision import precision_root
from audemo.core.process import Failure
from audemo.core.process import RobustProcess
from audemo.core.process import chunk_bounds
from audemo.core.process import combine_chunks
from audemo.core.resolver import ModelResolver
from audemo.core.segment import VoiceActivity


ERRORS = ("raise", "coerce")

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
    ``cache_root``, ``device``, ``num_workers``, ``num_threads``,
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
            to get one row per window (emotion over time)
        hop_dur: hop duration in seconds, defaults to ``win_dur / 2``
        chunk_dur: inputs longer than this (in seconds)
            are split into the fewest chunks of equal length
            not longer than ``chunk_dur``,
            each chunk runs through the model,
            and the outputs are averaged weighted by chunk duration.
            Time then grows linearly with duration
            and memory stays bounded.
            Long WAV, FLAC, OGG and MP3 files are also read chunk by chunk
            (each chunk resampled on its own).
            ``None`` processes every input whole
        sampling_rate: sampling rate the model expects (16000)
        resample: resample signals of other sampling rates
        channels: channel selection, see :func:`audresample.remix`
        mixdown: mix the selected channels down to mono
        segment: :class:`audinterface.Segment` object;
            if given, one row per segment it finds
        errors: ``"raise"`` to stop at the first failing input,
            ``"coerce"`` for a row of NaN and a warning instead
        cache_root: cache folder of downloaded models,
            see :func:`audemo.download_model`
        device: ``"cpu"``, ``"cuda"`` or ``"cuda:<id>"``
        num_workers: number of files processed in parallel
        num_threads: number of onnxruntime threads per worker;
            ``None`` shares the CPU cores among the workers.
            The thread count can change the last bit of the results
            (float32 sums in another order)
        multiprocessing: use processes instead of threads
            for ``num_workers``
        verbose: show progress bars

    Raises:
        ValueError: if an argument has an invalid value
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
        borrow={
            "sampling_rate": "process",
            "resample": "process",
            "mixdown": "process",
            "segment": "process",
        },
        hide=[
            "cache_root",
            "device",
            "num_workers",
            "num_threads",
            "multiprocessing",
            "verbose",
        ],
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
        cache_root: str | None = None,
        device: str = "cpu",
        num_workers: int | None = 1,
        num_threads: int | None = None,
        multiprocessing: bool = False,
        verbose: bool = False,
    ):
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
        if chunk_dur is not None and chunk_dur * sampling_rate < MIN_SAMPLES:
            raise ValueError(
                f"chunk_dur must be at least {MIN_SAMPLES / sampling_rate} s, "
                f"not {chunk_dur}."
            )

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
        model = model or DEFAULT_MODEL
        root = download_model(model, cache_root=cache_root, verbose=verbose)
        actual = model_fingerprint(root, cache_root=cache_root)
        if fingerprint is not None and fingerprint != actual:
            raise RuntimeError(
                f"The model '{model}' in '{root}' has fingerprint "
                f"{actual}, but this pipeline expects {fingerprint}. "
                f"It was made with a different model: "
                f"get that model, or pass fingerprint=None to accept this one."
            )

        self.model = model if root != audeer.path(model) else root
        r"""Model reference: registered name, URL or model folder."""
        self.outputs = outputs
        r"""Requested outputs."""
        self.fingerprint = actual
        r"""SHA256 of the model's ``model.onnx``."""
        self.channels = channels
        r"""Channel selection."""
        self.errors = errors
        r"""What to do with inputs that fail."""
        self.chunk_dur = chunk_dur
        r"""Maximum duration in seconds processed in one model run."""
        self.cache_root = cache_root
        self.device = device
        self.multiprocessing = multiprocessing
        self.num_workers = num_workers

        self.precision = precision
        r"""Precision the model runs in."""

        self._output_names = output_names
        self._model_root = precision_root(root, precision, cache_root=cache_root)
        self._run_fingerprint = (
            actual
            if precision == "fp32"
            else model_fingerprint(self._model_root, cache_root=cache_root)
        )
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
        self.process.__class__ = RobustProcess
        self.process.errors = errors
        self.process.chunk_dur = chunk_dur
        self._deferred_failures = None

    @property
    def model_root(self) -> str:
        r"""Local folder of the model."""
        return self._model_root

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
        :data:`audemo.core.cache.PART_SIZE` rows
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
            index: index conform to audformat_
            preserve_index: if ``True`` and neither ``segment``
                nor ``win_dur`` is set, return the original index
            root: root folder to expand relative file paths
            cache_root: cache folder (see above)
            process_func_args: arguments passed on to the processing function
            file_key: how audio files enter the cache key:
                ``"stat"`` or ``"content"`` (see above)

        Returns:
            data frame with one row per file, segment or window

        Raises:
            ValueError: if ``cache_root`` is given
                but ``segment`` is not an :class:`audobject.Object`,
                or ``file_key`` is invalid
            PermissionError: if other users can write
                the cache folder or a part in it

        .. _audformat: https://audeering.github.io/audformat/data-format.html

        """
        if file_key not in FILE_KEYS:
            raise ValueError(f"file_key must be one of {FILE_KEYS}, not {file_key!r}.")
        if len(index) == 0:
            return super().process_index(index, preserve_index=preserve_index)
        with self._worker_pool() as pool:
            if cache_root is None:
                frame = self._process(index, root, process_func_args, pool)
            else:
                frame = self._process_cached(
                    index, root, process_func_args, pool, cache_root, file_key
                )
        if preserve_index and self.process.segment is None and self.win_dur is None:
            frame.index = index
        self._check_segmented(index.get_level_values("file"), frame)
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

        """
        if not self.multiprocessing or len(files) == 0:
            frame = super().process_files(
                files,
                starts=starts,
                ends=ends,
                root=root,
                process_func_args=process_func_args,
            )
            self._check_segmented(files, frame)
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

    def _check_segmented(self, files: Sequence[str], frame: pd.DataFrame):
        if self.process.segment is None or len(files) == 0:
            return
        found = set(frame.index.get_level_values("file")) if len(frame) else set()
        silent = [file for file in dict.fromkeys(files) if file not in found]
        if silent:
            _warn(
                f"{len(silent)} of {len(set(files))} files have no segments "
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
        futures = [
            pool.submit(_process_shard, self, index[rows], root, process_func_args)
            for rows in positions
        ]
        frames, failures = [], []
        with audeer.progress_bar(
            total=len(index),
            desc=f"Process {len(index)} entries",
            disable=not self.verbose,
        ) as bar:
            for future, rows in zip(futures, positions):
                frame, shard_failures = future.result()
                frames.append(frame)
                failures.extend(shard_failures)
                bar.update(len(rows))
        frame = concat_parts(frames)
        frame.attrs["failures"] = len(failures)
        if failures:
            if self._deferred_failures is None:
                _warn_failures(failures, len(frame))
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

        # one progress bar over all parts and one warning over all failures
        self.verbose = self.process.verbose = False
        self._deferred_failures = []
        try:
            frame = process_index_resumable(
                process_part,
                index,
                folder,
                root=root,
                file_key=file_key,
                verbose=verbose,
            )
            if self._deferred_failures:
                _warn_failures(self._deferred_failures, len(frame))
        finally:
            self.verbose = self.process.verbose = verbose
            self._deferred_failures = None
        return frame

    @contextlib.contextmanager
    def _worker_pool(self):
        if not self.multiprocessing:
            yield None
            return
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context(
            "forkserver" if "forkserver" in methods else "spawn"
        )
        workers = self.num_workers or os.cpu_count() or 1
        with concurrent.futures.ProcessPoolExecutor(
            workers, mp_context=context
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
            self.cache_root,
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
        failures = [value.message for value in y if isinstance(value, Failure)]
        if failures:
            nan = np.full(len(self.column_names), np.nan, dtype=np.float32)
            y = pd.Series(
                [nan if isinstance(value, Failure) else value for value in y],
                index=y.index,
                dtype=object,
            )
            if self._deferred_failures is None:
                _warn_failures(failures, len(y))
            else:
                self._deferred_failures.extend(failures)
        frame = super()._series_to_frame(y)
        frame.attrs["failures"] = len(failures)
        return frame


def _process_shard(
    interface: Emotion,
    index: pd.Index,
    root: str | None,
    process_func_args: dict | None,
) -> tuple[pd.DataFrame, list[str]]:
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


def _warn_failures(failures: list[str], total: int):
    _warn(
        f"{len(failures)} of {total} inputs failed "
        f"and have NaN values in the result (errors='coerce')",
        failures,
    )


def _warn(summary: str, items: list[str]):
    r"""One warning: a summary line, then one line per item."""
    lines = "\n".join(f"  {item}" for item in items)
    warnings.warn(
        f"{summary}:\n{lines}",
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
        if level > 1 and not module.startswith(("audemo.", "audinterface.", "audeer.")):
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
    cores = os.cpu_count() or 1
    return max(1, cores // max(1, num_workers or cores))
