r"""Transcripts: what was said when, and its emotion.

A transcript frame holds one row per segment
(a subtitle, a sentence, an interval of a Praat tier)
or per word:
an audformat segmented index (``file``, ``start``, ``end``),
a ``text`` column (string dtype)
and a ``speaker`` column where the source names speakers.
:func:`read_transcript` reads it
from SubRip, WebVTT, openai-whisper or whisperX JSON,
Praat TextGrid files,
or from a frame such as a segmented audformat table;
:func:`assign_speakers` gives each row the speaker
of speaker turns who talks most during it;
:func:`process_transcript` adds
arousal, dominance and valence
to each segment or word.

"""

from __future__ import annotations

import io
import json
import math
import os
import re

import numpy as np
import pandas as pd

import audformat
import audinterface
import audiofile

from audemo.core.conversation.speakers import process_turns
from audemo.core.conversation.turns import MIN_PIECE
from audemo.core.conversation.turns import check_segmented
from audemo.core.conversation.turns import check_turns
from audemo.core.conversation.turns import overlap_mask
from audemo.core.conversation.turns import speaker_unions
from audemo.core.define import AUDIO_EXTENSIONS
from audemo.core.utils import count
from audemo.core.utils import import_optional
from audemo.core.utils import warn_items


LEVELS = ("segment", "word")
r"""Values of the ``level`` argument of :func:`read_transcript`."""

FORMATS = {
    "srt": "SubRip",
    "vtt": "WebVTT",
    "json": "whisper JSON",
    "textgrid": "Praat TextGrid",
}
r"""Transcript file extensions (lower case) and their formats."""

CONTEXT = 2.0
r"""Default length of the window around a word, in seconds."""

CLIP_TOLERANCE = 1.0
r"""Seconds an end may lie past the end of the recording.

Such ends are clipped to the end with a warning
(subtitle editors and ASR systems round their times);
a start at or after the end of the recording,
or an end further past it,
is an error:
the transcript most likely belongs to another recording.
"""

# a time of a SubRip or WebVTT cue: [hh:]mm:ss[,.]mmm
_CUE_TIME = r"(?:\d+:)?\d{1,2}:\d{2}[,.]\d{1,3}"
_CUE_LINE = re.compile(rf"^\s*{_CUE_TIME}\s*-->\s*{_CUE_TIME}(?:\s.*)?$")
# markup of SubRip text: <i>, <b>, <u>, <font ...> and their ends
_SRT_TAGS = re.compile(r"</?(?:i|b|u|font)(?:\s[^>]*)?>", re.IGNORECASE)


def read_transcript(
    source: str | dict | pd.DataFrame | pd.Series,
    *,
    file: str | None = None,
    root: str | None = None,
    level: str = "segment",
) -> pd.DataFrame:
    r"""Read a transcript: what was said when, and by whom.

    ``source`` is one of

    * a SubRip file (``.srt``): one row per subtitle,
      the lines of a subtitle joined by a space,
      ``<i>``, ``<b>``, ``<u>`` and ``<font>`` tags removed;
    * a WebVTT file (``.vtt``): one row per cue;
      a voice tag ``<v Name>`` gives the ``speaker``;
    * a JSON file of openai-whisper or whisperX (``.json``):
      a ``segments`` list whose items have
      ``start``, ``end`` and ``text``,
      and, with word timestamps,
      ``words`` with ``word``, ``start`` and ``end``;
      whisperX's ``speaker`` (of segments and words)
      gives the ``speaker``;
      words without times
      (whisperX leaves numbers it cannot align without them)
      are left out with a warning;
    * a Praat TextGrid file (``.TextGrid``, long or short format):
      each interval tier is a speaker,
      its name the ``speaker``,
      each interval a row;
      point tiers are ignored;
    * the result of openai-whisper in Python
      (``model.transcribe(...)``, a dictionary
      with the shape of its JSON;
      ``file`` is needed then);
    * a frame with a ``text`` column
      (and optionally ``speaker``)
      or a Series of text
      on a segmented index,
      e.g. ``db["transcript"].get()`` of an audformat database.

    ``level="word"`` gives one row per word;
    only whisper and whisperX JSON with word timestamps have word times.

    Rows whose text is empty or only white space are dropped:
    they hold no words
    (the silent intervals of a TextGrid,
    empty subtitles).
    Rows without duration (start = end;
    whisper gives them to words it cannot place in time)
    are left out with one warning for all of them.
    Files may start with a UTF-8 byte order mark
    and have Windows line ends (CRLF);
    TextGrid files may also be UTF-16 with a byte order mark,
    as Praat writes them.

    Times are checked against the recording:
    a row that starts at or after its end is an error,
    an end up to 1 s past it
    is clipped to the end with one warning for all such rows.

    Args:
        source: transcript file, whisper result,
            or a frame or Series of text
        file: the recording of a transcript file,
            as it should appear in the index;
            default: the one audio file next to the transcript
            with the same name and an audio extension
            (``call.srt`` → ``call.wav``, ``call.flac``, ...),
            relative to ``root`` if given.
            Not used with a frame,
            whose index names its files
        root: folder the recordings are relative to,
            e.g. ``db.root``
        level: ``"segment"`` or ``"word"``

    Returns:
        transcript frame,
        sorted by file, start and end

    Raises:
        TypeError: if ``source`` or ``file`` has a wrong type,
            or a whisper result comes without ``file``
        FileNotFoundError: if the transcript or the recording
            does not exist
        ValueError: if the transcript cannot be read
            (bad timestamps, an end before the start,
            times past the end of the recording,
            an unknown JSON shape, text that is not UTF-8,
            an unknown extension),
            naming the file and line
            (the JSON path or the tier and interval where lines
            say little);
            if ``level`` is unknown
            or the format has no word times
        ImportError: if the parser of the format is not installed
            (``pip install 'audemo[transcripts]'``)

    Examples:
        >>> with open("speech.srt", "w") as fp:
        ...     _ = fp.write(
        ...         "1\n00:00:00,200 --> 00:00:01,500\nHello there.\n\n"
        ...         "2\n00:00:02,000 --> 00:00:03,800\nHow are you?\n"
        ...     )
        >>> transcript = read_transcript("speech.srt")
        >>> transcript.reset_index()
                 file                  start                    end          text
        0  speech.wav 0 days 00:00:00.200000 0 days 00:00:01.500000  Hello there.
        1  speech.wav 0 days 00:00:02.000000 0 days 00:00:03.800000  How are you?

    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {list(LEVELS)}, not {level!r}.")
    if isinstance(source, pd.DataFrame | pd.Series):
        return _from_frame(source, root, level)
    if isinstance(source, dict):
        if not isinstance(file, str | os.PathLike):
            raise TypeError(
                "A whisper result needs the path of its recording: file=..."
            )
        rows = _whisper_rows(source, "the whisper result", level)
        rows = [row for row in rows if row[2].strip()]
        return _make_transcript(os.fspath(file), rows, root)
    if not isinstance(source, str | os.PathLike):
        raise TypeError(
            f"source must be a transcript file, a whisper result "
            f"or a frame with a 'text' column, not {type(source).__name__}."
        )
    path = os.fspath(source)
    extension = path.rsplit(".", 1)[-1].lower() if "." in path else ""
    if extension not in FORMATS:
        raise ValueError(
            f"'{path}' is not a transcript file audemo reads: the extension must "
            f"be one of {', '.join('.' + name for name in FORMATS)} "
            f"({', '.join(FORMATS.values())})."
        )
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Transcript file '{path}' does not exist.")
    if level == "word" and extension != "json":
        raise ValueError(
            f"'{path}': {FORMATS[extension]} files have no word times, "
            f"only whisper and whisperX JSON with word timestamps: "
            f"read segments (level='segment', audemo predict --level segment)."
        )
    if file is None:
        file = _recording(path, root)
    elif not isinstance(file, str | os.PathLike):
        raise TypeError(
            f"file must be the path of the recording of '{path}', "
            f"not {type(file).__name__}."
        )
    text = _decode(path, utf16=extension == "textgrid")
    reader = {
        "srt": _read_srt,
        "vtt": _read_vtt,
        "json": _read_json,
        "textgrid": _read_textgrid,
    }[extension]
    rows = reader(text, path, level)  # (start ns, end ns, text, speaker, where)
    rows = [row for row in rows if row[2].strip()]
    return _make_transcript(os.fspath(file), rows, root)


def assign_speakers(
    transcript: pd.DataFrame,
    turns: pd.Series,
) -> pd.DataFrame:
    r"""Give each row of a transcript the speaker who talks most during it.

    For transcripts without speakers
    (SubRip, most WebVTT, whisper without diarization),
    e.g. with turns of :func:`~audemo.read_rttm`
    or :class:`~audemo.Diarization`.
    Each row gets the speaker
    whose turns cover most of its time;
    on a tie, the speaker whose turns come first;
    a row no turn touches
    gets the speaker of the nearest turn in its file.

    Args:
        transcript: transcript frame
            (:func:`read_transcript`)
        turns: speaker turns of the same files

    Returns:
        copy of ``transcript`` with a ``speaker`` column
        (replacing one it had)

    Raises:
        TypeError, ValueError: as :func:`read_transcript`
            and :func:`~audemo.check_turns`
        ValueError: if a file of the transcript has no turns

    Examples:
        >>> index = audformat.segmented_index(["call.wav"] * 2, [0, 2.5], [2, 4])
        >>> transcript = pd.DataFrame({"text": ["Hi.", "Hello."]}, index=index)
        >>> turns = pd.Series(
        ...     ["A", "B"], index=audformat.segmented_index(["call.wav"] * 2, [0, 2.2], [2.2, 5])
        ... )
        >>> assign_speakers(transcript, turns)["speaker"].tolist()
        ['A', 'B']

    """  # noqa: E501
    transcript = _check_frame(transcript)
    turns = check_turns(turns)
    unions = speaker_unions(turns)
    index = transcript.index
    files = index.get_level_values("file")
    starts = index.get_level_values("start").to_numpy("int64")
    ends = index.get_level_values("end").to_numpy("int64")
    missing = sorted(set(files) - set(unions))
    if missing:
        raise ValueError(
            f"The speaker turns have no turns for "
            f"{count(len(missing), 'file')} of the transcript: "
            f"{', '.join(missing[:3])}. Give turns of every file."
        )
    speakers = []
    for file, start, end in zip(files, starts, ends):
        best, best_time, nearest, nearest_gap = None, 0, None, None
        for speaker, (union_starts, union_ends) in unions[file].items():
            covered = np.clip(
                np.minimum(union_ends, end) - np.maximum(union_starts, start), 0, None
            ).sum()
            if covered > best_time:
                best, best_time = speaker, covered
            gaps = np.maximum(union_starts - end, start - union_ends).clip(0)
            if nearest_gap is None or gaps.min() < nearest_gap:
                nearest, nearest_gap = speaker, gaps.min()
        speakers.append(best if best is not None else nearest)
    transcript = transcript.drop(columns="speaker", errors="ignore")
    transcript.insert(0, "speaker", pd.array(speakers, dtype="string"))
    return transcript


def process_transcript(
    interface: audinterface.Feature,
    transcript: pd.DataFrame,
    *,
    level: str = "segment",
    context: float | None = None,
    root: str | None = None,
    cache_root: str | None = None,
    file_key: str | None = None,
) -> pd.DataFrame:
    r"""Emotion of each segment or word of a transcript.

    ``level="segment"`` processes each row of the transcript
    as a speaker turn with :func:`~audemo.process_turns`:
    the scores are those of
    ``interface.process_index(transcript.index)``,
    row for row;
    segments shorter than 25 ms follow the interface's ``errors``
    as short turns do;
    with ``win_dur`` set on the interface
    each segment gives one row per window inside it.

    ``level="word"``: a single word is too short
    for a meaningful score
    (and often shorter than the model's shortest input).
    A word's row holds the emotion
    of a window of ``context`` seconds centred on the word,
    clipped to the recording
    (so near its start and end the window is shorter);
    a word longer than ``context`` is processed as it is.
    The window holds the words around it,
    of any speaker:
    the score of a word says how the speech around it sounds,
    not how the word itself was said.
    Words with the same window are computed once.

    The result has the transcript's index,
    ``speaker`` (if the transcript has one),
    ``text``,
    the columns of the interface
    and, with speakers, ``overlap``
    (:func:`~audemo.overlap_mask`).

    Args:
        interface: feature interface,
            e.g. :class:`audemo.Emotion`
        transcript: transcript frame
            (:func:`read_transcript`)
        level: ``"segment"`` or ``"word"``
            (how the rows are processed,
            not how they were read)
        context: window around each word in seconds,
            at least 0.025 (default 2.0);
            only with ``level="word"``
        root: folder the files are relative to
        cache_root: cache folder of results,
            see :meth:`audemo.Emotion.process_index`
        file_key: how audio files enter the cache key,
            see :meth:`audemo.Emotion.process_index`

    Returns:
        emotion of each row of the transcript,
        sorted by file, start and end

    Raises:
        TypeError: if ``interface`` is not an
            :class:`audinterface.Feature`
        ValueError: if the transcript is not one
            (:func:`read_transcript`),
            some rows have a speaker and others not,
            ``level`` or ``context`` are wrong,
            or the interface has windows or segments
            with ``level="word"``;
            others as :func:`~audemo.process_turns`

    Examples:
        >>> interface = audemo.Emotion(audemo.testing.create_model("model"))
        >>> index = audformat.segmented_index(
        ...     ["speech.wav"] * 3, [0.2, 0.6, 2.0], [0.5, 1.5, 3.8]
        ... )
        >>> words = pd.DataFrame({"text": ["Hello", "there.", "Bye."]}, index=index)
        >>> frame = process_transcript(interface, words, level="word")
        >>> frame.round(2).reset_index(drop=True)
             text  arousal  dominance  valence
        0   Hello     0.58       0.53     0.54
        1  there.     0.57       0.55     0.55
        2    Bye.     0.55       0.52     0.52

    """
    if not isinstance(interface, audinterface.Feature):
        raise TypeError(
            f"interface must be an audinterface.Feature such as audemo.Emotion, "
            f"not {type(interface).__name__}."
        )
    if level not in LEVELS:
        raise ValueError(f"level must be one of {list(LEVELS)}, not {level!r}.")
    if context is not None and level != "word":
        raise ValueError("context is the window around a word: use level='word'.")
    transcript = _check_frame(transcript)
    has_speakers = "speaker" in transcript.columns
    if has_speakers and transcript["speaker"].isna().any():
        unknown = transcript.index[transcript["speaker"].isna().to_numpy()]
        raise ValueError(
            f"{count(len(unknown), 'row')} of the transcript without a speaker, "
            f"e.g. {_label(unknown[0])}, while others have one "
            f"(whisperX leaves segments outside its speaker turns without one). "
            f"Fill them (transcript['speaker'].fillna('unknown')), "
            f"drop the column, or assign speakers from turns "
            f"(audemo.assign_speakers)."
        )
    cache = {"root": root, "cache_root": cache_root}
    if file_key is not None:
        cache["file_key"] = file_key
    texts = transcript["text"]
    if level == "segment":
        speakers = transcript["speaker"] if has_speakers else _no_speaker(transcript)
        frame = process_turns(interface, speakers, **cache)
        windowed = "turn" in frame
        rows = frame["turn"].to_numpy() if windowed else np.arange(len(frame))
        frame.insert(2 if windowed else 1, "text", texts.array.take(rows))
        if not has_speakers:
            frame = frame.drop(columns=["speaker", "overlap"])
        return frame
    if getattr(interface, "win_dur", None) is not None or (
        interface.process.segment is not None
    ):
        raise ValueError(
            "level='word' processes a window around each word: "
            "use an interface without win_dur and segment."
        )
    context = CONTEXT if context is None else context
    if not (isinstance(context, int | float) and context >= MIN_PIECE):
        raise ValueError(
            f"context must be a number of seconds >= 0.025 "
            f"(the model's shortest input), not {context!r}."
        )
    windows = _word_windows(transcript.index, context, root)
    unique = windows.drop_duplicates()
    scores = interface.process_index(unique, **cache)
    # the rows of unique windows, repeated for the words that share one
    positions = unique.get_indexer(windows)
    frame = scores.iloc[positions].set_axis(transcript.index)
    frame.insert(0, "text", texts.array)
    if has_speakers:
        frame.insert(0, "speaker", transcript["speaker"].array)
        frame["overlap"] = overlap_mask(frame).to_numpy()
    return frame


# ----- helpers ------------------------------------------------------------


def _check_frame(transcript) -> pd.DataFrame:
    r"""A transcript frame: segmented, text of string dtype, sorted."""
    if not isinstance(transcript, pd.DataFrame) or "text" not in transcript.columns:
        raise ValueError(
            f"Expected a transcript: a frame with a 'text' column "
            f"on a segmented index (audemo.read_transcript), "
            f"not {type(transcript).__name__}"
            + (
                f" with columns {list(transcript.columns)}"
                if isinstance(transcript, pd.DataFrame)
                else ""
            )
            + "."
        )
    check_segmented(transcript.index, "Transcripts")
    # check_turns checks the times and sorts as turns are sorted
    order = check_turns(pd.Series(np.arange(len(transcript)), index=transcript.index))
    transcript = transcript.iloc[order.to_numpy().astype("int64")].copy()
    transcript["text"] = transcript["text"].astype("string")
    if "speaker" in transcript.columns:
        transcript["speaker"] = transcript["speaker"].astype("string")
    return transcript


def _no_speaker(transcript: pd.DataFrame) -> pd.Series:
    r"""One speaker for all rows, for process_turns."""
    return pd.Series("", index=transcript.index, dtype="string")


def _word_windows(index: pd.MultiIndex, context: float, root) -> pd.MultiIndex:
    r"""Window of ``context`` seconds centred on each word, clipped to its file."""
    files = index.get_level_values("file")
    starts = index.get_level_values("start").to_numpy("int64")
    ends = index.get_level_values("end").to_numpy("int64")
    durations = {
        file: round(audiofile.duration(os.path.join(root or "", file)) * 1e9)
        for file in dict.fromkeys(files)
    }
    length = np.full(len(index), round(context * 1e9), dtype="int64")
    length = np.maximum(length, ends - starts)
    centres = (starts + ends) // 2
    window_starts = centres - length // 2
    window_ends = window_starts + length
    limits = np.array([durations[file] for file in files], dtype="int64")
    window_starts = np.clip(window_starts, 0, None)
    window_ends = np.minimum(window_ends, limits)
    return audformat.segmented_index(
        list(files),
        pd.to_timedelta(window_starts, unit="ns"),
        pd.to_timedelta(window_ends, unit="ns"),
    )


def _from_frame(source, root, level) -> pd.DataFrame:
    r"""A transcript from a frame or Series of text, checked against the audio."""
    if isinstance(source, pd.Series):
        source = source.rename("text").to_frame()
    if "text" not in source.columns:
        raise ValueError(
            f"A transcript frame needs a 'text' column, it has "
            f"{list(source.columns)}. Select or rename the column of the text."
        )
    if level == "word":
        raise ValueError(
            "A frame is read as it is: each row is a segment or a word "
            "as given; use level='segment' and choose how to process its rows "
            "with process_transcript(level=...)."
        )
    check_segmented(source.index, "Transcripts")
    text = source["text"].astype("string")
    keep = (text.fillna("").str.strip() != "").to_numpy()
    source = source[keep]
    columns = ["text"] + (["speaker"] if "speaker" in source.columns else [])
    frame = _check_frame(source[columns])
    frame = frame[["speaker", "text"] if len(columns) == 2 else ["text"]]
    files = frame.index.get_level_values("file")
    starts = frame.index.get_level_values("start").to_numpy("int64")
    ends = frame.index.get_level_values("end").to_numpy("int64")
    labels = [_label(row) for row in frame.index]
    ends = _clip_to_audio(files, starts, ends, labels, root)
    return frame.set_axis(
        audformat.segmented_index(
            list(files),
            pd.to_timedelta(starts, unit="ns"),
            pd.to_timedelta(ends, unit="ns"),
        )
    )


def _make_transcript(file: str, rows: list, root) -> pd.DataFrame:
    r"""Transcript frame of one recording from parsed rows."""
    for start, end, _, _, label in rows:
        if end < start:
            raise ValueError(
                f"{label}: ends at {end / 1e9:g} s, before it starts "
                f"({start / 1e9:g} s). Correct the times."
            )
    # whisper gives words it cannot place in time no duration
    zero = [row for row in rows if row[1] == row[0]]
    if zero:
        warn_items(
            f"Left out {count(len(zero), 'row')} without duration (start = end)",
            [
                f"{label}: {text!r} at {start / 1e9:g} s"
                for start, _, text, _, label in zero
            ],
        )
        rows = [row for row in rows if row[1] > row[0]]
    starts = np.asarray([row[0] for row in rows], dtype="int64")
    ends = np.asarray([row[1] for row in rows], dtype="int64")
    labels = [row[4] for row in rows]
    files = [file] * len(rows)
    if rows:
        ends = _clip_to_audio(files, starts, ends, labels, root)
    frame = pd.DataFrame(
        {
            "speaker": pd.array([row[3] for row in rows], dtype="string"),
            "text": pd.array([" ".join(row[2].split()) for row in rows], "string"),
        },
        index=audformat.segmented_index(
            files,
            pd.to_timedelta(starts, unit="ns"),
            pd.to_timedelta(ends, unit="ns"),
        ),
    )
    if frame["speaker"].isna().all():
        frame = frame.drop(columns="speaker")
    return _check_frame(frame)


def _clip_to_audio(files, starts, ends, labels, root) -> np.ndarray:
    r"""Ends clipped to the recording; an error for rows past its end."""
    durations = {}
    for file in dict.fromkeys(files):
        path = os.path.join(root or "", file)
        if not os.path.isfile(path):
            raise FileNotFoundError(
                f"Recording '{path}' of the transcript does not exist."
                + ("" if root else " Pass the folder it is relative to as root.")
            )
        durations[file] = round(audiofile.duration(path) * 1e9)
    ends = np.array(ends, dtype="int64")
    clipped = []
    tolerance = round(CLIP_TOLERANCE * 1e9)
    for i, file in enumerate(files):
        duration = durations[file]
        if starts[i] >= duration or ends[i] > duration + tolerance:
            time = starts[i] if starts[i] >= duration else ends[i]
            raise ValueError(
                f"{labels[i]}: {time / 1e9:g} s lies past the end of "
                f"'{file}' ({duration / 1e9:g} s). "
                f"Does the transcript belong to another recording?"
            )
        if ends[i] > duration:
            clipped.append(
                f"{labels[i]}: {ends[i] / 1e9:g} s -> {duration / 1e9:g} s ('{file}')"
            )
            ends[i] = duration
    if clipped:
        warn_items(
            f"Clipped {count(len(clipped), 'row')} of the transcript "
            f"to the end of the recording",
            clipped,
        )
    return ends


def _recording(path: str, root) -> str:
    r"""The one audio file next to a transcript file with the same name."""
    folder, name = os.path.split(path)
    stem = name.rsplit(".", 1)[0]
    listing = os.listdir(folder or ".")
    matches = sorted(
        entry
        for entry in listing
        if entry.startswith(stem + ".")
        and entry[len(stem) + 1 :].lower() in AUDIO_EXTENSIONS
    )
    if len(matches) != 1:
        found = f": {', '.join(matches)}" if matches else ""
        raise ValueError(
            f"Found {len(matches)} recordings of '{path}' next to it "
            f"({stem}.<{'|'.join(AUDIO_EXTENSIONS)}>){found}. "
            f"Name the recording: read_transcript(..., file='call.wav')."
        )
    found = os.path.join(folder, matches[0])
    # named as the files of an index below root are
    return os.path.relpath(found, root) if root else found


def _decode(path: str, *, utf16: bool = False) -> str:
    r"""Text of a file: UTF-8 (a byte order mark is fine), lines ended by \n."""
    with open(path, "rb") as fp:
        data = fp.read()
    encoding = "utf-8-sig"
    if utf16 and data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        encoding = "utf-16"  # Praat writes non-ASCII TextGrids as UTF-16
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as ex:
        line = data.count(b"\n", 0, ex.start) + 1
        raise ValueError(
            f"{path}, line {line}: not UTF-8 text "
            f"(byte 0x{data[ex.start]:02x}). Save it as UTF-8, "
            f"e.g. iconv -f latin1 -t utf-8 '{path}' > fixed.{path.rsplit('.')[-1]}"
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _ns(value, where: str, what: str) -> int:
    r"""Seconds of a JSON or TextGrid field as integer nanoseconds."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = math.nan
    if isinstance(value, bool) or not math.isfinite(seconds):
        raise ValueError(f"{where}: the {what} {value!r} is not a number of seconds.")
    if seconds < 0:
        raise ValueError(f"{where}: the {what} {value!r} is negative.")
    return round(seconds * 1e9)


def _cue_lines(text: str, path: str) -> list[int]:
    r"""Numbers of the timing lines of SubRip or WebVTT, each checked."""
    numbers = []
    for number, line in enumerate(text.split("\n"), start=1):
        if "-->" in line:
            if not _CUE_LINE.match(line):
                raise ValueError(
                    f"{path}, line {number}: bad timestamps {line.strip()!r}, "
                    f"expected e.g. 00:00:01,500 --> 00:00:03,000."
                )
            numbers.append(number)
    return numbers


def _read_srt(text: str, path: str, level: str) -> list:
    r"""Rows of a SubRip file."""
    srt = import_optional("srt", purpose="SubRip transcripts")
    numbers = _cue_lines(text, path)
    try:
        subtitles = list(srt.parse(text))
    except srt.SRTParseError as ex:
        # the unmatched text starts where the parser expected the next subtitle
        line = text.count("\n", 0, ex.expected_start) + 1
        raise ValueError(
            f"{path}, line {line}: not a SubRip subtitle "
            f"(number, timestamps, text, empty line): "
            f"{text[ex.expected_start :].split(chr(10))[0]!r}"
        ) from None
    return [
        (
            _timedelta_ns(subtitle.start),
            _timedelta_ns(subtitle.end),
            _SRT_TAGS.sub("", subtitle.content),
            None,
            f"{path}, line {number}",
        )
        for subtitle, number in zip(subtitles, numbers)
    ]


def _timedelta_ns(value) -> int:
    return pd.Timedelta(value).value


def _read_vtt(text: str, path: str, level: str) -> list:
    r"""Rows of a WebVTT file."""
    webvtt = import_optional("webvtt", purpose="WebVTT transcripts")
    numbers = _cue_lines(text, path)
    try:
        captions = webvtt.from_buffer(io.StringIO(text)).captions
    except webvtt.errors.MalformedFileError:
        raise ValueError(
            f"{path}, line 1: not a WebVTT file (it must start with WEBVTT)."
        ) from None
    rows = []
    for caption, number in zip(captions, numbers):
        start, end = caption.start_time, caption.end_time
        rows.append(
            (
                _vtt_ns(start),
                _vtt_ns(end),
                caption.text,
                caption.voice,
                f"{path}, line {number}",
            )
        )
    return rows


def _vtt_ns(time) -> int:
    seconds = time.hours * 3600 + time.minutes * 60 + time.seconds
    return seconds * 10**9 + time.milliseconds * 10**6


def _read_json(text: str, path: str, level: str) -> list:
    r"""Rows of openai-whisper or whisperX JSON."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as ex:
        raise ValueError(f"{path}, line {ex.lineno}: not JSON ({ex.msg}).") from None
    return _whisper_rows(data, path, level)


def _whisper_rows(data, path: str, level: str) -> list:
    r"""Rows of a whisper result: JSON read, or the dictionary itself."""
    if not (isinstance(data, dict) and isinstance(data.get("segments"), list)):
        keys = list(data)[:5] if isinstance(data, dict) else type(data).__name__
        raise ValueError(
            f"{path}: unknown JSON shape ({keys}): expected the JSON of "
            f"openai-whisper or whisperX, an object with a 'segments' list "
            f"of objects with 'start', 'end' and 'text'."
        )
    rows, untimed = [], []
    for i, segment in enumerate(data["segments"]):
        where = f"{path}, segments[{i}]"
        _check_keys(segment, ("start", "end", "text"), where, "segment")
        speaker = _speaker(segment.get("speaker"), where)
        if level == "segment":
            rows.append(
                (
                    _ns(segment["start"], where, "start"),
                    _ns(segment["end"], where, "end"),
                    _text(segment["text"], where),
                    speaker,
                    where,
                )
            )
            continue
        words = segment.get("words")
        if not isinstance(words, list):
            raise ValueError(
                f"{where}: no 'words' list: the transcript has no word "
                f"timestamps (whisper: word_timestamps=True; whisperX: align). "
                f"Read segments (level='segment', audemo predict --level segment)."
            )
        for k, word in enumerate(words):
            place = f"{where}.words[{k}]"
            _check_keys(word, ("word",), place, "word")
            if "start" not in word or "end" not in word:
                untimed.append(f"{place}: {word['word']!r}")
                continue
            rows.append(
                (
                    _ns(word["start"], place, "start"),
                    _ns(word["end"], place, "end"),
                    _text(word["word"], place),
                    _speaker(word.get("speaker"), place) or speaker,
                    place,
                )
            )
    if untimed:
        warn_items(
            f"Left out {count(len(untimed), 'word')} without times "
            f"(whisperX cannot align some words, e.g. numbers)",
            untimed,
        )
    return rows


def _check_keys(item, keys, where, what):
    if not isinstance(item, dict) or any(key not in item for key in keys):
        raise ValueError(
            f"{where}: unknown JSON shape: a {what} needs "
            f"{', '.join(repr(key) for key in keys)}, got "
            f"{list(item) if isinstance(item, dict) else type(item).__name__}."
        )


def _text(value, where) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{where}: the text {value!r} is not a string.")
    return value


def _speaker(value, where) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str | int):
        raise ValueError(f"{where}: the speaker {value!r} is not a name.")
    return str(value)


def _read_textgrid(text: str, path: str, level: str) -> list:
    r"""Rows of a Praat TextGrid: each interval tier is a speaker."""
    textgrid_io = import_optional(
        "praatio.utilities.textgrid_io", purpose="Praat TextGrid transcripts"
    )
    try:
        data = textgrid_io.parseTextgridStr(text, includeEmptyIntervals=True)
    except Exception as ex:  # praatio raises IndexError, ValueError, ... on junk
        raise ValueError(
            f"{path}: not a Praat TextGrid that praatio can read "
            f"({type(ex).__name__}: {ex}). Save it from Praat as a text file."
        ) from None
    rows = []
    for tier in data["tiers"]:
        if tier["class"] != "IntervalTier":
            continue
        for k, (start, end, label) in enumerate(tier["entries"], start=1):
            where = f"{path}, tier '{tier['name']}', interval {k}"
            rows.append(
                (
                    _ns(start, where, "start"),
                    _ns(end, where, "end"),
                    label,
                    tier["name"],
                    where,
                )
            )
    return rows


def _label(row) -> str:
    file, start, end = row
    return f"('{file}', {start.total_seconds():g} s, {end.total_seconds():g} s)"
