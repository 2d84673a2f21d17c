r"""Stream: emotion of live audio, window by window.

:class:`Stream` cuts pushed audio chunks into the windows
that offline processing with ``win_dur`` and ``hop_dur`` uses
and runs an interface on each window as soon as it is complete.
It keeps only the audio of one window (plus a few milliseconds
for resampling), so memory does not grow with the duration of a stream.

"""

from __future__ import annotations

from collections.abc import Callable
import math
import time

import numpy as np
import pandas as pd

import audinterface
import audresample

from audemo.core.process import check_sampling_rate
from audemo.core.process import float_signal


__all__ = ["Stream", "RESAMPLE_MARGIN"]


RESAMPLE_MARGIN = 0.01
r"""Audio in seconds resampled on each side of a window, at least.

When the stream's sampling rate differs from the interface's,
each window is resampled on its own
together with this much audio before and after it,
and the margin is cut off again.
The rows then differ from offline processing of the whole
(resampled at once) signal by about ``1e-4`` or less
(see :class:`Stream`).
"""


class Stream:
    r"""Emotion of live audio: rows of windows as they complete.

    Push chunks of any length with :meth:`push`;
    each push returns the rows of the windows it completed.
    :meth:`close` returns the row of a stream
    shorter than one window
    (as offline processing does, one row for the whole signal),
    otherwise no rows.

    At the interface's sampling rate
    the rows **equal** those of offline processing
    of the concatenated chunks,
    ``Emotion(model, win_dur=win_dur, hop_dur=hop_dur).process_signal(...)``,
    for any chunk sizes.
    Channels are selected and mixed down as the interface says.
    At other sampling rates each window is resampled on its own
    with ``RESAMPLE_MARGIN`` (0.01) seconds of audio on each side:
    rows then agree with offline processing to about ``1e-4``.

    **Falling behind real time.**
    With ``realtime=False`` (default) every window is computed,
    however long that takes.
    With ``realtime=True`` the stream never builds a backlog:
    it assumes the audio arrives in real time,
    starting with the first push (measured with ``clock``),
    and skips a window whose end lies more than ``max_delay`` seconds
    in the past when its turn comes,
    except the newest window a push completes,
    which is always computed.
    The rows then have the column ``skipped``:
    how many windows were skipped right before that row.
    Push everything that arrived in the meantime in one call
    (as ``audemo live`` and ``audemo serve`` do),
    and the stream catches up by skipping.

    Args:
        interface: feature interface, e.g. :class:`audemo.Emotion`
            without ``win_dur`` and ``segment``
        win_dur: window duration in seconds
        hop_dur: hop duration in seconds
        realtime: skip windows instead of falling behind real time
        max_delay: with ``realtime``, skip windows that ended
            more than this many seconds ago;
            ``None`` means ``hop_dur``
        clock: clock in seconds for ``realtime``,
            default ``time.monotonic``

    Raises:
        ValueError: if ``win_dur`` or ``hop_dur`` are not positive,
            or the interface uses windows or segments of its own

    Examples:
        The examples run on a small test model
        (:func:`audemo.testing.create_model`):
        its numbers are **not** emotion predictions.

        >>> root = audemo.testing.create_model("model")
        >>> stream = Stream(audemo.Emotion(root), win_dur=1.0, hop_dur=0.5)
        >>> signal = np.sin(np.arange(32000) / 10).astype("float32")
        >>> len(stream.push(signal[:12000], 16000))
        0
        >>> stream.push(signal[12000:], 16000).round(3)
                                                       arousal  dominance  valence
        start                  end
        0 days 00:00:00.000000 0 days 00:00:01.000000    0.483      0.489    0.538
        0 days 00:00:00.500000 0 days 00:00:01.500000    0.525      0.574    0.509
        0 days 00:00:01.000000 0 days 00:00:02.000000    0.654      0.544    0.368
        >>> len(stream.close())
        0

    """  # noqa: E501

    def __init__(
        self,
        interface: audinterface.Feature,
        *,
        win_dur: float = 2.0,
        hop_dur: float = 0.5,
        realtime: bool = False,
        max_delay: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        for name, value in (("win_dur", win_dur), ("hop_dur", hop_dur)):
            if not value > 0:
                raise ValueError(
                    f"{name} must be a positive number of seconds, got {value!r}."
                )
        if getattr(interface, "win_dur", None) is not None or (
            interface.process.segment is not None
        ):
            raise ValueError(
                "The interface of a Stream must process whole signals: "
                "create it without win_dur and segment "
                "(e.g. audemo.Emotion(model)); "
                "the Stream cuts the windows itself."
            )
        self.interface = interface
        r"""Interface run on each window."""
        self.win_dur = win_dur
        r"""Window duration in seconds."""
        self.hop_dur = hop_dur
        r"""Hop duration in seconds."""
        self.realtime = realtime
        r"""Whether windows are skipped to keep up with real time."""
        self.max_delay = hop_dur if max_delay is None else max_delay
        r"""Delay in seconds beyond which ``realtime`` skips windows."""
        self.clock = clock
        self.sampling_rate = None
        r"""Sampling rate of the pushed audio, set by the first push."""
        self.samples = 0
        r"""Number of samples pushed (per channel)."""
        self.emitted = 0
        r"""Number of rows returned."""
        self.skipped = 0
        r"""Number of windows skipped with ``realtime``."""
        target = interface.process.sampling_rate
        self._target = target
        self._win = int(pd.to_timedelta(win_dur, unit="s").total_seconds() * target)
        self._hop = int(pd.to_timedelta(hop_dur, unit="s").total_seconds() * target)
        self._win_td = pd.to_timedelta(win_dur, unit="s").as_unit("ns")
        self._hop_td = pd.to_timedelta(hop_dur, unit="s").as_unit("ns")
        self._next = 0  # next window to compute or skip
        self._buffer = None
        self._base = 0  # absolute input sample of self._buffer[0]
        self._filled = 0
        self._clock_start = None
        self._closed = False
        self._pending_skips = 0  # skipped windows before the next row
        self._empty = None

    @property
    def buffer_size(self) -> int:
        r"""Number of samples the stream's buffer holds at most.

        Constant over the stream: one window and the resampling margins.

        """
        return 0 if self._buffer is None else self._buffer.shape[1]

    def push(self, signal: np.ndarray, sampling_rate: int) -> pd.DataFrame:
        r"""Push audio and get the rows of the windows it completed.

        Args:
            signal: samples, shape ``(samples,)`` or ``(channels, samples)``;
                float or integer PCM,
                as :meth:`audemo.Emotion.process_signal` takes it
            sampling_rate: sampling rate in Hz,
                the same for every push of a stream

        Returns:
            rows of the completed windows,
            index ``start`` and ``end`` from the start of the stream

        Raises:
            ValueError: if the stream is closed,
                the sampling rate changes or lies outside
                4 to 768 kHz,
                or the signal has not the shape or type of audio

        Examples:
            >>> root = audemo.testing.create_model("model")
            >>> stream = Stream(audemo.Emotion(root), win_dur=1.0, hop_dur=1.0)
            >>> signal = np.sin(np.arange(16000) / 10).astype("float32")
            >>> stream.push(signal, 16000).shape
            (1, 3)

        """
        if self._closed:
            raise ValueError("The stream is closed: create a new Stream.")
        signal = self._channels(signal, sampling_rate)
        size = signal.shape[1]
        if self.realtime and self._clock_start is None:
            self._clock_start = self.clock() - size / sampling_rate
        rows = []
        last = self._last_ready(self.samples + size)
        position = 0
        while position < size:
            need = self._input_end(self._next) - self.samples
            take = signal[:, position : position + max(need, 1)]
            self._append(take)
            position += take.shape[1]
            while self._next <= last and self._input_end(self._next) <= self.samples:
                row = self._window(self._next, newest=self._next == last)
                if row is not None:
                    rows.append(row)
                self._next += 1
                self._drop()
        return self._frame(rows)

    def close(self) -> pd.DataFrame:
        r"""End the stream and get the rows still to come.

        A stream shorter than one window gives one row
        for the whole signal, as offline processing does;
        at other sampling rates the last windows
        that lacked their resampling margin come now.

        Returns:
            remaining rows

        Raises:
            ValueError: if the stream is shorter than the
                interface can process

        Examples:
            >>> root = audemo.testing.create_model("model")
            >>> stream = Stream(audemo.Emotion(root), win_dur=2.0)
            >>> signal = np.sin(np.arange(8000) / 10).astype("float32")
            >>> len(stream.push(signal, 16000))
            0
            >>> stream.close().round(3)
                                           arousal  dominance  valence
            start  end
            0 days 0 days 00:00:00.500000    0.576      0.492    0.418

        """
        if self._closed or self.sampling_rate is None:
            self._closed = True
            return self._frame([])
        self._closed = True
        sr = self.sampling_rate
        whole_win = round(self._win_td.total_seconds() * sr)
        if self.emitted == 0 and self.skipped == 0 and self.samples < whole_win:
            signal = self._resample(self._buffer[:, : self._filled])
            end = pd.to_timedelta(self.samples / sr, unit="s")
            return self._frame([self._row(signal, pd.Timedelta(0), end)])
        total = round(self.samples * self._target / sr)
        rows = []
        while self._next * self._hop + self._win <= total:
            row = self._window(self._next, newest=True)
            rows.append(row)
            self._next += 1
        return self._frame(rows)

    def _channels(self, signal, sampling_rate) -> np.ndarray:
        r"""Signal as ``(channels, samples)`` float32, checked."""
        if self.sampling_rate is None:
            if not isinstance(sampling_rate, int | np.integer) or sampling_rate <= 0:
                raise ValueError(
                    f"sampling_rate must be a positive integer, got {sampling_rate!r}."
                )
            check_sampling_rate(sampling_rate, "the stream")
            if sampling_rate != self._target and not self.interface.process.resample:
                raise ValueError(
                    f"The stream has {sampling_rate} Hz, "
                    f"but the interface needs {self._target} Hz "
                    "and does not resample: create it with resample=True."
                )
            self.sampling_rate = sampling_rate
        elif sampling_rate != self.sampling_rate:
            raise ValueError(
                f"The stream started with {self.sampling_rate} Hz, "
                f"a chunk has {sampling_rate} Hz: "
                "resample the chunk or start a new Stream."
            )
        signal = float_signal(signal, "the chunk")
        if signal.ndim not in (1, 2):
            raise ValueError(
                f"A chunk must have the shape (samples,) or (channels, samples), "
                f"got {signal.shape}."
            )
        signal = np.atleast_2d(signal).astype(np.float32, copy=False)
        if self._buffer is None:
            self._setup(signal.shape[0])
        elif signal.shape[0] != self._buffer.shape[0]:
            raise ValueError(
                f"The stream started with {self._buffer.shape[0]} channels, "
                f"a chunk has {signal.shape[0]}: "
                "push chunks of the same channels or start a new Stream."
            )
        return signal

    def _setup(self, channels: int):
        r"""Buffer and resampling blocks for the stream's sampling rate."""
        sampling_rate = self.sampling_rate
        common = math.gcd(sampling_rate, self._target)
        self._block_out = self._target // common
        self._block_in = sampling_rate // common
        if sampling_rate == self._target:
            self._margin = 0
        else:
            blocks = RESAMPLE_MARGIN * self._target / self._block_out
            self._margin = max(1, math.ceil(blocks))
        # one window, the margins and rounding to blocks on both sides
        blocks = math.ceil(self._win / self._block_out) + 2 * self._margin + 2
        self._buffer = np.zeros((channels, blocks * self._block_in), np.float32)

    def _input_start(self, k: int) -> int:
        r"""First input sample resampled for window ``k``."""
        return max(0, k * self._hop // self._block_out - self._margin) * self._block_in

    def _input_end(self, k: int) -> int:
        r"""Input samples needed to compute window ``k``."""
        end = -(-(k * self._hop + self._win) // self._block_out) + self._margin
        return end * self._block_in

    def _last_ready(self, samples: int) -> int:
        r"""Last window complete after ``samples`` input samples."""
        blocks = samples // self._block_in - self._margin
        return (blocks * self._block_out - self._win) // self._hop

    def _append(self, samples: np.ndarray):
        size = samples.shape[1]
        self.samples += size
        if self._filled == 0:
            # with hop_dur > win_dur, audio between windows is not kept
            gap = min(self._input_start(self._next) - self._base, size)
            samples = samples[:, gap:]
            size -= gap
            self._base += gap
        self._buffer[:, self._filled : self._filled + size] = samples
        self._filled += size

    def _drop(self):
        r"""Forget the audio no window still needs."""
        drop = min(self._input_start(self._next) - self._base, self._filled)
        if drop > 0:
            self._buffer[:, : self._filled - drop] = self._buffer[
                :, drop : self._filled
            ]
            self._filled -= drop
            self._base += drop

    def _window(self, k: int, *, newest: bool) -> tuple | None:
        r"""Row of window ``k``, or ``None`` if skipped."""
        start = k * self._hop_td
        if self.realtime and not newest:
            now = self.clock() - self._clock_start
            end = (start + self._win_td).total_seconds()
            if now - end > self.max_delay:
                self.skipped += 1
                self._pending_skips += 1
                return None
        begin = self._input_start(k) - self._base
        stop = min(self._input_end(k) - self._base, self._filled)
        signal = self._resample(self._buffer[:, begin:stop])
        offset = (
            k * self._hop - self._input_start(k) // self._block_in * self._block_out
        )
        signal = signal[:, offset : offset + self._win]
        return self._row(signal, start, start + self._win_td)

    def _resample(self, signal: np.ndarray) -> np.ndarray:
        if self.sampling_rate == self._target:
            return signal
        return audresample.resample(signal, self.sampling_rate, self._target)

    def _row(self, signal, start, end) -> tuple:
        frame = self.interface.process_signal(signal, self._target)
        self.emitted += 1
        skipped = self._pending_skips
        self._pending_skips = 0
        return start, end, frame.values[0], skipped

    def _frame(self, rows: list[tuple]) -> pd.DataFrame:
        if not rows:  # most pushes: fast
            if self._empty is None:
                self._empty = self._build([])
            return self._empty.copy(deep=False)
        return self._build(rows)

    def _build(self, rows: list[tuple]) -> pd.DataFrame:
        index = audinterface.utils.signal_index(
            [row[0] for row in rows], [row[1] for row in rows]
        )
        columns = list(self.interface.column_names)
        if rows:
            values = np.stack([row[2] for row in rows])
        else:
            values = np.zeros((0, len(columns)), dtype=np.float32)
        frame = pd.DataFrame(values, index=index, columns=columns)
        if self.realtime:
            frame["skipped"] = np.array([row[3] for row in rows], dtype="int64")
        return frame
