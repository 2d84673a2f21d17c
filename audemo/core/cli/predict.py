r"""``audemo predict``: emotion of audio files, folders and databases.

Writes arousal, dominance and valence,
the embedding,
or the categories of a head
as CSV to stdout,
or to a CSV or parquet file,
or as a table into an audformat database,
and a summary line to stderr.

"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import pandas as pd

import audeer
import audformat
import audiofile

from audemo.core.categories.categorical import Categories
from audemo.core.categories.head import read_head
from audemo.core.cli import COMMANDS
from audemo.core.cli.common import DATABASE_SAFETY_POINTER
from audemo.core.cli.common import add_model_cache_root
from audemo.core.cli.common import add_model_option
from audemo.core.cli.common import check_output
from audemo.core.cli.common import check_writable
from audemo.core.cli.common import show_progress
from audemo.core.conversation.diarization import PIPELINE
from audemo.core.conversation.diarization import Diarization
from audemo.core.conversation.speakers import process_turns
from audemo.core.conversation.transcript import CONTEXT
from audemo.core.conversation.transcript import FORMATS
from audemo.core.conversation.transcript import LEVELS
from audemo.core.conversation.transcript import assign_speakers
from audemo.core.conversation.transcript import process_transcript
from audemo.core.conversation.transcript import read_transcript
from audemo.core.conversation.transcription import ENGINES
from audemo.core.conversation.transcription import MODEL
from audemo.core.conversation.transcription import Transcription
from audemo.core.conversation.turns import MIN_PIECE
from audemo.core.conversation.turns import check_segmented
from audemo.core.conversation.turns import check_turns
from audemo.core.conversation.turns import read_rttm
from audemo.core.database import PREDICTED_CATEGORY
from audemo.core.database import check_inside
from audemo.core.database import check_table_id
from audemo.core.database import load_database
from audemo.core.database import save_table
from audemo.core.database import to_database
from audemo.core.define import AUDIO_EXTENSIONS
from audemo.core.define import OUTPUTS
from audemo.core.emotion import CHUNK_DUR
from audemo.core.emotion import Emotion
from audemo.core.inputs import absolute_files
from audemo.core.inputs import input_to_index
from audemo.core.inputs import merge_inputs
from audemo.core.model.precision import PRECISIONS
from audemo.core.options import CHECKED
from audemo.core.options import ERRORS
from audemo.core.options import check_options
from audemo.core.results import TIME_FORMATS
from audemo.core.results import write_results
from audemo.core.segment import VoiceActivity
from audemo.core.utils import available_cores
from audemo.core.utils import count
from audemo.core.utils import warn_items


TABLE = "predictions"
r"""Default ID of the table ``-o DATABASE_FOLDER`` writes.

Not ``emotion``,
the usual name of a database's gold labels.
"""


def add_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    r"""Add the command ``predict``.

    Args:
        commands: sub-parsers of the ``audemo`` parser

    Returns:
        parser of the command

    """
    command = commands.add_parser(
        "predict",
        help=COMMANDS["predict"],
        description=(
            "Predict arousal, dominance and valence (each roughly 0..1) "
            "or the 1024-d embedding of audio files. "
            "Results go to stdout as CSV unless -o is given. "
            "In CSV, text starting with = + - @, tab or carriage return "
            "gets a leading ' so that spreadsheets show it instead of running "
            "it as a formula; audemo plot and audemo report read it back as "
            "it was. " + DATABASE_SAFETY_POINTER
        ),
    )
    _add_input_options(command)
    _add_model_options(command)
    _add_processing_options(command)
    _add_row_options(command)
    _add_speaker_options(command)
    _add_transcript_options(command)
    return command


def _add_input_options(command: argparse.ArgumentParser):
    r"""Inputs, output and what is predicted."""
    command.add_argument(
        "inputs",
        nargs="+",
        metavar="INPUT",
        help=(
            "audio file, folder (searched recursively for "
            f"{', '.join(AUDIO_EXTENSIONS)} files), "
            "or audformat database folder (processes all its files)"
        ),
    )
    command.add_argument(
        "-o",
        "--output",
        help=(
            "write results to this CSV (.csv) or parquet (.parquet) file, "
            "or into the audformat database in this folder as a table; "
            "checked before anything is processed"
        ),
    )
    command.add_argument(
        "--table",
        default=TABLE,
        help=(
            "table ID when -o is a database folder: letters, digits, -, _ "
            f"and . (not first, no ..) (default: {TABLE}, which does not "
            "clash with gold labels in a table emotion)"
        ),
    )
    command.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an existing output file, or table of that ID in the database",
    )
    command.add_argument(
        "--outputs",
        type=outputs,
        default=["logits"],
        help=(
            "logits (arousal, dominance, valence), hidden_states "
            "(embedding), or both as logits,hidden_states (default: logits)"
        ),
    )


def _add_model_options(command: argparse.ArgumentParser):
    r"""Model, head, the two caches, precision and device."""
    add_model_option(command)
    command.add_argument(
        "--head",
        default=None,
        metavar="FOLDER",
        help=(
            "predict emotion categories with a classifier written by "
            "`audemo categories`: one column per category "
            "(its probability or score) and the column category "
            "(the predicted one)"
        ),
    )
    command.add_argument(
        "--cache-root",
        default=None,
        metavar="DIR",
        help=(
            "cache results in this folder: a second run reads them, "
            "an interrupted run continues (default: no results cache)"
        ),
    )
    command.add_argument(
        "--file-key",
        choices=["stat", "content"],
        default=None,
        help=(
            "how --cache-root recognizes an audio file: stat: path, size "
            "and modification time (default); content: SHA256 of its bytes, "
            "so a moved or copied database keeps its cache"
        ),
    )
    command.add_argument(
        "--calibration",
        default=None,
        metavar="FILE",
        help=(
            "map arousal, dominance and valence to your rating scale with a "
            "calibration written by `audemo calibrate`; refused if it was "
            "fitted on another model's results; the results say that they "
            "are calibrated (a column calibration in CSV)"
        ),
    )
    add_model_cache_root(command, legacy=False)
    command.add_argument(
        "--precision",
        choices=list(PRECISIONS),
        default=None,
        help=(
            "fp32: the model as published (default); int8: 8-bit weights, "
            "faster, numbers differ slightly (check with audemo compare)"
        ),
    )
    command.add_argument(
        "--device",
        default=None,
        help="cpu (default), cuda or cuda:ID",
    )


def _add_processing_options(command: argparse.ArgumentParser):
    r"""Channels, chunks, threads and workers."""
    command.add_argument(
        "--channels",
        type=channels,
        default=None,
        metavar="C",
        help=(
            "channel(s) of multi-channel files, e.g. 1 or 0,1 "
            "(several need --mixdown) (default: 0, the first)"
        ),
    )
    command.add_argument(
        "--mixdown",
        action="store_true",
        help="mix the selected channels down to mono (without --channels: all)",
    )
    command.add_argument(
        "--chunk-dur",
        type=chunk_dur,
        default=None,
        metavar="S",
        help=(
            "inputs longer than S seconds run through the model in equal chunks "
            "of at most S seconds, outputs averaged; none: always whole "
            f"(default: {CHUNK_DUR:g})"
        ),
    )
    command.add_argument(
        "--num-threads",
        type=int,
        default=None,
        metavar="N",
        help=(
            "onnxruntime threads per worker "
            "(default: the cores shared among the workers)"
        ),
    )
    command.add_argument(
        "--num-workers",
        type=int,
        default=None,
        help=(
            "number of files processed in parallel, each with "
            "cores / N onnxruntime threads (default: one per core, "
            "the fastest split for lists of files)"
        ),
    )


def _add_row_options(command: argparse.ArgumentParser):
    r"""What a row is, failing files, and how times are written."""
    command.add_argument(
        "--win-dur",
        type=float,
        default=None,
        metavar="S",
        help="emotion over time: one row per window of S seconds",
    )
    command.add_argument(
        "--hop-dur",
        type=float,
        default=None,
        metavar="S",
        help="shift between windows in seconds (default: half of --win-dur)",
    )
    command.add_argument(
        "--vad",
        action="store_true",
        help="one row per speech segment found by voice activity detection",
    )
    command.add_argument(
        "--errors",
        choices=list(ERRORS),
        default="raise",
        help=(
            "raise: stop at the first file that fails (default); "
            "coerce: give it a row of NaN, warn, and go on"
        ),
    )
    command.add_argument(
        "--time-format",
        choices=list(TIME_FORMATS),
        default=None,
        help=(
            "start and end in CSV: seconds as numbers, exact to the nanosecond "
            "(default), or pandas durations such as 0 days 00:00:01.5 "
            "(parquet and database tables always store durations)"
        ),
    )


def _add_speaker_options(command: argparse.ArgumentParser):
    r"""Speaker turns of conversations."""
    command.add_argument(
        "--speakers",
        type=speakers,
        default=None,
        metavar="SOURCE",
        help=(
            "emotion per speaker turn: an RTTM file (its file-ids name the "
            "input recordings), DB:TABLE[:COLUMN] (the speaker column, or "
            "COLUMN, of a segmented table of the audformat database in "
            "folder DB), or auto (diarization with pyannote.audio, extra "
            "audemo[diarization]); one row per turn of the input files, or per "
            "window inside each turn with --win-dur; columns speaker, "
            "(with --win-dur: turn, turn_start, turn_end,) arousal, dominance, "
            "valence, overlap"
        ),
    )
    command.add_argument(
        "--exclude-overlap",
        action="store_true",
        help=(
            "with --speakers: process only the parts of the turns in which "
            "one speaker speaks alone"
        ),
    )
    command.add_argument(
        "--num-speakers",
        type=int,
        default=None,
        metavar="N",
        help="with --speakers auto: the number of speakers, if known",
    )
    command.add_argument(
        "--diarization",
        default=PIPELINE,
        metavar="PIPELINE",
        help=(
            "with --speakers auto: name of a pyannote.audio pipeline on the "
            "Hugging Face hub (token in $HF_TOKEN) or the folder of a local copy "
            f"(default: {PIPELINE})"
        ),
    )


def _add_transcript_options(command: argparse.ArgumentParser):
    r"""Transcripts: emotion per segment or word of what was said."""
    command.add_argument(
        "--transcript",
        type=transcript,
        default=None,
        metavar="SOURCE",
        help=(
            "emotion per segment (or word) of a transcript: a SubRip (.srt), "
            "WebVTT (.vtt), whisper or whisperX (.json) or Praat (.TextGrid) "
            "file of the one input recording, or DB:TABLE[:COLUMN] (the text "
            "column, or COLUMN, of a segmented table of the audformat database "
            "in folder DB, and its speaker column if it has one); extra "
            "audemo[transcripts]; or auto: speech recognition (--asr); "
            "columns (speaker,) text, arousal, dominance, "
            "valence (, overlap with speakers). With --speakers (for a "
            "transcript without speakers) each segment gets the speaker who "
            "talks most during it"
        ),
    )
    command.add_argument(
        "--level",
        choices=list(LEVELS),
        default=None,
        help=(
            "with --transcript: one row per segment (default) or per word "
            "(whisper JSON with word timestamps)"
        ),
    )
    command.add_argument(
        "--asr",
        choices=list(ENGINES),
        default=None,
        help=(
            "with --transcript auto: the speech recognizer, faster-whisper "
            "(default; extra audemo[asr]) or pocketsphinx (US English, built "
            "in, low accuracy: for trying the path, not for transcripts)"
        ),
    )
    command.add_argument(
        "--asr-model",
        default=None,
        metavar="MODEL",
        help=(
            "with --transcript auto: faster-whisper model size (tiny, base, "
            f"small, medium, large-v3, ...) or folder (default: {MODEL})"
        ),
    )
    command.add_argument(
        "--context",
        type=float,
        default=None,
        metavar="S",
        help=(
            "with --level word: each word's emotion is that of S seconds "
            f"centred on it, clipped to the recording (default: {CONTEXT:g})"
        ),
    )


def transcript(value: str) -> tuple[str, ...]:
    r"""Type of ``--transcript``: where the transcript comes from.

    Args:
        value: a transcript file,
            ``DB:TABLE[:COLUMN]``
            with the folder of an audformat database,
            or ``auto``

    Returns:
        ``("file", path)``,
        ``("database", folder, table, column)``
        or ``("auto",)``

    Raises:
        argparse.ArgumentTypeError: if ``value`` is none of them

    Examples:
        >>> transcript("call.srt")
        ('file', 'call.srt')
        >>> db = audformat.Database("mydb")
        >>> db.save("mydb")
        >>> transcript("mydb:transcript"), transcript("mydb:transcript:words")
        (('database', 'mydb', 'transcript', 'text'), ('database', 'mydb', 'transcript', 'words'))

    """  # noqa: E501
    if value == "auto":
        return ("auto",)
    extension = value.rsplit(".", 1)[-1].lower() if "." in value else ""
    if extension in FORMATS:
        return ("file", value)
    database = _database_source(value, "text")
    if database is None:
        raise argparse.ArgumentTypeError(
            f"'{value}' is neither a transcript file "
            f"({', '.join('.' + name for name in FORMATS)}) "
            f"nor DB:TABLE[:COLUMN] with the folder DB of an audformat "
            f"database (db.yaml), nor auto"
        )
    return database


def _database_source(value: str, default: str) -> tuple[str, ...] | None:
    r"""``("database", folder, table, column)`` of ``DB:TABLE[:COLUMN]``."""
    parts = value.split(":")
    # the folder may hold a colon itself: try TABLE:COLUMN, then TABLE
    for split, column in ((len(parts) - 2, None), (len(parts) - 1, default)):
        folder = ":".join(parts[:split])
        if split > 0 and os.path.isfile(os.path.join(folder, "db.yaml")):
            table = parts[split]
            column = column or parts[split + 1]
            if table and column:
                return ("database", folder, table, column)
    return None


def speakers(value: str) -> tuple[str, ...]:
    r"""Type of ``--speakers``: where the speaker turns come from.

    Args:
        value: ``auto``,
            an RTTM file,
            or ``DB:TABLE[:COLUMN]``
            with the folder of an audformat database

    Returns:
        ``("auto",)``, ``("rttm", file)``,
        or ``("database", folder, table, column)``

    Raises:
        argparse.ArgumentTypeError: if ``value`` is none of them

    Examples:
        >>> speakers("auto"), speakers("call.rttm")
        (('auto',), ('rttm', 'call.rttm'))
        >>> db = audformat.Database("mydb")
        >>> db.save("mydb")
        >>> speakers("mydb:turns"), speakers("mydb:turns:who")
        (('database', 'mydb', 'turns', 'speaker'), ('database', 'mydb', 'turns', 'who'))

    """  # noqa: E501
    if value == "auto":
        return ("auto",)
    if value.lower().endswith(".rttm") or os.path.isfile(value):
        return ("rttm", value)
    database = _database_source(value, "speaker")
    if database is not None:
        return database
    raise argparse.ArgumentTypeError(
        f"'{value}' is neither an RTTM file (.rttm), nor DB:TABLE[:COLUMN] "
        f"with the folder DB of an audformat database (db.yaml), nor auto"
    )


def channels(value: str) -> int | list[int]:
    r"""Type of ``--channels``: one channel or a list of channels.

    Args:
        value: e.g. ``"1"`` or ``"0,1"``

    Returns:
        channel number, or list of channel numbers

    Raises:
        argparse.ArgumentTypeError: if ``value`` is no such list

    Examples:
        >>> channels("1"), channels("0,1")
        (1, [0, 1])

    """
    try:
        numbers = [int(channel) for channel in value.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"'{value}' is not a channel number or a list like 0,1"
        ) from None
    return numbers[0] if len(numbers) == 1 else numbers


def chunk_dur(value: str) -> float | str:
    r"""Type of ``--chunk-dur``: positive seconds or ``none``.

    Args:
        value: e.g. ``"8"`` or ``"none"``

    Returns:
        seconds, or ``"none"``
        (``None`` is the default: the interface's chunk length)

    Raises:
        argparse.ArgumentTypeError: if ``value`` is neither

    Examples:
        >>> chunk_dur("8"), chunk_dur("None")
        (8.0, 'none')

    """
    if value.lower() == "none":
        return "none"
    try:
        seconds = float(value)
    except ValueError:
        seconds = float("nan")
    if not seconds > 0:
        raise argparse.ArgumentTypeError(
            f"'{value}' is not a positive number of seconds or none"
        )
    return seconds


def outputs(value: str) -> list[str]:
    r"""Type of ``--outputs``: a comma-separated list of model outputs.

    Args:
        value: e.g. ``"logits,hidden_states"``

    Returns:
        names of the outputs

    Raises:
        argparse.ArgumentTypeError: if ``value`` names another output

    Examples:
        >>> outputs("logits, hidden_states")
        ['logits', 'hidden_states']

    """
    names = [name.strip() for name in value.split(",") if name.strip()]
    if not names or any(name not in OUTPUTS for name in names):
        raise argparse.ArgumentTypeError(
            f"'{value}' is not one of logits, hidden_states, or logits,hidden_states"
        )
    return names


def run(args: argparse.Namespace) -> int:
    r"""Predict, write the results, and print the summary line.

    Args:
        args: parsed arguments

    Returns:
        exit code 0

    Raises:
        ValueError: if options do not fit together,
            or an output cannot be written
            (checked before anything is processed)
        FileNotFoundError: if an input does not exist

    Examples:
        >>> from audemo.core.cli import main
        >>> root = audemo.testing.create_model("model")
        >>> main(["predict", "speech.wav", "--model", root])  # doctest: +ELLIPSIS
        file,start,end,arousal,dominance,valence
        speech.wav,0.0,...
        0

    """
    selected = _check_options(args)
    started = time.perf_counter()
    # every output is checked before the model runs or a file is read
    database, file_format = _check_output(args)
    index, root = merge_inputs(
        [input_to_index(path, args.errors) for path in args.inputs]
    )
    interface = _interface(args, selected)
    if database is not None:
        index, root = _index_in_database(index, root, args.output)
    cache_options = {"cache_root": args.cache_root}
    if args.file_key is not None:
        cache_options["file_key"] = args.file_key
    if args.transcript is not None:
        frame = process_transcript(
            interface,
            _transcript(args, index, root),
            level=args.level or "segment",
            context=args.context,
            root=root,
            **cache_options,
        )
    elif args.speakers is None:
        frame = interface.process_index(index, root=root, **cache_options)
    else:
        frame = process_turns(
            interface,
            _turns(args, index, root),
            root=root,
            exclude_overlap=args.exclude_overlap,
            **cache_options,
        )
    if args.head:
        frame = with_category(frame, interface.classes)
    # one row per file: no windows, no segments, no turns
    whole_files = (
        interface.win_dur is None
        and interface.process.segment is None
        and args.speakers is None
        and args.transcript is None
    )
    if database is not None:
        table = frame.reset_index(["start", "end"], drop=True) if whole_files else frame
        # replacing a table was allowed (--overwrite) or it did not exist
        to_database(database, table, args.table, interface=interface, overwrite=True)
        save_table(database, args.output, args.table)
    else:
        write_results(
            frame,
            args.output or sys.stdout,
            file_format=file_format,
            time_format=args.time_format or "seconds",
        )
    seconds = time.perf_counter() - started
    print(_summary_line(frame, root, whole_files, seconds), file=sys.stderr)
    return 0


def with_category(frame: pd.DataFrame, classes: list[str]) -> pd.DataFrame:
    r"""Results of a head with the predicted class after the classes' columns.

    Args:
        frame: probabilities or scores of the classes, one column each
        classes: the class names

    Returns:
        ``frame`` with the column ``category``:
        the class of the largest value of each row,
        missing where the row failed

    Examples:
        >>> frame = pd.DataFrame(
        ...     {"happy": [0.8, 0.3, None], "sad": [0.2, 0.7, None]},
        ...     index=audformat.filewise_index(["a.wav", "b.wav", "c.wav"]),
        ... )
        >>> with_category(frame, ["happy", "sad"])
               happy  sad category
        file
        a.wav    0.8  0.2    happy
        b.wav    0.3  0.7      sad
        c.wav    NaN  NaN     <NA>

    """
    scores = frame[classes]
    known = scores.notna().any(axis=1).to_numpy()
    category = pd.Series(pd.NA, index=frame.index, dtype="string")
    category[known] = scores[known].idxmax(axis=1).to_numpy()
    frame = frame.copy()
    position = frame.columns.get_loc(classes[-1]) + 1
    frame.insert(position, PREDICTED_CATEGORY, category)
    return frame


def _check_options(args: argparse.Namespace) -> int | list[int] | None:
    r"""Refuse options that do not fit together.

    Returns:
        the channels to select: ``0``, a channel, a list,
        or ``None`` for all (``--mixdown`` without ``--channels``)

    """
    if args.hop_dur is not None and args.win_dur is None:
        raise ValueError("--hop-dur needs --win-dur.")
    _check_speaker_options(args)
    _check_transcript_options(args)
    if args.file_key is not None and args.cache_root is None:
        raise ValueError("--file-key needs --cache-root (it keys the results cache).")
    _check_head_options(args)
    selected = _selected_channels(args)
    # the library's checks of the interface's options, before any file is read
    # (their errors name the flags: see error_message)
    options = _interface_options(args, selected)
    check_options(**{name: options[name] for name in options if name in CHECKED})
    return selected


def _check_speaker_options(args: argparse.Namespace):
    r"""Refuse speaker options without ``--speakers`` (``auto``)."""
    source = args.speakers[0] if args.speakers else None
    if args.exclude_overlap and source is None:
        raise ValueError("--exclude-overlap needs --speakers.")
    if source != "auto" and (
        args.num_speakers is not None or args.diarization != PIPELINE
    ):
        raise ValueError("--num-speakers and --diarization need --speakers auto.")
    if args.num_speakers is not None and args.num_speakers < 1:
        raise ValueError(
            f"--num-speakers must be a positive number, not {args.num_speakers}."
        )


def _check_head_options(args: argparse.Namespace):
    r"""Refuse ``--head`` and ``--calibration`` with outputs they cannot take."""
    if args.head and args.outputs != ["logits"]:
        raise ValueError("--head predicts categories: leave out --outputs.")
    if args.calibration and args.head:
        raise ValueError(
            "--calibration maps arousal, dominance and valence, "
            "--head predicts categories: leave out one of them."
        )
    if args.calibration and "logits" not in args.outputs:
        raise ValueError(
            "--calibration maps arousal, dominance and valence: "
            "add logits to --outputs (e.g. --outputs logits,hidden_states)."
        )
    if args.head:
        try:
            read_head(args.head)
        except (FileNotFoundError, ValueError) as ex:
            # the library's advice names its Python function
            reason = str(ex).split(":")[0]
            raise ValueError(
                f"--head {args.head} is not a folder written by "
                f"audemo categories -o FOLDER: {reason}."
            ) from None


def _selected_channels(args: argparse.Namespace) -> int | list[int] | None:
    r"""The channels to select, one unless ``--mixdown``."""
    selected = 0 if args.channels is None else args.channels
    if args.channels is None and args.mixdown:
        selected = None  # all channels
    if isinstance(selected, list) and not args.mixdown:
        raise ValueError(
            f"--channels {','.join(map(str, selected))} selects "
            f"{len(selected)} channels, the model takes one: "
            f"add --mixdown or select a single channel."
        )
    return selected


def _check_transcript_options(args: argparse.Namespace):
    r"""Refuse transcript options that do not fit together."""
    source = args.transcript[0] if args.transcript else None
    if source != "auto" and (args.asr is not None or args.asr_model is not None):
        raise ValueError("--asr and --asr-model need --transcript auto.")
    if source is None:
        if args.level is not None or args.context is not None:
            raise ValueError("--level and --context need --transcript.")
        return
    if args.context is not None and args.level != "word":
        raise ValueError("--context is the window around a word: add --level word.")
    if args.context is not None and not args.context >= MIN_PIECE:
        raise ValueError(
            f"--context must be at least 0.025 seconds (the model's shortest "
            f"input), not {args.context:g}."
        )
    if args.level == "word" and (args.win_dur is not None or args.vad):
        raise ValueError(
            "--level word processes a window around each word (--context): "
            "leave out --win-dur and --vad."
        )
    if args.exclude_overlap:
        raise ValueError(
            "--exclude-overlap cuts turns into pieces, a transcript's segments "
            "stay whole: leave it out with --transcript."
        )


def _check_output(args: argparse.Namespace) -> tuple[audformat.Database | None, str]:
    r"""Refuse an output that cannot be written, before any work.

    Returns:
        the database of ``-o`` if it is a database folder,
        and the format: ``"database"``, ``"parquet"``
        or ``"csv"`` (also stdout)

    """
    if args.output and os.path.isdir(args.output):
        database, file_format = _check_database(args), "database"
    elif args.output:
        database = None
        file_format = check_output(
            args.output, ("csv", "parquet"), overwrite=args.overwrite, what="-o"
        )
    else:
        database, file_format = None, "csv"  # stdout
    if args.time_format is not None and file_format != "csv":
        raise ValueError(
            "--time-format applies to CSV only: parquet files and database "
            "tables store start and end as durations."
        )
    return database, file_format


def _check_database(args: argparse.Namespace) -> audformat.Database:
    r"""The database of ``-o``, if it takes the table ``--table``."""
    if not os.path.exists(os.path.join(args.output, "db.yaml")):
        raise ValueError(
            f"Output folder '{args.output}' holds no audformat database "
            f"(db.yaml): give -o a .csv or .parquet file, "
            f"or the folder of a database."
        )
    check_table_id(args.table, what="--table")
    check_writable(args.output, "-o")
    database = load_database(args.output)
    if args.table in database.tables and not args.overwrite:
        raise ValueError(
            f"Database '{args.output}' has a table '{args.table}' already: "
            f"pass --overwrite to replace it, or choose another --table."
        )
    return database


def _interface(
    args: argparse.Namespace, selected: int | list[int] | None
) -> Emotion | Categories:
    r"""The interface the options ask for: emotion, or categories of a head."""
    options = _interface_options(args, selected)
    options["segment"] = VoiceActivity() if args.vad else None
    if args.head:
        return Categories(args.head, model=args.model, **options)
    return Emotion(
        args.model, outputs=args.outputs, calibration=args.calibration, **options
    )


def _interface_options(
    args: argparse.Namespace, selected: int | list[int] | None
) -> dict[str, object]:
    r"""Options of the interface that the command line sets, but ``segment``."""
    options = {
        "num_workers": args.num_workers or available_cores(),
        "win_dur": args.win_dur,
        "hop_dur": args.hop_dur,
        "channels": selected,
        "mixdown": args.mixdown,
        "errors": args.errors,
        "verbose": show_progress(),
        "model_cache_root": args.model_cache_root,
    }
    # given only when set: the interface's defaults stay in one place
    for name in ("precision", "device", "num_threads"):
        if getattr(args, name) is not None:
            options[name] = getattr(args, name)
    if args.chunk_dur is not None:
        options["chunk_dur"] = None if args.chunk_dur == "none" else args.chunk_dur
    return options


def _turns(args: argparse.Namespace, index: pd.Index, root: str | None) -> pd.Series:
    r"""Speaker turns of the input files, their paths as in ``index``.

    Files among the inputs without a turn are left out with a warning;
    an RTTM file-id that names no input file is an error.
    Turns are checked against the audio;
    with ``--errors coerce`` not those of files that cannot be read:
    their rows become NaN, as for any file that fails.

    """
    inputs = {audeer.path(root or "", file): file for file in index}
    unreadable = set()
    if args.errors == "coerce":
        unreadable = {file for file in index if not _readable(file, root)}
    source, *where = args.speakers
    if source == "auto":
        diarization = Diarization(args.diarization, num_speakers=args.num_speakers)
        readable = [file for file in index if file not in unreadable]
        turns = diarization.process_files(readable, root=root)
    else:
        if source == "rttm":
            turns = _rttm_turns(where[0], inputs)
        else:
            turns = _database_turns(*where, inputs)
        files = turns.index.get_level_values("file")
        failed = files.isin(list(unreadable))
        turns = check_turns(
            pd.concat(
                [
                    check_turns(turns[~failed], root=root, check_audio=True),
                    turns[failed],
                ]
            )
        )
    if turns.empty:
        raise ValueError(
            f"--speakers {':'.join(where) or 'auto'} gives no turns "
            f"for the input files: nothing to process."
        )
    turned = set(turns.index.get_level_values("file"))
    silent = [file for file in index if file not in turned]
    if silent:
        warn_items(
            f"--speakers gives no turns for {count(len(silent), 'input file')}, "
            f"left out",
            silent,
        )
    return turns


def _transcript(
    args: argparse.Namespace, index: pd.Index, root: str | None
) -> pd.DataFrame:
    r"""The transcript of the input files, their paths as in ``index``.

    A transcript file belongs to one recording:
    it needs exactly one input file.
    With ``--speakers`` each segment gets the speaker
    who talks most during it (:func:`audemo.assign_speakers`).

    """
    source, *where = args.transcript
    level = args.level or "segment"
    if source == "auto":
        transcription = Transcription(
            args.asr_model or MODEL,
            engine=args.asr or "faster-whisper",
            device=args.device or "cpu",
        )
        result = transcription.process_files(list(index), root=root, level=level)
    elif source == "file":
        if len(index) != 1:
            raise ValueError(
                f"--transcript {where[0]} is the transcript of one recording, "
                f"got {count(len(index), 'input file')}: give only its "
                f"recording, or use DB:TABLE[:COLUMN] for several files."
            )
        result = read_transcript(where[0], file=index[0], root=root, level=level)
    else:
        folder, table_id, column = where
        inputs = {audeer.path(root or "", file): file for file in index}
        option = "--transcript"
        text = _database_turns(folder, table_id, column, inputs, option=option)
        frame = text.rename("text").to_frame()
        if "speaker" in load_database(folder)[table_id].columns:
            speaker = _database_turns(
                folder, table_id, "speaker", inputs, option=option
            )
            frame.insert(0, "speaker", speaker.to_numpy())
        if frame.empty:
            raise ValueError(
                f"--transcript {':'.join(where)} has no rows for the input "
                f"files: nothing to process."
            )
        # a table's rows are read as they are, --level says how to process them
        result = read_transcript(frame, root=root)
    if args.speakers is not None:
        if "speaker" in result.columns:
            raise ValueError(
                f"--transcript {':'.join(where)} names its speakers: "
                f"leave out --speakers."
            )
        result = assign_speakers(result, _turns(args, index, root))
    return result


def _readable(file: str, root: str | None) -> bool:
    r"""Whether the duration of an audio file can be read."""
    try:
        audiofile.duration(audeer.path(root or "", file))
    except Exception:  # any reason: the interface reports it as it processes
        return False
    return True


def _rttm_turns(path: str, inputs: dict[str, str]) -> pd.Series:
    r"""Turns of an RTTM file, each file-id mapped to an input file by name.

    A file-id names the input file
    whose name is ``<file-id>.<audio extension>``
    (or ``<file-id>`` if it has an audio extension itself).

    """
    turns = read_rttm(path)  # files named <file-id>.wav, or the file-id
    by_name = {}
    for absolute, given in inputs.items():
        name = os.path.basename(absolute)
        by_name.setdefault(name, []).append(given)
        stem, extension = os.path.splitext(name)
        if extension[1:].lower() in AUDIO_EXTENSIONS and stem != name:
            by_name.setdefault(stem, []).append(given)
    mapped = {}
    for name in dict.fromkeys(turns.index.get_level_values("file")):
        matches = list(dict.fromkeys(by_name.get(name, [])))
        file_id = name[: -len(".wav")] if name.endswith(".wav") else name
        if not matches:
            matches = list(dict.fromkeys(by_name.get(file_id, [])))
        if len(matches) != 1:
            where = f"{path}, line {_rttm_line(path, file_id, name)}"
            if not matches:
                raise ValueError(
                    f"{where}: file-id '{file_id}' names none of the input "
                    f"recordings (looked for {file_id}.<"
                    f"{'|'.join(AUDIO_EXTENSIONS)}>). Give its recording as "
                    f"input too, or leave out its lines."
                )
            raise ValueError(
                f"{where}: file-id '{file_id}' names several input "
                f"recordings: {', '.join(matches)}. Give only one of them."
            )
        mapped[name] = matches[0]
    return _with_files(
        turns, [mapped[name] for name in turns.index.get_level_values("file")]
    )


def _rttm_line(path: str, *file_ids: str) -> int:
    r"""Number of the first line of an RTTM file with one of the file-ids."""
    with open(path, encoding="utf-8") as fp:
        for number, line in enumerate(fp, start=1):
            fields = line.split()
            if len(fields) > 1 and fields[0] == "SPEAKER" and fields[1] in file_ids:
                return number
    return 0  # pragma: no cover - read_rttm read the file-id from a line


def _database_turns(
    folder: str,
    table_id: str,
    column: str,
    inputs: dict[str, str],
    *,
    option: str = "--speakers",
) -> pd.Series:
    r"""Turns (or text) of a table of a database, for the input files."""
    db = load_database(folder)
    what = f"{option} {folder}:{table_id}:{column}"
    if table_id not in db.tables:
        raise ValueError(
            f"{what}: database '{folder}' has no table '{table_id}', "
            f"it has {sorted(db.tables)}."
        )
    if column not in db[table_id].columns:
        raise ValueError(
            f"{what}: table '{table_id}' has no column '{column}', "
            f"it has {sorted(db[table_id].columns)}."
        )
    turns = db[table_id][column].get()
    try:
        check_segmented(turns.index, f"The turns of table '{table_id}'")
    except ValueError as ex:
        raise ValueError(f"{what}: {ex}") from None
    turns = turns.set_axis(absolute_files(turns.index, db.root))
    absolute = [audeer.path(file) for file in turns.index.get_level_values("file")]
    keep = np.array([file in inputs for file in absolute], dtype=bool)
    turns = turns[keep]
    return _with_files(
        turns, [inputs[file] for file, kept in zip(absolute, keep) if kept]
    )


def _with_files(turns: pd.Series, files: list[str]) -> pd.Series:
    r"""Turns with other paths of their files."""
    return turns.set_axis(
        audformat.segmented_index(
            files,
            turns.index.get_level_values("start"),
            turns.index.get_level_values("end"),
        )
    )


def _index_in_database(
    index: pd.Index, root: str | None, database_root: str
) -> tuple[pd.Index, str | None]:
    r"""Files as a table of the database in ``database_root`` names them.

    Paths relative to another folder mean nothing in the database:
    absolute ones are made relative to it when the table is written,
    or refused here, before the files are processed,
    if they lie outside.

    """
    if root is not None and audeer.path(root) == audeer.path(database_root):
        return index, root
    index = audformat.filewise_index([audeer.path(root or "", file) for file in index])
    check_inside(index, database_root)
    return index, None


def _summary_line(
    frame: pd.DataFrame,
    root: str | None,
    whole_files: bool,
    seconds: float,
) -> str:
    r"""One line: files, audio duration, rows, failures, time.

    A file failed when all its rows failed
    (each a row of NaN scores);
    the audio of the other files is counted.
    Results of speaker turns
    (a ``speaker`` column)
    count turns and failed turns
    (a turn failed when all its rows failed)
    next to the rows,
    and the failed files next to the files.

    Args:
        frame: results
        root: folder the files are relative to
        whole_files: whether each row is a whole file
            (its end is the file's duration)
        seconds: time the command took

    Returns:
        the line

    Examples:
        >>> frame = pd.DataFrame(
        ...     {"arousal": [0.5, np.nan]},
        ...     index=audformat.segmented_index(["a.wav", "b.wav"], [0, 0], [90, None]),
        ... )
        >>> _summary_line(frame, None, True, 0.05)
        'audemo: 2 files, 1.5 min of audio, 2 rows, 1 failed, 0.05 s'

    """
    files = frame.index.get_level_values("file")
    # the scores, without the speaker, turn and overlap of turns
    failed = frame.select_dtypes("floating").isna().all(axis=1).to_numpy()
    # a file failed if none of its rows has a score
    succeeded = set(files[~failed])
    failed_files = set(files) - succeeded
    if whole_files:
        # each row ends where its file ends: no need to read the files again
        ends = frame.index.get_level_values("end")[~failed]
        audio = float(np.nansum(ends.total_seconds().to_numpy()))
    else:
        audio = 0.0
        for file in dict.fromkeys(files):
            if file in failed_files:
                continue
            path = (
                os.path.join(root, file) if root and not os.path.isabs(file) else file
            )
            audio += audiofile.duration(path)
    if "speaker" not in frame.columns:
        return (
            f"audemo: {count(len(set(files)), 'file')}, "
            f"{_duration(audio)} of audio, {count(len(frame), 'row')}, "
            f"{len(failed_files)} failed, {_duration(seconds)}"
        )
    # rows of one turn share its id (windows), else each row is a turn
    ids = frame["turn"] if "turn" in frame.columns else np.arange(len(frame))
    turns = pd.Series(failed).groupby(np.asarray(ids)).all()
    return (
        f"audemo: {count(len(set(files)), 'file')} ({len(failed_files)} failed), "
        f"{_duration(audio)} of audio, "
        f"{count(len(turns), 'turn')} ({int(turns.sum())} failed), "
        f"{count(len(frame), 'row')}, {_duration(seconds)}"
    )


def _duration(seconds: float) -> str:
    r"""Seconds in a unit that fits, never ``0.0 s`` for a positive duration.

    Examples:
        >>> [_duration(s) for s in (0, 0.012, 4.2, 312, 6660)]
        ['0.0 s', '0.012 s', '4.2 s', '5.2 min', '1.85 h']

    """
    if seconds >= 3600:
        return f"{seconds / 3600:.2f} h"
    if seconds >= 60:
        return f"{seconds / 60:.1f} min"
    if seconds >= 0.1 or seconds == 0:
        return f"{seconds:.1f} s"
    return f"{seconds:.2g} s"
