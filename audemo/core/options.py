r"""Options of the interfaces: checks, shared audobject settings, defaults.

:class:`audemo.Emotion` and :class:`audemo.Categories`
take the same options
and check them with :func:`check_options` at construction,
so that a wrong option is an error at once,
not a failure blamed on each file.

"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
import datetime
import functools
import numbers
import os
import warnings

import numpy as np
import pandas as pd

import audeer
import audinterface
import audobject

from audemo.core.define import ERRORS
from audemo.core.define import INTERFACE_RUNTIME_ARGUMENTS
from audemo.core.define import MIN_SAMPLES
from audemo.core.define import OUTPUTS
from audemo.core.define import PRECISIONS
from audemo.core.define import SAMPLING_RATE
from audemo.core.model.api import check_device
from audemo.core.pipeline import is_calibration
from audemo.core.pipeline import load_calibration
from audemo.core.utils import argument_error
from audemo.core.utils import available_cores
from audemo.core.utils import caller_stacklevel
from audemo.core.utils import check_choice
from audemo.core.utils import check_positive_integer


BORROWED_ARGUMENTS = {
    "sampling_rate": "process",
    "resample": "process",
    "mixdown": "process",
    "segment": "process",
}
r"""Arguments audobject finds on the interface's process."""

# argument names in braces: see argument_error
_EXAMPLES = {
    "win_dur": "{win_dur=1.0}, or {win_dur=None} for no windows",
    "hop_dur": "{hop_dur=0.5}, or {hop_dur=None} for half of {win_dur}",
    "chunk_dur": "{chunk_dur=20.0}, or {chunk_dur=None} for no chunks",
}


def interface_init(**resolvers: type) -> Callable:
    r"""The audobject decorator of an interface's ``__init__``.

    Borrows :data:`BORROWED_ARGUMENTS` from the process,
    hides :data:`audemo.core.define.INTERFACE_RUNTIME_ARGUMENTS`
    and resolves the given arguments,
    e.g. ``model`` with ``ModelResolver``.

    Args:
        resolvers: resolver class per argument

    Returns:
        decorator

    """
    return audobject.init_decorator(
        borrow=BORROWED_ARGUMENTS,
        hide=list(INTERFACE_RUNTIME_ARGUMENTS),
        resolvers=resolvers,
    )


def check_options(
    *,
    outputs: str | Sequence[str] = "logits",
    precision: str = "fp32",
    fingerprint: object = None,
    win_dur: object = None,
    hop_dur: object = None,
    chunk_dur: object = None,
    sampling_rate: int = SAMPLING_RATE,
    channels: int | Sequence[int] = 0,
    mixdown: bool = False,
    errors: str = "raise",
    device: str = "cpu",
    num_workers: object = 1,
    num_threads: object = None,
):
    r"""Refuse options that would fail for every input.

    Shared by :class:`audemo.Emotion` and :class:`audemo.Categories`,
    so that a wrong option is an error at construction,
    not a failure blamed on each file.
    Nothing is downloaded or read:
    a bad device, or ``int8`` on a GPU, fails before the model is fetched.

    Args:
        outputs: requested outputs
        precision: model precision
        fingerprint: expected model fingerprint
        win_dur: window duration
        hop_dur: hop duration
        chunk_dur: chunk duration
        sampling_rate: sampling rate
        channels: channel selection
        mixdown: mono mixdown
        errors: what to do with failing inputs
        device: device of the model
        num_workers: number of workers
        num_threads: number of threads per worker

    Raises:
        TypeError: if a duration is of a type that is no duration,
            or digits as text (audinterface counts them as samples)
        ValueError: if an option is invalid

    Examples:
        >>> check_options(
        ...     win_dur=1.0, hop_dur=None, chunk_dur=20.0, num_workers=None,
        ...     num_threads=None,
        ... )
        >>> check_options(
        ...     win_dur=0, hop_dur=None, chunk_dur=20.0, num_workers=1, num_threads=None
        ... )
        Traceback (most recent call last):
        ...
        ValueError: win_dur must be at least 0.025 s (the model needs 400 samples at 16000 Hz), not 0: pass a duration in seconds, e.g. win_dur=1.0, or win_dur=None for no windows.
        >>> check_options(channels=[0, 1])
        Traceback (most recent call last):
        ...
        ValueError: The model takes one channel, but channels=[0, 1] selects 2: add mixdown=True or select a single channel.

    """  # noqa: E501
    options = {
        "win_dur": win_dur,
        "hop_dur": hop_dur,
        "chunk_dur": chunk_dur,
        "num_workers": num_workers,
        "num_threads": num_threads,
        "outputs": outputs,
        "sampling_rate": sampling_rate,
        "errors": errors,
        "precision": precision,
        "fingerprint": fingerprint,
    }
    for name, value in options.items():
        OPTION_CHECKS[name](value)
    # options that must fit together
    _check_window(win_dur, hop_dur)
    _check_input(channels, mixdown)
    check_device(device, precision)


def check_errors(errors: object):
    r"""Refuse an ``errors`` option that is not one of :data:`ERRORS`.

    Args:
        errors: what to do with failing inputs

    Raises:
        ValueError: if ``errors`` is not one of :data:`ERRORS`

    Examples:
        >>> check_errors("coerce")
        >>> check_errors("ignore")
        Traceback (most recent call last):
        ...
        ValueError: errors must be one of ('raise', 'coerce'), not 'ignore'.

    """
    check_choice("errors", ERRORS, errors)


def output_names(outputs: str | Sequence[str]) -> list[str]:
    r"""The requested outputs as a list of names.

    Args:
        outputs: ``"logits"``, ``"hidden_states"`` or a list of both

    Returns:
        output names

    Raises:
        ValueError: if ``outputs`` is empty, repeats or has unknown names

    Examples:
        >>> output_names("logits")
        ['logits']

    """
    names = audeer.to_list(outputs)
    invalid = [name for name in names if name not in OUTPUTS]
    if not names or invalid or len(set(names)) != len(names):
        raise ValueError(
            f"outputs must be 'logits', 'hidden_states' or a list of both, "
            f"not {outputs!r}."
        )
    return names


def calibration_option(
    calibration: object, outputs: str | Sequence[str]
) -> audobject.Object | None:
    r"""The calibration of an interface, loaded from its file if a path.

    Args:
        calibration: ``None``, an :class:`audemo.Calibration`,
            or the path of its YAML file
            (loaded safely, see :func:`audemo.load_pipeline`)
        outputs: requested outputs;
            a calibration maps ``"logits"``

    Returns:
        the calibration, or ``None``

    Raises:
        ValueError: if ``calibration`` is none of these,
            its file is not a valid calibration,
            or ``outputs`` has no ``"logits"``

    Examples:
        >>> calibration_option(None, "hidden_states") is None
        True
        >>> calibration_option(1.5, "logits")
        Traceback (most recent call last):
        ...
        ValueError: calibration must be None, an audemo.Calibration or the path of its YAML file, not float 1.5.

    """  # noqa: E501
    if calibration is None:
        return None
    if isinstance(calibration, str | os.PathLike):
        calibration = load_calibration(os.fspath(calibration))
    elif not is_calibration(calibration):
        raise ValueError(
            f"calibration must be None, an audemo.Calibration "
            f"or the path of its YAML file, "
            f"not {type(calibration).__name__} {calibration!r}."
        )
    if "logits" not in output_names(outputs):
        raise ValueError(
            f"A calibration maps arousal, dominance and valence, "
            f"but outputs={outputs!r} has no 'logits': "
            f"add them (e.g. outputs=['logits', 'hidden_states']) "
            f"or leave out calibration."
        )
    return calibration


def deprecated_cache_root(
    interface: object, cache_root: str | None, model_cache_root: str | None
) -> str | None:
    r"""``model_cache_root``, or ``cache_root`` with a warning.

    Args:
        interface: the object whose class name the warning gives
        cache_root: the deprecated argument
        model_cache_root: the new argument

    Returns:
        the model cache folder

    Raises:
        ValueError: if both are given and differ

    """
    if cache_root is None:
        return model_cache_root
    name = type(interface).__name__
    if model_cache_root is not None and model_cache_root != cache_root:
        raise ValueError(
            f"{name}() got cache_root={cache_root!r} and "
            f"model_cache_root={model_cache_root!r}: "
            f"pass only model_cache_root (cache_root is its deprecated name)."
        )
    warnings.warn(
        f"{name}(cache_root=...) is deprecated: it is the cache of models, "
        f"pass model_cache_root={cache_root!r} instead "
        f"(the cache of results is process_index(cache_root=...)).",
        FutureWarning,
        stacklevel=caller_stacklevel(),
    )
    return cache_root


def threads_per_worker(num_workers: int | None) -> int:
    r"""Number of onnxruntime threads per worker that share the CPU cores.

    Args:
        num_workers: number of workers, ``None`` for one per core

    Returns:
        at least 1

    Examples:
        >>> threads_per_worker(10**6)
        1

    """
    cores = available_cores()
    return max(1, cores // max(1, num_workers or cores))


def _check_duration(name: str, least: float, value: object):
    r"""Refuse a duration that is too short, or of a type that is no duration."""
    if value is None:
        return
    _check_duration_type(name, value)
    seconds = _seconds(value)
    needs = f"the model needs {MIN_SAMPLES} samples at {SAMPLING_RATE} Hz"
    what = f"at least {least} s ({needs})" if least else "positive"
    if seconds is None or not seconds > 0 or seconds < least:
        raise argument_error(
            f"{{{name}}} must be {what}, not {value!r}: "
            f"pass a duration in seconds, e.g. {_EXAMPLES[name]}."
        )


def _check_window(win_dur: object, hop_dur: object):
    if hop_dur is not None and win_dur is None:
        raise argument_error(
            f"{{hop_dur={hop_dur!r}}} needs {{win_dur}}: "
            f"pass both (e.g. {{win_dur=1.0}}, {{hop_dur={hop_dur!r}}}) "
            f"or leave out {{hop_dur}}."
        )


def _check_duration_type(name: str, value: object):
    r"""Refuse a duration of a type that is not one, or digits as text."""
    if isinstance(value, str) and _is_number(value):
        # audinterface reads text without a unit as samples: "2" is 125 µs
        raise TypeError(
            f"{name} must be a number of seconds or a text with a unit, "
            f"not the text {value!r}, which counts samples: "
            f"pass {name}={value.strip()} or {name}='{value.strip()}s'."
        )
    if isinstance(value, bool) or not isinstance(
        value, numbers.Real | str | datetime.timedelta | np.timedelta64
    ):
        raise TypeError(
            f"{name} must be a number of seconds, "
            f"a text with a unit (e.g. '500ms') or a pandas.Timedelta, "
            f"not {type(value).__name__} {value!r}."
        )


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _check_sampling_rate(sampling_rate: object):
    if sampling_rate != SAMPLING_RATE:
        raise ValueError(
            f"The model works at {SAMPLING_RATE} Hz, "
            f"sampling_rate must be {SAMPLING_RATE}, not {sampling_rate}."
        )


def _check_fingerprint_type(fingerprint: object):
    if fingerprint is not None and not isinstance(fingerprint, str):
        # YAML reads an unquoted all-digit SHA256 as an integer,
        # whose leading zeros are lost
        raise ValueError(
            f"fingerprint must be a string of 64 hexadecimal characters, "
            f"not {type(fingerprint).__name__} {fingerprint!r}: "
            f"quote it in YAML (fingerprint: '...')."
        )


def _check_input(channels: int | Sequence[int], mixdown: bool):
    selected = len(audeer.to_list(channels))
    if selected > 1 and not mixdown:
        raise argument_error(
            f"The model takes one channel, but {{channels={channels}}} "
            f"selects {selected}: "
            f"add {{mixdown=True}} or select a single channel."
        )


def _seconds(value: object) -> float | None:
    r"""Duration in seconds, ``None`` if it is none."""
    if isinstance(value, numbers.Real):  # not bool: _check_duration_type
        return float(value) if np.isfinite(value) else None
    try:
        # audinterface also takes strings ("500ms") and Timedelta objects
        duration = audinterface.utils.to_timedelta(value, SAMPLING_RATE)
    except Exception:
        return None
    return duration.total_seconds() if not pd.isna(duration) else None


_MIN_DURATION = MIN_SAMPLES / SAMPLING_RATE

OPTION_CHECKS: dict[str, Callable[[object], None]] = {
    "win_dur": functools.partial(_check_duration, "win_dur", _MIN_DURATION),
    "hop_dur": functools.partial(_check_duration, "hop_dur", 0.0),
    "chunk_dur": functools.partial(_check_duration, "chunk_dur", _MIN_DURATION),
    "num_workers": functools.partial(
        check_positive_integer, "num_workers", none="one per CPU core"
    ),
    "num_threads": functools.partial(
        check_positive_integer,
        "num_threads",
        none="to share the CPU cores among the workers",
    ),
    "outputs": output_names,
    "sampling_rate": _check_sampling_rate,
    "errors": check_errors,
    "precision": functools.partial(check_choice, "precision", PRECISIONS),
    "fingerprint": _check_fingerprint_type,
}
r"""Check of each option of :func:`check_options` on its own.

Each takes the option's value and raises if it is wrong,
in the order :func:`check_options` runs them.
Options that must fit together
(``hop_dur`` and ``win_dur``, ``channels`` and ``mixdown``,
``device`` and ``precision``)
are checked after these.
"""

CHECKED = (*OPTION_CHECKS, "channels", "mixdown", "device")
r"""Options that :func:`check_options` checks."""
