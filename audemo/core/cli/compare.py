r"""``audemo compare``: agreement of the int8 and the float32 model on your files.

Prints CCC, Pearson correlation and absolute differences per dimension,
and the cosine similarity of the embeddings
(:func:`audemo.compare_precision`).

"""

from __future__ import annotations

import argparse

from audemo.core.cli import COMMANDS
from audemo.core.cli.common import add_model_cache_root
from audemo.core.cli.common import add_model_option
from audemo.core.cli.common import legacy_model_cache_root
from audemo.core.cli.common import show_progress


def add_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    r"""Add the command ``compare``.

    Args:
        commands: sub-parsers of the ``audemo`` parser

    Returns:
        parser of the command

    """
    command = commands.add_parser(
        "compare",
        help=COMMANDS["compare"],
        description=(
            "Run the float32 and the int8 model on your files and print "
            "their agreement: CCC, Pearson correlation and absolute "
            "differences per dimension, cosine similarity of the embeddings."
        ),
    )
    command.add_argument(
        "inputs", nargs="+", metavar="INPUT", help="audio files, folders or databases"
    )
    add_model_option(command)
    add_model_cache_root(command, legacy=True)
    return command


def run(args: argparse.Namespace) -> int:
    r"""Run both models on the inputs and print their agreement.

    Args:
        args: parsed arguments

    Returns:
        exit code 0

    Examples:
        >>> from audemo.core.cli import main
        >>> root = audemo.testing.create_model("model")
        >>> main(["compare", "speech.wav", "--model", root])  # doctest: +ELLIPSIS
        ccc ...
        arousal ...
        0

    """
    # heavy (pandas, onnxruntime): only when run, not for --help
    from audemo.core.compare import compare_precision
    from audemo.core.inputs import absolute_files
    from audemo.core.inputs import input_to_index

    model_cache_root = legacy_model_cache_root(args)
    files = []
    for path in args.inputs:
        files += list(absolute_files(*input_to_index(path, "raise")))
    table = compare_precision(
        files, model=args.model, cache_root=model_cache_root, verbose=show_progress()
    )
    print(table.to_string(float_format=lambda value: f"{value:.4f}"))
    return 0
