r"""VoiceActivity: speech segments with the silero voice activity detector."""

from __future__ import annotations

from collections.abc import Sequence
import copy
import functools
import os
import typing

import numpy as np
import pandas as pd

import audinterface
import audobject

from audemo.core.define import SAMPLING_RATE
from audemo.core.define import VOICE_ACTIVITY_RUNTIME_ARGUMENTS
from audemo.core.options import check_errors
from audemo.core.ort import small_session
from audemo.core.process import RobustProcess
from audemo.core.utils import available_cores
from audemo.core.utils import check_positive_integer


if typing.TYPE_CHECKING:  # pragma: no cover - annotations only
    # imported by audemo.core.ort where a session is made
    import onnxruntime


VAD_MODEL = os.path.join(os.path.dirname(__file__), "data", "silero_vad_16k.onnx")
r"""silero VAD (MIT licence), vendored from the silero-vad 6.2.3 wheel."""

WINDOW = 512
r"""Samples per speech probability (32 ms at 16 kHz)."""

CONTEXT = 64
r"""Samples of the previous window the model sees as context."""


class VoiceActivity(audinterface.Segment, audobject.Object):
    r"""Speech segments found by the silero voice activity detector.

    Runs the silero VAD ONNX model
    (from silero-vad 6.2.3, MIT licence, shipped with audemo)
    with onnxruntime
    and turns its speech probability,
    computed every 32 ms,
    into segments:

    1. speech starts where the probability reaches ``threshold``
    2. it ends where the probability stays below ``threshold - 0.15``
       for at least ``min_silence_dur`` seconds
    3. segments shorter than ``min_speech_dur`` are dropped
    4. every segment is widened by ``speech_pad`` on both sides
       (within the signal) and overlapping segments are merged

    Use it as ``segment`` of :class:`audemo.Emotion`
    to get one row per speech segment;
    it round-trips through YAML with the interface.
    Signals are resampled to 16 kHz;
    by default the first channel is used.

    Args:
        threshold: speech probability that starts a segment (0..1)
        min_speech_dur: shortest segment in seconds
        min_silence_dur: shortest pause in seconds that ends a segment
        speech_pad: seconds added before and after each segment
        channels: channel selection, see :func:`audresample.remix`
        mixdown: mix the selected channels down to mono
        errors: ``"raise"`` to stop at a file that cannot be read,
            ``"coerce"`` to return one segment covering the whole file
            so that :class:`audemo.Emotion` reports it as a failure.
            :class:`audemo.Emotion` runs a copy
            with its own ``errors``
        num_workers: number of files processed in parallel (threads);
            ``None`` uses one thread per CPU core
        verbose: show a progress bar

    Segment starts and ends are whole samples at 16 kHz
    (multiples of 62.5 µs, exact to the nanosecond)
    and end at the latest where the file or signal ends.

    Raises:
        ValueError: if an argument is out of range

    Examples:
        >>> vad = VoiceActivity()
        >>> index = vad.process_file("speech.wav")
        >>> for _, start, end in index:
        ...     print(f"{start.total_seconds():.3f} s to {end.total_seconds():.3f} s")
        0.034 s to 1.790 s
        1.890 s to 3.838 s

    """

    @audobject.init_decorator(hide=list(VOICE_ACTIVITY_RUNTIME_ARGUMENTS))
    def __init__(
        self,
        *,
        threshold: float = 0.5,
        min_speech_dur: float = 0.25,
        min_silence_dur: float = 0.1,
        speech_pad: float = 0.03,
        channels: int | Sequence[int] = 0,
        mixdown: bool = False,
        errors: str = "raise",
        num_workers: int | None = 1,
        verbose: bool = False,
    ):
        _check_arguments(
            threshold=threshold,
            min_speech_dur=min_speech_dur,
            min_silence_dur=min_silence_dur,
            speech_pad=speech_pad,
            num_workers=num_workers,
            errors=errors,
        )
        self.threshold = threshold
        r"""Speech probability that starts a segment."""
        self.min_speech_dur = min_speech_dur
        r"""Shortest segment in seconds."""
        self.min_silence_dur = min_silence_dur
        r"""Shortest pause in seconds that ends a segment."""
        self.speech_pad = speech_pad
        r"""Seconds added before and after each segment."""
        self.channels = channels
        r"""Channel selection."""
        self.mixdown = mixdown
        r"""Mono mixdown."""
        processing = {
            "process_func": self._segments,
            "sampling_rate": SAMPLING_RATE,
            "resample": True,
            "channels": channels,
            "mixdown": mixdown,
            # audinterface would start min(32, cores + 4) threads for None
            "num_workers": num_workers or available_cores(),
            "verbose": verbose,
        }
        super().__init__(**processing)
        # Segment builds a plain Process: audemo's reads long and broken
        # files, and its progress bar counts files
        self.process = _SegmentProcess(errors=errors, **processing)

    @property
    def errors(self) -> str:
        r"""What to do with files that cannot be read."""
        return self.process.errors

    @errors.setter
    def errors(self, value: str):
        check_errors(value)
        self.process.errors = value

    def _segments(self, signal: np.ndarray, sampling_rate: int) -> pd.MultiIndex:
        signal = np.asarray(signal, dtype=np.float32).reshape(-1)
        probabilities = speech_probabilities(signal)
        segments = speech_segments(
            probabilities,
            len(signal),
            threshold=self.threshold,
            min_speech_dur=self.min_speech_dur,
            min_silence_dur=self.min_silence_dur,
            speech_pad=self.speech_pad,
        )
        return samples_index(segments)


def samples_index(segments: list[tuple[int, int]]) -> pd.MultiIndex:
    r"""Index of segments given in samples at 16 kHz, exact to the nanosecond.

    A sample at 16 kHz lasts exactly 62500 ns:
    starts and ends are whole samples,
    without the float noise of ``samples / 16000`` seconds
    (``0.0625624999`` instead of ``0.0625625``).

    Args:
        segments: (start, end) in samples at 16 kHz

    Returns:
        index with the levels ``start`` and ``end``

    Examples:
        >>> samples_index([(1001, 18002)])
        MultiIndex([('0 days 00:00:00.062562500', '0 days 00:00:01.125125')],
                   names=['start', 'end'])

    """
    starts = np.array([start for start, _ in segments], dtype=np.int64)
    ends = np.array([end for _, end in segments], dtype=np.int64)
    return _exact_index(starts * _NS_PER_SAMPLE, ends * _NS_PER_SAMPLE)


def _exact_index(starts, ends) -> pd.MultiIndex:
    # audinterface.utils.signal_index goes through float seconds
    return pd.MultiIndex.from_arrays(
        [
            pd.TimedeltaIndex(pd.to_timedelta(starts, unit="ns")).as_unit("ns"),
            pd.TimedeltaIndex(pd.to_timedelta(ends, unit="ns")).as_unit("ns"),
        ],
        names=["start", "end"],
    )


# 10**9 / 16000: a whole number, so sample positions convert exactly
_NS_PER_SAMPLE = 10**9 // SAMPLING_RATE
assert _NS_PER_SAMPLE * SAMPLING_RATE == 10**9


def segment_with_errors(
    segment: audinterface.Segment | None, errors: str
) -> audinterface.Segment | None:
    r"""The segmentation an interface with ``errors`` runs.

    A :class:`audemo.VoiceActivity` with other ``errors``
    is copied with ``errors`` set,
    so that a file it cannot read fails in the interface
    (``errors="coerce"``: a row of NaN and a warning);
    the caller's object stays as it is.
    Any other segmentation is returned as it is.

    Args:
        segment: segmentation, or ``None``
        errors: ``"raise"`` or ``"coerce"``

    Returns:
        segmentation to run

    Examples:
        >>> vad = VoiceActivity()
        >>> segment_with_errors(vad, "coerce").errors, vad.errors
        ('coerce', 'raise')
        >>> segment_with_errors(vad, "raise") is vad
        True

    """
    if not isinstance(segment, VoiceActivity) or segment.errors == errors:
        return segment
    segment = copy.deepcopy(segment)
    segment.errors = errors
    return segment


def _check_arguments(
    *,
    threshold: float,
    min_speech_dur: float,
    min_silence_dur: float,
    speech_pad: float,
    num_workers: int | None,
    errors: str,
):
    if not 0 < threshold < 1:
        raise ValueError(f"threshold must be between 0 and 1, not {threshold}.")
    for name, value in [
        ("min_speech_dur", min_speech_dur),
        ("min_silence_dur", min_silence_dur),
        ("speech_pad", speech_pad),
    ]:
        if value < 0:
            raise ValueError(f"{name} must not be negative, not {value}.")
    check_positive_integer("num_workers", num_workers, none="one per CPU core")
    check_errors(errors)


class _SegmentProcess(RobustProcess):
    def call_process_func(self, signal, sampling_rate, **kwargs):
        index = super().call_process_func(signal, sampling_rate, **kwargs)
        # resampling to 16 kHz can make a signal up to a sample longer:
        # a segment must not end after the signal it was found in
        # (whole nanoseconds, rounded down)
        duration = pd.Timedelta(
            np.atleast_2d(signal).shape[-1] * 10**9 // sampling_rate, unit="ns"
        )
        starts = index.get_level_values("start")
        ends = index.get_level_values("end")
        ends = ends.where(ends <= duration, duration)
        keep = starts < ends
        return _exact_index(starts[keep].asi8, ends[keep].asi8)

    def _failed(self, error, cause, file, start, end):
        if self.errors == "raise":
            return super()._failed(error, cause, file, start, end)
        # one segment over the whole file: Emotion reads it again,
        # fails, and reports the file with a row of NaN
        index = audinterface.utils.signal_index([0.0], [pd.NaT])
        return [index], [file], [pd.Timedelta(0)], [pd.NaT]


def speech_probabilities(signal: np.ndarray) -> np.ndarray:
    r"""Speech probability for every 32 ms of a 16 kHz signal.

    Args:
        signal: mono signal at 16 kHz

    Returns:
        one probability per 512 samples
        (the last window is padded with zeros)

    Examples:
        >>> speech_probabilities(np.zeros(16000, np.float32)).shape
        (32,)

    """
    session = _vad_session(os.getpid())
    num_windows = -(-len(signal) // WINDOW)
    padded = np.zeros(CONTEXT + num_windows * WINDOW, np.float32)
    padded[CONTEXT : CONTEXT + len(signal)] = signal
    state = np.zeros((2, 1, 128), np.float32)
    rate = np.array(SAMPLING_RATE, np.int64)
    probabilities = np.empty(num_windows, np.float32)
    for i in range(num_windows):
        window = padded[i * WINDOW : i * WINDOW + CONTEXT + WINDOW][np.newaxis]
        output, state = session.run(None, {"input": window, "state": state, "sr": rate})
        probabilities[i] = output[0, 0]
    return probabilities


def speech_segments(
    probabilities: np.ndarray,
    num_samples: int,
    *,
    threshold: float = 0.5,
    min_speech_dur: float = 0.25,
    min_silence_dur: float = 0.1,
    speech_pad: float = 0.03,
) -> list[tuple[int, int]]:
    r"""Turn speech probabilities into segments.

    See :class:`audemo.VoiceActivity` for the rules.

    Args:
        probabilities: one speech probability per 512 samples
        num_samples: length of the signal in samples
        threshold: speech probability that starts a segment
        min_speech_dur: shortest segment in seconds
        min_silence_dur: shortest pause in seconds that ends a segment
        speech_pad: seconds added before and after each segment

    Returns:
        (start, end) of each segment in samples at 16 kHz

    Examples:
        >>> probabilities = np.array([0.0] * 10 + [0.9] * 20 + [0.0] * 10)
        >>> speech_segments(probabilities, 40 * 512)
        [(4640, 15840)]

    """
    release = max(threshold - 0.15, 0.01)
    min_silence = min_silence_dur * SAMPLING_RATE
    segments = []
    start = None
    silence_start = None
    for i, probability in enumerate(probabilities):
        position = i * WINDOW
        if probability >= threshold:
            silence_start = None
            if start is None:
                start = position
        elif start is not None and probability < release:
            if silence_start is None:
                silence_start = position
            if position + WINDOW - silence_start >= min_silence:
                segments.append((start, silence_start))
                start = silence_start = None
    if start is not None:
        segments.append((start, num_samples))

    pad = round(speech_pad * SAMPLING_RATE)
    min_speech = min_speech_dur * SAMPLING_RATE
    merged = []
    for begin, end in segments:
        if end - begin < min_speech:
            continue
        begin, end = max(0, begin - pad), min(num_samples, end + pad)
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((begin, end))
    return merged


@functools.lru_cache(maxsize=2)
def _vad_session(pid: int) -> onnxruntime.InferenceSession:
    return small_session(VAD_MODEL)
