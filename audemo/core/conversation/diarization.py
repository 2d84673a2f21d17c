r"""Built-in speaker diarization with pyannote.audio.

:class:`Diarization` runs a pyannote.audio pipeline
(by default ``pyannote/speaker-diarization-3.1``
from the Hugging Face hub,
or a local copy of a pipeline)
and returns speaker turns
in the form of :mod:`audemo.core.conversation.turns`.
Needs the optional extra ``audemo[diarization]``.

"""

from __future__ import annotations

from collections.abc import Callable
import os

import pandas as pd

import audiofile
import audobject

from audemo.core.conversation.turns import check_turns
from audemo.core.conversation.turns import turns_from_annotation
from audemo.core.utils import check_positive_integer
from audemo.core.utils import import_optional


PIPELINE = "pyannote/speaker-diarization-3.1"
r"""Default pyannote.audio pipeline on the Hugging Face hub."""

TOKEN_VARIABLE = "HF_TOKEN"
r"""Environment variable with the Hugging Face access token."""

INSTALL = (
    f"The pipeline {PIPELINE} is gated on the Hugging Face hub: "
    f"accept its conditions at https://huggingface.co/{PIPELINE} "
    f"and put an access token into the environment variable {TOKEN_VARIABLE}. "
    "Without internet, download the pipeline once elsewhere "
    "and pass its local folder as pipeline=... "
    "(audemo predict: --diarization FOLDER)."
)


class Diarization(audobject.Object):
    r"""Who speaks when: speaker turns from pyannote.audio.

    Runs a pyannote.audio_ speaker diarization pipeline
    on audio files
    and returns speaker turns
    (see :func:`~audemo.turns_from_annotation`),
    ready for :func:`audemo.process_turns`.

    The pipeline is loaded on first use:
    a name on the Hugging Face hub
    (default ``pyannote/speaker-diarization-3.1``,
    a gated model: accept its conditions on the hub
    and put an access token into the environment variable ``HF_TOKEN``),
    or a local folder with the pipeline's ``config.yaml``
    (for machines without internet).
    A callable that returns a :class:`pyannote.core.Annotation`
    for a file,
    e.g. a pipeline you have loaded yourself,
    can be given instead,
    but cannot be written to YAML.

    :class:`Diarization` is an :class:`audobject.Object`:
    the pipeline name or folder
    and the number of speakers
    round-trip through YAML;
    ``device`` is a runtime setting and not serialized,
    and the token is never stored.
    Needs the optional extra ``audemo[diarization]``
    (pyannote.audio).

    Args:
        pipeline: name of a pipeline on the Hugging Face hub,
            local folder of a pipeline,
            or a callable that takes the path of an audio file
            and returns its :class:`pyannote.core.Annotation`
        num_speakers: number of speakers, if known
        min_speakers: least number of speakers
        max_speakers: largest number of speakers
        device: ``"cpu"``, ``"cuda"`` or ``"cuda:<id>"``

    Raises:
        ValueError: if a number of speakers is not a positive integer,
            ``num_speakers`` is given with ``min_speakers`` or ``max_speakers``,
            or ``min_speakers`` is larger than ``max_speakers``
        TypeError: if ``pipeline`` is neither a string nor callable

    Examples:
        >>> diarization = Diarization(num_speakers=2)
        >>> diarization.pipeline
        'pyannote/speaker-diarization-3.1'
        >>> print(diarization.to_yaml_s(), end="")  # doctest: +ELLIPSIS
        $audemo.core.conversation.diarization.Diarization==...:
          pipeline: pyannote/speaker-diarization-3.1
          num_speakers: 2
          min_speakers: null
          max_speakers: null

        A stand-in for a pipeline,
        which says that ``A`` speaks for the first second
        and ``B`` for the next:

        >>> from pyannote.core import Annotation, Segment
        >>> def pipeline(file, **options):
        ...     annotation = Annotation()
        ...     annotation[Segment(0.0, 1.0)] = "A"
        ...     annotation[Segment(1.0, 2.0)] = "B"
        ...     return annotation
        >>> Diarization(pipeline)("speech.wav")
        file        start            end
        speech.wav  0 days 00:00:00  0 days 00:00:01    A
                    0 days 00:00:01  0 days 00:00:02    B
        Name: speaker, dtype: string

    .. _pyannote.audio: https://github.com/pyannote/pyannote-audio

    """

    @audobject.init_decorator(hide=["device"])
    def __init__(
        self,
        pipeline: str | Callable = PIPELINE,
        *,
        num_speakers: int | None = None,
        min_speakers: int | None = None,
        max_speakers: int | None = None,
        device: str = "cpu",
    ):
        if not (isinstance(pipeline, str | os.PathLike) or callable(pipeline)):
            raise TypeError(
                f"pipeline must be the name or local folder of a pyannote.audio "
                f"pipeline, or a callable that returns an annotation, "
                f"not {type(pipeline).__name__}."
            )
        for name, value, none in [
            ("num_speakers", num_speakers, "not known"),
            ("min_speakers", min_speakers, "no least number"),
            ("max_speakers", max_speakers, "no largest number"),
        ]:
            check_positive_integer(name, value, none=none)
        if num_speakers is not None and (
            min_speakers is not None or max_speakers is not None
        ):
            raise ValueError(
                "Give num_speakers when you know the number of speakers, "
                "or min_speakers and max_speakers for a range, not both."
            )
        if min_speakers is not None and max_speakers is not None:
            if min_speakers > max_speakers:
                raise ValueError(
                    f"min_speakers ({min_speakers}) must not be larger than "
                    f"max_speakers ({max_speakers})."
                )
        if isinstance(pipeline, os.PathLike):
            pipeline = os.fspath(pipeline)
        self.pipeline = pipeline
        r"""Name or local folder of the pipeline, or a callable."""
        self.num_speakers = num_speakers
        r"""Number of speakers."""
        self.min_speakers = min_speakers
        r"""Least number of speakers."""
        self.max_speakers = max_speakers
        r"""Largest number of speakers."""
        self.device = device
        r"""Device the pipeline runs on."""
        self._loaded = None if isinstance(pipeline, str) else pipeline

    def __call__(
        self,
        file: str,
        *,
        root: str | None = None,
    ) -> pd.Series:
        r"""Speaker turns of an audio file.

        Args:
            file: audio file,
                as it should appear in the index
            root: folder ``file`` is relative to

        Returns:
            speaker turns,
            sorted by start

        Raises:
            ImportError: if pyannote.audio is not installed
                (the message says what to install,
                where the token goes
                and how to use a local copy)
            FileNotFoundError: if the audio file does not exist
            TypeError: if the pipeline does not return an annotation

        """
        path = file if root is None else os.path.join(root, file)
        if not os.path.isfile(path):
            raise FileNotFoundError(
                f"Audio file '{path}' to diarize does not exist."
                + ("" if root else " Pass the folder it is relative to as root.")
            )
        pipeline = self._load()
        output = pipeline(path, **self._options())
        # pyannote.audio >= 4 returns the annotation in an output object
        annotation = getattr(output, "speaker_diarization", output)
        return turns_from_annotation(annotation, file, root=root)

    def process_files(
        self,
        files: list[str],
        *,
        root: str | None = None,
    ) -> pd.Series:
        r"""Speaker turns of several audio files.

        Args:
            files: audio files
            root: folder the files are relative to

        Returns:
            speaker turns of all files,
            sorted by file and start

        Raises:
            ImportError, FileNotFoundError, TypeError: as :meth:`__call__`

        """
        turns = [self(file, root=root) for file in files]
        if not turns:
            return _no_turns()
        return check_turns(pd.concat(turns))

    def to_dict(self, *args, **kwargs) -> dict:  # noqa: D102 (audobject's)
        if not isinstance(self.pipeline, str):
            raise ValueError(
                "A Diarization with a pipeline object cannot be serialized: "
                "give the name or local folder of the pipeline instead."
            )
        return super().to_dict(*args, **kwargs)

    def _options(self) -> dict:
        r"""Speaker numbers the pipeline is called with."""
        options = {
            "num_speakers": self.num_speakers,
            "min_speakers": self.min_speakers,
            "max_speakers": self.max_speakers,
        }
        return {name: value for name, value in options.items() if value is not None}

    def _load(self):
        r"""The pipeline, loaded once."""
        if self._loaded is not None:
            return self._loaded
        try:
            audio = import_optional(
                "pyannote.audio", purpose="speaker diarization (audemo.Diarization)"
            )
        except ImportError as ex:
            raise ImportError(f"{ex}. {INSTALL}") from ex
        # not covered: pyannote.audio and its weights cannot be installed
        # or downloaded where the tests run
        self._loaded = _load_pipeline(audio, self)  # pragma: no cover
        return self._loaded  # pragma: no cover


def _no_turns() -> pd.Series:
    r"""Speaker turns of no file."""
    core = import_optional("pyannote.core", purpose="pyannote annotations")
    return turns_from_annotation(core.Annotation(), "")


def _load_pipeline(audio, diarization: Diarization):  # pragma: no cover
    r"""Load a pyannote.audio pipeline (needs pyannote.audio and its weights).

    Not covered by the tests:
    pyannote.audio and the weights of its pipelines
    cannot be installed or downloaded where the tests run.

    """
    pipeline, device = diarization.pipeline, diarization.device
    token = os.environ.get(TOKEN_VARIABLE) or None
    if os.path.exists(pipeline):
        # a local copy: its folder (pyannote.audio >= 4) or its config.yaml
        checkpoint, token = pipeline, None
    else:
        checkpoint = pipeline
    try:
        loaded = audio.Pipeline.from_pretrained(checkpoint, token=token)
    except TypeError:  # pyannote.audio 3 calls the token use_auth_token
        loaded = audio.Pipeline.from_pretrained(checkpoint, use_auth_token=token)
    if loaded is None:
        raise RuntimeError(
            f"pyannote.audio could not load the pipeline '{pipeline}'. "
            f"Accept its conditions on https://huggingface.co/{pipeline} "
            f"and put an access token into {TOKEN_VARIABLE}, "
            f"or pass the local folder of a copy as pipeline=..."
        )
    torch = import_optional("torch", purpose="speaker diarization")
    loaded.to(torch.device(device))

    def run(path, **options):
        # pyannote.audio decodes files with its own backends;
        # audiofile reads every format that audemo reads
        signal, sampling_rate = audiofile.read(path, always_2d=True)
        waveform = {
            "waveform": torch.from_numpy(signal),
            "sample_rate": sampling_rate,
            "uri": os.path.splitext(os.path.basename(path))[0],
        }
        return loaded(waveform, **options)

    return run
