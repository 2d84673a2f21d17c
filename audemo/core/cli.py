r"""Command line interface: ``audemo predict|download|info``."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
import contextlib
import os
import sys
import time
import warnings

import numpy as np
import pandas as pd

import audeer
import audformat
import audiofile

from audemo.core.define import DEFAULT_MODEL
from audemo.core.define import DIMENSIONS
from audemo.core.define import OUTPUTS
from audemo.core.emotion import CHUNK_DUR
from audemo.core.model import MODELS
from audemo.core.model import cache_folder
from audemo.core.model import download_model
from audemo.core.model import fingerprint
from audemo.core.model import is_url
from audemo.core.model import load_model
from audemo.core.model import resolve_cache_root
from audemo.core.precision import PRECISIONS
from audemo.core.utils import count


AUDIO_EXTENSIONS = ("wav", "flac", "ogg", "mp3", "opus", "m4a", "aac", "wma")

DATABASE_SAFETY = (
    "Databases are loaded without running code from them: db.yaml is read "
    "as plain YAML (Python tags are refused) and tables from their parquet "
    "or CSV files, never from pickles (db.TABLE.pkl is ignored, or refused "
    "if it is the only file). Their content is still untrusted: media paths "
    "may point outside the database folder."
)

# a spreadsheet runs a cell starting with one of these as a formula
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def main(argv: Sequence[str] | None = None) -> int:
    r"""Run the ``audemo`` command.

    When run as the command (``argv`` is ``None``),
    Python warnings are shown as ``audemo: warning: ...`` on stderr,
    without the source line that Python adds.

    Args:
        argv: command line arguments without the program name;
            ``None`` reads them from :data:`sys.argv`

    Returns:
        exit code: 0 on success, 1 on failure, 2 on wrong usage

    Examples:
        >>> root = audemo.testing.create_model("model")
        >>> main(["info", root])  # doctest: +ELLIPSIS
        model: .../model
        ...
        0

    """
    parser = _parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        # the sub-command's usage, not the top-level one
        args.command_parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    # called from Python (tests, notebooks), warnings stay Python warnings
    # that the caller can catch; the command shows them as its own lines
    context = _clean_warnings() if argv is None else contextlib.nullcontext()
    with context:
        try:
            return args.command(args)
        except KeyboardInterrupt:
            print("audemo: interrupted", file=sys.stderr)
            return 130
        except BrokenPipeError:
            # the reader of stdout went away (e.g. `audemo info | head`)
            sys.stdout = open(os.devnull, "w")
            return 0
        except Exception as ex:  # one clear line instead of a traceback
            message = " ".join(str(ex).split()) or type(ex).__name__
            print(f"audemo: error: {message}", file=sys.stderr)
            return 1


@contextlib.contextmanager
def _clean_warnings():
    r"""Show warnings as ``audemo: warning: ...`` lines on stderr."""

    def show(message, category, filename, lineno, file=None, line=None):
        # the first line is the warning, further lines list its items
        # (e.g. the files that failed): kept, indented as they are
        first, *rest = str(message).splitlines() or [category.__name__]
        text = "\n".join([f"audemo: warning: {first.strip()}", *rest])
        print(text, file=sys.stderr if file is None else file)

    with warnings.catch_warnings():
        warnings.showwarning = show
        yield


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="audemo",
        description=(
            "Predict arousal, dominance and valence from speech "
            "with audEERING's wav2vec2 emotion model "
            "(w2v2-L-robust-12, CC BY-NC-SA 4.0)."
        ),
        epilog=DATABASE_SAFETY,
    )
    from audemo import __version__

    parser.add_argument("--version", action="version", version=f"audemo {__version__}")
    commands = parser.add_subparsers(title="commands", required=True)

    model_help = (
        f"model: a registered name ({', '.join(MODELS)}), "
        f"a local model folder, or an http(s):// URL of a zip archive "
        f"(default: {DEFAULT_MODEL})"
    )
    model_cache_help = (
        "folder for downloaded models (default: $AUDEMO_CACHE_ROOT or ~/.cache/audemo)"
    )

    def add_model_cache_root(command: argparse.ArgumentParser, legacy: bool):
        command.add_argument(
            "--model-cache-root", default=None, metavar="DIR", help=model_cache_help
        )
        if legacy:
            # the old name of --model-cache-root in commands without results
            command.add_argument(
                "--cache-root", dest="legacy_cache_root", help=argparse.SUPPRESS
            )

    def add_model_arguments(command: argparse.ArgumentParser):
        command.add_argument("model", nargs="?", default=None, help=model_help)
        add_model_cache_root(command, legacy=True)

    predict = commands.add_parser(
        "predict",
        help="predict emotion of audio files",
        description=(
            "Predict arousal, dominance and valence (each roughly 0..1) "
            "or the 1024-d embedding of audio files. "
            "Results go to stdout as CSV unless -o is given. "
            "In CSV, text starting with = + - @, tab or carriage return "
            "gets a leading ' so that spreadsheets show it instead of running "
            "it as a formula; audemo plot and audemo report read it back as "
            "it was. " + DATABASE_SAFETY
        ),
    )
    predict.add_argument(
        "inputs",
        nargs="+",
        metavar="INPUT",
        help=(
            "audio file, folder (searched recursively for "
            f"{', '.join(AUDIO_EXTENSIONS)} files), "
            "or audformat database folder (processes all its files)"
        ),
    )
    predict.add_argument(
        "-o",
        "--output",
        help=(
            "write results to this CSV (.csv) or parquet (.parquet) file, "
            "or into the audformat database in this folder as a table; "
            "checked before anything is processed"
        ),
    )
    predict.add_argument(
        "--table",
        default="emotion",
        help=(
            "table ID when -o is a database folder: letters, digits, -, _ "
            "and . (not first, no ..) (default: emotion)"
        ),
    )
    predict.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an existing output file, or table of that ID in the database",
    )
    predict.add_argument(
        "--outputs",
        type=_outputs,
        default=["logits"],
        help=(
            "logits (arousal, dominance, valence), hidden_states "
            "(embedding), or both as logits,hidden_states (default: logits)"
        ),
    )
    predict.add_argument("--model", default=None, help=model_help)
    predict.add_argument(
        "--head",
        default=None,
        metavar="FOLDER",
        help=(
            "predict emotion categories with a classifier written by "
            "`audemo categories` (one column per category)"
        ),
    )
    predict.add_argument(
        "--cache-root",
        default=None,
        metavar="DIR",
        help=(
            "cache results in this folder: a second run reads them, "
            "an interrupted run continues (default: no results cache)"
        ),
    )
    predict.add_argument(
        "--file-key",
        choices=["stat", "content"],
        default=None,
        help=(
            "how --cache-root recognizes an audio file: stat: path, size "
            "and modification time (default); content: SHA256 of its bytes, "
            "so a moved or copied database keeps its cache"
        ),
    )
    add_model_cache_root(predict, legacy=False)
    predict.add_argument(
        "--precision",
        choices=list(PRECISIONS),
        default=None,
        help=(
            "fp32: the model as published (default); int8: 8-bit weights, "
            "faster, numbers differ slightly (check with audemo compare)"
        ),
    )
    predict.add_argument(
        "--device",
        default=None,
        help="cpu (default), cuda or cuda:ID",
    )
    predict.add_argument(
        "--channels",
        type=_channels,
        default=None,
        metavar="C",
        help=(
            "channel(s) of multi-channel files, e.g. 1 or 0,1 "
            "(several need --mixdown) (default: 0, the first)"
        ),
    )
    predict.add_argument(
        "--mixdown",
        action="store_true",
        help="mix the selected channels down to mono (without --channels: all)",
    )
    predict.add_argument(
        "--chunk-dur",
        type=_chunk_dur,
        default=None,
        metavar="S",
        help=(
            "inputs longer than S seconds run through the model in equal chunks "
            "of at most S seconds, outputs averaged; none: always whole "
            f"(default: {CHUNK_DUR:g})"
        ),
    )
    predict.add_argument(
        "--num-threads",
        type=int,
        default=None,
        metavar="N",
        help=(
            "onnxruntime threads per worker "
            "(default: the cores shared among the workers)"
        ),
    )
    predict.add_argument(
        "--num-workers",
        type=int,
        default=None,
        help=(
            "number of files processed in parallel, each with "
            "cores / N onnxruntime threads (default: one per core, "
            "the fastest split for lists of files)"
        ),
    )
    predict.add_argument(
        "--win-dur",
        type=float,
        default=None,
        metavar="S",
        help="emotion over time: one row per window of S seconds",
    )
    predict.add_argument(
        "--hop-dur",
        type=float,
        default=None,
        metavar="S",
        help="shift between windows in seconds (default: half of --win-dur)",
    )
    predict.add_argument(
        "--vad",
        action="store_true",
        help="one row per speech segment found by voice activity detection",
    )
    predict.add_argument(
        "--errors",
        choices=["raise", "coerce"],
        default="raise",
        help=(
            "raise: stop at the first file that fails (default); "
            "coerce: give it a row of NaN, warn, and go on"
        ),
    )
    predict.add_argument(
        "--time-format",
        choices=["seconds", "timedelta"],
        default=None,
        help=(
            "start and end in CSV: seconds as numbers, exact to the nanosecond "
            "(default), or pandas durations such as 0 days 00:00:01.5 "
            "(parquet and database tables always store durations)"
        ),
    )
    predict.set_defaults(command=_predict, command_parser=predict)

    download = commands.add_parser(
        "download",
        help="download a model into the cache",
        description="Download a model into the cache and print its folder.",
    )
    add_model_arguments(download)
    download.set_defaults(command=_download, command_parser=download)

    info = commands.add_parser(
        "info",
        help="show a model's source, licence, inputs, outputs and fingerprint",
        description=(
            "Show what audemo knows about a model: for a registered name "
            "its URL, licence, description and published checksum, without "
            "downloading it; the folder, fingerprint (SHA256 of model.onnx), "
            "inputs and outputs of a model folder, or of a model in the cache "
            "(or with --download)."
        ),
    )
    add_model_arguments(info)
    info.add_argument(
        "--download",
        action="store_true",
        help="download a registered or URL model that is not in the cache",
    )
    info.set_defaults(command=_info, command_parser=info)

    compare = commands.add_parser(
        "compare",
        help="compare the int8 model with the float32 model on your files",
        description=(
            "Run the float32 and the int8 model on your files and print "
            "their agreement: CCC, Pearson correlation and absolute "
            "differences per dimension, cosine similarity of the embeddings."
        ),
    )
    compare.add_argument(
        "inputs", nargs="+", metavar="INPUT", help="audio files, folders or databases"
    )
    compare.add_argument("--model", default=None, help=model_help)
    add_model_cache_root(compare, legacy=True)
    compare.set_defaults(command=_compare, command_parser=compare)

    plot = commands.add_parser(
        "plot",
        help="draw results as a picture",
        description=(
            "Draw results of `audemo predict` (CSV or parquet): "
            "the valence-arousal plane with one point per row (circumplex), "
            "or the scores of one file over time (timeline; needs results "
            "of --win-dur or --vad)."
        ),
    )
    plot.add_argument("results", help="results file (.csv or .parquet)")
    plot.add_argument(
        "-o", "--output", required=True, help="picture file, e.g. fig.png"
    )
    plot.add_argument(
        "--kind",
        choices=["circumplex", "timeline"],
        default="circumplex",
        help="kind of picture (default: circumplex)",
    )
    plot.add_argument("--file", default=None, help="the file to show in a timeline")
    plot.add_argument(
        "--overwrite", action="store_true", help="replace an existing picture"
    )
    plot.set_defaults(command=_plot, command_parser=plot)

    report = commands.add_parser(
        "report",
        help="evaluate results against gold labels and write a report",
        description=(
            "Compare results of `audemo predict` with the gold labels of an "
            "audformat database as the paper does: CCC, Pearson correlation "
            "and MAE per dimension with bootstrap confidence intervals, per "
            "group (fairness) and per speaker, optionally robustness to "
            "perturbations. Writes a Markdown (.md) or HTML (.html) report. "
            + DATABASE_SAFETY
        ),
    )
    report.add_argument("results", help="results file (.csv or .parquet)")
    report.add_argument(
        "--truth",
        required=True,
        metavar="DB:TABLE",
        help=(
            "gold labels: audformat database folder and table ID, e.g. "
            "data/mydb:emotion.test; columns named arousal, dominance, valence"
        ),
    )
    report.add_argument(
        "-o",
        "--output",
        default="report.html",
        help="report file (.md or .html) (default: report.html)",
    )
    report.add_argument(
        "--overwrite", action="store_true", help="replace an existing report"
    )
    report.add_argument(
        "--group",
        action="append",
        default=[],
        metavar="COLUMN",
        help=(
            "fairness: metrics per value of this column (e.g. sex), taken from "
            "the truth table or another table of the database; repeatable"
        ),
    )
    report.add_argument(
        "--speaker",
        default=None,
        metavar="COLUMN",
        help="per-speaker spread: the column holding the speaker",
    )
    report.add_argument(
        "--truth-range",
        nargs=2,
        type=float,
        default=None,
        metavar=("LOW", "HIGH"),
        help=(
            "gold scale mapped to 0..1, e.g. 1 7 "
            "(default: minimum and maximum of the columns' schemes, if set)"
        ),
    )
    report.add_argument(
        "--min-samples",
        type=int,
        default=10,
        help="fewest samples a group or speaker needs (default: 10)",
    )
    report.add_argument(
        "--bootstrap",
        type=int,
        default=1000,
        help="bootstrap resamples for confidence intervals (default: 1000)",
    )
    report.add_argument("--seed", type=int, default=0, help="seed (default: 0)")
    report.add_argument(
        "--robustness",
        action="store_true",
        help=(
            "also run the model on perturbed versions of the database's "
            "files (noise, gain, telephone band, ...) and report the change"
        ),
    )
    report.add_argument(
        "--model", default=None, help=model_help + "; used by --robustness"
    )
    add_model_cache_root(report, legacy=True)
    report.set_defaults(command=_report, command_parser=report)

    categories = commands.add_parser(
        "categories",
        help="train a classifier of emotion categories on the embedding",
        description=(
            "Train a classifier of categories (e.g. angry, happy, neutral, "
            "sad) on the model's embedding, with the labels of an audformat "
            "database. Prints its leave-one-speaker-out unweighted average "
            "recall (UAR) and confusion matrix, trains it on all speakers, "
            "and saves it as an ONNX folder for `audemo predict --head`. "
            + DATABASE_SAFETY
        ),
    )
    categories.add_argument(
        "labels",
        metavar="DB:TABLE:COLUMN",
        help="database folder, table ID and column of the category labels",
    )
    categories.add_argument(
        "--speaker",
        required=True,
        metavar="COLUMN",
        help=(
            "column holding the speaker (in the labels' table or another "
            "table of the database), for leave-one-speaker-out evaluation"
        ),
    )
    categories.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="FOLDER",
        help=(
            "folder of the head: new, empty, or holding a head to replace "
            "(anything else needs --overwrite; never the model's folder)"
        ),
    )
    categories.add_argument(
        "--overwrite",
        action="store_true",
        help="write the head into a folder that holds other files",
    )
    categories.add_argument(
        "--classifier",
        choices=["logistic", "svc"],
        default="logistic",
        help=(
            "logistic: logistic regression, gives probabilities (default); "
            "svc: linear support vector machine, gives scores"
        ),
    )
    categories.add_argument(
        "--C",
        type=float,
        default=1.0,
        dest="c",
        help="inverse regularization strength (default: 1.0)",
    )
    categories.add_argument(
        "--confusion",
        default=None,
        metavar="PICTURE",
        help="draw the confusion matrix into this picture, e.g. confusion.png",
    )
    categories.add_argument("--model", default=None, help=model_help)
    categories.add_argument(
        "--cache-root",
        default=None,
        metavar="DIR",
        help="cache the embeddings in this folder (default: no results cache)",
    )
    add_model_cache_root(categories, legacy=False)
    categories.set_defaults(command=_categories, command_parser=categories)
    return parser


def _channels(value: str) -> int | list[int]:
    try:
        channels = [int(channel) for channel in value.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"'{value}' is not a channel number or a list like 0,1"
        ) from None
    return channels[0] if len(channels) == 1 else channels


def _chunk_dur(value: str) -> float | str:
    if value.lower() == "none":
        return "none"  # None is the default: the interface's chunk length
    try:
        seconds = float(value)
    except ValueError:
        seconds = float("nan")
    if not seconds > 0:
        raise argparse.ArgumentTypeError(
            f"'{value}' is not a positive number of seconds or none"
        )
    return seconds


def _outputs(value: str) -> list[str]:
    names = [name.strip() for name in value.split(",") if name.strip()]
    if not names or any(name not in OUTPUTS for name in names):
        raise argparse.ArgumentTypeError(
            f"'{value}' is not one of logits, hidden_states, or logits,hidden_states"
        )
    return names


def _predict(args: argparse.Namespace) -> int:
    from audemo.core.database import check_inside
    from audemo.core.database import check_table_id
    from audemo.core.database import load_database
    from audemo.core.emotion import Emotion
    from audemo.core.segment import VoiceActivity

    if args.hop_dur is not None and args.win_dur is None:
        raise ValueError("--hop-dur needs --win-dur.")
    if args.file_key is not None and args.cache_root is None:
        raise ValueError("--file-key needs --cache-root (it keys the results cache).")
    if args.head and args.outputs != ["logits"]:
        raise ValueError("--head predicts categories: leave out --outputs.")
    channels = 0 if args.channels is None else args.channels
    if args.channels is None and args.mixdown:
        channels = None  # all channels
    if isinstance(channels, list) and not args.mixdown:
        raise ValueError(
            f"--channels {','.join(map(str, channels))} selects "
            f"{len(channels)} channels, the model takes one: "
            f"add --mixdown or select a single channel."
        )
    started = time.perf_counter()
    # every output is checked before the model runs or a file is read
    database = None
    csv = False
    if args.output and os.path.isdir(args.output):
        if not os.path.exists(os.path.join(args.output, "db.yaml")):
            raise ValueError(
                f"Output folder '{args.output}' holds no audformat database "
                f"(db.yaml): give -o a .csv or .parquet file, "
                f"or the folder of a database."
            )
        check_table_id(args.table, what="--table")
        _check_writable(args.output, "-o")
        database = load_database(args.output)
        if args.table in database.tables and not args.overwrite:
            raise ValueError(
                f"Database '{args.output}' has a table '{args.table}' already: "
                f"pass --overwrite to replace it, or choose another --table."
            )
    elif args.output:
        extension = _check_output(
            args.output, ("csv", "parquet"), overwrite=args.overwrite, what="-o"
        )
        csv = extension == "csv"
    else:
        csv = True  # stdout
    if args.time_format is not None and not csv:
        raise ValueError(
            "--time-format applies to CSV only: parquet files and database "
            "tables store start and end as durations."
        )
    jobs = [_input_to_index(path, args.errors) for path in args.inputs]
    options = {
        "num_workers": args.num_workers or os.cpu_count() or 1,
        "win_dur": args.win_dur,
        "hop_dur": args.hop_dur,
        "segment": VoiceActivity() if args.vad else None,
        "channels": channels,
        "mixdown": args.mixdown,
        "errors": args.errors,
        "verbose": True,
        "model_cache_root": args.model_cache_root,
    }
    # given only when set: the interface's defaults stay in one place
    for name in ("precision", "device", "num_threads"):
        if getattr(args, name) is not None:
            options[name] = getattr(args, name)
    if args.chunk_dur is not None:
        options["chunk_dur"] = None if args.chunk_dur == "none" else args.chunk_dur
    if args.head:
        from audemo.core.categorical import Categories

        interface = Categories(args.head, model=args.model, **options)
    else:
        interface = Emotion(args.model, outputs=args.outputs, **options)
    if len(jobs) == 1:
        index, root = jobs[0]
    else:
        # several inputs: absolute paths keep them apart, and one run
        # gives one progress bar and one warning over all of them
        index = audformat.utils.union(
            [
                audformat.utils.expand_file_path(index, root) if root else index
                for index, root in jobs
            ]
        )
        root = None
    if database is not None and (
        root is None or audeer.path(root) != audeer.path(args.output)
    ):
        # paths relative to another folder mean nothing in the database:
        # absolute ones are made relative to it, or refused if outside
        index = audformat.filewise_index(
            [audeer.path(root or "", file) for file in index]
        )
        root = None
        # checked before the files are processed, not after
        check_inside(index, args.output)
    cache_options = {}
    if args.file_key is not None:
        cache_options["file_key"] = args.file_key
    frame = interface.process_index(
        index, root=root, cache_root=args.cache_root, **cache_options
    )
    # one row per file: no windows, no segments
    whole_files = interface.win_dur is None and interface.process.segment is None
    time_format = args.time_format or "seconds"
    if args.output is None:
        _csv_safe(frame, time_format).to_csv(sys.stdout, index=False)
    elif database is not None:
        table = frame.reset_index(["start", "end"], drop=True) if whole_files else frame
        _write_database(args.output, database, table, interface, args.table)
    elif csv:
        _csv_safe(frame, time_format).to_csv(args.output, index=False)
    else:
        frame.to_parquet(args.output)
    summary = _summary(frame, root, whole_files, time.perf_counter() - started)
    print(summary, file=sys.stderr)
    return 0


def _legacy_model_cache_root(args: argparse.Namespace) -> str | None:
    r"""--model-cache-root, or its old name --cache-root with a warning."""
    legacy = getattr(args, "legacy_cache_root", None)
    if legacy is None:
        return args.model_cache_root
    if args.model_cache_root is not None:
        raise ValueError(
            "--cache-root is the old name of --model-cache-root here: give one."
        )
    warnings.warn(
        "--cache-root names the model cache only in audemo download, info, "
        "compare and report, and will go: use --model-cache-root.",
        FutureWarning,
        stacklevel=2,
    )
    return legacy


def _check_output(
    path: str, extensions: Sequence[str], *, overwrite: bool, what: str
) -> str:
    r"""Refuse an output that cannot be written, before any work.

    Returns:
        the file extension in lower case

    """
    extension = audeer.file_extension(path).lower()
    if extension not in extensions:
        endings = " or ".join(f".{extension}" for extension in extensions)
        raise ValueError(f"Output '{path}' ({what}) must end in {endings}.")
    if os.path.isdir(path):
        raise ValueError(f"Output '{path}' ({what}) is a folder, not a file.")
    if os.path.exists(path) and not overwrite:
        raise ValueError(
            f"Output '{path}' exists: pass --overwrite to replace it, "
            f"or choose another {what}."
        )
    _check_writable(os.path.dirname(audeer.path(path)), what)
    return extension


def _check_writable(folder: str, what: str):
    if not os.path.isdir(folder):
        raise ValueError(
            f"Folder '{folder}' of {what} does not exist: create it first."
        )
    if not os.access(folder, os.W_OK):
        raise ValueError(f"Cannot write to folder '{folder}' ({what}).")


def _write_database(root, db, frame, interface, table_id):
    from audemo.core.database import to_database

    # replacing a table was allowed (--overwrite) or it did not exist
    to_database(db, frame, table_id, interface=interface, overwrite=True)
    db.save(root)


def _compare(args: argparse.Namespace) -> int:
    from audemo.core.compare import compare_precision

    model_cache_root = _legacy_model_cache_root(args)
    files = []
    for path in args.inputs:
        index, root = _input_to_index(path, "raise")
        files += list(audformat.utils.expand_file_path(index, root) if root else index)
    table = compare_precision(
        files, model=args.model, cache_root=model_cache_root, verbose=True
    )
    print(table.to_string(float_format=lambda value: f"{value:.4f}"))
    return 0


def _plot(args: argparse.Namespace) -> int:
    import audemo.plot

    _check_output(args.output, _picture_formats(), overwrite=args.overwrite, what="-o")
    frame = read_results(args.results)
    if args.kind == "circumplex":
        ax = audemo.plot.circumplex(frame)
    else:
        ax = audemo.plot.timeline(frame, file=args.file)
    ax.figure.savefig(args.output, dpi=120, bbox_inches="tight")
    print(args.output)
    return 0


def _picture_formats() -> list[str]:
    r"""File extensions matplotlib can save pictures as."""
    from audemo.core.utils import import_optional

    import_optional("matplotlib.pyplot", purpose="plots")  # a clear error early
    from matplotlib.backend_bases import FigureCanvasBase

    return sorted(FigureCanvasBase.get_supported_filetypes())


def _report(args: argparse.Namespace) -> int:
    from audemo.core.evaluation import evaluate
    from audemo.core.report import write_report

    _check_output(args.output, ("md", "html"), overwrite=args.overwrite, what="-o")
    model_cache_root = _legacy_model_cache_root(args)
    prediction = read_results(args.results)
    db, table_id = _load_truth(args.truth)
    truth = db[table_id].get()
    dimensions = [name for name in DIMENSIONS if name in truth.columns]
    if not dimensions:
        raise ValueError(
            f"Table '{table_id}' has no column {list(DIMENSIONS)}: "
            f"it has {list(truth.columns)}."
        )
    truth = truth[dimensions]
    if args.truth_range is not None:
        truth_range = tuple(args.truth_range)
    else:
        truth_range = _scheme_ranges(db, table_id, dimensions)
    from audemo.core.database import relative_index

    prediction = prediction.set_axis(relative_index(prediction.index, db.root))
    groups = None
    if args.group:
        groups = pd.concat(
            [_database_column(db, table_id, name) for name in args.group], axis=1
        )
    speakers = _database_column(db, table_id, args.speaker) if args.speaker else None
    evaluation = evaluate(
        prediction,
        truth,
        truth_range=truth_range,
        groups=groups,
        speakers=speakers,
        min_samples=args.min_samples,
        num_bootstrap=args.bootstrap,
        seed=args.seed,
    )
    robustness = None
    if args.robustness:
        robustness = _run_robustness(args, db, truth, truth_range, model_cache_root)
    details = {
        "Results": os.path.basename(args.results),
        "Truth": f"database {db.name}, table {table_id}",
    }
    path = write_report(args.output, evaluation, robustness=robustness, details=details)
    for dimension, row in evaluation.overall.iterrows():
        print(
            f"{dimension}: CCC {row['ccc']:.3f} [{row['ccc_low']:.3f}, "
            f"{row['ccc_high']:.3f}], n={int(row['n'])}",
            file=sys.stderr,
        )
    print(path)
    return 0


def _categories(args: argparse.Namespace) -> int:
    from audemo.core.categorical import Categories
    from audemo.core.categorical import check_head_root
    from audemo.core.categorical import evaluate_categories
    from audemo.core.categorical import save_categories
    from audemo.core.categorical import train_categories
    from audemo.core.emotion import Emotion

    root, table_id, column = _split_labels(args.labels)
    # outputs first: nothing is loaded or computed for an output that fails
    check_head_root(
        args.output,
        overwrite=args.overwrite,
        model_root=_model_folder(args.model, args.model_cache_root),
        names=("-o", "--overwrite"),
    )
    if args.confusion:
        # a picture is replaced like the head (no --overwrite needed)
        _check_output(
            args.confusion, _picture_formats(), overwrite=True, what="--confusion"
        )
    db, table_id = _load_truth(f"{root}:{table_id}")
    if column not in db[table_id].columns:
        raise ValueError(
            f"Table '{table_id}' has no column '{column}': "
            f"it has {list(db[table_id].columns)}."
        )
    labels = db[table_id][column].get()
    speakers = _database_column(db, table_id, args.speaker)
    interface = Emotion(
        args.model,
        outputs="hidden_states",
        num_workers=os.cpu_count() or 1,
        verbose=True,
        model_cache_root=args.model_cache_root,
    )
    # before the expensive part, and never into the model in use
    check_head_root(
        args.output,
        overwrite=args.overwrite,
        model_root=interface.model_root,
        names=("-o", "--overwrite"),
    )
    embeddings = interface.process_index(
        labels.dropna().index, root=db.root, cache_root=args.cache_root
    )
    options = {"classifier": args.classifier, "C": args.c}
    evaluation = evaluate_categories(embeddings, labels, speakers, **options)
    speakers_count = evaluation.predictions["speaker"].nunique()
    print(
        f"leave-one-speaker-out over {speakers_count} speakers: "
        f"UAR {evaluation.uar:.3f}, accuracy {evaluation.accuracy:.3f} "
        f"(guessing: UAR {1 / len(evaluation.confusion):.3f})",
        file=sys.stderr,
    )
    print(evaluation.confusion.to_string(), file=sys.stderr)
    if args.confusion:
        import audemo.plot

        ax = audemo.plot.confusion(evaluation.confusion)
        ax.figure.savefig(args.confusion, dpi=120, bbox_inches="tight")
    classifier = train_categories(embeddings, labels, **options)
    head = save_categories(classifier, args.output, overwrite=True)  # checked above
    # checks that the head runs with the model that made the embeddings
    Categories(head, model=args.model, model_cache_root=args.model_cache_root)
    print(head)
    return 0


def _split_labels(spec: str) -> tuple[str, str, str]:
    parts = spec.rsplit(":", 2)
    if len(parts) != 3 or not all(parts):
        raise ValueError(f"Labels must be DB_FOLDER:TABLE:COLUMN, not '{spec}'.")
    return parts[0], parts[1], parts[2]


def _model_folder(model: str | None, model_cache_root: str | None) -> str | None:
    r"""Folder of the model if it is there already, without downloading it."""
    model = model or DEFAULT_MODEL
    if model in MODELS or is_url(model):
        folder = cache_folder(model, cache_root=model_cache_root)
    else:
        folder = audeer.path(model)
    return folder if os.path.isdir(folder) else None


def _run_robustness(args, db, truth, truth_range, model_cache_root) -> pd.DataFrame:
    from audemo.core.emotion import Emotion
    from audemo.core.evaluation import rescale
    from audemo.core.robustness import robustness

    interface = Emotion(
        args.model,
        num_workers=os.cpu_count() or 1,
        model_cache_root=model_cache_root,
    )
    if audformat.index_type(truth.index) == audformat.define.IndexType.FILEWISE:
        index, truth = truth.index, rescale(truth, truth_range)
    else:
        # robustness compares file means with filewise gold labels only
        index, truth = truth.index, None
    result = robustness(interface, index, truth=truth, root=db.root, verbose=True)
    return result.summary


def _load_truth(spec: str) -> tuple[audformat.Database, str]:
    from audemo.core.database import load_database

    root, separator, table_id = spec.rpartition(":")
    if not separator or not root or not table_id:
        raise ValueError(f"--truth must be DB_FOLDER:TABLE, not '{spec}'.")
    if not os.path.exists(os.path.join(root, "db.yaml")):
        raise ValueError(f"Folder '{root}' holds no audformat database (db.yaml).")
    db = load_database(root)
    if table_id not in db.tables:
        raise ValueError(
            f"Database '{root}' has no table '{table_id}': it has {sorted(db.tables)}."
        )
    return db, table_id


def _scheme_ranges(
    db: audformat.Database, table_id: str, dimensions: list[str]
) -> dict[str, tuple[float, float]] | None:
    ranges = {}
    for dimension in dimensions:
        scheme_id = db[table_id].columns[dimension].scheme_id
        scheme = db.schemes.get(scheme_id) if scheme_id else None
        if (
            scheme is not None
            and scheme.minimum is not None
            and scheme.maximum is not None
            and (scheme.minimum, scheme.maximum) != (0, 1)
        ):
            ranges[dimension] = (float(scheme.minimum), float(scheme.maximum))
    return ranges or None


def _database_column(db: audformat.Database, table_id: str, name: str) -> pd.Series:
    # the truth table first, then any other table: speaker or sex
    # often live in a table of their own (e.g. files)
    for candidate in [table_id] + sorted(db.tables):
        if name in db[candidate].columns:
            return db[candidate][name].get().rename(name)
    columns = sorted(
        {column for table in db.tables.values() for column in table.columns}
    )
    raise ValueError(
        f"No table of database '{db.name}' has a column '{name}': {columns}."
    )


def read_results(path: str) -> pd.DataFrame:
    r"""Read results written by ``audemo predict``.

    ``start`` and ``end`` in CSV files may be seconds
    (``--time-format seconds``, the default)
    or pandas durations such as ``0 days 00:00:01.5``
    (``--time-format timedelta``, and audemo before 1.1).
    In CSV files,
    ``audemo predict`` writes text cells
    starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return
    with a leading ``'``
    (spreadsheets show them as text instead of running a formula);
    it is removed here,
    so that file names and columns are read back as they were.

    Args:
        path: CSV or parquet file

    Returns:
        results with their audformat index

    Raises:
        FileNotFoundError: if ``path`` does not exist
        ValueError: if the file has no ``file`` column

    """
    if not os.path.exists(path):
        raise FileNotFoundError(f"Results file '{path}' does not exist.")
    if audeer.file_extension(path).lower() == "parquet":
        return pd.read_parquet(path)
    frame = pd.read_csv(path, converters={"file": _csv_unquote})
    frame.columns = [_csv_unquote(str(column)) for column in frame.columns]
    if "file" not in frame.columns:
        raise ValueError(f"Results file '{path}' has no 'file' column.")
    if "start" in frame.columns and "end" in frame.columns:
        index = audformat.segmented_index(
            frame["file"], _read_time(frame["start"]), _read_time(frame["end"])
        )
        frame = frame.drop(columns=["file", "start", "end"])
    else:
        index = audformat.filewise_index(frame["file"])
        frame = frame.drop(columns=["file"])
    frame.index = index
    return frame


def _read_time(column: pd.Series) -> pd.Series:
    r"""Seconds (numbers) or pandas durations (text) as durations."""
    if pd.api.types.is_numeric_dtype(column):
        # whole nanoseconds: 1.428020833 s is 1428020833 ns, not one less
        nanoseconds = np.round(column.to_numpy(dtype="float64") * 1e9)
        return pd.Series(pd.to_timedelta(nanoseconds, unit="ns"), index=column.index)
    return pd.to_timedelta(column)


def _csv_safe(frame: pd.DataFrame, time_format: str = "seconds") -> pd.DataFrame:
    r"""Results as columns, text cells quoted against formula injection.

    A spreadsheet runs a cell starting with ``=``, ``+``, ``-``, ``@``,
    tab or carriage return as a formula
    (a file named ``=HYPERLINK(...).wav`` becomes a link).
    Such text cells and column names get a leading ``'``,
    which spreadsheets show as text.
    Text starting with ``'`` followed by one of these or ``'``
    gets one too,
    so that :func:`read_results` removes exactly one
    and reads every name back as it was.
    Numbers (e.g. ``-0.2``) are left as they are.
    With ``time_format="seconds"``,
    ``start`` and ``end`` become seconds
    rounded to the nanosecond (the resolution of a duration),
    which the CSV writer prints in the fewest digits that read back exactly.

    """
    frame = frame.reset_index()
    if time_format == "seconds":
        for column in ("start", "end"):
            if column in frame.columns:
                frame[column] = np.round(frame[column].dt.total_seconds(), 9)
    for column in frame.columns:
        if frame[column].dtype == object or pd.api.types.is_string_dtype(frame[column]):
            frame[column] = frame[column].map(_csv_quote)
    return frame.rename(columns=lambda column: _csv_quote(str(column)))


def _csv_quote(value: object) -> object:
    if isinstance(value, str) and (
        value.startswith(FORMULA_STARTS)
        or (value.startswith("'") and value[1:].startswith((*FORMULA_STARTS, "'")))
    ):
        return "'" + value
    return value


def _csv_unquote(value: str) -> str:
    if value.startswith("'") and value[1:].startswith((*FORMULA_STARTS, "'")):
        return value[1:]
    return value


def _summary(
    frame: pd.DataFrame, root: str | None, whole_files: bool, seconds: float
) -> str:
    r"""One line: files, audio duration, rows, failed files, time."""
    files = frame.index.get_level_values("file")
    failed = frame.isna().all(axis=1).to_numpy()
    failed_files = set(files[failed])
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
    return (
        f"audemo: {count(len(set(files)), 'file')}, "
        f"{_duration(audio)} of audio, {count(len(frame), 'row')}, "
        f"{len(failed_files)} failed, {_duration(seconds)}"
    )


def _duration(seconds: float) -> str:
    r"""Seconds in a unit that fits, never ``0.0 s`` for a positive duration."""
    if seconds >= 3600:
        return f"{seconds / 3600:.2f} h"
    if seconds >= 60:
        return f"{seconds / 60:.1f} min"
    if seconds >= 0.1 or seconds == 0:
        return f"{seconds:.1f} s"
    return f"{seconds:.2g} s"


def _input_to_index(path: str, errors: str) -> tuple[pd.Index, str | None]:
    if not os.path.exists(path):
        if errors == "coerce":
            # reported with a row of NaN like any other failing file
            return audformat.filewise_index([path]), None
        raise FileNotFoundError(f"Input '{path}' does not exist.")
    if os.path.isdir(path):
        if os.path.exists(os.path.join(path, "db.yaml")):
            from audemo.core.database import load_database

            return load_database(path).files, audeer.path(path)
        files = sorted(
            file
            for file in audeer.list_file_names(path, recursive=True, basenames=True)
            if audeer.file_extension(file).lower() in AUDIO_EXTENSIONS
        )
        if not files:
            raise FileNotFoundError(
                f"Folder '{path}' holds no audio files ({', '.join(AUDIO_EXTENSIONS)})."
            )
        return audformat.filewise_index(files), audeer.path(path)
    return audformat.filewise_index([path]), None


def _download(args: argparse.Namespace) -> int:
    root = download_model(
        args.model, cache_root=_legacy_model_cache_root(args), verbose=True
    )
    print(root)
    return 0


def _info(args: argparse.Namespace) -> int:
    from audemo.core.model import model_info

    model_cache_root = _legacy_model_cache_root(args)
    name = args.model or DEFAULT_MODEL
    # what is known without the network: the registry and the cache
    info = model_info(name, cache_root=model_cache_root)
    print(f"model: {info['model']}")
    for key in ("url", "license", "description"):
        if info[key] is not None:
            print(f"{key}: {info[key]}")
    if name in MODELS:
        print(
            f"sha256: {info['pinned_sha256']}"
            if info["pinned_sha256"]
            else "sha256: not pinned (no published checksum; the download "
            "is checked by opening it and comparing its inputs and outputs)"
        )
    print(f"cache: {resolve_cache_root(model_cache_root)}")
    if info["folder"] is None and not args.download:
        folder = cache_folder(name, cache_root=model_cache_root)
        cache = f" --model-cache-root {model_cache_root}" if model_cache_root else ""
        print(
            f"folder: not in the cache (would be {folder}); "
            f"`audemo download {name}{cache}` or "
            f"`audemo info {name}{cache} --download` gets it"
        )
        return 0
    # a cached model is checked (and a damaged one reported) on the way
    root = download_model(name, cache_root=model_cache_root, verbose=True)
    model = load_model(root)
    print(f"folder: {root}")
    print(f"fingerprint: {fingerprint(root, cache_root=model_cache_root)}")
    if info["archive_sha256"]:
        print(f"archive sha256: {info['archive_sha256']}")
    print(model)
    return 0
