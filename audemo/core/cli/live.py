r"""``audemo live``: emotion of live audio, one line per window.

Reads raw PCM from stdin, an audio file
(as fast as possible, or at real speed with ``--realtime``),
or the microphone (``pip install 'audemo[live]'``),
runs :class:`audemo.Stream` on it,
prints a line per window
and writes the rows to a CSV file as they come.
Ctrl-C stops it with every row written.

"""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import queue
import signal
import sys
import time
import wave

import numpy as np
import soundfile

from audemo.core.cli import COMMANDS
from audemo.core.cli.common import add_model_cache_root
from audemo.core.cli.common import add_model_option
from audemo.core.cli.common import add_precision_option
from audemo.core.cli.common import check_output
from audemo.core.emotion import Emotion
from audemo.core.live.stream import Stream
from audemo.core.process import PCM_FORMATS
from audemo.core.process import check_sampling_rate
from audemo.core.process import float_signal
from audemo.core.utils import import_optional


FILE_SIGNATURES = {
    b"fLaC": "a FLAC",
    b"OggS": "an Ogg",
    b"ID3": "an MP3",
    b"\xff\xfb": "an MP3",
}
r"""Starts of audio files that ``--input -`` recognizes and refuses."""

CONVERT_TO_RAW = "ffmpeg -i rec.mp3 -f f32le -ac 1 -ar 16000 - | audemo live --input -"
r"""A command that turns any audio file into what ``--input -`` reads."""

BLOCK_DUR = 0.1
r"""Seconds of audio read at a time."""


def add_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    r"""Add the command ``live``.

    Args:
        commands: sub-parsers of the ``audemo`` parser

    Returns:
        parser of the command

    """
    command = commands.add_parser(
        "live",
        help=COMMANDS["live"],
        description=(
            "Predict arousal, dominance and valence of live audio in sliding "
            "windows: from the microphone (needs pip install 'audemo[live]'), "
            "raw mono PCM or a WAV stream on stdin (--input -), or an audio "
            "file. Prints one "
            "line per window (with bars on a terminal) and writes CSV with -o "
            "as it goes. Ctrl-C stops with every row written. With --realtime "
            "windows are skipped instead of falling behind (column skipped)."
        ),
    )
    command.add_argument(
        "--input",
        default="mic",
        metavar="mic|-|FILE",
        help=(
            "mic (default), - for raw PCM (or a WAV stream, e.g. from arecord) "
            "on stdin, or an audio file"
        ),
    )
    command.add_argument(
        "--device-index",
        type=int,
        default=None,
        metavar="N",
        help="input device of --input mic (default: the system's default)",
    )
    command.add_argument(
        "--win-dur", type=positive, default=2.0, metavar="S", help="window (2.0 s)"
    )
    command.add_argument(
        "--hop-dur", type=positive, default=0.5, metavar="S", help="hop (0.5 s)"
    )
    command.add_argument(
        "--realtime",
        action="store_true",
        help=(
            "play a file at real speed and skip windows when the model falls "
            "behind (always on for the microphone)"
        ),
    )
    command.add_argument(
        "--format",
        choices=list(PCM_FORMATS),
        default="f32le",
        help=(
            "sample format of raw PCM on --input - (default: f32le, mono; "
            "a WAV header on stdin says its own)"
        ),
    )
    command.add_argument(
        "--sampling-rate",
        type=int,
        default=16000,
        metavar="HZ",
        help="sampling rate of --input - and of the microphone (default: 16000)",
    )
    command.add_argument("-o", "--output", help="write the rows to this CSV file")
    command.add_argument(
        "--overwrite", action="store_true", help="replace an existing -o file"
    )
    add_model_option(command)
    add_model_cache_root(command, legacy=False)
    add_precision_option(command)
    return command


def positive(value: str) -> float:
    r"""A positive number of seconds.

    Args:
        value: command line value

    Returns:
        seconds

    Raises:
        argparse.ArgumentTypeError: if not a positive number

    Examples:
        >>> positive("0.5")
        0.5

    """
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not seconds > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, not '{value}'")
    return seconds


def run(args: argparse.Namespace) -> int:
    r"""Run the command.

    Args:
        args: parsed arguments

    Returns:
        exit code

    Raises:
        ValueError: if an input or output cannot be used

    """
    if args.output:
        check_output(args.output, ["csv"], overwrite=args.overwrite, what="-o")
    source = open_source(args)
    interface = Emotion(
        args.model, precision=args.precision, model_cache_root=args.model_cache_root
    )
    realtime = args.realtime or args.input == "mic"
    stream = Stream(
        interface, win_dur=args.win_dur, hop_dur=args.hop_dur, realtime=realtime
    )
    writer = RowWriter(args.output, realtime=realtime, bars=sys.stdout.isatty())
    stop = Interrupt()
    try:
        with stop, source:
            for chunk, sampling_rate in source.chunks(stop):
                # after Ctrl-C, the source ends before the next chunk
                writer.write(stream.push(chunk, sampling_rate))
        if not stop.requested:
            writer.write(stream.close())
    finally:
        writer.close()
    seconds = stream.samples / (stream.sampling_rate or 1)
    how = "stopped" if stop.requested else "done"
    print(
        f"audemo: {how}: {seconds:.1f} s of audio, {writer.rows} rows"
        + (f" ({stream.skipped} windows skipped)" if stream.skipped else "")
        + (f", written to {args.output}" if args.output else ""),
        file=sys.stderr,
    )
    return 0


class Interrupt:
    r"""Ctrl-C (SIGINT) asks to stop between chunks.

    While a source waits for audio (``waiting``),
    Ctrl-C stops the wait at once.

    """

    def __init__(self):
        self.requested = False
        self.waiting = False

    def __enter__(self):  # noqa: D105
        self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc_info):  # noqa: D105
        signal.signal(signal.SIGINT, self._previous)
        # Ctrl-C while waiting ends the stream like end of input
        return exc_info[0] is KeyboardInterrupt and self.requested

    def _handle(self, signum, frame):
        self.requested = True
        if self.waiting:
            raise KeyboardInterrupt


class RowWriter:
    r"""Print rows and append them to a CSV file as they come."""

    def __init__(self, path: str | None, *, realtime: bool, bars: bool):
        self.rows = 0
        self.bars = bars
        self.columns = ["start", "end", "arousal", "dominance", "valence"]
        if realtime:
            self.columns.append("skipped")
        self._file = None
        if path:
            self._file = open(path, "w", newline="", encoding="utf-8")
            self._csv = csv.writer(self._file)
            self._csv.writerow(self.columns)
            self._file.flush()

    def write(self, frame):
        starts = frame.index.get_level_values("start").total_seconds()
        ends = frame.index.get_level_values("end").total_seconds()
        for start, end, (_, row) in zip(starts, ends, frame.iterrows()):
            values = [row[name] for name in ("arousal", "dominance", "valence")]
            print(self.line(end, values), flush=True)
            if self._file is not None:
                record = [f"{start:.3f}", f"{end:.3f}"] + [f"{v:.6f}" for v in values]
                if "skipped" in self.columns:
                    record.append(int(row["skipped"]))
                self._csv.writerow(record)
                self._file.flush()
            self.rows += 1

    def line(self, end: float, values: list[float]) -> str:
        r"""One line of output: time of the window's end, A, D, V.

        Args:
            end: end of the window in seconds
            values: arousal, dominance, valence

        Returns:
            line, with bars of 10 characters if ``bars``

        Examples:
            >>> RowWriter(None, realtime=False, bars=True).line(2.0, [0.5, 1, 0])
            '    2.00 s  A 0.500 █████      D 1.000 ██████████ V 0.000           '

        """
        parts = [f"{end:8.2f} s"]
        for letter, value in zip("ADV", values):
            part = f"{letter} {value:.3f}"
            if self.bars:
                filled = int(round(min(max(value, 0.0), 1.0) * 10))
                part += " " + "█" * filled + " " * (10 - filled)
            parts.append(part)
        return "  ".join(parts[:1]) + "  " + " ".join(parts[1:])

    def close(self):
        if self._file is not None:
            self._file.close()


def open_source(args: argparse.Namespace):
    r"""The audio source that ``--input`` names.

    Args:
        args: parsed arguments

    Returns:
        source with ``chunks(stop)`` yielding ``(signal, sampling_rate)``

    Raises:
        ValueError: if the file cannot be read or no microphone is there

    """
    if args.input == "-":
        return RawSource(sys.stdin.buffer, args.format, args.sampling_rate)
    if args.input == "mic":
        return MicrophoneSource(args.device_index, args.sampling_rate)
    return FileSource(args.input, realtime=args.realtime)


class RawSource:
    r"""Raw mono PCM from a binary stream, or a WAV stream with its header."""

    def __init__(self, stream, format: str, sampling_rate: int):
        if sampling_rate <= 0:
            raise ValueError(f"--sampling-rate must be positive, got {sampling_rate}.")
        check_sampling_rate(sampling_rate, "--input - with --sampling-rate")
        self.stream = stream
        self.dtype = PCM_FORMATS[format]
        self.sampling_rate = sampling_rate
        self.channels = 1
        self.remaining = None  # bytes of audio of a WAV stream, if known
        start = stream.peek(12)[:12]
        if start[:4] == b"RIFF" and start[8:] == b"WAVE":
            self._read_wav_header()
            return
        for signature, kind in FILE_SIGNATURES.items():
            if start.startswith(signature):
                raise ValueError(
                    f"stdin holds {kind} file, but --input - reads raw PCM "
                    "or WAV: give the file as --input FILE, or convert it, "
                    f"e.g. {CONVERT_TO_RAW}"
                )

    def _read_wav_header(self):
        r"""Format of a WAV stream: its header wins over the options."""
        try:
            header = wave.open(self.stream, "rb")
        except (wave.Error, EOFError) as ex:
            raise ValueError(
                f"stdin starts like a WAV file, but its header cannot be read "
                f"({ex}): send 8-, 16- or 32-bit integer PCM WAV or raw PCM, "
                f"e.g. {CONVERT_TO_RAW}"
            ) from None
        width = header.getsampwidth()
        if width == 3:
            raise ValueError(
                "stdin is a 24-bit WAV stream, which --input - does not read: "
                "convert it, e.g. sox -t wav - -b 16 -t wav - | audemo live "
                "--input -"
            )
        self.dtype = np.dtype("u1" if width == 1 else f"<i{width}")
        self.channels = header.getnchannels()
        self.sampling_rate = header.getframerate()
        check_sampling_rate(self.sampling_rate, "the WAV stream on stdin")
        size = header.getnframes() * width * self.channels
        # streaming tools write 0 when they cannot know the length
        self.remaining = size or None

    def __enter__(self):  # noqa: D105
        return self

    def __exit__(self, *exc_info):  # noqa: D105
        return False

    def chunks(self, stop: Interrupt):
        size = self.dtype.itemsize * self.channels
        # up to 10 s at once: what piled up while the model ran
        block = int(10 * self.sampling_rate) * size
        rest = b""
        while not stop.requested and self.remaining != 0:
            if self.remaining is not None:
                block = min(block, self.remaining)
            stop.waiting = True
            try:
                data = self.stream.read1(block)
            finally:
                stop.waiting = False
            if not data:
                return
            if self.remaining is not None:
                self.remaining -= len(data)
            data = rest + data
            usable = len(data) // size * size
            rest = data[usable:]
            samples = np.frombuffer(data[:usable], dtype=self.dtype)
            try:
                samples = float_signal(samples.reshape(-1, self.channels).T, "stdin")
                if not np.isfinite(samples).all():
                    raise ValueError(
                        "Cannot process stdin: it has NaN or infinite samples."
                    )
            except ValueError as ex:  # e.g. 16-bit PCM read as float
                raise ValueError(
                    f"{ex} For raw 16-bit PCM give --format s16le."
                ) from None
            yield samples, self.sampling_rate


@contextlib.contextmanager
def quiet_stderr(quiet: bool):
    r"""Send what C libraries write to stderr to ``/dev/null``.

    libmpg123 (through libsndfile) prints decoder notes
    such as ``part2_3_length ... too large`` for valid MP3 files
    that the user cannot act on.

    Args:
        quiet: whether to silence stderr, or leave it alone

    """
    if not quiet:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


class FileSource:
    r"""An audio file, read block by block, at real speed with ``realtime``."""

    def __init__(self, path: str, *, realtime: bool, clock=time.monotonic):
        if not os.path.isfile(path):
            raise ValueError(
                f"--input '{path}' is not a file: give an audio file, "
                "- for raw PCM on stdin, or mic."
            )
        try:
            with quiet_stderr(True):  # an MP3 file may be one
                self.file = soundfile.SoundFile(path)
        except Exception as ex:
            raise ValueError(f"Cannot read --input '{path}': {ex}") from ex
        try:
            check_sampling_rate(self.file.samplerate, f"--input '{path}'")
        except ValueError:
            self.file.close()
            raise
        self.quiet = self.file.format == "MP3"
        self.realtime = realtime
        self.clock = clock

    def __enter__(self):  # noqa: D105
        return self

    def __exit__(self, *exc_info):  # noqa: D105
        self.file.close()
        return False

    def chunks(self, stop: Interrupt):
        sampling_rate = self.file.samplerate
        block = max(1, int(BLOCK_DUR * sampling_rate))
        start = self.clock()
        read = 0
        while not stop.requested:
            frames = block
            if self.realtime:
                due = (read + block) / sampling_rate - (self.clock() - start)
                if due > 0:
                    stop.waiting = True
                    try:
                        time.sleep(due)
                    finally:
                        stop.waiting = False
                # all that is due: what piled up while the model ran
                elapsed = int((self.clock() - start) * sampling_rate)
                frames = max(block, elapsed - read)
            with quiet_stderr(self.quiet):
                data = self.file.read(frames, dtype="float32", always_2d=True)
            if data.shape[0] == 0:
                return
            read += data.shape[0]
            yield data.T, sampling_rate


class MicrophoneSource:
    r"""The microphone, through sounddevice."""

    def __init__(self, device: int | None, sampling_rate: int):
        try:
            self.sd = import_optional("sounddevice", purpose="--input mic")
        except OSError as ex:  # pragma: no cover - depends on PortAudio
            raise ValueError(
                f"--input mic needs the PortAudio library ({ex}): "
                "apt-get install libportaudio2, or use --input - or FILE."
            ) from ex
        devices = self.sd.query_devices()
        inputs = [
            f"{index}: {device['name']}"
            for index, device in enumerate(devices)
            if device["max_input_channels"] > 0
        ]
        if not inputs or (device is not None and device not in range(len(devices))):
            listing = "; ".join(
                f"{index}: {d['name']} ({d['max_input_channels']} in)"
                for index, d in enumerate(devices)
            )
            raise ValueError(
                f"No microphone{'' if device is None else f' --device-index {device}'}"
                f" found. Audio devices: {listing or 'none'}. "
                "Connect one and choose it with --device-index N, "
                "or use --input - (raw PCM on stdin) or --input FILE."
            )
        self.device = device  # pragma: no cover - needs a microphone
        self.sampling_rate = sampling_rate  # pragma: no cover - needs a microphone

    def __enter__(self):  # noqa: D105  # pragma: no cover - needs a microphone
        self.queue = queue.Queue()
        self.input = self.sd.InputStream(
            samplerate=self.sampling_rate,
            channels=1,
            dtype="float32",
            device=self.device,
            callback=lambda data, frames, when, status: self.queue.put(data.copy()),
        )
        self.input.start()
        return self

    def __exit__(self, *exc_info):  # noqa: D105  # pragma: no cover - needs a microphone
        self.input.stop()
        self.input.close()
        return False

    def chunks(self, stop: Interrupt):  # pragma: no cover - needs a microphone
        while not stop.requested:
            try:
                blocks = [self.queue.get(timeout=0.2)]
            except queue.Empty:
                continue
            while not self.queue.empty():  # all that piled up
                blocks.append(self.queue.get())
            yield np.concatenate(blocks)[:, 0], self.sampling_rate
