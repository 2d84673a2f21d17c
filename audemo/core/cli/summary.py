r"""``audemo summary``: emotion per speaker of conversation results.

Reads results with a ``speaker`` column
(``audemo predict --speakers``,
or ``--transcript`` with speakers)
and prints :func:`audemo.speaker_summary`
(one column per file and speaker, rounded to 3 decimals),
optionally written to a CSV file.

"""

from __future__ import annotations

import argparse
import typing

from audemo.core.cli import COMMANDS
from audemo.core.cli.common import check_output
from audemo.core.cli.common import check_speaker_results
from audemo.core.define import NORMALIZE
from audemo.core.define import OVERLAP


if typing.TYPE_CHECKING:  # pragma: no cover - annotations only
    import pandas as pd


def add_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    r"""Add the command ``summary``.

    Args:
        commands: sub-parsers of the ``audemo`` parser

    Returns:
        parser of the command

    """
    command = commands.add_parser(
        "summary",
        help=COMMANDS["summary"],
        description=(
            "Sum up results with a speaker column (audemo predict --speakers, "
            "or --transcript with speakers) "
            "per file and speaker: turns, speaking time, share, and mean, "
            "standard deviation, trend per minute, min and max per dimension."
        ),
    )
    command.add_argument("results", help="results file (.csv or .parquet)")
    command.add_argument(
        "-o", "--output", default=None, help="also write the summary to this CSV file"
    )
    command.add_argument(
        "--normalize",
        choices=[value for value in NORMALIZE if value],
        default=None,
        help="statistics relative to each speaker's mean",
    )
    command.add_argument(
        "--overlap",
        choices=list(OVERLAP),
        default="include",
        help="leave overlapping rows out of the statistics with 'exclude'",
    )
    command.add_argument(
        "--overwrite", action="store_true", help="replace an existing output file"
    )
    return command


def run(args: argparse.Namespace) -> int:
    r"""Print the summary and write it if asked.

    Args:
        args: parsed arguments

    Returns:
        exit code 0

    Examples:
        >>> from audemo.core.cli import main
        >>> with open("turns.csv", "w") as file:
        ...     _ = file.write(
        ...         "file,start,end,speaker,arousal\n"
        ...         "a.wav,0,20,A,0.2\na.wav,20,40,B,0.5\na.wav,40,60,A,0.4\n"
        ...     )
        >>> main(["summary", "turns.csv", "-o", "speakers.csv"])
        file            a.wav
        speaker             A       B
        turns               2       1
        speaking_time  40.000  20.000
        share           0.667   0.333
        arousal_mean    0.300   0.500
        arousal_std     0.100   0.000
        arousal_trend   0.300     NaN
        arousal_min     0.200   0.500
        arousal_max     0.400   0.500
        0
        >>> open("speakers.csv").readline().strip()
        'file,speaker,turns,speaking_time,share,arousal_mean,arousal_std,arousal_trend,arousal_min,arousal_max'

    """  # noqa: E501
    # heavy (pandas, audinterface): only when run, not for --help
    from audemo.core.conversation.speakers import speaker_summary
    from audemo.core.results import read_results

    if args.output is not None:
        check_output(args.output, ["csv"], overwrite=args.overwrite, what="-o")
    frame = read_results(args.results)
    check_speaker_results(frame, args.results, "audemo summary")
    if args.overlap == "exclude" and "overlap" not in frame.columns:
        raise ValueError(
            f"--overlap exclude needs the column overlap, which '{args.results}' "
            f"lacks: audemo predict --speakers writes it."
        )
    summary = speaker_summary(frame, normalize=args.normalize, overlap=args.overlap)
    # one column per file and speaker: the statistics fit a terminal
    print(_shown(summary).T.to_string())
    if args.output is not None:
        summary.to_csv(args.output)
    return 0


def _shown(summary: pd.DataFrame) -> pd.DataFrame:
    r"""The summary as text: counts as integers, numbers to 3 decimals.

    A number that rounds to zero is shown as ``0.000``,
    never ``-0.000``.

    Examples:
        >>> import pandas as pd
        >>> summary = pd.DataFrame({"turns": [2], "valence_mean": [-0.0001]})
        >>> _shown(summary)
          turns valence_mean
        0     2        0.000

    """
    import numpy as np
    import pandas as pd

    shown = pd.DataFrame(index=summary.index)
    for column, values in summary.items():
        if pd.api.types.is_integer_dtype(values):
            shown[column] = values.astype(str)
        else:
            # adding 0.0 turns -0.0 into 0.0
            rounded = values.to_numpy(dtype="float64").round(3) + 0.0
            shown[column] = [
                "NaN" if np.isnan(value) else f"{value:.3f}" for value in rounded
            ]
    return shown
