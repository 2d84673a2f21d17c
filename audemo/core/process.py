r"""Processing of real-world input: failures, long files, short windows."""

from __future__ import annotations

import dataclasses
import math
import os

import numpy as np
import pandas as pd
import soundfile

import audeer
import audinterface
import audiofile

from audemo.core.audinterface_adapter import ProcessAdapter
from audemo.core.audinterface_adapter import preprocess_signal
from audemo.core.audinterface_adapter import segment_to_indices
from audemo.core.define import MIN_SAMPLES
from audemo.core.utils import argument_error
from audemo.core.utils import count


CHUNKED_READ_FORMATS = ("wav", "flac", "ogg", "mp3")
r"""Formats that are read chunk by chunk when a file is long."""

SAMPLING_RATE_RANGE = (4000, 768000)
r"""Sampling rates in Hz that audemo accepts, smallest and largest.

The header of a file decides how long audemo thinks it is
and how much memory resampling takes:
a 113 KB WAV file whose header says 1 Hz
would be read as 15.7 hours.
Speech needs at least 4 kHz (telephone band: 8 kHz);
studio recordings go up to 768 kHz.
Files and signals outside this range fail
before anything is read or resampled.
"""


@dataclasses.dataclass(frozen=True)
class Failure:
    r"""Placeholder result of an input that failed with ``errors="coerce"``."""

    message: str


def chunk_bounds(num_samples: int, sampling_rate: int, chunk_dur: float) -> list[int]:
    r"""Sample positions that split a signal into chunks.

    A signal up to ``chunk_dur`` seconds is one chunk.
    A longer one is split into the smallest number of
    chunks of (nearly) equal length
    that are not longer than ``chunk_dur``,
    so that no chunk is much shorter than the others.

    Args:
        num_samples: length of the signal in samples
        sampling_rate: sampling rate in Hz
        chunk_dur: maximum chunk duration in seconds

    Returns:
        positions of the chunk borders, starting with 0
        and ending with ``num_samples``

    Examples:
        >>> chunk_bounds(16000, 16000, 20.0)
        [0, 16000]
        >>> chunk_bounds(50 * 16000, 16000, 20.0)
        [0, 266667, 533333, 800000]

    """
    chunk_samples = max(1, int(round(chunk_dur * sampling_rate)))
    num_chunks = max(1, math.ceil(num_samples / chunk_samples))
    return [round(i * num_samples / num_chunks) for i in range(num_chunks + 1)]


def combine_chunks(outputs: list[np.ndarray], weights: list[int]) -> np.ndarray:
    r"""Duration-weighted mean of the outputs of chunks.

    Args:
        outputs: model outputs per chunk
        weights: number of samples per chunk

    Returns:
        weighted mean as float32

    Examples:
        >>> combine_chunks([np.array([0.0, 1.0]), np.array([1.0, 1.0])], [1, 3])
        array([0.75, 1.  ], dtype=float32)

    """
    if len(outputs) == 1:
        return outputs[0]
    stacked = np.stack(outputs).astype(np.float64)
    mean = np.average(stacked, axis=0, weights=np.asarray(weights, np.float64))
    return mean.astype(np.float32)


class RobustProcess(ProcessAdapter):
    r"""audinterface's Process with audemo's handling of real-world input.

    * failures name the file;
      with ``errors="coerce"`` they give a :class:`Failure`
      instead of stopping the run
    * long files are read chunk by chunk
    * a signal shorter than one window gives one row for the whole signal
    * the progress bar counts files or segments
      (:class:`audemo.core.audinterface_adapter.ProcessAdapter`)

    Args:
        errors: ``"raise"`` to stop at the first failing input,
            ``"coerce"`` for a :class:`Failure` instead
        chunk_dur: longest duration in seconds
            a file is read and processed in one piece,
            ``None`` for no limit
        kwargs: arguments of :class:`audinterface.Process`

    """

    def __init__(
        self,
        *,
        errors: str = "raise",
        chunk_dur: float | None = None,
        **kwargs: object,
    ):
        super().__init__(**kwargs)
        self.errors = errors
        r"""What to do with inputs that fail."""
        self.chunk_dur = chunk_dur
        r"""Longest duration in seconds read and processed in one piece."""

    def process_file_rows(
        self,
        file: str,
        *,
        idx: int = 0,
        root: str | None = None,
        start: pd.Timedelta | None = None,
        end: pd.Timedelta | None = None,
        process_func_args: dict[str, object] | None = None,
    ):
        path = os.path.join(root, file) if root and not os.path.isabs(file) else file
        try:
            header = _read_header(path)
        except Exception as ex:
            return self._failed(_read_error(ex, path), ex, file, start, end)
        try:
            bounds = self._long_file_bounds(path, header, start, end)
            if bounds is None:
                return super().process_file_rows(
                    file,
                    idx=idx,
                    root=root,
                    start=start,
                    end=end,
                    process_func_args=process_func_args,
                )
            return self._process_long_file(file, path, bounds, idx, root)
        except Exception as ex:
            # errors of the model name the file already, others do not
            error = ex if path in str(ex) else _read_error(ex, path, "process")
            return self._failed(error, ex, file, start, end)

    def _failed(self, error, cause, file, start, end):
        if self.errors == "raise":
            if error is cause:
                raise error
            raise error from cause
        return (
            [Failure(str(error))],
            [file],
            [_timedelta(start, pd.Timedelta(0))],
            [_timedelta(end, pd.NaT)],
        )

    def _long_file_bounds(self, path, header, start, end):
        # only whole files without windows: segments are read by audinterface
        if header is None or self.chunk_dur is None or self.win_dur is not None:
            return None
        if not (start is None or pd.isna(start) or start == pd.Timedelta(0)):
            return None
        if not (end is None or pd.isna(end)):
            return None
        sampling_rate, num_samples = header
        bounds = chunk_bounds(num_samples, sampling_rate, self.chunk_dur)
        if len(bounds) <= 2:
            return None
        return bounds, sampling_rate

    def _process_long_file(self, file, path, bounds, idx, root):
        bounds, sampling_rate = bounds
        outputs = []
        for begin, stop in zip(bounds[:-1], bounds[1:]):
            signal, _ = audiofile.read(
                path,
                offset=str(begin),
                duration=str(stop - begin),
                always_2d=True,
            )
            # the chunk is the unit: the model must not split it again
            # when resampling makes it a sample longer than chunk_dur
            outputs.append(
                self.call_process_func(
                    signal,
                    sampling_rate,
                    idx=idx,
                    root=root,
                    file=file,
                    process_func_args={"split": False},
                )
            )
        y = combine_chunks(outputs, np.diff(bounds).tolist())
        end = pd.to_timedelta(bounds[-1] / sampling_rate, unit="s")
        return [y], [file], [pd.Timedelta(0)], [end]

    def process_signal_rows(
        self,
        signal: np.ndarray,
        sampling_rate: int,
        *,
        idx: int = 0,
        root: str | None = None,
        file: str | None = None,
        start: pd.Timedelta | None = None,
        end: pd.Timedelta | None = None,
        process_func_args: dict[str, object] | None = None,
    ):
        signal = np.atleast_2d(signal)
        start = _timedelta(start, pd.Timedelta(0))
        where = f"'{file}'" if file else "signal"
        end = _timedelta(
            end, pd.to_timedelta(signal.shape[-1] / sampling_rate, unit="s")
        )
        try:
            signal = float_signal(signal, where)
            check_sampling_rate(sampling_rate, where)
            check_orientation(signal, where)
            check_channels(signal, self.channels, where)
            if self.win_dur is not None and self._shorter_than_window(
                signal, sampling_rate, start, end
            ):
                return self._process_whole(signal, sampling_rate, file, start, end)
            return super().process_signal_rows(
                signal,
                sampling_rate,
                idx=idx,
                root=root,
                file=file,
                start=start,
                end=end,
                process_func_args=process_func_args,
            )
        except Exception as ex:
            if self.errors == "raise":
                raise
            message = str(ex) if file and file in str(ex) else f"{where}: {ex}"
            return [Failure(message)], [file], *self._one_row(start, end)

    def _one_row(self, start: pd.Timedelta, end: pd.Timedelta) -> tuple:
        r"""Start and end of a result of one row, as audinterface takes them.

        With windows, audinterface shifts all starts and ends of a segment
        read from a file by the segment's start (an index operation);
        without, it changes the first start and last end in place (a list).

        """
        if self.win_dur is not None:
            return pd.TimedeltaIndex([start]), pd.TimedeltaIndex([end])
        return [start], [end]

    def _shorter_than_window(self, signal, sampling_rate, start, end) -> bool:
        start_i, end_i = segment_to_indices(signal, sampling_rate, start, end)
        win = audinterface.utils.to_timedelta(self.win_dur, sampling_rate)
        return (end_i - start_i) < round(win.total_seconds() * sampling_rate)

    def _process_whole(self, signal, sampling_rate, file, start, end):
        start_i, end_i = segment_to_indices(signal, sampling_rate, start, end)
        signal, sampling_rate = preprocess_signal(
            signal[:, start_i:end_i],
            sampling_rate,
            self.sampling_rate,
            self.resample,
            self.channels,
            self.mixdown,
        )
        y = self.process_func(signal, sampling_rate, file=file)
        return [y], [file], *self._one_row(start, end)


MAX_FLOAT_PEAK = 64.0
r"""Largest magnitude of a float sample.

Float audio has full scale -1 to 1;
samples far beyond are integer PCM that was converted
to float without scaling (e.g. ``signal.astype(float)`` of 16-bit PCM),
which would give wrong numbers without a word.
"""


def float_signal(signal: np.ndarray, where: str) -> np.ndarray:
    r"""Samples as float, integer PCM scaled as audiofile reads it.

    The one rule for samples given as arrays
    (:meth:`audemo.Emotion.process_signal`, :meth:`audemo.Stream.push`,
    ``WS /stream?format=s16le``):
    float samples are taken as they are (full scale is -1 to 1);
    8-, 16- and 32-bit integer PCM is divided by 128, 32768 or 2147483648
    (unsigned 8-bit PCM centred at 128 first),
    as audiofile (libsndfile) does when it reads such a file,
    so an array gives the same numbers as the file it was read from.
    Other types say nothing about their full scale and are refused.

    Args:
        signal: samples
        where: the input, for the error message

    Returns:
        float samples (float32 for integer PCM)

    Raises:
        ValueError: if the samples are neither float nor 8-, 16- or 32-bit PCM,
            or float samples exceed :data:`MAX_FLOAT_PEAK`

    Examples:
        >>> float_signal(np.array([-32768, 16384], dtype="int16"), "the signal")
        array([-1. ,  0.5], dtype=float32)
        >>> float_signal(np.array([-32768.0, 16384.0]), "the signal")
        Traceback (most recent call last):
        ...
        ValueError: Cannot process the signal: its float samples reach 32768, but float audio has full scale -1 to 1. This looks like integer PCM converted to float without scaling: divide by 32768 (16-bit) or 2147483648 (32-bit), or pass the integer array itself.
        >>> float_signal(np.array([0, 1]), "the signal")
        Traceback (most recent call last):
        ...
        ValueError: Cannot process the signal: its samples are int64, which has no full scale audemo knows. Give float samples (full scale -1 to 1) or 8-, 16- or 32-bit integer PCM, e.g. signal.astype('int16') if it holds 16-bit values, or signal / 32768 as float.

    """  # noqa: E501
    signal = np.asarray(signal)
    dtype = signal.dtype
    if dtype.kind == "f":
        peak = float(np.max(np.abs(signal), initial=0.0))
        # NaN and infinity pass here and fail with their own message later
        if MAX_FLOAT_PEAK < peak < np.inf:
            raise ValueError(
                f"Cannot process {where}: its float samples reach {peak:g}, "
                "but float audio has full scale -1 to 1. This looks like "
                "integer PCM converted to float without scaling: divide by "
                "32768 (16-bit) or 2147483648 (32-bit), "
                "or pass the integer array itself."
            )
        return signal
    if dtype == np.uint8:
        return ((signal.astype(np.float32) - 128) / 128).astype(np.float32)
    if dtype.kind == "i" and dtype.itemsize in (1, 2, 4):
        full_scale = 2.0 ** (8 * dtype.itemsize - 1)
        return (signal / full_scale).astype(np.float32)
    raise ValueError(
        f"Cannot process {where}: its samples are {dtype}, "
        "which has no full scale audemo knows. "
        "Give float samples (full scale -1 to 1) or 8-, 16- or 32-bit "
        "integer PCM, e.g. signal.astype('int16') if it holds 16-bit values, "
        "or signal / 32768 as float."
    )


def check_sampling_rate(sampling_rate: int, where: str):
    r"""Refuse a sampling rate outside :data:`SAMPLING_RATE_RANGE`.

    Args:
        sampling_rate: sampling rate in Hz
        where: the input, for the error message

    Raises:
        ValueError: if the sampling rate is outside the range

    Examples:
        >>> check_sampling_rate(44100, "'speech.wav'")
        >>> check_sampling_rate(1, "'broken.wav'")
        Traceback (most recent call last):
        ...
        ValueError: Cannot process 'broken.wav': its sampling rate of 1 Hz is outside the range audemo accepts (4000 to 768000 Hz). A header that says so is usually broken: check or convert the file (e.g. sox in.wav -r 16000 out.wav).

    """  # noqa: E501
    low, high = SAMPLING_RATE_RANGE
    if not low <= sampling_rate <= high:
        raise ValueError(
            f"Cannot process {where}: its sampling rate of {sampling_rate} Hz "
            f"is outside the range audemo accepts ({low} to {high} Hz). "
            f"A header that says so is usually broken: check or convert "
            f"the file (e.g. sox in.wav -r 16000 out.wav)."
        )


def check_orientation(signal: np.ndarray, where: str):
    r"""Refuse a signal whose shape looks like (samples, channels).

    audinterface expects (channels, samples);
    soundfile and many other readers return (samples, channels).
    A signal with fewer samples than the model needs
    but enough "channels" to be a signal was almost surely transposed.

    Args:
        signal: 2-d signal
        where: the input, for the error message

    Raises:
        ValueError: if the shape looks transposed

    Examples:
        >>> check_orientation(np.zeros((2, 16000)), "the signal")
        >>> check_orientation(np.zeros((16000, 2)), "the signal")
        Traceback (most recent call last):
        ...
        ValueError: Cannot process the signal: its shape (16000, 2) looks like (samples, channels), but audinterface expects (channels, samples). Pass signal.T (soundfile.read returns (samples, channels); audiofile.read returns (channels, samples)).

    """  # noqa: E501
    channels, samples = signal.shape
    if samples < MIN_SAMPLES <= channels:
        raise ValueError(
            f"Cannot process {where}: its shape {signal.shape} looks like "
            f"(samples, channels), but audinterface expects (channels, samples). "
            f"Pass signal.T (soundfile.read returns (samples, channels); "
            f"audiofile.read returns (channels, samples))."
        )


def check_channels(signal: np.ndarray, channels: object, where: str):
    r"""Refuse a channel selection that the signal does not have.

    Args:
        signal: 2-d signal
        channels: selected channels, ``None`` for all
        where: the input, for the error message

    Raises:
        ValueError: if a selected channel is not in the signal,
            naming the channels to select
            (:func:`audemo.core.utils.argument_error`)

    Examples:
        >>> check_channels(np.zeros((2, 16000)), 1, "'stereo.wav'")
        >>> check_channels(np.zeros((1, 16000)), 1, "'mono.wav'")
        Traceback (most recent call last):
        ...
        ValueError: Cannot process 'mono.wav': it has 1 channel, but channels=1 selects channel 1 (channels count from 0): select channels=0.

    """  # noqa: E501
    if channels is None:
        return
    selected = audeer.to_list(channels)
    number = signal.shape[0]
    missing = [channel for channel in selected if not -number <= channel < number]
    if missing:
        others = f" (or another channel up to {number - 1})" if number > 1 else ""
        raise argument_error(
            f"Cannot process {where}: it has {count(number, 'channel')}, "
            f"but {{channels={channels}}} selects channel "
            f"{', '.join(map(str, missing))} (channels count from 0): "
            f"select {{channels=0}}{others}."
        )


def _timedelta(value, default) -> pd.Timedelta:
    if value is None or pd.isna(value):
        return default
    return value


def _read_header(path: str) -> tuple[int, int] | None:
    r"""Sampling rate and length of a file that soundfile reads natively.

    Raises the reading error of a missing, empty, corrupt or non-audio file
    before any processing starts.
    Returns ``None`` for formats that audiofile converts with ffmpeg.

    """
    if not os.path.exists(path):
        raise FileNotFoundError(f"Audio file '{path}' does not exist.")
    if os.path.isdir(path):
        raise IsADirectoryError("it is a folder")
    if audeer.file_extension(path).lower() not in CHUNKED_READ_FORMATS:
        return None
    # one look at the header instead of audiofile.sampling_rate + samples
    info = soundfile.info(path)
    # the header decides how much is read and resampled: check it first
    check_sampling_rate(info.samplerate, f"'{path}'")
    return info.samplerate, info.frames


def _read_error(ex: Exception, path: str, action: str = "read") -> Exception:
    r"""Return an error whose message names the file."""
    if isinstance(ex, (FileNotFoundError, ValueError)) and path in str(ex):
        return ex
    if hasattr(ex, "template"):  # names the file and the arguments already
        return ex
    reason = " ".join(str(ex).split()).replace(f"Error opening {path!r}: ", "")
    message = f"Cannot {action} audio file '{path}': {reason}"
    if isinstance(ex, FileNotFoundError) and "cannot be found" in reason:
        # audiofile reads formats other than WAV, FLAC, OGG and MP3
        # with external programs
        message += (
            " Reading this format needs ffmpeg and mediainfo: "
            "install them (e.g. apt-get install ffmpeg mediainfo) "
            "or convert the file to WAV or FLAC."
        )
        return FileNotFoundError(message)
    if isinstance(ex, ValueError):
        return ValueError(message)
    return RuntimeError(message)
