r"""Command line interface ``audemo``.

One module per command,
each with ``add_parser(commands)``, which adds its sub-parser,
and ``run(args)``, which runs it:

* ``audemo predict`` (:mod:`~audemo.core.cli.predict`):
  emotion of audio files, folders and databases
* ``audemo download`` (:mod:`~audemo.core.cli.download`):
  download a model into the cache
* ``audemo info`` (:mod:`~audemo.core.cli.info`):
  a model's source, licence, fingerprint, inputs and outputs
* ``audemo compare`` (:mod:`~audemo.core.cli.compare`):
  agreement of the int8 and the float32 model on your files
* ``audemo plot`` (:mod:`~audemo.core.cli.plot`):
  draw results as a picture
* ``audemo summary`` (:mod:`~audemo.core.cli.summary`):
  emotion per speaker of conversation results
* ``audemo report`` (:mod:`~audemo.core.cli.report`):
  evaluate results against gold labels and write a report
* ``audemo calibrate`` (:mod:`~audemo.core.cli.calibrate`):
  fit scores to the user's own rating scale from gold labels
* ``audemo categories`` (:mod:`~audemo.core.cli.categories`):
  train a classifier of emotion categories on the embedding
* ``audemo live`` (:mod:`~audemo.core.cli.live`):
  emotion of live audio (microphone, stdin, file), window by window
* ``audemo serve`` (:mod:`~audemo.core.cli.serve`):
  emotion over HTTP and WebSocket, with a live web page

:mod:`~audemo.core.cli.common` holds what they share
(model options, output checks, warnings display);
reading and writing result files is in :mod:`audemo.core.results`,
inputs in :mod:`audemo.core.inputs`,
databases in :mod:`audemo.core.database`.

"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
import contextlib
import importlib
import os
import sys

from audemo.core.cli.common import DATABASE_SAFETY
from audemo.core.cli.common import clean_warnings
from audemo.core.cli.common import error_message
from audemo.core.utils import version


COMMANDS = {
    "predict": "predict emotion of audio files",
    "download": "download a model into the cache",
    "info": "show a model's source, licence, inputs, outputs and fingerprint",
    "compare": "compare the int8 model with the float32 model on your files",
    "plot": "draw results as a picture",
    "summary": "emotion per speaker of a conversation",
    "report": "evaluate results against gold labels and write a report",
    "calibrate": "fit scores to your own rating scale from gold labels",
    "categories": "train a classifier of emotion categories on the embedding",
    "live": "emotion of live audio (microphone, stdin, file), window by window",
    "serve": "serve emotion over HTTP/WebSocket with a live web page",
}
r"""Help line of each command, in the order of ``audemo --help``.

The command ``NAME`` is the module ``audemo.core.cli.NAME``.
It is imported only to parse or run that command,
so that ``audemo --help`` needs none of the packages
of the commands (pandas, onnxruntime, matplotlib, ...).

"""


def main(argv: Sequence[str] | None = None) -> int:
    r"""Run the ``audemo`` command.

    When run as the command (``argv`` is ``None``),
    Python warnings are shown as ``audemo: warning: ...`` on stderr,
    without the source line that Python adds.

    Args:
        argv: command line arguments without the program name;
            ``None`` reads them from :data:`sys.argv`

    Returns:
        exit code: 0 on success, 1 on failure, 2 on wrong usage,
        130 when interrupted

    Examples:
        >>> root = audemo.testing.create_model("model")
        >>> main(["info", root])  # doctest: +ELLIPSIS
        model: .../model
        ...
        0

    """
    argv_list = sys.argv[1:] if argv is None else list(argv)
    # the top-level options take no value:
    # the first word that is not an option names the command
    named = next((word for word in argv_list if not word.startswith("-")), None)
    args, unknown = build_parser([named]).parse_known_args(argv_list)
    if unknown:
        # the sub-command's usage, not the top-level one
        args.command_parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    # called from Python (tests, notebooks), warnings stay Python warnings
    # that the caller can catch; the command shows them as its own lines
    context = clean_warnings() if argv is None else contextlib.nullcontext()
    with context:
        try:
            return args.command(args)
        except KeyboardInterrupt:  # pragma: no cover - tested by a real SIGINT
            # to a subprocess (test_cli.py::test_interrupted), whose coverage
            # data the signal can cut short
            print("audemo: interrupted", file=sys.stderr)
            return 130
        except BrokenPipeError:
            # the reader of stdout went away (e.g. `audemo info | head`)
            sys.stdout = open(os.devnull, "w")
            return 0
        except Exception as ex:  # one clear line instead of a traceback
            message = " ".join(error_message(ex).split()) or type(ex).__name__
            print(f"audemo: error: {message}", file=sys.stderr)
            return 1


def build_parser(
    commands: Sequence[str | None] | None = None,
) -> argparse.ArgumentParser:
    r"""The parser of ``audemo``, with a sub-parser per command.

    Each parsed command knows its module's ``run``
    as ``args.command``
    and its parser as ``args.command_parser``.

    Args:
        commands: commands whose modules are imported
            and whose options are added;
            the others are listed with their help line only.
            ``None`` adds all

    Returns:
        parser

    Examples:
        >>> from audemo.core.cli import info
        >>> args = build_parser(["info"]).parse_args(["info", "model"])
        >>> args.command is info.run, args.model
        (True, 'model')

    """
    parser = argparse.ArgumentParser(
        prog="audemo",
        description=(
            "Predict arousal, dominance and valence from speech "
            "with audEERING's wav2vec2 emotion model "
            "(w2v2-L-robust-12, CC BY-NC-SA 4.0)."
        ),
        epilog=DATABASE_SAFETY,
    )
    parser.add_argument("--version", action="version", version=f"audemo {version()}")
    subparsers = parser.add_subparsers(title="commands", required=True)
    for name, help_line in COMMANDS.items():
        if commands is None or name in commands:
            module = importlib.import_module(f"audemo.core.cli.{name}")
            command = module.add_parser(subparsers)
            command.set_defaults(command=module.run, command_parser=command)
        else:
            subparsers.add_parser(name, help=help_line)
    return parser


__all__ = ["main", "build_parser"]
