r"""Constants of the emotion model's interface."""

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
