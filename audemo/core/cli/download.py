r"""``audemo download``: download a model into the cache and print its folder."""

from __future__ import annotations

import argparse

from audemo.core.cli import COMMANDS
from audemo.core.cli.common import add_model_arguments
from audemo.core.cli.common import legacy_model_cache_root
from audemo.core.cli.common import show_progress


def add_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    r"""Add the command ``download``.

    Args:
        commands: sub-parsers of the ``audemo`` parser

    Returns:
        parser of the command

    """
    command = commands.add_parser(
        "download",
        help=COMMANDS["download"],
        description="Download a model into the cache and print its folder.",
    )
    add_model_arguments(command)
    return command


def run(args: argparse.Namespace) -> int:
    r"""Download the model and print its folder.

    Args:
        args: parsed arguments

    Returns:
        exit code 0

    Examples:
        >>> from audemo.core.cli import main
        >>> root = audemo.testing.create_model("model")
        >>> main(["download", root])  # doctest: +ELLIPSIS
        /.../model
        0

    """
    from audemo.core.model.api import download_model  # heavy: only when run

    root = download_model(
        args.model, cache_root=legacy_model_cache_root(args), verbose=show_progress()
    )
    print(root)
    return 0
