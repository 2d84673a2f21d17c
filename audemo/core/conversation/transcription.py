r"""Speech recognition: a transcript when there is none.

:class:`Transcription` runs a speech recognizer
on audio files
and returns a transcript frame
as :func:`audemo.read_transcript` does,
ready for :func:`audemo.process_transcript`.
Needs the optional extra ``audemo[asr]``.

"""

from __future__ import annotations

from collections.abc import Sequence
import dataclasses
import os

import numpy as np
import pandas as pd

import audiofile
import audobject
import audresample

from audemo.core.conversation.transcript import LEVELS
from audemo.core.conversation.transcript import read_transcript
from audemo.core.define import SAMPLING_RATE
from audemo.core.utils import import_optional


ENGINES = ("faster-whisper", "pocketsphinx")
r"""Speech recognizers :class:`Transcription` runs."""

MODEL = "small"
r"""Default faster-whisper model."""

# pocketsphinx: frames per second, and a pause that ends a segment (frames)
POCKETSPHINX_FRAMES = 100
POCKETSPHINX_PAUSE = 30


class Transcription(audobject.Object):
    r"""What was said when: a transcript from speech recognition.

    Two engines:

    * ``"faster-whisper"``
      (`faster-whisper <https://github.com/SYSTRAN/faster-whisper>`_,
      Whisper in CTranslate2):
      ``model`` is a model size
      (``"tiny"``, ``"base"``, ``"small"``, ``"medium"``, ``"large-v3"``, ...),
      downloaded from the Hugging Face hub on first use,
      or the folder of a converted model
      (for machines without internet),
      or a loaded ``faster_whisper.WhisperModel``.
      Whisper transcribes about 100 languages;
      its word error rate on clean English speech
      is a few percent for ``small`` and larger models.
    * ``"pocketsphinx"``
      (`pocketsphinx <https://github.com/cmusphinx/pocketsphinx>`_):
      the US English model inside its package,
      no download, ``model`` is ignored.
      Its accuracy is low
      (on clear synthetic speech it gets about half of the words right);
      use it to try the path from audio to emotion,
      not for transcripts to read.
      A pause of 0.3 s or more ends a segment.

    The transcript has the rows of :func:`audemo.read_transcript`
    of a whisper result:
    one per segment,
    or per word with ``level="word"``.
    :class:`Transcription` is an :class:`audobject.Object`:
    model, engine and language round-trip through YAML
    (a loaded model cannot),
    ``device`` is a runtime setting and not serialized;
    no token or secret is ever stored.
    Needs the optional extra ``audemo[asr]``.

    Args:
        model: model size or folder of faster-whisper,
            or a loaded model with its ``transcribe()`` method
        engine: ``"faster-whisper"`` or ``"pocketsphinx"``
        language: language code, e.g. ``"en"``;
            ``None``: whisper detects it
        device: ``"cpu"`` or ``"cuda"`` (faster-whisper)

    Raises:
        ValueError: if ``engine`` is unknown
        TypeError: if ``model`` is neither a string
            nor has a ``transcribe()`` method

    Examples:
        >>> transcription = Transcription(engine="pocketsphinx")
        >>> print(transcription.to_yaml_s(), end="")  # doctest: +ELLIPSIS
        $audemo.core.conversation.transcription.Transcription==...:
          model: small
          engine: pocketsphinx
          language: null

    """

    @audobject.init_decorator(hide=["device"])
    def __init__(
        self,
        model: str | object = MODEL,
        *,
        engine: str = "faster-whisper",
        language: str | None = None,
        device: str = "cpu",
    ):
        if engine not in ENGINES:
            raise ValueError(f"engine must be one of {list(ENGINES)}, not {engine!r}.")
        if isinstance(model, os.PathLike):
            model = os.fspath(model)
        if not (isinstance(model, str) or hasattr(model, "transcribe")):
            raise TypeError(
                f"model must be the size or folder of a faster-whisper model, "
                f"or a loaded model with a transcribe() method, "
                f"not {type(model).__name__}."
            )
        self.model = model
        r"""Model size or folder, or the loaded model."""
        self.engine = engine
        r"""Speech recognizer."""
        self.language = language
        r"""Language code, ``None`` to detect it."""
        self.device = device
        r"""Device faster-whisper runs on."""
        self._loaded = None if isinstance(model, str) else model

    def __call__(
        self,
        file: str,
        *,
        root: str | None = None,
        level: str = "segment",
    ) -> pd.DataFrame:
        r"""Transcript of an audio file.

        Args:
            file: audio file,
                as it should appear in the index
            root: folder ``file`` is relative to
            level: ``"segment"`` or ``"word"``

        Returns:
            transcript frame
            (:func:`audemo.read_transcript`)

        Raises:
            ImportError: if the engine is not installed
                (``pip install 'audemo[asr]'``)
            FileNotFoundError: if the audio file does not exist
            RuntimeError: if faster-whisper cannot load the model
            ValueError: if ``level`` is unknown

        Examples:
            >>> transcription = Transcription(engine="pocketsphinx")
            >>> transcript = transcription("speech.wav")
            >>> list(transcript.columns)
            ['text']

        """
        if level not in LEVELS:
            raise ValueError(f"level must be one of {list(LEVELS)}, not {level!r}.")
        path = os.path.join(root or "", file)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"Audio file '{path}' does not exist.")
        if self.engine == "pocketsphinx":
            result = _pocketsphinx(path)
        else:
            result = self._faster_whisper(path, level)
        return read_transcript(result, file=file, root=root, level=level)

    def process_files(
        self,
        files: Sequence[str],
        *,
        root: str | None = None,
        level: str = "segment",
    ) -> pd.DataFrame:
        r"""Transcripts of several audio files, one after the other.

        Args:
            files: audio files
            root: folder the files are relative to
            level: ``"segment"`` or ``"word"``

        Returns:
            transcript frame of all files

        Raises:
            ImportError, FileNotFoundError, RuntimeError: as :meth:`__call__`
            ValueError: if ``files`` is empty or a single string,
                others as :meth:`__call__`

        """
        if isinstance(files, str) or not files:
            raise ValueError(
                f"files must be a non-empty list of audio files, not {files!r}."
            )
        return pd.concat([self(file, root=root, level=level) for file in files])

    def _faster_whisper(self, path: str, level: str) -> dict:
        r"""The result of faster-whisper in the shape of whisper's JSON."""
        if self._loaded is None:
            faster_whisper = import_optional(
                "faster_whisper", purpose="speech recognition with faster-whisper"
            )
            try:
                self._loaded = faster_whisper.WhisperModel(
                    self.model, device=self.device
                )
            except Exception as ex:  # any reason: no internet, no such model
                raise RuntimeError(
                    f"faster-whisper could not load the model '{self.model}' "
                    f"({type(ex).__name__}: {ex}). Without internet, download "
                    f"it once elsewhere and pass its folder as model=... "
                    f"(audemo predict: --asr-model FOLDER)."
                ) from ex
        segments, _ = self._loaded.transcribe(
            path, language=self.language, word_timestamps=level == "word"
        )
        return whisper_result(segments)


def whisper_result(segments) -> dict:
    r"""Segments of faster-whisper as the dictionary of whisper's JSON.

    faster-whisper returns its segments and words
    as objects
    (``faster_whisper.transcribe.Segment`` and ``Word``);
    :func:`audemo.read_transcript` reads them
    in the shape of openai-whisper's result.

    Args:
        segments: segments of ``WhisperModel.transcribe()``

    Returns:
        ``{"segments": [{"start", "end", "text", "words"}, ...]}``

    """
    result = []
    for segment in segments:
        item = dataclasses.asdict(segment)
        if item.get("words") is None:
            item.pop("words", None)
        result.append(item)
    return {"segments": result}


def _pocketsphinx(path: str) -> dict:
    r"""The words pocketsphinx hears, in the shape of whisper's JSON."""
    pocketsphinx = import_optional(
        "pocketsphinx", purpose="speech recognition with pocketsphinx"
    )
    signal, sampling_rate = audiofile.read(path, always_2d=True)
    signal = audresample.remix(signal, mixdown=True)
    signal = audresample.resample(signal, sampling_rate, SAMPLING_RATE)[0]
    pcm = (np.clip(signal, -1, 1) * 32767).astype("<i2").tobytes()
    decoder = pocketsphinx.Decoder(samprate=SAMPLING_RATE, loglevel="FATAL")
    decoder.start_utt()
    decoder.process_raw(pcm, full_utt=True)
    decoder.end_utt()
    segments, words = [], []
    for item in decoder.seg():
        start = item.start_frame / POCKETSPHINX_FRAMES
        end = (item.end_frame + 1) / POCKETSPHINX_FRAMES
        pause = item.word in ("<sil>", "<s>", "</s>")
        if pause and item.end_frame - item.start_frame + 1 >= POCKETSPHINX_PAUSE:
            _end_segment(segments, words)
        if item.word.startswith(("<", "[")):  # silence, noise, fillers
            continue
        word = item.word.split("(")[0]  # "the(2)": the second pronunciation
        words.append({"word": word, "start": start, "end": end})
    _end_segment(segments, words)
    return {"segments": segments}


def _end_segment(segments: list, words: list):
    r"""Close the segment of the words heard since the last pause."""
    if words:
        segments.append(
            {
                "start": words[0]["start"],
                "end": words[-1]["end"],
                "text": " ".join(word["word"] for word in words),
                "words": list(words),
            }
        )
        words.clear()
