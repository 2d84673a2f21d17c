r"""Pieces the commands share: model options, output checks, warnings display."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
import contextlib
import os
import sys
import typing
import warnings

import audeer

from audemo.core.define import DEFAULT_MODEL
from audemo.core.define import PRECISIONS
from audemo.core.model.registry import MODELS
from audemo.core.utils import count
from audemo.core.utils import import_optional
from audemo.core.utils import in_words


if typing.TYPE_CHECKING:  # pragma: no cover - annotations only
    import pandas as pd


DATABASE_SAFETY = (
    "Databases are loaded without running code from them: db.yaml is read "
    "as plain YAML (Python tags are refused) and tables from their parquet "
    "or CSV files, never from pickles (db.TABLE.pkl is ignored, or refused "
    "if it is the only file). Their content is still untrusted: media paths "
    "may point outside the database folder."
)
r"""What loading a database guards against, in ``audemo --help``."""

DATABASE_SAFETY_POINTER = (
    "Databases are read as data, never run as code (see audemo --help)."
)
r"""Pointer to :data:`DATABASE_SAFETY` in the help of commands that read them."""

FLAGS = {
    "win_dur": "--win-dur",
    "hop_dur": "--hop-dur",
    "chunk_dur": "--chunk-dur",
    "segment": "--vad",
    "channels": "--channels",
    "mixdown": "--mixdown",
    "errors": "--errors",
    "num_workers": "--num-workers",
    "num_threads": "--num-threads",
    "turns": "--speakers",
    "file": "--file",
    "folds": "--folds",
    "min_samples": "--min-samples",
    "num_bootstrap": "--bootstrap",
    "truth_range": "--truth-range",
    "speakers": "--speaker",
    "groups": "--group",
}
r"""Flag of each argument that errors of the library name.

The library writes its advice as Python
(:func:`audemo.core.utils.argument_error`);
:func:`error_message` writes it with these flags.

"""

SWITCHES = frozenset({"--vad", "--mixdown"})
r"""Flags of :data:`FLAGS` that take no value."""

NONE_VALUES = {"--chunk-dur": "none"}
r"""What a flag of :data:`FLAGS` takes for ``None``."""

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


def error_message(error: BaseException) -> str:
    r"""The message of an error, its advice in flags of the command line.

    Errors of :func:`audemo.core.utils.argument_error`
    name the arguments with :data:`FLAGS`,
    others are as they are.

    Args:
        error: error that reached the command line

    Returns:
        message

    Examples:
        >>> from audemo.core.utils import argument_error
        >>> error_message(argument_error("Use {errors='coerce'}."))
        'Use --errors coerce.'

    """
    template = getattr(error, "template", None)
    if template is None:
        return str(error)
    return in_words(template, FLAGS, switches=SWITCHES, none=NONE_VALUES)


def require_packages(packages: dict[str, str]):
    r"""Refuse to start a command whose options need a missing package.

    Each command calls it first,
    with the optional packages that its options need,
    so that a missing package fails the command before any work
    (not after the model ran over a whole database).

    Args:
        packages: module to import and the option that needs it,
            e.g. ``{"sklearn": "audemo categories"}``

    Raises:
        ImportError: naming the option and the extra that installs the package

    Examples:
        >>> require_packages({"json": "--output"})
        >>> require_packages({"missing_package": "--output"})
        Traceback (most recent call last):
        ...
        ImportError: missing_package is needed for --output: pip install missing_package

    """  # noqa: E501
    for module, option in packages.items():
        import_optional(module, purpose=option)


def check_speaker_results(frame: pd.DataFrame, path: str, command: str):
    r"""Refuse results without speakers for a command about conversations.

    Args:
        frame: results read from ``path``
        path: results file
        command: what needs the speakers, e.g. ``"audemo summary"``

    Raises:
        ValueError: if ``frame`` has no ``speaker`` column

    Examples:
        >>> import pandas as pd
        >>> check_speaker_results(pd.DataFrame({"arousal": [0.5]}), "a.csv", "summary")
        Traceback (most recent call last):
        ...
        ValueError: 'a.csv' holds no speakers (columns: arousal): summary needs results of audemo predict --speakers (an RTTM file, a database table of turns, or auto), or of --transcript with a transcript that names its speakers.

    """  # noqa: E501
    if "speaker" not in frame.columns:
        raise ValueError(
            f"'{path}' holds no speakers (columns: {', '.join(frame.columns)}): "
            f"{command} needs results of audemo predict --speakers "
            f"(an RTTM file, a database table of turns, or auto), "
            f"or of --transcript with a transcript that names its speakers."
        )


def per_file(
    prediction: pd.DataFrame, truth: pd.DataFrame, path: str, table: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    r"""Results and gold labels, averaged per file where the other is per file.

    The model's scores of windows, segments or turns
    compare with gold labels of whole files
    as their mean per file
    (each row weighted the same),
    and gold labels of segments
    with results of whole files
    as theirs;
    a note on stderr says so.
    Otherwise both are returned as they are.

    Args:
        prediction: results read from ``path``
        truth: gold labels of ``table``
        path: results file, for the note
        table: gold table, for the note

    Returns:
        results and gold labels to compare

    Examples:
        >>> import pandas as pd
        >>> prediction = pd.DataFrame(
        ...     {"arousal": [0.2, 0.4]},
        ...     index=audformat.segmented_index(["a.wav"] * 2, [0, 1], [1, 2]),
        ... )
        >>> truth = pd.DataFrame(
        ...     {"arousal": [0.5]}, index=audformat.filewise_index(["a.wav"])
        ... )
        >>> with contextlib.redirect_stderr(sys.stdout):
        ...     prediction, truth = per_file(prediction, truth, "windows.csv", "gold")
        audemo: note: 'windows.csv' has 2 rows of 1 file (windows, segments or turns), table 'gold' one per file: the mean per file is compared.
        >>> prediction
               arousal
        file
        a.wav      0.3

        Gold labels of segments are compared segment by segment:

        >>> windows = pd.DataFrame(
        ...     {"arousal": [0.2, 0.4]},
        ...     index=audformat.segmented_index(["a.wav"] * 2, [0, 1], [1, 2]),
        ... )
        >>> segments = pd.DataFrame(
        ...     {"arousal": [0.5]},
        ...     index=audformat.segmented_index(["a.wav"], [0], [1]),
        ... )
        >>> per_file(windows, segments, "windows.csv", "segments")[0] is windows
        True

    """  # noqa: E501
    import audformat  # pandas and audformat are for commands that need them

    frames = [prediction, truth]
    names = [f"'{path}'", f"table '{table}'"]
    for side, other in ((0, 1), (1, 0)):
        files = frames[side].index.get_level_values("file")
        others = frames[other].index.get_level_values("file")
        if not files.has_duplicates or others.has_duplicates:
            continue
        if side == 0 and list(truth.index.names) != ["file"]:
            continue  # gold labels of segments: compared segment by segment
        frame = frames[side].select_dtypes("number")
        means = frame.drop(columns="turn", errors="ignore").groupby(files).mean()
        means.index = audformat.filewise_index(means.index)
        frames[side] = means
        print(
            f"audemo: note: {names[side]} has {count(len(files), 'row')} of "
            f"{count(len(means), 'file')} (windows, segments or turns), "
            f"{names[other]} one per file: the mean per file is compared.",
            file=sys.stderr,
        )
    return tuple(frames)


def show_progress() -> bool:
    r"""Whether to show progress bars: only on a terminal.

    Redrawn bars fill a log or a pipe with carriage returns:
    where stderr is not a terminal the commands show none,
    and the summary line at the end says what was done.

    Returns:
        whether stderr is a terminal

    Examples:
        >>> import io
        >>> with contextlib.redirect_stderr(io.StringIO()):
        ...     show_progress()
        False

    """
    return sys.stderr.isatty()
