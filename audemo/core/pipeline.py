r"""Safe loading of pipeline YAML files from elsewhere."""

from __future__ import annotations

from collections.abc import Sequence
import os
import re
import warnings

import audeer
import audobject

from audemo.core.define import INTERFACE_RUNTIME_ARGUMENTS
from audemo.core.define import VOICE_ACTIVITY_RUNTIME_ARGUMENTS
from audemo.core.model.fingerprint import is_fingerprint
from audemo.core.safe_yaml import read_yaml_bytes
from audemo.core.safe_yaml import safe_load


CALIBRATION_CLASS = "audemo.core.calibration.Calibration"
r"""The class of :class:`audemo.Calibration`, as a pipeline file names it."""

ALLOWED_CLASSES = (
    CALIBRATION_CLASS,
    "audemo.core.categories.categorical.Categories",
    "audemo.core.emotion.Emotion",
    "audemo.core.segment.VoiceActivity",
)
r"""Classes that :func:`audemo.load_pipeline` instantiates by default.

A bare ``audonnx.core.model.Model`` is not among them:
it would load any ONNX file without a fingerprint
(add it with ``allow=`` if you trust the file).
"""

REFUSED_CLASSES = ("audonnx.core.function.Function",)
r"""Classes that are never instantiated: they execute code from the YAML."""

RUNTIME_ARGUMENTS = {
    "audemo.core.emotion.Emotion": INTERFACE_RUNTIME_ARGUMENTS,
    "audemo.core.categories.categorical.Categories": INTERFACE_RUNTIME_ARGUMENTS,
    "audemo.core.segment.VoiceActivity": VOICE_ACTIVITY_RUNTIME_ARGUMENTS,
    # plain values only: nothing of the machine
    CALIBRATION_CLASS: (),
    "audonnx.core.model.Model": ("device", "num_workers", "session_options"),
}
r"""Arguments a pipeline file may not set, per class.

They are the classes' hidden arguments:
settings of the machine that runs the pipeline
(cache folder, device, processes, threads),
which :meth:`audobject.Object.to_yaml` does not write.
:func:`audemo.load_pipeline` drops them from the file with a warning;
only its ``override_args`` set them.
"""

MOVED_CLASSES = {
    "audemo.core.categorical.Categories": (
        "audemo.core.categories.categorical.Categories"
    ),
    "audemo.core.diarization.Diarization": (
        "audemo.core.conversation.diarization.Diarization"
    ),
    "audemo.core.transcription.Transcription": (
        "audemo.core.conversation.transcription.Transcription"
    ),
}
r"""Classes that pipelines written before 0.x name by their old module.

The loader reads the old name as the new one,
so a file that names the old one is checked as one that names the new one,
and ``allow=`` takes either.
The old modules remain (``audemo/core/categorical.py``, ...)
for files given to :func:`audobject.from_yaml` directly.
"""

CLASS_KEY_PREFIXES = ("$", "auglib.core.", "audbenchmark.core.")
r"""Starts of a mapping key that :mod:`audobject` reads as a class.

Besides ``$...``, audobject treats keys of two legacy packages as classes
(``audobject.core.utils.is_class``).
"""

# "module.Class": dotted Python identifiers, at least a module and a class
_CLASS_NAME = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)+", re.ASCII)

# arguments become keyword arguments of the class
_ARGUMENT_NAME = re.compile(r"[A-Za-z_]\w*", re.ASCII)

# fingerprints a pipeline must record, so that loading can check the files
_REQUIRED_FINGERPRINTS = {
    "audemo.core.emotion.Emotion": [("fingerprint", "model")],
    "audemo.core.categories.categorical.Categories": [
        ("fingerprint", "model"),
        ("head_fingerprint", "head"),
    ],
}


def load_pipeline(
    path: str,
    *,
    allow: Sequence[str] = (),
    override_args: dict[str, object] | None = None,
) -> audobject.Object:
    r"""Load a pipeline YAML file from elsewhere safely.

    :func:`audobject.from_yaml` instantiates any class
    a YAML file names
    (with or without a leading ``$``),
    runs code through Python tags
    and can install packages.
    Pipelines exchanged between people are data, not code.
    This function reads the file **once**
    and builds the pipeline from exactly the data it checked
    (a file swapped between two reads, or a FIFO, cannot win):

    * only a regular file of at most 1 MiB is read;
      Python tags are refused,
      and aliases may expand to at most 100,000 values
      (no YAML bombs)
    * the file describes one object,
      written as audemo writes it: ``$module.Class`` (optionally ``==version``)
    * every mapping key that :mod:`audobject` could read as a class,
      anywhere in the file
      (a key starting with ``$``, or with ``auglib.core.``
      or ``audbenchmark.core.``),
      must be the only key of its mapping
      and name one of the classes
      :class:`audemo.Emotion`, :class:`audemo.Categories`,
      :class:`audemo.VoiceActivity`
      and :class:`audemo.Calibration`
      (written as ``audemo.core.emotion.Emotion``,
      ``audemo.core.categories.categorical.Categories``,
      ``audemo.core.segment.VoiceActivity``
      and ``audemo.core.calibration.Calibration``)
      or a class in ``allow``;
      ``audonnx.core.function.Function``
      (it runs code from the YAML)
      is refused even if allowed
    * arguments of the machine that runs the pipeline
      (for :class:`audemo.Emotion` and :class:`audemo.Categories`
      ``model_cache_root``, ``device``, ``num_workers``, ``num_threads``,
      ``multiprocessing``, ``share_weights`` and ``verbose``;
      for :class:`audemo.VoiceActivity`
      ``errors``, ``num_workers`` and ``verbose``;
      for :class:`audonnx.Model`
      ``device``, ``num_workers`` and ``session_options``)
      are dropped from the file with a warning:
      only ``override_args`` sets them
    * an :class:`audemo.Emotion` must record the fingerprint of its model,
      an :class:`audemo.Categories` also that of its head,
      each a quoted string of 64 lowercase hexadecimal characters
    * packages are never installed

    A calibration file
    (:meth:`audemo.Calibration.fit` and ``to_yaml()``)
    loads as well;
    its values are checked by :class:`audemo.Calibration` itself,
    e.g. that an isotonic table is monotone.

    The model the pipeline names
    (a folder relative to the YAML file, a registered name or a URL)
    is obtained and opened by audemo's own model loader
    (as :func:`audemo.load_model` does),
    which reads the folder's ``model.yaml``
    with the same safe YAML parser, not with :mod:`audobject`,
    and the pipeline is refused unless the model's fingerprint
    (the SHA256 of its ``model.onnx``)
    equals the recorded one;
    a categories head is refused unless the SHA256
    of its ``model.onnx`` equals the recorded ``head_fingerprint``.

    Not guaranteed:
    the pipeline chooses which folder, name or URL the model comes from,
    so loading reads a folder of the pipeline's choosing
    or downloads from its URL before the fingerprint is checked;
    a matching fingerprint shows that the model is the one
    the pipeline was made with, not that this model is benign;
    the pipeline's other settings
    (e.g. ``outputs``, ``win_dur``, ``hop_dur``, ``chunk_dur``, ``precision``)
    are taken as they are and determine how much work processing takes;
    an :class:`audonnx.Model` in a pipeline has no fingerprint;
    and a class added with ``allow`` is trusted entirely:
    its arguments (including hidden ones and value resolvers,
    which may run code) are not checked.

    Args:
        path: pipeline YAML file
        allow: further classes to accept,
            as ``"module.Class"``
        override_args: arguments that replace those in the file,
            e.g. ``{"model_cache_root": "/data/cache", "num_workers": 4}``;
            they apply to every object in the pipeline that has them

    Returns:
        the pipeline object

    Raises:
        FileNotFoundError: if ``path`` does not exist
        ValueError: if the file is not a regular file, too large,
            expands to too many values, is not plain YAML,
            does not describe one pipeline object,
            names a class that is not allowed,
            or a pipeline lacks a valid model or head fingerprint
        RuntimeError: if the model's or head's fingerprint differs

    Examples:
        >>> root = audemo.testing.create_model("model")
        >>> audemo.Emotion(root).to_yaml("emotion.yaml")
        >>> pipeline = load_pipeline("emotion.yaml", override_args={"num_workers": 2})
        >>> list(pipeline.column_names)
        ['arousal', 'dominance', 'valence']
        >>> pipeline.num_workers
        2

    """
    return _load(path, "Pipeline", ALLOWED_CLASSES, allow, override_args)


def load_calibration(path: str) -> audobject.Object:
    r"""Load a calibration YAML file from elsewhere safely.

    Reads the file as :func:`load_pipeline` does,
    but accepts only a single :class:`audemo.Calibration`
    (no other class anywhere in the file).

    Args:
        path: calibration YAML file,
            written by ``audemo.Calibration.to_yaml()``
            or ``audemo calibrate``

    Returns:
        the calibration

    Raises:
        FileNotFoundError: if ``path`` does not exist
        ValueError: if the file is not plain YAML,
            does not describe a calibration,
            or holds an invalid mapping

    Examples:
        >>> calibration = audemo.Calibration(
        ...     method="linear",
        ...     mappings={
        ...         "valence": {
        ...             "pooled": {
        ...                 "method": "linear",
        ...                 "slope": 4.0,
        ...                 "intercept": 1.0,
        ...                 "samples": 20,
        ...             },
        ...             "groups": {},
        ...         }
        ...     },
        ...     samples=20,
        ... )
        >>> calibration.to_yaml("calibration.yaml")
        >>> load_calibration("calibration.yaml").mappings == calibration.mappings
        True

    """
    return _load(path, "Calibration", (CALIBRATION_CLASS,), (), None, expect=True)


def is_calibration(value: object) -> bool:
    r"""Whether ``value`` is an :class:`audemo.Calibration`.

    Layer 2 modules cannot import the class (layer 4):
    it is recognized by its name, as pipeline files name it.

    Args:
        value: any object

    Returns:
        ``True`` for a calibration

    Examples:
        >>> is_calibration(audemo.Calibration), is_calibration("calibration.yaml")
        (False, False)

    """
    kind = type(value)
    return f"{kind.__module__}.{kind.__qualname__}" == CALIBRATION_CLASS


def _load(
    path: str,
    what: str,
    classes: Sequence[str],
    allow: Sequence[str],
    override_args: dict[str, object] | None,
    *,
    expect: bool = False,
) -> audobject.Object:
    r"""Read a YAML file once, check it and build its object.

    With ``expect`` the file must describe an object of one of ``classes``.

    """
    path = audeer.path(path)
    source = f"{what} '{path}'"
    # one read: the checks below and audobject see the same bytes
    text = read_yaml_bytes(path, what=what)
    # allow="module.Class" would otherwise allow its single characters
    allowed = set(classes) | set([allow] if isinstance(allow, str) else allow)
    allowed = {MOVED_CLASSES.get(name, name) for name in allowed}
    dropped = []
    # safe_load refuses nesting deeper than the checks below can recurse
    data = safe_load(text, source=source)
    if expect and isinstance(data, dict) and len(data) == 1:
        (key,) = data
        name = _class_name(key, source) if isinstance(key, str) else repr(key)
        if name not in classes:
            raise ValueError(
                f"{source} describes '{name}', not a {what.lower()}: "
                f"give the file written by audemo calibrate "
                f"or audemo.Calibration.to_yaml()."
            )
    data = _clean_pipeline(data, source, allowed, dropped)
    if dropped:
        warnings.warn(
            f"{source} sets {', '.join(dropped)}: "
            f"these are settings of the machine that runs it, "
            f"not of the pipeline, and are ignored. "
            f"Pass them with override_args={{...}} instead.",
            UserWarning,
            stacklevel=3,
        )
    return audobject.from_dict(
        data,
        root=os.path.dirname(path),
        auto_install=False,
        override_args=dict(override_args or {}),
    )


def _clean_pipeline(data: object, source: str, allowed: set, dropped: list) -> dict:
    r"""Checked copy of a parsed pipeline, without runtime arguments.

    audobject decides in several places whether a key is a class
    (the top-level key with or without ``$``,
    the first key of a nested mapping if it starts with ``$`` or a legacy prefix)
    and ignores further keys there.
    Rather than mirror those rules,
    the data is normalised so that they cannot differ from the checks:
    the top-level key must be a ``$`` class,
    every key audobject could read as a class must be the only key
    of its mapping and is checked,
    and argument names must be identifiers.
    The copy also expands YAML aliases
    (bounded by the safe YAML parser),
    so that no checked value is shared with another place.

    """
    if not isinstance(data, dict) or len(data) != 1:
        raise ValueError(
            f"{source} does not describe one object: "
            f"a pipeline file has a single top-level key, "
            f"the class, e.g. '$audemo.core.emotion.Emotion'."
        )
    (key,) = data
    if not (isinstance(key, str) and key.startswith("$")):
        raise ValueError(
            f"{source} starts with {key!r}, not with a class "
            f"as audemo writes it ('$module.Class', e.g. "
            f"'$audemo.core.emotion.Emotion'): refused."
        )
    return _clean_value(data, source, allowed, dropped)


def _clean_value(value: object, source: str, allowed: set, dropped: list) -> object:
    if isinstance(value, list):
        return [_clean_value(item, source, allowed, dropped) for item in value]
    if not isinstance(value, dict):
        return value
    classes = [key for key in value if is_class_key(key)]
    if not classes:
        return {
            key: _clean_value(item, source, allowed, dropped)
            for key, item in value.items()
        }
    if len(value) != 1:
        # audobject reads only the first key of such a mapping as a class
        # and ignores the others: no room for a second reading
        raise ValueError(
            f"{source} has a mapping with the class key '{classes[0]}' "
            f"and further keys {[key for key in value if key != classes[0]]}: "
            f"a class must be the only key of its mapping. Remove the other keys."
        )
    ((key, arguments),) = value.items()
    name = _class_name(key, source)
    if name in MOVED_CLASSES:
        key = key.replace(name, MOVED_CLASSES[name], 1)
    return {key: _clean_object(key, arguments, source, allowed, dropped)}


def _clean_object(
    key: str, arguments: object, source: str, allowed: set, dropped: list
) -> dict:
    name = _class_name(key, source)
    if name in REFUSED_CLASSES:
        raise ValueError(
            f"{source} names '{name}', which runs code stored in the YAML: refused."
        )
    if name not in allowed:
        raise ValueError(
            f"{source} names '{name}', which is not allowed. "
            f"Allowed are {sorted(allowed)}; if you trust the file, "
            f"add the class with allow=[...]."
        )
    if not isinstance(arguments, dict):
        raise ValueError(
            f"{source} gives {name} the arguments {arguments!r}, "
            f"not a mapping of argument names to values "
            f"(write '{{}}' for none)."
        )
    for argument in arguments:
        if not (isinstance(argument, str) and _ARGUMENT_NAME.fullmatch(argument)):
            raise ValueError(
                f"{source} gives {name} an argument named {argument!r}: "
                f"argument names are Python identifiers. Remove it."
            )
    runtime = RUNTIME_ARGUMENTS.get(name, ())
    dropped += [
        f"{name.split('.')[-1]}.{argument}"
        for argument in arguments
        if argument in runtime
    ]
    for argument, what in _REQUIRED_FINGERPRINTS.get(name, ()):
        _check_fingerprint(arguments.get(argument), argument, what, source)
    return {
        argument: _clean_value(value, source, allowed, dropped)
        for argument, value in arguments.items()
        if argument not in runtime
    }


def _check_fingerprint(value: object, argument: str, what: str, source: str):
    if value is None or value == "":
        raise ValueError(
            f"{source} has no {what} fingerprint "
            f"({argument}): it cannot be checked "
            f"that it runs the intended {what}. "
            f"Save the pipeline again with audemo's to_yaml()."
        )
    if is_fingerprint(value):
        return
    if isinstance(value, int | float) and not isinstance(value, bool):
        # an unquoted all-digit SHA256 is a YAML number: leading zeros are lost
        raise ValueError(
            f"{source} has a {what} fingerprint ({argument}) that YAML reads "
            f"as the number {value!r}, not as 64 hexadecimal characters: "
            f"quote it, e.g. {argument}: '0123...'."
        )
    raise ValueError(
        f"{source} has the {what} fingerprint ({argument}) {value!r}, "
        f"which is not a SHA256 (a quoted string of 64 lowercase "
        f"hexadecimal characters): write the fingerprint audemo recorded, "
        f"in quotes."
    )


def is_class_key(key: object) -> bool:
    r"""Whether :mod:`audobject` could read a mapping key as a class.

    Args:
        key: mapping key

    Returns:
        ``True`` for a string that starts with one of
        :data:`CLASS_KEY_PREFIXES`

    Examples:
        >>> is_class_key("$audemo.core.emotion.Emotion"), is_class_key("corpus")
        (True, False)

    """
    return isinstance(key, str) and key.startswith(CLASS_KEY_PREFIXES)


def _class_name(key: str, source: str) -> str:
    r"""``module.Class`` of a class key, as audobject imports it.

    audobject (``split_class_key``) removes ``$``,
    then a ``==version``,
    then a ``package:`` prefix, which only matters for installing,
    and imports the module before the last dot.

    """
    name = key[1:] if key.startswith("$") else key
    if name.count("==") > 1 or name.count(":") > 1:
        name = ""
    name = name.split("==")[0].split(":")[-1]
    if not _CLASS_NAME.fullmatch(name):
        raise ValueError(
            f"{source} has the class key '{key}', "
            f"which is not '$module.Class' or '$module.Class==version': refused."
        )
    return name
