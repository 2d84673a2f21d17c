r"""Weights of a model in one memory-mapped file that worker processes share.

Every worker process that opens a model with onnxruntime
holds its own copy of the weights (650 MB for the emotion model).
With shared weights
the weights are copied once into a file of the model cache,
every process maps that file into its memory
and gives onnxruntime arrays on the mapping
(``SessionOptions.add_initializer``):
the operating system keeps one copy of the pages
for all processes.
onnxruntime's prepacking is turned off
(``session.disable_prepacking``),
since it would copy every matrix into a packed form per process.

Layout, keyed by the SHA256 of the model's ``model.onnx``::

    <cache_root>/weights/<sha256[:32]>.bin   # the weights, raw little-endian
    <cache_root>/weights/<sha256[:32]>.onnx  # the graph without them
    <cache_root>/weights/<sha256[:32]>.json  # the record, written last

"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import mmap
import os

import numpy as np
import onnx
import onnx.numpy_helper
import onnxruntime

from audemo.core.cache import untrusted_reason
from audemo.core.folder import external_data
from audemo.core.registry import resolve_cache_root
from audemo.core.storage import CHUNK_SIZE
from audemo.core.storage import atomic_path
from audemo.core.storage import cache_lock
from audemo.core.storage import write_json_atomic


WEIGHTS_FOLDER = "weights"
r"""Folder of shared weights in the model cache."""

MIN_SHARED_BYTES = 1024
r"""Initializers smaller than this stay in the graph."""

_FORMAT = 1
_ALIGNMENT = 64  # bytes: every array starts on a cache line
_STAMP = ("size", "mtime_ns", "ctime_ns", "ino", "dev")
# onnxruntime reads external data of a model given as bytes from this folder
_FOLDER_ENTRY = "session.model_external_initializers_file_folder_path"


@dataclasses.dataclass(frozen=True)
class SharedWeights:
    r"""The graph of a model and its weights on a shared mapping."""

    graph: bytes
    r"""The model without the shared weights
    (each an external reference to the weights file at its offset)."""
    values: dict[str, onnxruntime.OrtValue]
    r"""Arrays on the mapping by initializer name;
    they must outlive the session that uses them."""
    path: str
    r"""The weights file."""

    def apply(self, options: onnxruntime.SessionOptions):
        r"""Give a session these weights, without prepacking.

        Args:
            options: session options, changed in place

        """
        for name, value in self.values.items():
            options.add_initializer(name, value)
        # prepacked copies of the matrices would be private to each process
        options.add_session_config_entry("session.disable_prepacking", "1")
        # where a reference would be read if an initializer were not given:
        # the same file, so that nothing else is ever read
        options.add_session_config_entry(_FOLDER_ENTRY, os.path.dirname(self.path))


def shared_weights(
    path: str, model_sha256: str, *, cache_root: str | None = None
) -> SharedWeights | None:
    r"""Weights of an ONNX file on a shared mapping, the file made if needed.

    The weights file is made once per model
    (under a file lock, written to temporary names
    and renamed when complete, the record last)
    from the bytes of ``path``,
    which must have the SHA256 ``model_sha256``
    and no external data.
    Before every use it is checked:
    the record, the graph and the weights file
    must belong to you (or root)
    and not be writable by others,
    nor their folder
    (the rule of :func:`audemo.core.cache.untrusted_reason`);
    the graph must have the SHA256 the record gives,
    and so must the weights file,
    which is hashed again whenever its size,
    modification or status change time, inode or device
    differ from the record's.
    A file that fails a check is made again;
    a cache that cannot be written gives ``None``,
    and the model then runs as it is, with its own copy of the weights.

    Args:
        path: ONNX file, checked by its fingerprint
            (:func:`audemo.core.fingerprint.fingerprint`)
        model_sha256: SHA256 of ``path``
        cache_root: model cache folder

    Returns:
        the graph and the weights,
        or ``None`` if they cannot be shared

    Examples:
        >>> root = audemo.testing.create_model("model")
        >>> digest = audemo.core.fingerprint.onnx_sha256(
        ...     "model/model.onnx", cache_root="cache"
        ... )
        >>> weights = shared_weights("model/model.onnx", digest, cache_root="cache")
        >>> os.path.relpath(weights.path).startswith("cache/weights/")
        True
        >>> list(weights.values)  # the initializers of 1 KiB or more
        ['conv_weight']
        >>> options = onnxruntime.SessionOptions()
        >>> weights.apply(options)
        >>> session = onnxruntime.InferenceSession(weights.graph, options)
        >>> [output.name for output in session.get_outputs()]
        ['hidden_states', 'logits']

    """
    stem = os.path.join(
        resolve_cache_root(cache_root), WEIGHTS_FOLDER, model_sha256[:32]
    )
    try:
        # not writable by others, whatever the umask: readers ignore such files
        os.makedirs(os.path.dirname(stem), mode=0o755, exist_ok=True)
        if untrusted_reason(os.stat(os.path.dirname(stem))):
            return None  # others could swap the files between check and use
        weights = _open(stem, model_sha256)
        if weights is None:
            with cache_lock(stem, cache_root=cache_root):
                weights = _open(stem, model_sha256) or _make(path, stem, model_sha256)
    except OSError:  # a read-only or foreign cache: the model runs as it is
        return None
    return weights


def _open(stem: str, model_sha256: str) -> SharedWeights | None:
    r"""The weights of the record at ``stem`` if every check passes."""
    try:
        record = json.loads(_read_trusted(stem + ".json"))
        if record["format"] != _FORMAT or record["model_sha256"] != model_sha256:
            return None
        graph = _read_trusted(stem + ".onnx")
        if hashlib.sha256(graph).hexdigest() != record["graph_sha256"]:
            return None
        values = _map_weights(stem, record)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if values is None:
        return None
    return SharedWeights(graph=graph, values=values, path=stem + ".bin")


def _read_trusted(path: str) -> bytes:
    r"""Bytes of a file that only you (or root) can have written."""
    with open(_open_trusted(path), "rb") as fp:
        return fp.read()


def _open_trusted(path: str) -> int:
    r"""Descriptor of a file as opened, not a link, if trusted."""
    # a FIFO does not block
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    descriptor = os.open(path, flags)
    info = os.fstat(descriptor)
    reason = untrusted_reason(info)
    if reason is not None or not _is_file(info):
        os.close(descriptor)
        raise PermissionError(f"'{path}' {reason or 'is not a file'}")
    return descriptor


def _is_file(info: os.stat_result) -> bool:
    return info.st_mode & 0o170000 == 0o100000


def _map_weights(stem: str, record: dict) -> dict[str, onnxruntime.OrtValue] | None:
    r"""Arrays on the mapping of the weights file, if it is the recorded one."""
    descriptor = _open_trusted(stem + ".bin")
    try:
        info = os.fstat(descriptor)
        stamp = _stamp(info)
        if stamp != record["weights_stamp"]:
            # changed, copied or touched: the content decides
            if _descriptor_sha256(descriptor) != record["weights_sha256"]:
                return None
            _remember_stamp(stem, record, stamp)
        mapping = mmap.mmap(descriptor, 0, access=mmap.ACCESS_READ)
    finally:
        os.close(descriptor)
    values = {}
    for name, dtype, shape, offset in record["tensors"]:
        dtype = np.dtype(dtype)
        count = int(np.prod(shape, dtype=np.int64))
        if offset < 0 or offset + count * dtype.itemsize > len(mapping):
            return None
        # the arrays keep the mapping alive, the values the arrays
        array = np.frombuffer(mapping, dtype, count, offset).reshape(shape)
        values[name] = onnxruntime.OrtValue.ortvalue_from_numpy(array)
    return values


def _stamp(info: os.stat_result) -> dict:
    r"""What identifies a file's content without reading it."""
    return {key: getattr(info, f"st_{key}") for key in _STAMP}


def _descriptor_sha256(descriptor: int) -> str:
    digest = hashlib.sha256()
    os.lseek(descriptor, 0, os.SEEK_SET)
    for block in iter(lambda: os.read(descriptor, CHUNK_SIZE), b""):
        digest.update(block)
    return digest.hexdigest()


def _remember_stamp(stem: str, record: dict, stamp: dict):
    r"""Record the new stamp of a weights file whose content was checked."""
    try:
        write_json_atomic(stem + ".json", {**record, "weights_stamp": stamp})
    except OSError:
        pass  # a read-only cache works, it only hashes again


def _make(path: str, stem: str, model_sha256: str) -> SharedWeights | None:
    r"""Write the weights file, the graph and the record of a model."""
    with open(path, "rb") as fp:
        data = fp.read()
    # the bytes that are split are the bytes that were checked
    if hashlib.sha256(data).hexdigest() != model_sha256:
        return None
    proto = onnx.load_from_string(data)
    del data
    if external_data(proto):  # refused before; never split such a model
        return None
    name = os.path.basename(stem) + ".bin"
    with atomic_path(stem + ".bin") as tmp:
        with open(tmp, "wb") as fp:
            tensors, digest = _write_weights(proto, fp, name)
        os.chmod(tmp, 0o644)
    with atomic_path(stem + ".onnx") as tmp:
        with open(tmp, "wb") as fp:
            graph = proto.SerializeToString()
            fp.write(graph)
        os.chmod(tmp, 0o644)
    record = {
        "format": _FORMAT,
        "model_sha256": model_sha256,
        "graph_sha256": hashlib.sha256(graph).hexdigest(),
        "weights_sha256": digest,
        "weights_stamp": _stamp(os.stat(stem + ".bin")),
        "tensors": tensors,
    }
    write_json_atomic(stem + ".json", record)
    return _open(stem, model_sha256)


def _write_weights(proto: onnx.ModelProto, fp, location: str) -> tuple[list, str]:
    r"""Move the large initializers of the graph into ``fp``.

    Each becomes an external reference to ``location`` at its offset.

    Returns:
        name, dtype, shape and offset of each, and the SHA256 of the file

    """
    digest = hashlib.sha256()
    tensors = []
    offset = 0
    for tensor in proto.graph.initializer:
        array = onnx.numpy_helper.to_array(tensor)
        if array.nbytes < MIN_SHARED_BYTES or array.dtype.hasobject:
            continue
        padding = b"\0" * (-offset % _ALIGNMENT)
        data = np.ascontiguousarray(array, array.dtype.newbyteorder("<")).tobytes()
        for block in (padding, data):
            fp.write(block)
            digest.update(block)
        offset += len(padding)
        tensors.append(
            [tensor.name, array.dtype.newbyteorder("<").str, list(array.shape), offset]
        )
        offset += len(data)
        # the values are given with add_initializer; the reference names
        # the same bytes, so onnxruntime could read nothing else
        for field in ("raw_data", "float_data", "int32_data", "int64_data"):
            tensor.ClearField(field)
        for field in ("double_data", "uint64_data"):
            tensor.ClearField(field)
        del tensor.external_data[:]
        for key, value in (
            ("location", location),
            ("offset", str(tensors[-1][3])),
            ("length", str(len(data))),
        ):
            entry = tensor.external_data.add()
            entry.key, entry.value = key, value
        tensor.data_location = onnx.TensorProto.EXTERNAL
    return tensors, digest.hexdigest()
