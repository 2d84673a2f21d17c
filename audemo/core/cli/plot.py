r"""``audemo plot``: draw results of ``audemo predict`` as a picture.

The valence-arousal plane with one point per row
(:func:`audemo.plot.circumplex`),
the scores of one file over time
(:func:`audemo.plot.timeline`),
or of each speaker of a conversation
(:func:`audemo.plot.conversation`),
all of which need matplotlib;
or a transcript tinted by emotion as an HTML page
(:func:`audemo.plot.transcript`).

"""

from __future__ import annotations

import argparse

from audemo.core.cli import COMMANDS
from audemo.core.cli.common import check_output
from audemo.core.cli.common import check_speaker_results
from audemo.core.cli.common import picture_formats
from audemo.core.define import DIMENSIONS


def add_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    r"""Add the command ``plot``.

    Args:
        commands: sub-parsers of the ``audemo`` parser

    Returns:
        parser of the command

    """
    command = commands.add_parser(
        "plot",
        help=COMMANDS["plot"],
        description=(
            "Draw results of `audemo predict` (CSV or parquet): "
            "the valence-arousal plane with one point per row (circumplex), "
            "the scores of one file over time (timeline; needs results "
            "of --win-dur or --vad), or of each speaker of a conversation "
            "(conversation; needs results of --speakers), or a transcript as "
            "an HTML page, each segment or word tinted by --dimension "
            "(transcript; needs results of --transcript, -o page.html)."
        ),
    )
    command.add_argument("results", help="results file (.csv or .parquet)")
    command.add_argument(
        "-o", "--output", required=True, help="picture file, e.g. fig.png"
    )
    command.add_argument(
        "--kind",
        choices=["circumplex", "timeline", "conversation", "transcript"],
        default="circumplex",
        help="kind of picture (default: circumplex)",
    )
    command.add_argument(
        "--file",
        default=None,
        help="the file to show in a timeline, conversation or transcript",
    )
    command.add_argument(
        "--dimension",
        choices=list(DIMENSIONS),
        default=None,
        help="with --kind transcript: the score that tints the text (default: valence)",
    )
    command.add_argument(
        "--overwrite", action="store_true", help="replace an existing picture"
    )
    return command


def run(args: argparse.Namespace) -> int:
    r"""Draw the picture and print its name.

    Args:
        args: parsed arguments

    Returns:
        exit code 0

    Examples:
        >>> from audemo.core.cli import main
        >>> with open("results.csv", "w") as file:
        ...     _ = file.write("file,arousal,dominance,valence\na.wav,0.6,0.5,0.4\n")
        >>> main(["plot", "results.csv", "-o", "circumplex.png"])
        circumplex.png
        0

    """
    # heavy (pandas, matplotlib): only when run, not for --help
    from audemo.core.plot import circumplex
    from audemo.core.plot import conversation
    from audemo.core.plot import save_figure
    from audemo.core.plot import timeline
    from audemo.core.plot import transcript
    from audemo.core.results import read_results

    if args.kind == "transcript":
        check_output(args.output, ["html"], overwrite=args.overwrite, what="-o")
        page = transcript(
            read_results(args.results),
            dimension=args.dimension or "valence",
            file=args.file,
        )
        with open(args.output, "w", encoding="utf-8") as fp:
            fp.write(page)
        print(args.output)
        return 0
    if args.dimension is not None:
        raise ValueError("--dimension tints a transcript: add --kind transcript.")
    check_output(args.output, picture_formats(), overwrite=args.overwrite, what="-o")
    frame = read_results(args.results)
    if args.kind == "conversation":
        check_speaker_results(frame, args.results, "--kind conversation")
    if args.kind == "circumplex":
        figure = circumplex(frame).figure
    elif args.kind == "timeline":
        figure = timeline(frame, file=args.file).figure
    else:
        figure = conversation(frame, file=args.file)
    save_figure(figure, args.output, dpi=120, bbox_inches="tight")
    print(args.output)
    return 0
