r"""``audemo calibrate``: fit scores to the user's own rating scale.

Fits an :class:`audemo.Calibration`
from results of ``audemo predict``
and the gold labels of an audformat database,
prints the cross-validated CCC before and after per dimension,
and writes the calibration as YAML
for ``audemo predict --calibration``
and ``audemo report --calibration``.

"""

from __future__ import annotations

import argparse
import sys

import pandas as pd

import audeer
import audformat

from audemo.core.calibration import METHODS
from audemo.core.calibration import Calibration
from audemo.core.cli import COMMANDS
from audemo.core.cli.common import DATABASE_SAFETY_POINTER
from audemo.core.cli.common import add_model_cache_root
from audemo.core.cli.common import check_output
from audemo.core.cli.common import per_file
from audemo.core.cli.common import require_packages
from audemo.core.cli.report import gold_labels
from audemo.core.cli.report import load_truth
from audemo.core.database import find_column
from audemo.core.database import relative_index
from audemo.core.database import scheme_ranges
from audemo.core.model.api import model_info
from audemo.core.report import format_interval
from audemo.core.results import calibration_marker
from audemo.core.results import describe_calibration
from audemo.core.results import read_results


def add_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    r"""Add the command ``calibrate``.

    Args:
        commands: sub-parsers of the ``audemo`` parser

    Returns:
        parser of the command

    """
    command = commands.add_parser(
        "calibrate",
        help=COMMANDS["calibrate"],
        description=(
            "Fit a calibration that maps the results of `audemo predict` "
            "(arousal, dominance, valence, roughly 0..1) to the scale of your "
            "gold labels, one monotone map per dimension, validated by "
            "cross-validation. Prints the CCC before and after per dimension "
            "and writes the calibration as YAML, for `audemo predict "
            "--calibration` and `audemo report --calibration`. "
            + DATABASE_SAFETY_POINTER
        ),
    )
    command.add_argument("results", help="results file (.csv or .parquet)")
    command.add_argument(
        "--truth",
        required=True,
        metavar="DB:TABLE",
        help=(
            "gold labels: audformat database folder and table ID, e.g. "
            "data/mydb:emotion.train; columns named arousal, dominance, valence"
        ),
    )
    command.add_argument(
        "-o",
        "--output",
        default="calibration.yaml",
        help="calibration file (.yaml) (default: calibration.yaml)",
    )
    command.add_argument(
        "--overwrite", action="store_true", help="replace an existing file"
    )
    _add_fit_options(command)
    command.add_argument(
        "--model",
        default=None,
        help=(
            "the model that made the results (a registered name, folder or "
            "URL in the model cache): its fingerprint is stored, so that the "
            "calibration is refused for another model "
            "(default: none stored, accepted for every model)"
        ),
    )
    add_model_cache_root(command, legacy=False)
    return command


def _add_fit_options(command: argparse.ArgumentParser):
    r"""Options of :meth:`audemo.Calibration.fit`."""
    command.add_argument(
        "--method",
        choices=list(METHODS),
        default="linear",
        help=(
            "linear: the affine map with the highest CCC (default); "
            "isotonic: a monotone map that may bend"
        ),
    )
    command.add_argument(
        "--truth-range",
        nargs=2,
        type=float,
        default=None,
        metavar=("LOW", "HIGH"),
        help=(
            "lowest and highest value of the gold scale, e.g. 1 5, for the CCC "
            "before calibration (default: the columns' scheme, if set)"
        ),
    )
    command.add_argument(
        "--group",
        default=None,
        metavar="COLUMN",
        help=(
            "one map per value of this column (e.g. corpus), taken from the "
            "truth table or another table of the database; audemo predict "
            "and audemo report apply the map of all samples"
        ),
    )
    command.add_argument(
        "--speaker",
        default=None,
        metavar="COLUMN",
        help="the column holding the speaker: folds keep speakers apart",
    )
    command.add_argument(
        "--folds", type=int, default=5, help="cross-validation folds (default: 5)"
    )
    command.add_argument(
        "--min-samples",
        type=int,
        default=10,
        help="fewest samples of a dimension, or a group for its map (default: 10)",
    )
    command.add_argument(
        "--bootstrap",
        type=int,
        default=1000,
        help="bootstrap resamples for confidence intervals (default: 1000)",
    )
    command.add_argument("--seed", type=int, default=0, help="seed (default: 0)")


def run(args: argparse.Namespace) -> int:
    r"""Fit, print the CCC before and after, write the calibration.

    The CCC of each dimension goes to stderr,
    the path of the calibration to stdout.

    Args:
        args: parsed arguments

    Returns:
        exit code 0

    Raises:
        ValueError: if the calibration cannot be written
            (checked first),
            the model of ``--model`` has no fingerprint in the cache,
            the gold table is not found
            or the calibration cannot be fitted
            (see :meth:`audemo.Calibration.fit`)

    Examples:
        >>> from audemo.core.cli import main
        >>> db = audformat.Database("gold")
        >>> db["gold"] = audformat.Table(
        ...     audformat.filewise_index([f"{n}.wav" for n in range(20)])
        ... )
        >>> db["gold"]["arousal"] = audformat.Column()
        >>> db["gold"]["arousal"].set(np.linspace(1, 5, 20))
        >>> db.save("gold")
        >>> with open("results.csv", "w") as file:
        ...     _ = file.write("file,arousal\n")
        ...     for n in range(20):
        ...         _ = file.write(f"{n}.wav,{n / 25 + 0.1 + 0.03 * (n % 3)}\n")
        >>> main(["calibrate", "results.csv", "--truth", "gold:gold", "--bootstrap", "0"])
        /.../calibration.yaml
        0

    """  # noqa: E501
    check_output(args.output, ("yaml", "yml"), overwrite=args.overwrite, what="-o")
    require_packages({"sklearn": "audemo calibrate"})
    fingerprint = None
    if args.model is not None:
        fingerprint = _fingerprint(args.model, args.model_cache_root)
    prediction = read_results(args.results)
    marker = calibration_marker(prediction)
    if marker is not None:
        raise ValueError(
            f"{args.results} holds results {describe_calibration(marker)} "
            f"(audemo predict --calibration): calibrating them again would map "
            f"them twice. Fit the calibration on the results of audemo predict "
            f"without --calibration."
        )
    db, table_id = load_truth(args.truth)
    truth = gold_labels(db, table_id)
    prediction, truth = per_file(prediction, truth, args.results, table_id)
    # absolute paths inside the database match the gold table's paths
    prediction = prediction.set_axis(relative_index(prediction.index, db.root))
    calibration = Calibration.fit(
        prediction,
        truth,
        method=args.method,
        truth_range=_truth_range(args, db, table_id, list(truth.columns)),
        groups=find_column(db, table_id, args.group) if args.group else None,
        speakers=find_column(db, table_id, args.speaker) if args.speaker else None,
        folds=args.folds,
        min_samples=args.min_samples,
        num_bootstrap=args.bootstrap,
        seed=args.seed,
        fingerprint=fingerprint,
    )
    calibration.to_yaml(args.output)
    for dimension, row in calibration.report.iterrows():
        print(
            f"{dimension}: CCC {_ccc(row, 'before')} -> "
            f"{_ccc(row, 'after')} (cross-validated), n={int(row['n'])}",
            file=sys.stderr,
        )
    print(audeer.path(args.output))
    return 0


def _fingerprint(model: str, model_cache_root: str | None) -> str:
    r"""Fingerprint of ``--model``, without downloading it."""
    info = model_info(model, cache_root=model_cache_root)
    if info["fingerprint"] is None:
        reason = info["problem"] or "it is not in the model cache"
        raise ValueError(
            f"--model {model} has no fingerprint: {reason}. "
            f"Run audemo download {model} first (with the same "
            f"--model-cache-root), or leave out --model."
        )
    return info["fingerprint"]


def _truth_range(
    args: argparse.Namespace,
    db: audformat.Database,
    table_id: str,
    columns: list[str],
) -> tuple[float, float] | None:
    r"""``--truth-range``, or the one range of the columns' schemes."""
    if args.truth_range is not None:
        return tuple(args.truth_range)
    ranges = scheme_ranges(db, table_id, columns)
    if not ranges:
        return None
    if len(set(ranges.values())) > 1:
        shown = ", ".join(
            f"{name} {low:g}..{high:g}" for name, (low, high) in ranges.items()
        )
        raise ValueError(
            f"The gold columns have schemes of different ranges ({shown}): "
            f"a calibration records one gold scale. Give --truth-range LOW HIGH "
            f"(it rescales the gold labels for the CCC before calibration)."
        )
    return next(iter(ranges.values()))


def _ccc(row: pd.Series, name: str) -> str:
    r"""CCC ``before`` or ``after`` of a report row, with its interval."""
    return format_interval(
        *(row[f"ccc_{name}{suffix}"] for suffix in ("", "_low", "_high"))
    )
