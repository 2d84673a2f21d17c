r"""Helpers shared by several modules.

Counts, warnings, errors that name arguments, optional packages, cores.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
import importlib
import inspect
import numbers
import os
import re
import shlex
import types
import warnings


# optional packages and the extra that installs each
OPTIONAL_PACKAGES = {
    "dask": "dask",
    "distributed": "dask",
    "faster_whisper": "asr",
    "matplotlib": "plot",
    "pocketsphinx": "asr",
    "praatio": "transcripts",
    "pyannote.audio": "diarization",
    "pyannote.core": "diarization",
    "sounddevice": "live",
    "srt": "transcripts",
    "starlette": "serve",
    "uvicorn": "serve",
    "webvtt": "transcripts",
    "websockets": "serve",
    "sklearn": "evaluation",
}


ARGUMENT_PATTERN = re.compile(r"\{(\w+)(?:=([^{}]*))?\}")
r"""An argument in the message of :func:`argument_error`."""


def argument_error(template: str, kind: type[Exception] = ValueError) -> Exception:
    r"""An error whose advice names arguments, in the words of the interface.

    The message names arguments in braces:
    ``{win_dur}`` is the argument,
    ``{win_dur=1.0}`` a value to pass.
    The error reads as Python
    (``win_dur``, ``win_dur=1.0``);
    it keeps the template as ``template``,
    so that the command line writes the same advice
    with its flags (:func:`in_words`).

    Args:
        template: message with arguments in braces
        kind: class of the error

    Returns:
        the error, to raise

    Examples:
        >>> error = argument_error("Too short: pass e.g. {win_dur=1.0}.")
        >>> error
        ValueError('Too short: pass e.g. win_dur=1.0.')
        >>> in_words(error.template, {"win_dur": "--win-dur"})
        'Too short: pass e.g. --win-dur 1.0.'

    """
    error = kind(in_words(template))
    error.template = template
    return error


def in_words(
    template: str,
    flags: Mapping[str, str] | None = None,
    *,
    switches: frozenset[str] = frozenset(),
    none: Mapping[str, str] | None = None,
) -> str:
    r"""The message of :func:`argument_error` as Python or with flags.

    Args:
        template: message with arguments in braces
        flags: flag of each argument, e.g. ``{"win_dur": "--win-dur"}``;
            ``None`` writes the arguments as Python
            (an argument without a flag too)
        switches: flags that take no value (``--vad``):
            a value is left out
        none: what a flag takes for ``None``,
            else ``None`` reads "leave out" the flag

    Returns:
        the message

    Examples:
        >>> template = "Pass {errors='coerce'} or {win_dur=None}, not {folds=1}."
        >>> in_words(template)
        "Pass errors='coerce' or win_dur=None, not folds=1."
        >>> in_words(template, {"errors": "--errors", "win_dur": "--win-dur"})
        'Pass --errors coerce or leave out --win-dur, not folds=1.'
        >>> in_words("Use {model=w2v2-L}.", {"model": "--model"})
        'Use --model w2v2-L.'

    """

    def replace(match: re.Match) -> str:
        argument, value = match.groups()
        if flags is None or argument not in flags:
            return argument if value is None else f"{argument}={value}"
        flag = flags[argument]
        if value in ("None", "False"):
            if flag in (none or {}):
                return f"{flag} {none[flag]}"
            return f"leave out {flag}"
        if value is None or value == "True" or flag in switches:
            return flag
        try:
            literal = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            return f"{flag} {value}"
        if isinstance(literal, str):
            return f"{flag} {shlex.quote(literal)}"
        if isinstance(literal, list | tuple):
            return f"{flag} {','.join(str(item) for item in literal)}"
        return f"{flag} {value}"

    return ARGUMENT_PATTERN.sub(replace, template)


def check_positive_integer(name: str, value: object, *, none: str | None = None):
    r"""Refuse a count that is not a positive integer.

    The error is an :func:`argument_error`,
    so that the command line names the flag.

    Args:
        name: the argument
        value: its value
        none: what ``None`` means,
            or ``None`` if ``None`` is refused too

    Raises:
        ValueError: if ``value`` is not a positive integer
            (nor ``None``, where ``none`` says what it means)

    Examples:
        >>> check_positive_integer("num_workers", None, none="one per CPU core")
        >>> check_positive_integer("num_workers", 0, none="one per CPU core")
        Traceback (most recent call last):
        ...
        ValueError: num_workers must be a positive integer (or num_workers=None: one per CPU core), not 0: e.g. num_workers=1.

    """  # noqa: E501
    if value is None and none is not None:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        alternative = f" (or {{{name}=None}}: {none})" if none is not None else ""
        raise argument_error(
            f"{{{name}}} must be a positive integer{alternative}, "
            f"not {value!r}: e.g. {{{name}=1}}."
        )


def check_choice(name: str, choices: tuple, value: object):
    r"""Refuse a value that is not one of its choices.

    Args:
        name: the argument
        choices: the values it may take
        value: its value

    Raises:
        ValueError: if ``value`` is not in ``choices``

    Examples:
        >>> check_choice("errors", ("raise", "coerce"), "coerce")
        >>> check_choice("errors", ("raise", "coerce"), "ignore")
        Traceback (most recent call last):
        ...
        ValueError: errors must be one of ('raise', 'coerce'), not 'ignore'.

    """
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, not {value!r}.")


def count(number: int, noun: str, plural: str | None = None) -> str:
    r"""A number with its noun in singular or plural.

    Args:
        number: how many
        noun: singular noun
        plural: plural noun, default ``noun + "s"``

    Returns:
        e.g. ``"1 file"`` or ``"2 files"``

    Examples:
        >>> count(1, "file"), count(0, "file"), count(2, "class", "classes")
        ('1 file', '0 files', '2 classes')

    """
    if number == 1:
        return f"{number} {noun}"
    return f"{number} {plural or noun + 's'}"


def warn_items(summary: str, items: list[str], hint: str = ""):
    r"""Issue one warning: a summary line, one line per item, and a hint.

    The warning points at the user's call
    (see :func:`caller_stacklevel`).

    Args:
        summary: first line, without the colon
        items: one indented line each
        hint: last line, if given

    """
    lines = "\n".join(f"  {item}" for item in items)
    hint = f"\n{hint}" if hint else ""
    warnings.warn(
        f"{summary}:\n{lines}{hint}",
        RuntimeWarning,
        stacklevel=caller_stacklevel(),
    )


def caller_stacklevel() -> int:
    r"""Stack level of the first frame outside audemo and the toolkit.

    A warning then points at the user's call,
    not at the library code that found the problem.

    Returns:
        stack level for :func:`warnings.warn`

    """
    frame = inspect.currentframe()
    level = 1
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if level > 1 and not module.startswith(
            ("audemo.", "audinterface.", "audeer.", "audobject.")
        ):
            return level - 1
        frame = frame.f_back
        level += 1
    return 1  # pragma: no cover - there is always a caller


def import_optional(name: str, *, purpose: str) -> types.ModuleType:
    r"""Import an optional package, or say which extra installs it.

    Args:
        name: module to import, e.g. ``"matplotlib.pyplot"``
        purpose: what needs it, e.g. ``"plots"``

    Returns:
        the module

    Raises:
        ImportError: if the package is not installed,
            naming the extra to install

    Examples:
        >>> import_optional("json", purpose="examples").__name__
        'json'

    """
    try:
        return importlib.import_module(name)
    except ImportError as ex:
        # namespace packages (pyannote.audio) are named with their second part
        package = name.split(".")[0]
        if ".".join(name.split(".")[:2]) in OPTIONAL_PACKAGES:
            package = ".".join(name.split(".")[:2])
        extra = OPTIONAL_PACKAGES.get(package)
        install = (
            f"pip install 'audemo[{extra}]'" if extra else f"pip install {package}"
        )
        raise ImportError(f"{package} is needed for {purpose}: {install}") from ex


def available_cores() -> int:
    r"""Number of CPU cores this process may use.

    Returns:
        at least 1

    """
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def version() -> str:
    r"""Version of audemo, as installed.

    Core modules take it from here:
    importing it from the package root would import upwards.

    Returns:
        version string, ``"unknown"`` if audemo is not installed

    """
    import importlib.metadata

    try:
        return importlib.metadata.version("audemo")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover
        return "unknown"
