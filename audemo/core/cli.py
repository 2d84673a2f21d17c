r"""Command line interface: ``audemo predict|download|info``."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
import os
import sys
import time

import pandas as pd

import audeer
import audformat
import audiofile

from audemo.core.define import DEFAULT_MODEL
from audemo.core.define import DIMENSIONS
from audemo.core.define import OUTPUTS
from audemo.core.model import MODELS
from audemo.core.model import download_model
from audemo.core.model import fingerprint
from audemo.core.model import is_url
from audemo.core.model import load_model
from audemo.core.model import resolve_cache_root


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
    args = parser.parse_args(argv)
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
    commands = parser.add_subparsers(title="commands", required=True)

    model_help = (
        f"model: a registered name ({', '.join(MODELS)}), "
        f"a local model folder, or an http(s):// URL of a zip archive "
        f"(default: {DEFAULT_MODEL})"
    )
    cache_help = (
        "folder for downloaded models (default: $AUDEMO_CACHE_ROOT or ~/.cache/audemo)"
    )

    def add_model_arguments(command: argparse.ArgumentParser):
        command.add_argument("model", nargs="?", default=None, help=model_help)
        command.add_argument("--cache-root", default=None, help=cache_help)

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
            "or into the audformat database in this folder as a table"
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
        help="replace an existing table of that ID in the database",
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
        help=cache_help + "; results are cached there as well",
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
    predict.set_defaults(command=_predict)

    download = commands.add_parser(
        "download",
        help="download a model into the cache",
        description="Download a model into the cache and print its folder.",
    )
    add_model_arguments(download)
    download.set_defaults(command=_download)

    info = commands.add_parser(
        "info",
        help="show a model's inputs, outputs and fingerprint",
        description=(
            "Show a model's folder, fingerprint (SHA256 of model.onnx), "
            "inputs and outputs. Downloads the model if needed."
        ),
    )
    add_model_arguments(info)
    info.set_defaults(command=_info)

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
    compare.add_argument("--cache-root", default=None, help=cache_help)
    compare.set_defaults(command=_compare)

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
    plot.set_defaults(command=_plot)

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
        "-o", "--output", default="report.html", help="report file (.md or .html)"
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
    report.add_argument("--cache-root", default=None, help=cache_help)
    report.set_defaults(command=_report)

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
        help=cache_help + "; embeddings are cached there as well",
    )
    categories.set_defaults(command=_categories)
    return parser


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
    from audemo.core.emotion import Emotion
    from audemo.core.segment import VoiceActivity

    if args.hop_dur is not None and args.win_dur is None:
        raise ValueError("--hop-dur needs --win-dur.")
    started = time.perf_counter()
    database = args.output and os.path.isdir(args.output)
    if database and not os.path.exists(os.path.join(args.output, "db.yaml")):
        raise ValueError(f"Output folder '{args.output}' holds no audformat database.")
    if database:
        # before the model runs, and before the database is touched
        check_table_id(args.table, what="--table")
    if (
        args.output
        and not database
        and audeer.file_extension(args.output) not in ("csv", "parquet")
    ):
        raise ValueError(
            f"Output '{args.output}' must end in .csv or .parquet "
            f"or be an audformat database folder."
        )
    if args.head and args.outputs != ["logits"]:
        raise ValueError("--head predicts categories: leave out --outputs.")
    jobs = [_input_to_index(path, args.errors) for path in args.inputs]
    options = {
        "cache_root": args.cache_root,
        "num_workers": args.num_workers or os.cpu_count() or 1,
        "win_dur": args.win_dur,
        "hop_dur": args.hop_dur,
        "segment": VoiceActivity() if args.vad else None,
        "errors": args.errors,
        "verbose": True,
    }
    if args.head:
        from audemo.core.categorical import Categories

        interface = Categories(args.head, model=args.model, **options)
    else:
        interface = Emotion(args.model, outputs=args.outputs, **options)
    results_root = (
        os.path.join(resolve_cache_root(args.cache_root), "results")
        if args.cache_root
        else None
    )
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
    if database and (root is None or audeer.path(root) != audeer.path(args.output)):
        # paths relative to another folder mean nothing in the database:
        # absolute ones are made relative to it, or refused if outside
        index = audformat.filewise_index(
            [audeer.path(root or "", file) for file in index]
        )
        root = None
        # checked before the files are processed, not after
        check_inside(index, args.output)
    frame = interface.process_index(index, root=root, cache_root=results_root)
    # one row per file: no windows, no segments
    whole_files = interface.win_dur is None and interface.process.segment is None
    if args.output is None:
        _csv_safe(frame).to_csv(sys.stdout, index=False)
    elif database:
        table = frame.reset_index(["start", "end"], drop=True) if whole_files else frame
        _write_database(args.output, table, interface, args.table, args.overwrite)
    elif audeer.file_extension(args.output) == "csv":
        _csv_safe(frame).to_csv(args.output, index=False)
    else:
        frame.to_parquet(args.output)
    summary = _summary(frame, root, whole_files, time.perf_counter() - started)
    print(summary, file=sys.stderr)
    return 0


def _write_database(root, frame, interface, table_id, overwrite):
    from audemo.core.database import load_database
    from audemo.core.database import to_database

    db = load_database(root)
    to_database(db, frame, table_id, interface=interface, overwrite=overwrite)
    db.save(root)


def _compare(args: argparse.Namespace) -> int:
    from audemo.core.compare import compare_precision

    files = []
    for path in args.inputs:
        index, root = _input_to_index(path, "raise")
        files += list(audformat.utils.expand_file_path(index, root) if root else index)
    table = compare_precision(
        files, model=args.model, cache_root=args.cache_root, verbose=True
    )
    print(table.to_string(float_format=lambda value: f"{value:.4f}"))
    return 0


def _plot(args: argparse.Namespace) -> int:
    import audemo.plot

    frame = read_results(args.results)
    if args.kind == "circumplex":
        ax = audemo.plot.circumplex(frame)
    else:
        ax = audemo.plot.timeline(frame, file=args.file)
    ax.figure.savefig(args.output, dpi=120, bbox_inches="tight")
    print(args.output)
    return 0


def _report(args: argparse.Namespace) -> int:
    from audemo.core.evaluation import evaluate
    from audemo.core.report import write_report

    if audeer.file_extension(args.output).lower() not in ("md", "html"):
        raise ValueError(f"Report '{args.output}' must end in .md or .html.")
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
    from audemo.core.database import _relative_index

    prediction = prediction.set_axis(_relative_index(prediction.index, db.root))
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
        robustness = _run_robustness(args, db, truth, truth_range)
    details = {
        "Results": os.path.basename(args.results),
        "Truth": f"database {db.name}, table {table_id}",
    }
    path = write_report(args.output, evaluation, robustness=robustness, details=details)
    for dimension, row in evaluation.overall.iterrows():
        print(
            f"{dimension}: CCC {row['ccc']:.3f} [{row['ccc_low']:.3f}, "
            f"{row['ccc_high']:.3f}], n={row['n']}",
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
        cache_root=args.cache_root,
        num_workers=os.cpu_count() or 1,
        verbose=True,
    )
    # before the expensive part, and never into the model in use
    check_head_root(
        args.output,
        overwrite=args.overwrite,
        model_root=interface.model_root,
        names=("-o", "--overwrite"),
    )
    results_root = (
        os.path.join(resolve_cache_root(args.cache_root), "results")
        if args.cache_root
        else None
    )
    embeddings = interface.process_index(
        labels.dropna().index, root=db.root, cache_root=results_root
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
    Categories(head, model=args.model, cache_root=args.cache_root)
    print(head)
    return 0


def _split_labels(spec: str) -> tuple[str, str, str]:
    parts = spec.rsplit(":", 2)
    if len(parts) != 3 or not all(parts):
        raise ValueError(f"Labels must be DB_FOLDER:TABLE:COLUMN, not '{spec}'.")
    return parts[0], parts[1], parts[2]


def _run_robustness(args, db, truth, truth_range) -> pd.DataFrame:
    from audemo.core.emotion import Emotion
    from audemo.core.evaluation import rescale
    from audemo.core.robustness import robustness

    interface = Emotion(
        args.model,
        cache_root=args.cache_root,
        num_workers=os.cpu_count() or 1,
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
    if audeer.file_extension(path) == "parquet":
        return pd.read_parquet(path)
    frame = pd.read_csv(path, converters={"file": _csv_unquote})
    frame.columns = [_csv_unquote(str(column)) for column in frame.columns]
    if "file" not in frame.columns:
        raise ValueError(f"Results file '{path}' has no 'file' column.")
    if "start" in frame.columns and "end" in frame.columns:
        index = audformat.segmented_index(
            frame["file"],
            pd.to_timedelta(frame["start"]),
            pd.to_timedelta(frame["end"]),
        )
        frame = frame.drop(columns=["file", "start", "end"])
    else:
        index = audformat.filewise_index(frame["file"])
        frame = frame.drop(columns=["file"])
    frame.index = index
    return frame


def _csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
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

    """
    frame = frame.reset_index()
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
    r"""One line: files, audio duration, failures, time."""
    files = frame.index.get_level_values("file")
    failed = frame.isna().all(axis=1).to_numpy()
    failed_files = set(files[failed])
    if whole_files:
        # each row ends where its file ends: no need to read the files again
        ends = frame.index.get_level_values("end")[~failed]
        audio = ends.total_seconds().to_numpy().sum()
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
        f"audemo: {len(set(files))} files, {audio / 3600:.2f} h of audio, "
        f"{len(frame)} rows, {len(failed_files)} failed, {seconds:.1f} s"
    )


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
    root = download_model(args.model, cache_root=args.cache_root, verbose=True)
    print(root)
    return 0


def _info(args: argparse.Namespace) -> int:
    name = args.model or DEFAULT_MODEL
    root = download_model(name, cache_root=args.cache_root, verbose=True)
    model = load_model(root)
    print(f"model: {name}")
    if name in MODELS:
        print(f"url: {MODELS[name].url}")
        print(f"license: {MODELS[name].license}")
        print(f"description: {MODELS[name].description}")
    elif is_url(name):
        print(f"url: {name}")
    print(f"folder: {root}")
    print(f"fingerprint: {fingerprint(root, cache_root=args.cache_root)}")
    print(f"cache: {resolve_cache_root(args.cache_root)}")
    print(model)
    return 0
