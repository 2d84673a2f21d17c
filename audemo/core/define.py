r"""Constants: the emotion model's interface, the choices and limits of options.

Imports nothing, so that what the options of a command offer
(``audemo CMD --help``) is known without pandas, onnx or audinterface:
the modules that use these constants import them from here.

"""

DIMENSIONS = ("arousal", "dominance", "valence")
r"""Labels of the ``logits`` output, in the model's order."""

OUTPUTS = ("logits", "hidden_states")
r"""Output nodes of the emotion model."""

INPUT = "signal"
r"""Input node of the emotion model."""

SAMPLING_RATE = 16000
r"""Sampling rate in Hz the model expects."""

MIN_SAMPLES = 400
r"""Receptive field of wav2vec2's convolutional front end in samples.

The model cannot process shorter inputs.
"""

PRECISIONS = ("fp32", "int8")
r"""Supported precisions of a model (see :mod:`audemo.core.model.precision`)."""

NORMALIZE = (None, "speaker")
r"""Values of the ``normalize`` argument of :func:`audemo.speaker_summary`."""

OVERLAP = ("include", "exclude")
r"""Values of the ``overlap`` argument of :func:`audemo.speaker_summary`."""

DEFAULT_MODEL = "w2v2-L-robust-12"
r"""Name of the default model."""

AUDIO_EXTENSIONS = ("wav", "flac", "ogg", "mp3", "opus", "m4a", "aac", "wma")
r"""File extensions (upper or lower case) audemo takes for audio files.

Used where audemo looks for audio by name:
files in folders given to ``audemo predict``,
the audio of an RTTM file-id,
hints about files that ``process_folder`` skipped.
"""

INTERFACE_RUNTIME_ARGUMENTS = (
    "model_cache_root",
    "cache_root",
    "device",
    "num_workers",
    "num_threads",
    "multiprocessing",
    "share_weights",
    "verbose",
)
r"""Hidden audobject arguments of the interfaces (``Emotion``, ``Categories``).

Settings of a run, not of the numbers:
they are not written to pipeline YAML files
and are not taken from them.
"""

VOICE_ACTIVITY_RUNTIME_ARGUMENTS = ("errors", "num_workers", "verbose")
r"""Hidden audobject arguments of ``VoiceActivity``.

Settings of a run, as :data:`INTERFACE_RUNTIME_ARGUMENTS`.
"""

CHUNK_DUR = 20.0
r"""Default chunk length in seconds.

Inputs up to this length are processed whole.
The model was trained on 3 to 11 s segments of MSP-Podcast
and almost every utterance of an emotion corpus is shorter than 20 s,
while self-attention makes time and memory grow
quadratically beyond that
(about 4 GB for 60 s with onnxruntime).
"""

ERRORS = ("raise", "coerce")
r"""Values of ``errors``."""

TIME_FORMATS = ("seconds", "timedelta")
r"""How ``start`` and ``end`` are written to CSV."""

PCM_FORMATS = {"f32le": "<f4", "s16le": "<i2"}
r"""Raw PCM sample formats (as ffmpeg and sox name them) and their numpy types.

Read with :func:`numpy.frombuffer` (``dtype=np.dtype(PCM_FORMATS[name])``)
and scaled with :func:`audemo.core.process.float_signal`.
"""

CALIBRATION_METHODS = ("linear", "isotonic")
r"""Methods of :meth:`audemo.Calibration.fit`."""

DIARIZATION_PIPELINE = "pyannote/speaker-diarization-3.1"
r"""Default pyannote.audio pipeline on the Hugging Face hub."""

TRANSCRIPT_LEVELS = ("segment", "word")
r"""Values of the ``level`` argument of :func:`audemo.read_transcript`."""

TRANSCRIPT_FORMATS = {
    "srt": "SubRip",
    "vtt": "WebVTT",
    "json": "whisper JSON",
    "textgrid": "Praat TextGrid",
}
r"""Transcript file extensions (lower case) and their formats."""

WORD_CONTEXT = 2.0
r"""Default length of the window around a word of a transcript, in seconds."""

TRANSCRIPTION_ENGINES = ("faster-whisper", "pocketsphinx")
r"""Speech recognizers :class:`audemo.Transcription` runs."""

TRANSCRIPTION_MODEL = "small"
r"""Default faster-whisper model of :class:`audemo.Transcription`."""

# ----- limits of the server (audemo serve) ----------------------------------

MAX_BYTES = 50 * 1024 * 1024
r"""Largest request body of the server's ``POST /predict`` in bytes (50 MiB)."""

MAX_SECONDS = 1800.0
r"""Longest audio of the server's ``POST /predict`` in seconds (30 minutes).

Compressed files hold much more audio than their bytes suggest
(a 181 KB FLAC file of silence is an hour),
so uploads are bounded by duration as well as by bytes.
"""

MIN_HOP_DUR = 0.01
r"""Shortest ``hop_dur`` a client of the server may ask for, in seconds."""

MIN_WIN_DUR = MIN_SAMPLES / SAMPLING_RATE
r"""Shortest ``win_dur`` a client of the server may ask for (25 ms).

What the model needs.
"""

MAX_WIN_DUR = 60.0
r"""Longest ``win_dur`` and ``hop_dur`` a client of the server may ask for (s)."""

MAX_OVERLAP = 50
r"""Largest ``win_dur / hop_dur``: the model runs on each second this often."""

MAX_FRAME_SAMPLES = 10 * 48000
r"""Largest WebSocket frame the server takes in samples (10 s at 48 kHz)."""

MIN_STREAM_RATE, MAX_STREAM_RATE = 8000, 192000
r"""Sampling rates in Hz that the server's ``WS /stream`` takes."""


def limits(*, max_bytes: int = MAX_BYTES, max_seconds: float = MAX_SECONDS) -> str:
    r"""The limits of the server's requests, in words.

    Args:
        max_bytes: largest request body of ``POST /predict``
        max_seconds: longest audio of ``POST /predict``

    Returns:
        one sentence per limit

    Examples:
        >>> print(limits())  # doctest: +NORMALIZE_WHITESPACE
        POST /predict takes at most 52428800 bytes and 1800 s of audio.
        win_dur: 0.025 to 60 s; hop_dur: 0.01 to 60 s, at least win_dur / 50.
        WS /stream: sampling_rate 8000 to 192000 Hz, frames of at most 480000 samples.

    """
    return (
        f"POST /predict takes at most {max_bytes} bytes "
        f"and {max_seconds:g} s of audio.\n"
        f"win_dur: {MIN_WIN_DUR:g} to {MAX_WIN_DUR:g} s; "
        f"hop_dur: {MIN_HOP_DUR:g} to {MAX_WIN_DUR:g} s, "
        f"at least win_dur / {MAX_OVERLAP}.\n"
        f"WS /stream: sampling_rate {MIN_STREAM_RATE} to {MAX_STREAM_RATE} Hz, "
        f"frames of at most {MAX_FRAME_SAMPLES} samples."
    )
