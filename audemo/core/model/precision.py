r"""Precision variants of a model: int8 weights for faster inference."""

from __future__ import annotations

import glob
import logging
import os
import shutil
import uuid

import onnx

from audemo.core.define import PRECISIONS
from audemo.core.model.fingerprint import fingerprint
from audemo.core.model.folder import MODEL_FILE
from audemo.core.model.folder import check_interface
from audemo.core.model.folder import external_data
from audemo.core.model.folder import read_model_folder
from audemo.core.model.folder import write_model_yaml
from audemo.core.model.registry import resolve_cache_root
from audemo.core.storage import cache_lock


def precision_root(
    root: str,
    precision: str = "fp32",
    *,
    cache_root: str | None = None,
) -> str:
    r"""Folder of a model in the given precision, creating it if needed.

    ``"fp32"`` is the model as published.
    ``"int8"`` quantizes the weights of its matrix multiplications
    to 8-bit integers
    with onnxruntime's dynamic quantization
    (activations are quantized on the fly);
    the convolutional front end stays in float32,
    since quantized convolutions run slower on CPUs.
    The int8 model is made once from the float32 model
    and stored in ``<cache_root>/int8/<fingerprint>/``
    (written to a temporary folder and renamed when complete,
    under a file lock;
    its ``model.yaml`` is written anew with the labels of the source,
    never copied).
    An int8 model already in the cache is used without the lock,
    so the cache may then be read-only.

    Quantization changes the numbers slightly:
    check the agreement on your own data
    with :func:`audemo.compare_precision`.

    Args:
        root: folder of the float32 model
        precision: ``"fp32"`` or ``"int8"``
        cache_root: cache folder

    Returns:
        model folder

    Raises:
        PermissionError: if the int8 model must be made
            but the cache folder is not writable
        RuntimeError: if the model uses external data
            or quantization fails
        ValueError: if ``precision`` is not supported
            or the model folder is refused,
            see :func:`audemo.core.model.folder.read_model_folder`

    Examples:
        >>> root = audemo.testing.create_model("model")
        >>> int8 = precision_root(root, "int8")
        >>> os.path.basename(os.path.dirname(int8))
        'int8'

    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, not '{precision}'.")
    if precision == "fp32":
        return root
    source = fingerprint(root, cache_root=cache_root)
    folder = os.path.join(resolve_cache_root(cache_root), "int8", source[:32])
    if os.path.isfile(os.path.join(folder, MODEL_FILE)):
        return folder
    with cache_lock(folder, cache_root=cache_root):
        if os.path.isfile(os.path.join(folder, MODEL_FILE)):
            return folder
        # temporary folders are written only under the lock:
        # those found now belong to a process that was killed
        for stale in glob.glob(f"{glob.escape(folder)}.*.tmp"):
            shutil.rmtree(stale, ignore_errors=True)
        tmp = f"{folder}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp"
        try:
            os.mkdir(tmp)
            _quantize(root, tmp)
            check_interface(tmp, source=f"int8 variant of {root}")
            os.replace(tmp, folder)
        finally:
            if os.path.exists(tmp):
                shutil.rmtree(tmp)
    return folder


def _quantize(source: str, destination: str):
    from onnxruntime.quantization import QuantType
    from onnxruntime.quantization import quantize_dynamic

    path, labels = read_model_folder(source)
    # quantize what the fingerprint covers: the ONNX file without
    # external data (onnx.load would read any external file it names)
    proto = onnx.load(path, load_external_data=False)
    if external_data(proto):
        raise RuntimeError(
            f"The ONNX file '{path}' keeps weights in external data files "
            f"{external_data(proto)}: refused. Save the model as one file."
        )
    # onnxruntime advises pre-processing on the root logger for every model;
    # dynamic quantization of MatMul weights does not need it
    quiet = _DropQuantizationAdvice()
    logging.getLogger().addFilter(quiet)
    try:
        quantize_dynamic(
            proto,
            os.path.join(destination, MODEL_FILE),
            op_types_to_quantize=["MatMul"],
            weight_type=QuantType.QInt8,
        )
    finally:
        logging.getLogger().removeFilter(quiet)
    # a clean file from the parsed labels: nothing else of the source's YAML
    # is carried over
    write_model_yaml(destination, labels)


class _DropQuantizationAdvice(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "pre-processing before quantization" not in record.getMessage()
