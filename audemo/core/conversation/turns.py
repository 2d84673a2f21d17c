r"""Speaker turns: who speaks when in a recording.

Turns come from what users have:
an RTTM file of a diarization system (:func:`read_rttm`),
a :class:`pyannote.core.Annotation` (:func:`turns_from_annotation`)
or a column of an audformat table
(``db["turns"]["speaker"].get()``, checked by :func:`check_turns`).
All of them become the same thing:
a :class:`pandas.Series` named ``speaker`` (string dtype)
on an audformat segmented index (``file``, ``start``, ``end``),
sorted by file and start.

:func:`overlap_mask` flags turns that overlap
a turn of another speaker,
:func:`exclude_overlap` keeps only the parts of the turns
in which one speaker speaks alone.

"""

from __future__ import annotations

from collections.abc import Sequence
import math
import os

import numpy as np
import pandas as pd

import audformat
import audiofile

from audemo.core.define import AUDIO_EXTENSIONS
from audemo.core.define import MIN_SAMPLES
from audemo.core.define import SAMPLING_RATE
from audemo.core.utils import count
from audemo.core.utils import import_optional
from audemo.core.utils import warn_items


MIN_PIECE = MIN_SAMPLES / SAMPLING_RATE
r"""Shortest piece :func:`exclude_overlap` keeps, in seconds (25 ms).

The emotion model cannot process shorter inputs
(400 samples at 16 kHz).
"""

MAX_RTTM_SECONDS = 1e9
r"""Largest onset or duration of an RTTM line (about 31 years).

Onset plus duration must fit pandas' durations (292 years in nanoseconds).
"""

# record types of NIST's RTTM format besides SPEAKER, ignored when reading
RTTM_TYPES = {
    "SPEAKER",
    "SEGMENT",
    "NOSCORE",
    "NO_RT_METADATA",
    "LEXEME",
    "NON-LEX",
    "NON-SPEECH",
    "FILLER",
    "EDIT",
    "IP",
    "SU",
    "CB",
    "A/P",
    "SPKR-INFO",
}


def check_turns(
    turns: pd.Series,
    *,
    root: str | None = None,
    check_audio: bool = False,
) -> pd.Series:
    r"""Check speaker turns and bring them into the common form.

    Every way to get turns ends here,
    e.g. a column of an audformat table:
    ``check_turns(db["turns"]["speaker"].get())``.
    The result is a :class:`pandas.Series` named ``speaker``
    with string dtype
    on an audformat segmented index,
    sorted by file, start and end
    (rows with equal times keep their order).
    Overlapping turns are kept as they are.

    With ``check_audio=True``
    every file must exist
    and the turns must lie inside it:
    a turn that starts at or after the end of its file
    is an error
    (the turns most likely belong to another file),
    a turn that ends after the end of its file
    is clipped to the end
    with one warning for all such turns
    (diarization systems round their ends
    to frames or milliseconds).

    Args:
        turns: speaker of each turn
            on a segmented index
        root: folder the files of the index are relative to
            (as in :meth:`audinterface.Feature.process_index`)
        check_audio: check the turns against the audio files

    Returns:
        speaker turns

    Raises:
        TypeError: if ``turns`` is not a :class:`pandas.Series`
        ValueError: if the index is not segmented,
            a turn has no end,
            does not last longer than zero,
            or has no speaker;
            with ``check_audio=True``
            if a file is missing
            or a turn starts after the end of its file

    Examples:
        >>> index = audformat.segmented_index(
        ...     ["call.wav", "call.wav"], [1.5, 0.0], [3.0, 1.5]
        ... )
        >>> check_turns(pd.Series(["B", "A"], index=index))
        file      start                   end
        call.wav  0 days 00:00:00.000000  0 days 00:00:01.500000    A
                  0 days 00:00:01.500000  0 days 00:00:03.000000    B
        Name: speaker, dtype: string

    """
    if not isinstance(turns, pd.Series):
        hint = ""
        if isinstance(turns, pd.DataFrame) and "speaker" in turns.columns:
            hint = ' Select the column: turns["speaker"].'
        elif isinstance(turns, str | os.PathLike):
            hint = (
                f" To use the turns of an RTTM file, "
                f"read it first: audemo.read_rttm({os.fspath(turns)!r})."
            )
        raise TypeError(
            f"Turns must be a pandas.Series of speakers on a segmented index, "
            f"not {type(turns).__name__}.{hint}"
        )
    index = check_segmented(turns.index, "Turns")
    files = index.get_level_values("file").astype("string")
    starts = index.get_level_values("start")
    ends = index.get_level_values("end")
    speakers = turns.astype("string").to_numpy()
    labels = [_row_label(row) for row in zip(files, starts, ends)]
    _check_times(starts, ends, labels)
    missing = [label for label, speaker in zip(labels, speakers) if pd.isna(speaker)]
    if missing:
        raise ValueError(
            f"{count(len(missing), 'turn')} without a speaker: "
            f"{', '.join(missing[:3])}. Give every turn a speaker "
            f"or drop those rows (turns.dropna())."
        )
    if check_audio:
        ends = _check_audio(files, starts, ends, labels, root)
    return _make_turns(files, starts, ends, speakers)


def read_rttm(
    path: str | Sequence[str],
    *,
    root: str | None = None,
) -> pd.Series:
    r"""Read speaker turns from RTTM files.

    RTTM is the format in which diarization systems
    (pyannote, NIST evaluations, DIHARD, VoxConverse, ...)
    write who speaks when,
    one turn per line::

        SPEAKER <file-id> <channel> <onset> <duration> <NA> <NA> <speaker> <NA> <NA>

    Onset and duration are in seconds.
    ``SPEAKER`` lines need at least the first eight fields;
    other record types (``SPKR-INFO``, ``LEXEME``, ...),
    empty lines and lines starting with ``#`` are ignored.
    Lines with a duration of zero are skipped with a warning
    (rounding to milliseconds makes them);
    overlapping turns are kept as they are.

    The file-id names the audio file
    (an absolute path or one with ``..`` is refused,
    so that no file outside ``root`` is read):

    * with ``root``,
      the file ``<root>/<file-id>.<extension>``
      and an audio extension (wav, flac, ogg, mp3, opus, m4a, aac, wma,
      in upper or lower case)
      (or ``<root>/<file-id>`` if the file-id has such an extension);
      there must be exactly one such file.
      The file column is ``os.path.join(root, name)``,
      so the turns can be processed without a root,
      and the turns are checked against the audio
      as with ``check_turns(..., check_audio=True)``:
      a turn that starts after the end of the file is an error,
      one that ends after it is clipped with a warning.
    * without ``root``,
      the file column is ``<file-id>.wav``
      (or the file-id itself if it has an audio extension),
      relative to the folder you later pass as ``root``
      when processing;
      the audio is not checked.

    Args:
        path: RTTM file, or a list of them
        root: folder of the audio files

    Returns:
        speaker turns,
        sorted by file and start

    Raises:
        FileNotFoundError: if an RTTM file or ``root`` does not exist
        ValueError: if a line is malformed
            (too few fields, onset or duration not a number,
            negative or beyond 1e9 seconds),
            if a file-id is an absolute path or has ``..``,
            if no audio file or several match a file-id,
            or if a turn starts after the end of its file;
            the error names the RTTM file and line

    Examples:
        >>> with open("call.rttm", "w") as fp:
        ...     _ = fp.write(
        ...         "SPEAKER call 1 0.00 1.50 <NA> <NA> A <NA> <NA>\n"
        ...         "SPEAKER call 1 1.20 2.00 <NA> <NA> B <NA> <NA>\n"
        ...     )
        >>> read_rttm("call.rttm")
        file      start                   end
        call.wav  0 days 00:00:00.000000  0 days 00:00:01.500000    A
                  0 days 00:00:01.200000  0 days 00:00:03.200000    B
        Name: speaker, dtype: string

    """
    paths = [path] if isinstance(path, str | os.PathLike) else list(path)
    if root is not None and not os.path.isdir(root):
        raise FileNotFoundError(
            f"The root of the audio files, '{root}', is not a folder."
        )
    files, starts, ends, speakers, labels, zero = [], [], [], [], [], []
    folders = {}  # directory listings, read once per folder
    for rttm in paths:
        rttm = os.fspath(rttm)
        if not os.path.isfile(rttm):
            raise FileNotFoundError(f"RTTM file '{rttm}' does not exist.")
        with open(rttm, encoding="utf-8") as fp:
            lines = fp.read().splitlines()
        mapped = {}  # file-id -> audio file, found once per RTTM file
        for number, line in enumerate(lines, start=1):
            where = f"{rttm}, line {number}"
            fields = _speaker_fields(line, where)
            if fields is None:
                continue
            onset = _seconds(fields[3], "onset", where)
            duration = _seconds(fields[4], "duration", where)
            if duration == 0:
                zero.append(where)
                continue
            file_id = fields[1]
            if file_id not in mapped:
                mapped[file_id] = _audio_file(file_id, root, where, folders)
            files.append(mapped[file_id])
            starts.append(onset)
            ends.append(onset + duration)
            speakers.append(fields[7])
            labels.append(where)
    if zero:
        warn_items(
            f"Skipped {count(len(zero), 'turn')} of duration zero",
            zero,
        )
    starts = pd.to_timedelta(np.asarray(starts, dtype="int64"), unit="ns")
    ends = pd.to_timedelta(np.asarray(ends, dtype="int64"), unit="ns")
    if root is not None:
        ends = _check_audio(files, starts, ends, labels, None)
    return _make_turns(files, starts, ends, speakers)


def _speaker_fields(line: str, where: str) -> list[str] | None:
    r"""Fields of an RTTM line of a speaker turn, ``None`` for other lines.

    Raises:
        ValueError: if the line is not RTTM
            or a SPEAKER line has fewer than 8 fields

    """
    fields = line.split()
    if not fields or fields[0].startswith("#"):
        return None
    if fields[0] not in RTTM_TYPES:
        raise ValueError(
            f"{where}: not an RTTM line, it starts with '{fields[0]}' "
            f"instead of a record type such as SPEAKER: {line.strip()!r}"
        )
    if fields[0] != "SPEAKER":
        return None
    if len(fields) < 8:
        raise ValueError(
            f"{where}: a SPEAKER line needs at least 8 fields "
            f"(SPEAKER <file-id> <channel> <onset> <duration> <NA> <NA> "
            f"<speaker>), got {len(fields)}: {line.strip()!r}"
        )
    return fields


def turns_from_annotation(
    annotation,
    file: str,
    *,
    root: str | None = None,
) -> pd.Series:
    r"""Speaker turns from a pyannote annotation.

    A :class:`pyannote.core.Annotation`
    is what pyannote's diarization pipelines return.
    Each track becomes a turn,
    its label the speaker (as a string);
    overlapping tracks are kept as they are.
    Needs the optional extra ``audemo[diarization]``.

    The turns are checked against the audio file
    as with ``check_turns(..., check_audio=True)``:
    it must exist,
    a turn that starts after its end is an error,
    one that ends after it is clipped with a warning.
    An empty annotation gives an empty Series
    (the file is not checked then).

    Args:
        annotation: speaker annotation of ``file``
        file: audio file the annotation belongs to,
            as it should appear in the index
        root: folder ``file`` is relative to

    Returns:
        speaker turns,
        sorted by start

    Raises:
        ImportError: if pyannote.core is not installed
        TypeError: if ``annotation`` is not a
            :class:`pyannote.core.Annotation`
        FileNotFoundError: if the audio file does not exist
        ValueError: if a turn starts after the end of the audio file

    Examples:
        >>> from pyannote.core import Annotation, Segment
        >>> annotation = Annotation(uri="speech")
        >>> annotation[Segment(0.0, 1.5)] = "A"
        >>> annotation[Segment(1.5, 4.0)] = "B"
        >>> turns_from_annotation(annotation, "speech.wav")
        file        start                   end
        speech.wav  0 days 00:00:00.000000  0 days 00:00:01.500000    A
                    0 days 00:00:01.500000  0 days 00:00:04.000000    B
        Name: speaker, dtype: string

    """
    core = import_optional("pyannote.core", purpose="pyannote annotations")
    if not isinstance(annotation, core.Annotation):
        raise TypeError(
            f"Expected a pyannote.core.Annotation, "
            f"not {type(annotation).__name__}. "
            f"For an RTTM file use read_rttm()."
        )
    if not isinstance(file, str | os.PathLike):
        raise TypeError(
            f"file must be the path of the audio file of the annotation, "
            f"not {type(file).__name__}."
        )
    file = os.fspath(file)
    tracks = list(annotation.itertracks(yield_label=True))
    if not tracks:
        return _make_turns([], [], [], [])
    starts = pd.to_timedelta([_ns(segment.start) for segment, _, _ in tracks])
    ends = pd.to_timedelta([_ns(segment.end) for segment, _, _ in tracks])
    files = [file] * len(tracks)
    speakers = [str(label) for _, _, label in tracks]
    labels = [
        f"track {track!r} of speaker {label!r} ({segment.start:g} s to "
        f"{segment.end:g} s)"
        for segment, track, label in tracks
    ]
    ends = _check_audio(files, starts, ends, labels, root)
    return _make_turns(files, starts, ends, speakers)


def overlap_mask(
    turns: pd.Series | pd.DataFrame,
    *,
    reference: pd.Series | None = None,
) -> pd.Series:
    r"""Whether each row overlaps a turn of another speaker.

    A row overlaps when its time shares more than an instant
    with a turn of another speaker in the same file
    (turns that only touch do not overlap).
    Rows of the same speaker never count,
    so windows inside one turn do not overlap each other.

    Args:
        turns: speaker turns,
            or a frame with a ``speaker`` column
            on a segmented index
            (e.g. one row per window of the turns)
        reference: turns to compare with,
            default ``turns`` itself;
            pass the turns when ``turns`` holds windows
            that may not cover each turn

    Returns:
        boolean Series named ``overlap``
        with the index of ``turns``,
        in its order

    Raises:
        TypeError, ValueError: as :func:`check_turns`

    Examples:
        >>> index = audformat.segmented_index(
        ...     ["call.wav"] * 3, [0.0, 1.2, 3.5], [1.5, 3.0, 4.0]
        ... )
        >>> overlap_mask(pd.Series(["A", "B", "A"], index=index)).tolist()
        [True, True, False]

    """
    speakers = _speakers(turns)
    reference = speakers if reference is None else check_turns(reference)
    unions = speaker_unions(reference)
    index = speakers.index
    labels = speakers.to_numpy()
    starts = index.get_level_values("start").to_numpy("int64")
    ends = index.get_level_values("end").to_numpy("int64")
    mask = np.zeros(len(speakers), dtype=bool)
    files = pd.DataFrame({"file": index.get_level_values("file")})
    for file, positions in files.groupby("file").indices.items():
        for speaker, (union_starts, union_ends) in unions.get(file, {}).items():
            rows = positions[labels[positions] != speaker]
            # first interval of the other speaker ending after the row's start
            k = np.searchsorted(union_ends, starts[rows], side="right")
            inside = k < len(union_starts)
            rows = rows[inside]
            mask[rows] |= union_starts[k[inside]] < ends[rows]
    return pd.Series(mask, index=index, name="overlap")


def exclude_overlap(
    turns: pd.Series,
    *,
    min_duration: float = MIN_PIECE,
) -> pd.Series:
    r"""The parts of the turns in which one speaker speaks alone.

    The time of every other speaker's turns in the same file
    is cut out of each turn;
    a turn may fall into several pieces,
    which keep its speaker,
    or disappear when it is overlapped completely.
    Pieces shorter than ``min_duration`` are dropped:
    by default 25 ms,
    the shortest input the emotion model can process.

    Args:
        turns: speaker turns
        min_duration: shortest piece to keep in seconds

    Returns:
        speaker turns without overlap,
        sorted by file and start

    Raises:
        TypeError, ValueError: as :func:`check_turns`
        ValueError: if ``min_duration`` is negative

    Examples:
        >>> index = audformat.segmented_index(
        ...     ["call.wav"] * 2, [0.0, 1.0], [3.0, 2.0]
        ... )
        >>> exclude_overlap(pd.Series(["A", "B"], index=index))
        file      start            end
        call.wav  0 days 00:00:00  0 days 00:00:01    A
                  0 days 00:00:02  0 days 00:00:03    A
        Name: speaker, dtype: string

    """
    if not (isinstance(min_duration, int | float) and min_duration >= 0):
        raise ValueError(
            f"min_duration must be a number of seconds >= 0, not {min_duration!r}."
        )
    turns = check_turns(turns)
    minimum = _ns(min_duration)
    unions = speaker_unions(turns)
    files, starts, ends, speakers = [], [], [], []
    for (file, start, end), speaker in turns.items():
        pieces = [(start.value, end.value)]
        for other, (union_starts, union_ends) in unions[file].items():
            if other != speaker:
                pieces = _subtract(pieces, union_starts, union_ends)
        for piece_start, piece_end in pieces:
            if piece_end - piece_start >= max(minimum, 1):
                files.append(file)
                starts.append(piece_start)
                ends.append(piece_end)
                speakers.append(speaker)
    return _make_turns(
        files,
        pd.to_timedelta(np.asarray(starts, dtype="int64"), unit="ns"),
        pd.to_timedelta(np.asarray(ends, dtype="int64"), unit="ns"),
        speakers,
    )


# ----- helpers ------------------------------------------------------------


def _audio_file(file_id: str, root: str | None, where: str, folders: dict) -> str:
    r"""Audio file of an RTTM file-id."""
    # a file-id names a file below the folder of the audio files
    if os.path.isabs(file_id) or ".." in file_id.replace("\\", "/").split("/"):
        raise ValueError(
            f"{where}: the file-id '{file_id}' is a path that can lead outside "
            f"the folder of the audio files: refused. File-ids name the "
            f"recordings below root, without '..' or a leading '/'."
        )
    has_extension = _extension(file_id) in AUDIO_EXTENSIONS
    if root is None:
        return file_id if has_extension else f"{file_id}.wav"
    folder, stem = os.path.split(os.path.join(root, file_id))
    if folder not in folders:
        folders[folder] = os.listdir(folder) if os.path.isdir(folder) else []
    matches = sorted(
        name
        for name in folders[folder]
        if (has_extension and name == stem)
        or (
            name.startswith(stem + ".")
            and name[len(stem) + 1 :].lower() in AUDIO_EXTENSIONS
        )
    )
    matches = [name for name in matches if os.path.isfile(os.path.join(folder, name))]
    if not matches:
        raise ValueError(
            f"{where}: no audio file for file-id '{file_id}' in '{root}' "
            f"(looked for {file_id}.<{'|'.join(AUDIO_EXTENSIONS)}>). "
            f"Pass the folder of the audio files as root."
        )
    if len(matches) > 1:
        raise ValueError(
            f"{where}: several audio files for file-id '{file_id}' in '{root}': "
            f"{', '.join(matches)}. Keep one of them there."
        )
    return os.path.join(folder, matches[0])


def _check_audio(files, starts, ends, labels, root):
    r"""Check turns against the audio files, clip ends that run past them."""
    durations = {}
    for file in dict.fromkeys(files):
        path = file if root is None else os.path.join(root, file)
        if not os.path.isfile(path):
            raise FileNotFoundError(
                f"Audio file '{path}' of the turns does not exist."
                + ("" if root else " Pass the folder it is relative to as root.")
            )
        durations[file] = _ns(audiofile.duration(path))
    ends = ends.to_numpy("int64").copy()
    starts = starts.to_numpy("int64")
    clipped = []
    for i, file in enumerate(files):
        duration = durations[file]
        if starts[i] >= duration:
            raise ValueError(
                f"{labels[i]}: the turn starts at {starts[i] / 1e9:g} s, "
                f"after the end of '{file}' ({duration / 1e9:g} s). "
                f"Do the turns belong to another file?"
            )
        if ends[i] > duration:
            clipped.append(
                f"{labels[i]}: {ends[i] / 1e9:g} s -> {duration / 1e9:g} s ('{file}')"
            )
            ends[i] = duration
    if clipped:
        warn_items(
            f"Clipped {count(len(clipped), 'turn')} to the end of the audio",
            clipped,
        )
    return pd.to_timedelta(ends, unit="ns")


def check_segmented(index: pd.Index, what: str) -> pd.MultiIndex:
    r"""Index, if it is an audformat segmented index."""
    reason = ""
    try:
        kind = audformat.index_type(index)
    except (ValueError, TypeError) as ex:
        kind, reason = None, f" ({ex})"
    if kind == audformat.define.IndexType.FILEWISE:
        raise ValueError(
            f"{what} need start and end times, got a filewise index "
            f"(one row per file). Use a segmented table, e.g. "
            f"db['turns']['speaker'].get() of a table with start and end."
        )
    if kind != audformat.define.IndexType.SEGMENTED:
        names = list(index.names)
        raise ValueError(
            f"{what} need an audformat segmented index with the levels "
            f"file, start, end; got levels {names}{reason}. "
            f"Build one with audformat.segmented_index(files, starts, ends)."
        )
    return index


def _check_times(starts, ends, labels):
    r"""Refuse turns without an end or with no positive duration."""
    problems = []
    for label, start, end in zip(labels, starts, ends):
        if pd.isna(end):
            problems.append(f"{label}: no end")
        elif start < pd.Timedelta(0):
            problems.append(f"{label}: negative start")
        elif end <= start:
            problems.append(f"{label}: ends before it starts or when it starts")
    if problems:
        raise ValueError(
            f"{count(len(problems), 'turn')} without a positive duration: "
            f"{'; '.join(problems[:3])}. A turn needs a start and a later end; "
            f"for ends missing (NaT) use audformat.utils.to_segmented_index"
            f"(..., allow_nat=False, root=...)."
        )


def _extension(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def _make_turns(files, starts, ends, speakers) -> pd.Series:
    r"""Speaker Series on a segmented index, sorted by file, start, end."""
    index = audformat.segmented_index(
        list(files), pd.to_timedelta(starts), pd.to_timedelta(ends)
    )
    turns = pd.Series(list(speakers), index=index, name="speaker", dtype="string")
    order = np.lexsort(
        (
            index.get_level_values("end").to_numpy("int64"),
            index.get_level_values("start").to_numpy("int64"),
            index.get_level_values("file").to_numpy(str),
        )
    )
    return turns.iloc[order]


def _ns(seconds: float) -> int:
    r"""Seconds as integer nanoseconds, without binary fractions."""
    return round(seconds * 1e9)


def _row_label(row) -> str:
    file, start, end = row
    return f"('{file}', {start}, {end})"


def _seconds(text: str, what: str, where: str) -> int:
    r"""A time field of an RTTM line in nanoseconds."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise ValueError(f"{where}: the {what} '{text}' is not a number of seconds.")
    if value < 0:
        raise ValueError(f"{where}: the {what} {text} is negative.")
    if value > MAX_RTTM_SECONDS:
        raise ValueError(
            f"{where}: the {what} {text} is beyond {MAX_RTTM_SECONDS:g} s "
            f"(about 31 years): refused. Onset and duration are seconds."
        )
    return _ns(value)


def _speakers(turns: pd.Series | pd.DataFrame) -> pd.Series:
    r"""Speaker column of turns or of a frame, checked, in the given order."""
    if isinstance(turns, pd.DataFrame):
        if "speaker" not in turns.columns:
            raise ValueError(
                f"The frame needs a 'speaker' column, "
                f"it has {list(turns.columns)}. "
                f"Add the speaker of each row: frame.insert(0, 'speaker', turns)."
            )
        turns = turns["speaker"]
    check_turns(turns)
    # checked, but in the caller's order
    return turns.astype("string")


def _subtract(pieces, starts, ends):
    r"""Cut sorted disjoint intervals out of a list of pieces (integers)."""
    result = []
    for start, end in pieces:
        first = np.searchsorted(ends, start, side="right")
        for k in range(first, len(starts)):
            if starts[k] >= end:
                break
            if starts[k] > start:
                result.append((start, int(starts[k])))
            start = max(start, int(ends[k]))
            if start >= end:
                break
        if start < end:
            result.append((start, end))
    return result


def speaker_unions(turns: pd.Series) -> dict:
    r"""Time covered by each speaker in each file, as sorted disjoint intervals.

    Returns:
        ``{file: {speaker: (starts, ends)}}`` in nanoseconds

    """
    unions = {}
    frame = pd.DataFrame(
        {
            "file": turns.index.get_level_values("file"),
            "speaker": turns.to_numpy(),
            "start": turns.index.get_level_values("start").to_numpy("int64"),
            "end": turns.index.get_level_values("end").to_numpy("int64"),
        }
    )
    for key, group in frame.groupby(["file", "speaker"], sort=True):
        group = group.sort_values("start")
        starts, ends = [], []
        for start, end in zip(group["start"], group["end"]):
            if starts and start <= ends[-1]:
                ends[-1] = max(ends[-1], end)
            else:
                starts.append(start)
                ends.append(end)
        file, speaker = key
        unions.setdefault(file, {})[speaker] = (np.asarray(starts), np.asarray(ends))
    return unions
