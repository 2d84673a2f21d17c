r"""Pieces the commands share: model options, output checks, warnings display."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
import contextlib
import os
import sys
import warnings

import audeer

from audemo.core.define import DEFAULT_MODEL
from audemo.core.model import MODELS
from audemo.core.precision import PRECISIONS
from audemo.core.utils import import_optional


DATABASE_SAFETY = (
    "Databases are loaded without running code from them: db.yaml is read "
    "as plain YAML (Python tags are refused) and tables from their parquet "
    "or CSV files, never from pickles (db.TABLE.pkl is ignored, or refused "
    "if it is the only file). Their content is still untrusted: media paths "
    "may point outside the database folder."
)
r"""What loading a database guards against, for the commands' help."""

MODEL_HELP = (
    f"model: a registered name ({', '.join(MODELS)}), "
    f"a local model folder, or an http(s):// URL of a zip archive "
    f"(default: {DEFAULT_MODEL})"
)
r"""Help of a model argument."""


def add_model_option(command: argparse.ArgumentParser, purpose: str = ""):
    r"""Add ``--model``.

    Args:
        command: parser of a command
        purpose: appended to the help, e.g. ``"; used by --robustness"``

    Examples:
        >>> command = argparse.ArgumentParser()
        >>> add_model_option(command)
        >>> command.parse_args(["--model", "folder"]).model
        'folder'

    """
    command.add_argument("--model", default=None, help=MODEL_HELP + purpose)


def add_model_cache_root(command: argparse.ArgumentParser, *, legacy: bool):
    r"""Add ``--model-cache-root``, with ``--cache-root`` as its old name.

    Commands that have no results cache
    took the model cache as ``--cache-root``:
    there it is still accepted,
    hidden from the help,
    and :func:`legacy_model_cache_root` warns.

    Args:
        command: parser of a command
        legacy: accept ``--cache-root`` as the old name

    Examples:
        >>> command = argparse.ArgumentParser()
        >>> add_model_cache_root(command, legacy=True)
        >>> command.parse_args(["--cache-root", "cache"]).legacy_cache_root
        'cache'

    """
    command.add_argument(
        "--model-cache-root",
        default=None,
        metavar="DIR",
        help=(
            "folder for downloaded models "
            "(default: $AUDEMO_CACHE_ROOT or ~/.cache/audemo)"
        ),
    )
    if legacy:
        command.add_argument(
            "--cache-root", dest="legacy_cache_root", help=argparse.SUPPRESS
        )


def add_model_arguments(command: argparse.ArgumentParser):
    r"""Add the model as positional argument and the model cache.

    Args:
        command: parser of a command about a model
            (``download``, ``info``)

    Examples:
        >>> command = argparse.ArgumentParser()
        >>> add_model_arguments(command)
        >>> args = command.parse_args([])
        >>> args.model, args.model_cache_root
        (None, None)

    """
    command.add_argument("model", nargs="?", default=None, help=MODEL_HELP)
    add_model_cache_root(command, legacy=True)


def add_precision_option(command: argparse.ArgumentParser):
    r"""Add ``--precision`` (default fp32) to a command that runs the model.

    Args:
        command: parser of the command

    Examples:
        >>> command = argparse.ArgumentParser()
        >>> add_precision_option(command)
        >>> command.parse_args([]).precision
        'fp32'

    """
    command.add_argument(
        "--precision",
        choices=list(PRECISIONS),
        default="fp32",
        help="fp32 (default) or int8 (faster, numbers differ slightly)",
    )


def legacy_model_cache_root(args: argparse.Namespace) -> str | None:
    r"""``--model-cache-root``, or its old name ``--cache-root`` with a warning.

    Args:
        args: parsed arguments of a command
            with :func:`add_model_cache_root`

    Returns:
        folder of the model cache, or ``None`` for the default

    Raises:
        ValueError: if both names are given

    Examples:
        >>> args = argparse.Namespace(model_cache_root="cache", legacy_cache_root=None)
        >>> legacy_model_cache_root(args)
        'cache'

    """
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


def check_output(
    path: str, extensions: Sequence[str], *, overwrite: bool, what: str
) -> str:
    r"""Refuse an output file that cannot be written, before any work.

    Args:
        path: output file
        extensions: file extensions allowed, in lower case
        overwrite: whether an existing file may be replaced
        what: the option that names the output, e.g. ``"-o"``

    Returns:
        the file extension in lower case

    Raises:
        ValueError: if ``path`` has another extension, is a folder,
            exists and ``overwrite`` is ``False``,
            or its folder does not exist or is not writable

    Examples:
        >>> check_output("results.CSV", ["csv"], overwrite=False, what="-o")
        'csv'
        >>> check_output("results.txt", ["csv", "parquet"], overwrite=False, what="-o")
        Traceback (most recent call last):
        ...
        ValueError: Output 'results.txt' (-o) must end in .csv or .parquet.

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
    check_writable(os.path.dirname(audeer.path(path)), what)
    return extension


def check_writable(folder: str, what: str):
    r"""Refuse a folder that does not exist or cannot be written to.

    Args:
        folder: folder of an output
        what: the option that names the output, e.g. ``"-o"``

    Raises:
        ValueError: if ``folder`` does not exist or is not writable

    Examples:
        >>> check_writable("missing", "-o")
        Traceback (most recent call last):
        ...
        ValueError: Folder 'missing' of -o does not exist: create it first.

    """
    if not os.path.isdir(folder):
        raise ValueError(
            f"Folder '{folder}' of {what} does not exist: create it first."
        )
    if not os.access(folder, os.W_OK):  # pragma: no cover - root may write anywhere
        raise ValueError(f"Cannot write to folder '{folder}' ({what}).")


def picture_formats() -> list[str]:
    r"""File extensions matplotlib can save pictures as.

    Returns:
        extensions in lower case, sorted

    Raises:
        ImportError: if matplotlib is not installed,
            naming the extra that installs it

    Examples:
        >>> "png" in picture_formats()
        True

    """
    # matplotlib is optional: imported when a command draws
    import_optional("matplotlib.pyplot", purpose="plots")  # a clear error early
    from matplotlib.backend_bases import FigureCanvasBase

    return sorted(FigureCanvasBase.get_supported_filetypes())


@contextlib.contextmanager
def clean_warnings():
    r"""Show warnings as ``audemo: warning: ...`` lines on stderr.

    Without the source line that Python adds.
    The first line of a warning is the warning,
    further lines list its items
    (e.g. the files that failed)
    and are kept as they are.

    Examples:
        >>> with contextlib.redirect_stderr(sys.stdout), clean_warnings():
        ...     warnings.warn("2 files failed:\n  a.wav\n  b.wav")
        audemo: warning: 2 files failed:
          a.wav
          b.wav

    """

    def show(message, category, filename, lineno, file=None, line=None):
        first, *rest = str(message).splitlines() or [category.__name__]
        text = "\n".join([f"audemo: warning: {first.strip()}", *rest])
        print(text, file=sys.stderr if file is None else file)

    with warnings.catch_warnings():
        warnings.showwarning = show
        yield
