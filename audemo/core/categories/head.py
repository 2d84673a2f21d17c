r"""A categories head: the ONNX classifier on the model's embedding.

A head is a folder with ``model.onnx`` and ``model.yaml``,
written by :func:`audemo.save_categories`
(:mod:`audemo.core.categories.export`).
This module reads it: what it is (:func:`read_head`, :func:`head_info`)
and its session, opened once per process (:func:`head_session`).

"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os

import onnxruntime

import audeer

from audemo.core.model.api import MODEL_FILE
from audemo.core.model.folder import refuse_external_data
from audemo.core.ort import small_session


HEAD_INPUT = "hidden_states"
r"""Input node of a categories head: the model's embedding."""

HEAD_OUTPUTS = {"logistic": "probabilities", "svc": "scores"}
r"""Output node of a categories head per classifier."""

METADATA_CLASSES = "audemo.classes"
r"""Metadata key of the class names (JSON list) in ``model.onnx``."""

METADATA_CLASSIFIER = "audemo.classifier"
r"""Metadata key of the classifier (a key of :data:`HEAD_OUTPUTS`)."""


@dataclasses.dataclass(frozen=True)
class Head:
    r"""A categories head as read from its folder."""

    root: str
    r"""Absolute folder of the head."""

    fingerprint: str
    r"""SHA256 of its ``model.onnx``."""

    classes: list[str]
    r"""Class names, the columns of the results."""

    output: str
    r"""Output node: ``"probabilities"`` or ``"scores"``."""

    size: int
    r"""Size of the embedding it takes."""


def read_head(root: str, expected_fingerprint: str | None = None) -> Head:
    r"""Read and check a head folder.

    Args:
        root: folder written by :func:`audemo.save_categories`
        expected_fingerprint: SHA256 the head's ``model.onnx`` must have,
            ``None`` accepts it as it is

    Returns:
        the head

    Raises:
        FileNotFoundError: if ``root`` has no ``model.onnx``
        RuntimeError: if the fingerprint differs
            or the head keeps weights in external data files
        ValueError: if ``model.onnx`` is not a categories head

    """
    root = audeer.path(root)
    path = os.path.join(root, MODEL_FILE)
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"No categories head in '{root}': it has no {MODEL_FILE} "
            f"(save one with audemo.save_categories())."
        )
    with open(path, "rb") as fp:
        data = fp.read()
    # heads are small: hash the bytes every time, no cached stamp to trust
    actual = hashlib.sha256(data).hexdigest()
    if expected_fingerprint is not None and expected_fingerprint != actual:
        raise RuntimeError(
            f"The categories head in '{root}' has fingerprint {actual}, "
            f"but this pipeline expects {expected_fingerprint}: "
            f"the head was changed or replaced. Use the head the pipeline "
            f"was made with, or pass head_fingerprint=None to accept this one."
        )
    classes, kind, size = head_info(data, path)
    return Head(root, actual, classes, HEAD_OUTPUTS[kind], size)


@functools.lru_cache(maxsize=8)
def head_session(
    path: str,
    fingerprint: str,
    pid: int,
) -> onnxruntime.InferenceSession:
    r"""Session of a head, opened once per process.

    Args:
        path: the head's ``model.onnx``
        fingerprint: its SHA256 when the interface was created
        pid: id of the process, so a session is not shared through fork

    Returns:
        session

    Raises:
        RuntimeError: if the file changed or keeps weights in external data files

    """
    # Categories objects hold no session, so they pickle for worker processes.
    # The session is built from the very bytes that were hashed: each process
    # runs the head the pipeline was checked against, or refuses
    with open(path, "rb") as fp:
        data = fp.read()
    actual = hashlib.sha256(data).hexdigest()
    if actual != fingerprint:
        raise RuntimeError(
            f"The categories head '{path}' changed after the pipeline was "
            f"created: fingerprint {actual} instead of {fingerprint}."
        )
    # onnxruntime reads external data of a model given as bytes
    # relative to the working directory: never let it
    refuse_external_data(path, data=data)
    return small_session(data)


def head_info(data: bytes, path: str) -> tuple[list[str], str, int]:
    r"""Class names, classifier and input size of a head.

    Args:
        data: bytes of the head's ``model.onnx``
        path: its path, for messages

    Returns:
        class names, classifier (key of :data:`HEAD_OUTPUTS`), input size

    Raises:
        RuntimeError: if the head keeps weights in external data files,
            which its fingerprint would not cover
        ValueError: if ``data`` is not a categories head

    """
    refuse_external_data(path, data=data)
    try:
        session = small_session(data)
    except Exception as ex:  # onnxruntime raises its own exception types
        raise ValueError(f"Cannot open the categories head '{path}': {ex}") from ex
    metadata = session.get_modelmeta().custom_metadata_map
    inputs = session.get_inputs()
    try:
        classes = json.loads(metadata[METADATA_CLASSES])
        kind = metadata[METADATA_CLASSIFIER]
        output = HEAD_OUTPUTS[kind]
        size = inputs[0].shape[-1]
        outputs = session.get_outputs()
        valid = (
            len(inputs) == 1
            and inputs[0].name == HEAD_INPUT
            and isinstance(size, int)
            and [node.name for node in outputs] == [output]
            and isinstance(classes, list)
            and all(isinstance(name, str) for name in classes)
            and outputs[0].shape[-1] == len(classes)
        )
    except (KeyError, ValueError, IndexError):
        valid = False
    if not valid:
        raise ValueError(
            f"'{path}' is not a categories head: "
            f"save one with audemo.save_categories()."
        )
    return classes, kind, size
