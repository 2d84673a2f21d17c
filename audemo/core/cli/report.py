r"""``audemo report``: evaluate results against gold labels and write a report.

Compares results of ``audemo predict``
with the gold labels of an audformat database
(:func:`audemo.evaluate`):
CCC, Pearson correlation and MAE per dimension
with bootstrap confidence intervals,
per group and per speaker,
optionally robustness to perturbations
(:func:`audemo.robustness`),
and writes them as Markdown or HTML
(:func:`audemo.write_report`).

"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
import os
import sys
import typing
import warnings

from audemo.core.cli import COMMANDS
from audemo.core.cli.common import DATABASE_SAFETY_POINTER
from audemo.core.cli.common import add_model_cache_root
from audemo.core.cli.common import add_model_option
from audemo.core.cli.common import check_output
from audemo.core.cli.common import legacy_model_cache_root
from audemo.core.cli.common import per_file
from audemo.core.cli.common import require_packages
from audemo.core.cli.common import show_progress
from audemo.core.define import DIMENSIONS
from audemo.core.utils import available_cores


# Heavy packages (pandas, audformat, onnxruntime, ...) are imported
# in the functions that use them, so that `audemo report --help`
# needs none of them (tests/test_startup.py)
if typing.TYPE_CHECKING:  # pragma: no cover - annotations only
    import pandas as pd

    import audformat

    from audemo.core.evaluation import Evaluation


def add_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    r"""Add the command ``report``.

    Args:
        commands: sub-parsers of the ``audemo`` parser

    Returns:
        parser of the command

    """
    command = commands.add_parser(
        "report",
        help=COMMANDS["report"],
        description=(
            "Compare results of `audemo predict` with the gold labels of an "
            "audformat database as the paper does: CCC, Pearson correlation "
            "and MAE per dimension with bootstrap confidence intervals, per "
            "group (fairness) and per speaker, optionally robustness to "
            "perturbations. Writes a Markdown (.md) or HTML (.html) report. "
            + DATABASE_SAFETY_POINTER
        ),
    )
    _add_input_options(command)
    _add_evaluation_options(command)
    command.add_argument(
        "--robustness",
        action="store_true",
        help=(
            "also run the model on perturbed versions of the database's "
            "files (noise, gain, telephone band, ...) and report the change"
        ),
    )
    command.add_argument(
        "--calibration",
        default=None,
        metavar="FILE",
        help=(
            "also evaluate the results mapped by this calibration "
            "(written by audemo calibrate) against the gold labels as they "
            "are, shown next to the raw figures"
        ),
    )
    add_model_option(command, "; used by --robustness")
    add_model_cache_root(command, legacy=True)
    return command


def _add_input_options(command: argparse.ArgumentParser):
    r"""Results, gold labels and the report file."""
    command.add_argument("results", help="results file (.csv or .parquet)")
    command.add_argument(
        "--truth",
        required=True,
        metavar="DB:TABLE",
        help=(
            "gold labels: audformat database folder and table ID, e.g. "
            "data/mydb:emotion.test; columns named arousal, dominance, valence"
        ),
    )
    command.add_argument(
        "-o",
        "--output",
        default="report.html",
        help="report file (.md or .html) (default: report.html)",
    )
    command.add_argument(
        "--overwrite", action="store_true", help="replace an existing report"
    )


def _add_evaluation_options(command: argparse.ArgumentParser):
    r"""Groups, speakers, gold scale, and bootstrap."""
    command.add_argument(
        "--group",
        action="append",
        default=[],
        metavar="COLUMN",
        help=(
            "fairness: metrics per value of this column (e.g. sex), taken from "
            "the truth table or another table of the database; repeatable"
        ),
    )
    command.add_argument(
        "--speaker",
        default=None,
        metavar="COLUMN",
        help="per-speaker spread: the column holding the speaker",
    )
    command.add_argument(
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
    command.add_argument(
        "--min-samples",
        type=int,
        default=10,
        help="fewest samples a group or speaker needs (default: 10)",
    )
    command.add_argument(
        "--bootstrap",
        type=int,
        default=1000,
        help="bootstrap resamples for confidence intervals (default: 1000)",
    )
    command.add_argument("--seed", type=int, default=0, help="seed (default: 0)")


def run(args: argparse.Namespace) -> int:
    r"""Evaluate, write the report, and print its name.

    The CCC of each dimension goes to stderr.

    Args:
        args: parsed arguments

    Returns:
        exit code 0

    Raises:
        ValueError: if the report cannot be written
            (checked first),
            or the gold table is not found
            or has no column arousal, dominance or valence

    Examples:
        >>> from audemo.core.cli import main
        >>> db = audformat.Database("gold")
        >>> db["gold"] = audformat.Table(
        ...     audformat.filewise_index([f"{n}.wav" for n in range(20)])
        ... )
        >>> db["gold"]["arousal"] = audformat.Column()
        >>> db["gold"]["arousal"].set(np.linspace(0, 1, 20))
        >>> db.save("gold")
        >>> with open("results.csv", "w") as file:
        ...     _ = file.write("file,arousal\n")
        ...     for n in range(20):
        ...         _ = file.write(f"{n}.wav,{n / 25 + 0.1}\n")
        >>> main(["report", "results.csv", "--truth", "gold:gold", "--bootstrap", "0"])
        /.../report.html
        0

    """
    from audemo.core.database import scheme_ranges
    from audemo.core.pipeline import load_calibration
    from audemo.core.report import write_report
    from audemo.core.results import calibration_marker
    from audemo.core.results import describe_calibration
    from audemo.core.results import read_results

    check_output(args.output, ("md", "html"), overwrite=args.overwrite, what="-o")
    require_packages({"matplotlib": "audemo report"})
    model_cache_root = legacy_model_cache_root(args)
    calibration = None
    if args.calibration is not None:
        calibration = load_calibration(args.calibration)
    prediction = read_results(args.results)
    marker = calibration_marker(prediction)
    if marker is not None and calibration is not None:
        raise ValueError(
            f"{args.results} holds results {describe_calibration(marker)} "
            f"(audemo predict --calibration): --calibration would calibrate them "
            f"twice. Leave out --calibration, or give the results of audemo "
            f"predict without --calibration."
        )
    db, table_id = load_truth(args.truth)
    truth = gold_labels(db, table_id)
    prediction, truth = per_file(prediction, truth, args.results, table_id)
    if args.truth_range is not None:
        truth_range = tuple(args.truth_range)
    else:
        truth_range = scheme_ranges(db, table_id, list(truth.columns))
    evaluation = _evaluate(
        args,
        prediction,
        truth,
        _raw_ranges(args, marker, truth_range, list(truth.columns)),
        db,
        table_id,
    )
    calibrated = None
    if calibration is not None:
        calibrated = _evaluate_calibrated(
            args, calibration, prediction, truth, db, table_id
        )
    perturbed = None
    if args.robustness:
        perturbed = _run_robustness(args, db, truth, truth_range, model_cache_root)
    details = {
        "Results": os.path.basename(args.results),
        "Truth": f"database {db.name}, table {table_id}",
    }
    if calibration is not None:
        details["Calibration"] = os.path.basename(args.calibration)
    if marker is not None:
        names = [name for name in marker["dimensions"] if name in truth.columns]
        details["Scale"] = (
            f"{', '.join(names)} {describe_calibration(marker)}: "
            f"compared with the gold labels as they are"
        )
    path = write_report(
        args.output,
        evaluation,
        robustness=perturbed,
        calibrated=calibrated,
        details=details,
    )
    for name, result in (("", evaluation), (" calibrated", calibrated)):
        if result is None:
            continue
        for dimension, row in result.overall.iterrows():
            print(
                f"{dimension}:{name} CCC {row['ccc']:.3f} [{row['ccc_low']:.3f}, "
                f"{row['ccc_high']:.3f}], n={int(row['n'])}",
                file=sys.stderr,
            )
    print(path)
    return 0


def load_truth(spec: str) -> tuple[audformat.Database, str]:
    r"""The database and table ID of ``--truth DB:TABLE``.

    Shared with ``audemo calibrate``.

    Args:
        spec: ``DB_FOLDER:TABLE``

    Returns:
        the database (loaded safely) and the table ID

    Raises:
        ValueError: if ``spec`` is not ``DB_FOLDER:TABLE``
            or the table is not found

    Examples:
        >>> load_truth("gold")
        Traceback (most recent call last):
        ...
        ValueError: --truth must be DB_FOLDER:TABLE, not 'gold'.

    """
    from audemo.core.database import load_table

    root, separator, table_id = spec.rpartition(":")
    if not separator or not root or not table_id:
        raise ValueError(f"--truth must be DB_FOLDER:TABLE, not '{spec}'.")
    return load_table(root, table_id), table_id


def gold_labels(db: audformat.Database, table_id: str) -> pd.DataFrame:
    r"""The columns arousal, dominance and valence of the gold table.

    Shared with ``audemo calibrate``.

    Args:
        db: database
        table_id: ID of the gold table

    Returns:
        the gold labels

    Raises:
        ValueError: if the table has none of these columns

    """
    truth = db[table_id].get()
    dimensions = [name for name in DIMENSIONS if name in truth.columns]
    if not dimensions:
        raise ValueError(
            f"Table '{table_id}' has no column {list(DIMENSIONS)}: "
            f"it has {list(truth.columns)}."
        )
    return truth[dimensions]


def _evaluate(
    args: argparse.Namespace,
    prediction: pd.DataFrame,
    truth: pd.DataFrame,
    truth_range: tuple[float, float] | Mapping[str, tuple[float, float]] | None,
    db: audformat.Database,
    table_id: str,
    *,
    dimensions: list[str] | None = None,
) -> Evaluation:
    r"""Predictions against gold labels, per group and speaker if asked."""
    import pandas as pd

    from audemo.core.database import find_column
    from audemo.core.database import relative_index
    from audemo.core.evaluation import ScaleWarning
    from audemo.core.evaluation import evaluate

    # absolute paths inside the database match the gold table's paths
    prediction = prediction.set_axis(relative_index(prediction.index, db.root))
    groups = None
    if args.group:
        groups = pd.concat(
            [find_column(db, table_id, name) for name in args.group], axis=1
        )
    speakers = find_column(db, table_id, args.speaker) if args.speaker else None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        evaluation = evaluate(
            prediction,
            truth,
            dimensions=dimensions,
            truth_range=truth_range,
            groups=groups,
            speakers=speakers,
            min_samples=args.min_samples,
            num_bootstrap=args.bootstrap,
            seed=args.seed,
        )
    for warning in caught:
        message = warning.message
        if isinstance(message, ScaleWarning):
            # in the words of the command line
            message = ScaleWarning(
                message.problems,
                "Give the gold scale with --truth-range LOW HIGH, "
                "or give the gold columns a scheme with minimum and maximum.",
            )
        warnings.warn(message, warning.category, stacklevel=2)
    return evaluation


def _raw_ranges(
    args: argparse.Namespace,
    marker: dict | None,
    truth_range: tuple[float, float] | Mapping[str, tuple[float, float]] | None,
    columns: list[str],
) -> tuple[float, float] | Mapping[str, tuple[float, float]] | None:
    r"""The gold ranges of the dimensions that are not calibrated.

    Calibrated results are compared with the gold labels as they are,
    if those are on the scale of the calibration.

    """
    from audemo.core.results import describe_calibration

    if marker is None or truth_range is None:
        return truth_range
    if not isinstance(truth_range, Mapping):
        truth_range = dict.fromkeys(columns, truth_range)
    scale = marker["truth_range"]
    for name in marker["dimensions"]:
        gold = truth_range.get(name)
        if gold is not None and scale is not None and tuple(gold) != tuple(scale):
            source = "--truth-range" if args.truth_range else "their scheme"
            raise ValueError(
                f"{args.results} holds {name} {describe_calibration(marker)}, "
                f"but the gold labels of --truth {args.truth} run from "
                f"{gold[0]:g} to {gold[1]:g} ({source}): compare with gold "
                f"labels on the scale of the calibration, or fit a calibration "
                f"on these gold labels with audemo calibrate and predict again."
            )
    ranges = {
        name: gold
        for name, gold in truth_range.items()
        if name not in marker["dimensions"]
    }
    return ranges or None


def _evaluate_calibrated(
    args: argparse.Namespace,
    calibration: object,
    prediction: pd.DataFrame,
    truth: pd.DataFrame,
    db: audformat.Database,
    table_id: str,
) -> Evaluation:
    r"""Calibrated predictions against the gold labels as they are."""
    dimensions = [name for name in calibration.dimensions if name in truth.columns]
    if not dimensions:
        raise ValueError(
            f"--calibration maps {calibration.dimensions}, "
            f"but table '{table_id}' has only {list(truth.columns)}: "
            f"give the calibration fitted on these gold labels."
        )
    # pooled mappings, as audemo predict --calibration applies them
    calibrated = calibration(prediction)
    return _evaluate(args, calibrated, truth, None, db, table_id, dimensions=dimensions)


def _run_robustness(
    args: argparse.Namespace,
    db: audformat.Database,
    truth: pd.DataFrame,
    truth_range: tuple[float, float] | Mapping[str, tuple[float, float]] | None,
    model_cache_root: str | None,
) -> pd.DataFrame:
    r"""Robustness of the model on the gold table's files."""
    import audformat

    from audemo.core.emotion import Emotion
    from audemo.core.evaluation import rescale
    from audemo.core.robustness import robustness

    interface = Emotion(
        args.model,
        num_workers=available_cores(),
        model_cache_root=model_cache_root,
    )
    if audformat.index_type(truth.index) == audformat.define.IndexType.FILEWISE:
        index, truth = truth.index, rescale(truth, truth_range)
    else:
        # robustness compares file means with filewise gold labels only
        index, truth = truth.index, None
    result = robustness(
        interface, index, truth=truth, root=db.root, verbose=show_progress()
    )
    return result.summary
