r"""Weights of a model in one memory-mapped file that worker processes share.

Every worker process that opens a model with onnxruntime
holds its own copy of the weights (650 MB for the emotion model),
and a second one that onnxruntime prepacks for its matrix kernels.
With shared weights
onnxruntime optimizes the model once
and writes its weights and their prepacked form
into a file of the model cache
(``session.save_external_prepacked_constant_initializers``);
every process then maps that file into its memory,
and the operating system keeps one copy of the pages
for all processes.
The optimized graph and its prepacked weights
depend on the onnxruntime version and the CPU,
so both are part of the file names.

Layout, keyed by the SHA256 of the model's ``model.onnx``
and the runtime (:func:`runtime_key`)::

    <cache_root>/weights/<sha256[:32]>-<runtime>.bin   # weights
    <cache_root>/weights/<sha256[:32]>-<runtime>.onnx  # the optimized graph
    <cache_root>/weights/<sha256[:32]>-<runtime>.json  # the record, last

"""

from __future__ import annotations

import dataclasses
import glob
import hashlib
import json
import os
import platform
import shutil
import uuid

import onnx
import onnxruntime

from audemo.core.cache import untrusted_reason
from audemo.core.model.folder import external_data
from audemo.core.model.registry import resolve_cache_root
from audemo.core.storage import CHUNK_SIZE
from audemo.core.storage import cache_lock
from audemo.core.storage import write_json_atomic


WEIGHTS_FOLDER = "weights"
r"""Folder of shared weights in the model cache."""

MIN_SHARED_BYTES = 1024
r"""Initializers smaller than this stay in the graph."""

_FORMAT = 2
_STAMP = ("size", "mtime_ns", "ctime_ns", "ino", "dev")
# onnxruntime reads external data of a model given as bytes from this folder
_FOLDER_ENTRY = "session.model_external_initializers_file_folder_path"


@dataclasses.dataclass(frozen=True)
class SharedWeights:
    r"""The optimized graph of a model and the file of its weights."""

    graph: bytes
    r"""The optimized model,
    its weights external references to :attr:`path`."""
    path: str
    r"""The weights file, checked."""

    def apply(self, options: onnxruntime.SessionOptions):
        r"""Let a session of :attr:`graph` map the weights file.

        Args:
            options: session options, changed in place

        """
        options.add_session_config_entry(_FOLDER_ENTRY, os.path.dirname(self.path))


def runtime_key() -> str:
    r"""What the optimized graph and prepacked weights depend on.

    The onnxruntime version,
    the machine's architecture and its CPU's features
    (the flags of ``/proc/cpuinfo`` where there is one),
    which select the kernels and their packed layout.

    Returns:
        12 hexadecimal characters

    Examples:
        >>> len(runtime_key())
        12

    """
    try:
        with open("/proc/cpuinfo") as fp:
            flags = next(
                (line for line in fp if line.startswith(("flags", "Features"))), ""
            )
    except OSError:  # pragma: no cover - not Linux
        flags = platform.processor()
    text = f"{onnxruntime.__version__}\n{platform.machine()}\n{flags}"
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def shared_weights(
    path: str, model_sha256: str, *, cache_root: str | None = None
) -> SharedWeights | None:
    r"""The optimized graph of an ONNX file and its weights file, made if needed.

    The files are made once per model, onnxruntime version and CPU
    (under a file lock, in a temporary folder,
    renamed into place when complete, the record last)
    by onnxruntime from the bytes of ``path``,
    which must have the SHA256 ``model_sha256``
    and no external data.
    Before every use they are checked:
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
        the graph and the weights file,
        or ``None`` if they cannot be shared

    Examples:
        >>> root = audemo.testing.create_model("model")
        >>> digest = audemo.core.model.fingerprint.onnx_sha256(
        ...     "model/model.onnx", cache_root="cache"
        ... )
        >>> weights = shared_weights("model/model.onnx", digest, cache_root="cache")
        >>> os.path.relpath(weights.path).startswith("cache/weights/")
        True
        >>> options = onnxruntime.SessionOptions()
        >>> weights.apply(options)
        >>> session = onnxruntime.InferenceSession(weights.graph, options)
        >>> [output.name for output in session.get_outputs()]
        ['hidden_states', 'logits']

    """
    stem = os.path.join(
        resolve_cache_root(cache_root),
        WEIGHTS_FOLDER,
        f"{model_sha256[:32]}-{runtime_key()}",
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
    r"""The graph and weights file of the record at ``stem`` if all checks pass."""
    try:
        record = json.loads(_read_trusted(stem + ".json"))
        if record["format"] != _FORMAT or record["model_sha256"] != model_sha256:
            return None
        graph = _read_trusted(stem + ".onnx")
        if hashlib.sha256(graph).hexdigest() != record["graph_sha256"]:
            return None
        if not _weights_checked(stem, record):
            return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return SharedWeights(graph=graph, path=stem + ".bin")


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


def _weights_checked(stem: str, record: dict) -> bool:
    r"""Whether the weights file is the recorded one."""
    descriptor = _open_trusted(stem + ".bin")
    try:
        stamp = _stamp(os.fstat(descriptor))
        if stamp == record["weights_stamp"]:
            return True
        # changed, copied or touched: the content decides
        if _descriptor_sha256(descriptor) != record["weights_sha256"]:
            return False
    finally:
        os.close(descriptor)
    _remember_stamp(stem, record, stamp)
    return True


def _stamp(info: os.stat_result) -> dict:
    r"""What identifies a file's content without reading it."""
    return {key: getattr(info, f"st_{key}") for key in _STAMP}


def _descriptor_sha256(descriptor: int) -> str:
    digest = hashlib.sha256()
    os.lseek(descriptor, 0, os.SEEK_SET)
    for block in iter(lambda: os.read(descriptor, CHUNK_SIZE), b""):
        digest.update(block)
    return digest.hexdigest()


def _file_sha256(path: str) -> str:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        return _descriptor_sha256(descriptor)
    finally:
        os.close(descriptor)


def _remember_stamp(stem: str, record: dict, stamp: dict):
    r"""Record the new stamp of a weights file whose content was checked."""
    try:
        write_json_atomic(stem + ".json", {**record, "weights_stamp": stamp})
    except OSError:
        pass  # a read-only cache works, it only hashes again


def _make(path: str, stem: str, model_sha256: str) -> SharedWeights | None:
    r"""Let onnxruntime write the optimized graph and weights of a model."""
    with open(path, "rb") as fp:
        data = fp.read()
    # the bytes that are optimized are the bytes that were checked
    if hashlib.sha256(data).hexdigest() != model_sha256:
        return None
    if external_data(onnx.load_from_string(data)):
        return None  # refused before; onnxruntime would read other files
    # temporary folders are made only under the lock:
    # those found now belong to a process that was killed
    for stale in glob.glob(f"{glob.escape(stem)}.*.tmp"):
        shutil.rmtree(stale, ignore_errors=True)
    tmp = f"{stem}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp"
    name = os.path.basename(stem)
    try:
        os.mkdir(tmp, 0o755)
        _optimize(data, tmp, name)
        del data
        for extension in (".bin", ".onnx"):
            os.chmod(os.path.join(tmp, name + extension), 0o644)
        with open(os.path.join(tmp, name + ".onnx"), "rb") as fp:
            graph = fp.read()
        record = {
            "format": _FORMAT,
            "model_sha256": model_sha256,
            "onnxruntime": onnxruntime.__version__,
            "graph_sha256": hashlib.sha256(graph).hexdigest(),
            "weights_sha256": _file_sha256(os.path.join(tmp, name + ".bin")),
        }
        for extension in (".bin", ".onnx"):
            os.replace(os.path.join(tmp, name + extension), stem + extension)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    record["weights_stamp"] = _stamp(os.stat(stem + ".bin"))
    write_json_atomic(stem + ".json", record)
    return _open(stem, model_sha256)


def _optimize(model: bytes, folder: str, name: str):
    r"""Optimized graph ``<name>.onnx``, weights and prepacked ``<name>.bin``."""
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    options.intra_op_num_threads = 1
    options.optimized_model_filepath = os.path.join(folder, name + ".onnx")
    for key, value in (
        # next to the graph, which names it
        ("session.optimized_model_external_initializers_file_name", name + ".bin"),
        (
            "session.optimized_model_external_initializers_min_size_in_bytes",
            str(MIN_SHARED_BYTES),
        ),
        ("session.save_external_prepacked_constant_initializers", "1"),
    ):
        options.add_session_config_entry(key, value)
    onnxruntime.InferenceSession(
        model, sess_options=options, providers=["CPUExecutionProvider"]
    )
