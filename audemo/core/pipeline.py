r"""Safe loading of pipeline YAML files from elsewhere."""

from __future__ import annotations

from collections.abc import Iterator
from collections.abc import Sequence

import yaml

import audeer
import audobject


ALLOWED_CLASSES = (
    "audemo.core.categorical.Categories",
    "audemo.core.emotion.Emotion",
    "audemo.core.segment.VoiceActivity",
    "audonnx.core.model.Model",
)
r"""Classes that :func:`audemo.load_pipeline` instantiates by default."""

REFUSED_CLASSES = ("audonnx.core.function.Function",)
r"""Classes that are never instantiated: they execute code from the YAML."""


def load_pipeline(
    path: str,
    *,
    allow: Sequence[str] = (),
    override_args: dict[str, object] | None = None,
) -> audobject.Object:
    r"""Load a pipeline YAML file safely.

    :func:`audobject.from_yaml` instantiates any class
    a YAML file names
    and can install packages.
    Pipelines exchanged between people are data, not code:
    this function reads the file with :func:`yaml.safe_load` first
    (no Python tags),
    refuses any class outside :data:`audemo.core.pipeline.ALLOWED_CLASSES`
    and ``allow``,
    never installs packages,
    and requires that an :class:`audemo.Emotion`
    records the fingerprint of its model
    (and :class:`audemo.Categories` also that of its head),
    which is then checked against the files that are found.

    Args:
        path: pipeline YAML file
        allow: further classes to accept,
            as ``"module.Class"``
        override_args: arguments that replace those in the file,
            e.g. ``{"cache_root": "/data/cache", "num_workers": 4}``

    Returns:
        the pipeline object

    Raises:
        FileNotFoundError: if ``path`` does not exist
        ValueError: if the file is not a pipeline,
            names a class that is not allowed,
            or a pipeline lacks a model or head fingerprint
        RuntimeError: if the model's fingerprint differs

    Examples:
        >>> root = audemo.testing.create_model("model")
        >>> audemo.Emotion(root).to_yaml("emotion.yaml")
        >>> list(load_pipeline("emotion.yaml").column_names)
        ['arousal', 'dominance', 'valence']

    """
    path = audeer.path(path)
    with open(path) as fp:
        text = fp.read()
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as ex:
        raise ValueError(
            f"Pipeline '{path}' is not plain YAML "
            f"(Python tags are refused): {' '.join(str(ex).split())}"
        ) from ex
    if not isinstance(data, dict) or len(data) != 1:
        raise ValueError(f"Pipeline '{path}' does not describe one object.")
    allowed = set(ALLOWED_CLASSES) | set(allow)
    for name, arguments in _objects(data):
        if name in REFUSED_CLASSES:
            raise ValueError(
                f"Pipeline '{path}' names '{name}', "
                f"which runs code stored in the YAML: refused."
            )
        if name not in allowed:
            raise ValueError(
                f"Pipeline '{path}' names '{name}', which is not allowed. "
                f"Allowed are {sorted(allowed)}; if you trust the file, "
                f"add the class with allow=[...]."
            )
        for argument, what in _REQUIRED_FINGERPRINTS.get(name, ()):
            if not (isinstance(arguments, dict) and arguments.get(argument)):
                raise ValueError(
                    f"Pipeline '{path}' has no {what} fingerprint "
                    f"({argument}): it cannot be checked "
                    f"that it runs the intended {what}."
                )
    return audobject.from_yaml(
        path, auto_install=False, override_args=override_args or {}
    )


# fingerprints a pipeline must record, so that loading can check the files
_REQUIRED_FINGERPRINTS = {
    "audemo.core.emotion.Emotion": [("fingerprint", "model")],
    "audemo.core.categorical.Categories": [
        ("fingerprint", "model"),
        ("head_fingerprint", "head"),
    ],
}


def _objects(data: object) -> Iterator[tuple[str, object]]:
    r"""Classes named in an audobject YAML structure, with their arguments."""
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(key, str) and key.startswith("$"):
                yield key[1:].split("==")[0], value
            yield from _objects(value)
    elif isinstance(data, list):
        for value in data:
            yield from _objects(value)
