r"""Model references: names, folders and URLs; download, verify, cache, load."""

from __future__ import annotations

import dataclasses
import hashlib
import http.client
import ipaddress
import json
import os
import shutil
import urllib.error
import urllib.parse
import urllib.request
import uuid

import filelock
import onnxruntime

import audeer
import audonnx

from audemo.core.define import DEFAULT_MODEL
from audemo.core.define import DIMENSIONS
from audemo.core.define import INPUT


@dataclasses.dataclass(frozen=True)
class RegisteredModel:
    r"""A model that audemo knows by name."""

    url: str
    r"""Download URL of the zip archive."""
    sha256: str | None
    r"""SHA256 checksum of the archive, if known."""
    license: str
    r"""Licence of the model."""
    description: str
    r"""Short description."""


MODELS = {
    DEFAULT_MODEL: RegisteredModel(
        url=(
            "https://zenodo.org/record/6221127/files/"
            "w2v2-L-robust-12.6bc4a7fd-1.1.0.zip"
        ),
        # Zenodo publishes only an MD5 for this record;
        # the archive is verified by its interface instead
        sha256=None,
        license="CC BY-NC-SA 4.0",
        description=(
            "wav2vec2-large-robust pruned to 12 layers, "
            "fine-tuned on MSP-Podcast "
            "(Wagner et al., 2023, doi 10.1109/TPAMI.2023.3263585)"
        ),
    ),
}
r"""Registered models by name."""

MODEL_FILE = "model.onnx"
YAML_FILE = "model.yaml"
CHUNK_SIZE = 1024 * 1024


def resolve_cache_root(cache_root: str | None = None) -> str:
    r"""Folder where audemo caches models.

    Args:
        cache_root: explicit folder.
            If ``None``,
            ``$AUDEMO_CACHE_ROOT`` is used,
            else ``~/.cache/audemo``

    Returns:
        absolute path of the cache folder

    Examples:
        >>> resolve_cache_root("/data/audemo")
        '/data/audemo'

    """
    if cache_root is None:
        cache_root = os.environ.get("AUDEMO_CACHE_ROOT") or os.path.join(
            "~", ".cache", "audemo"
        )
    return audeer.path(cache_root)


def is_url(model: str) -> bool:
    r"""Tell if a model reference is an HTTP(S) URL."""
    return urllib.parse.urlparse(model).scheme in ("http", "https")


def download_model(
    model: str | None = None,
    *,
    cache_root: str | None = None,
    verbose: bool = False,
) -> str:
    r"""Return the local folder of a model, downloading it if needed.

    ``model`` is one of:

    * ``None``: the default model ``"w2v2-L-robust-12"``
    * the name of a registered model
    * a local folder holding an :mod:`audonnx` model
    * an ``http(s)://`` URL of a zip archive of such a folder

    Names and URLs are downloaded once into
    ``<cache_root>/models/``
    (``cache_root`` defaults to ``$AUDEMO_CACHE_ROOT``,
    else ``~/.cache/audemo``).
    The archive is written to a temporary file,
    checked (size, SHA256 where the registry knows it),
    extracted to a temporary folder,
    opened with onnxruntime
    and checked for the emotion model's input and outputs,
    and only then moved to its final place.
    A file lock makes several processes
    that ask at once download it only once.

    Set the environment variable ``AUDEMO_OFFLINE=1``
    to forbid downloads:
    a model missing from the cache is then an error.

    Args:
        model: model reference
        cache_root: cache folder
        verbose: show a progress bar while downloading

    Returns:
        absolute path of the model folder

    Raises:
        FileNotFoundError: if a local folder does not exist
            or holds no model
        RuntimeError: if the model cannot be downloaded
            (offline, no network, HTTP error, interrupted download)
            or the archive is broken
            or does not hold a model with the expected interface
        ValueError: if ``model`` is neither
            a registered name, a URL nor an existing folder

    Examples:
        >>> root = audemo.testing.create_model("my-model")
        >>> download_model(root) == audeer.path("my-model")
        True

    """
    model = model or DEFAULT_MODEL
    if model in MODELS or is_url(model):
        return _cached_download(model, cache_root=cache_root, verbose=verbose)
    root = audeer.path(model)
    if not os.path.isdir(root):
        if os.path.sep in model or os.path.exists(root):
            raise FileNotFoundError(
                f"Model folder '{root}' does not exist or is not a folder."
            )
        raise ValueError(
            f"Unknown model '{model}'. "
            f"Use one of the registered names {sorted(MODELS)}, "
            f"an http(s):// URL of a zip archive, "
            f"or a folder holding an audonnx model."
        )
    if not os.path.exists(os.path.join(root, MODEL_FILE)):
        raise FileNotFoundError(f"Model folder '{root}' holds no '{MODEL_FILE}'.")
    return root


def load_model(
    model: str | None = None,
    *,
    cache_root: str | None = None,
    device: str = "cpu",
    num_workers: int | None = 1,
    precision: str = "fp32",
) -> audonnx.Model:
    r"""Load the emotion model.

    Resolves ``model`` as :func:`audemo.download_model` does,
    downloading it on first use,
    and loads it with :func:`audonnx.load`.

    Args:
        model: model reference, see :func:`audemo.download_model`
        cache_root: cache folder
        device: ``"cpu"``, ``"cuda"`` or ``"cuda:<id>"``
        num_workers: number of onnxruntime threads;
            ``None`` lets onnxruntime decide
        precision: ``"fp32"`` (as published) or ``"int8"``
            (quantized matrix multiplications, made once and cached,
            see :func:`audemo.core.precision.precision_root`)

    Returns:
        model

    Raises:
        FileNotFoundError: if a local folder does not exist
        RuntimeError: if the model cannot be downloaded or opened
        ValueError: if ``model`` is not a valid reference

    Examples:
        >>> root = audemo.testing.create_model("my-model")
        >>> model = load_model(root)
        >>> list(model.outputs)
        ['hidden_states', 'logits']
        >>> signal = np.zeros((1, 16000), dtype=np.float32)
        >>> model(signal, 16000, outputs="logits").shape
        (1, 3)

    """
    from audemo.core.precision import precision_root

    root = download_model(model, cache_root=cache_root)
    root = precision_root(root, precision, cache_root=cache_root)
    return open_model(root, device=device, num_workers=num_workers)


def small_session(model: str | bytes) -> onnxruntime.InferenceSession:
    r"""Session for a small model run on short inputs, with one thread.

    For models as small as the voice activity detector
    or a categories head,
    threads cost more than they save.

    """
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(
        model, sess_options=options, providers=["CPUExecutionProvider"]
    )


def open_model(
    root: str,
    *,
    device: str = "cpu",
    num_workers: int | None = 1,
) -> audonnx.Model:
    r"""Load an audonnx model folder with audemo's session options."""
    options = onnxruntime.SessionOptions()
    if num_workers is not None:
        options.intra_op_num_threads = num_workers
        options.inter_op_num_threads = 1
    # audemo reports failures itself, with the file name
    options.log_severity_level = 3
    # inputs vary in length, so a memory pattern planned for one shape
    # is rarely reused; without it the int8 model peaks at 617 instead of
    # 812 MB for inputs up to 10 s, at the same speed (docs/performance.rst)
    options.enable_mem_pattern = False
    try:
        return audonnx.load(root, device=device, session_options=options)
    except Exception as ex:  # onnxruntime raises its own exception types
        raise RuntimeError(f"Cannot load the model in '{root}': {ex}") from ex


def fingerprint(root: str, *, cache_root: str | None = None) -> str:
    r"""SHA256 of a model folder's ONNX file.

    Hashing a 650 MB model takes seconds,
    so the result is remembered in
    ``<cache_root>/fingerprints/``
    and recomputed only when the file's size
    or modification time change.

    Args:
        root: model folder
        cache_root: cache folder

    Returns:
        hexadecimal SHA256 of ``model.onnx``

    Examples:
        >>> root = audemo.testing.create_model("my-model")
        >>> len(fingerprint(root))
        64

    """
    path = os.path.realpath(os.path.join(root, MODEL_FILE))
    stat = os.stat(path)
    record_path = os.path.join(
        resolve_cache_root(cache_root),
        "fingerprints",
        hashlib.sha256(path.encode()).hexdigest()[:32] + ".json",
    )
    stamp = {"path": path, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    try:
        with open(record_path) as fp:
            record = json.load(fp)
        if {key: record.get(key) for key in stamp} == stamp:
            return record["sha256"]
    except (OSError, ValueError, KeyError):
        pass
    digest = _sha256(path)
    _write_json_atomic(record_path, {**stamp, "sha256": digest})
    return digest


def check_interface(root: str, *, source: str | None = None) -> None:
    r"""Check that a model folder has the emotion model's interface.

    Opens ``model.onnx`` with onnxruntime
    and requires the input ``signal`` (2-d)
    and the outputs ``logits`` (3 values, [1, 3])
    and ``hidden_states`` ([1, N]).

    Args:
        root: model folder
        source: where the model came from, used in error messages

    Raises:
        RuntimeError: if the model cannot be opened
            or its interface differs

    """
    source = source or root
    path = os.path.join(root, MODEL_FILE)
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    options.graph_optimization_level = (
        onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
    )
    try:
        session = onnxruntime.InferenceSession(
            path, sess_options=options, providers=["CPUExecutionProvider"]
        )
    except Exception as ex:  # onnxruntime raises its own exception types
        raise RuntimeError(
            f"The model from '{source}' cannot be opened by onnxruntime: {ex}"
        ) from ex
    inputs = {node.name: node.shape for node in session.get_inputs()}
    outputs = {node.name: node.shape for node in session.get_outputs()}
    problems = []
    if INPUT not in inputs or len(inputs[INPUT]) != 2:
        problems.append(f"input '{INPUT}' [1, samples] (has {inputs})")
    if "logits" not in outputs or outputs["logits"][-1:] != [len(DIMENSIONS)]:
        problems.append(
            f"output 'logits' [1, {len(DIMENSIONS)}] (has {outputs.get('logits')})"
        )
    if "hidden_states" not in outputs or len(outputs["hidden_states"]) != 2:
        problems.append(
            f"output 'hidden_states' [1, N] (has {outputs.get('hidden_states')})"
        )
    if problems:
        raise RuntimeError(
            f"The model from '{source}' is not an emotion model: "
            f"it lacks {'; '.join(problems)}."
        )


def cache_folder(model: str, *, cache_root: str | None = None) -> str:
    r"""Folder in the cache that holds a registered or URL model."""
    url = MODELS[model].url if model in MODELS else model
    stem = os.path.basename(urllib.parse.urlparse(url).path)
    stem = audeer.replace_file_extension(stem, "").rstrip(".") or "model"
    stem = "".join(c if c.isalnum() or c in "._-" else "_" for c in stem)
    if model not in MODELS:
        stem = f"{stem}-{hashlib.sha256(url.encode()).hexdigest()[:12]}"
    return os.path.join(resolve_cache_root(cache_root), "models", stem)


def _cached_download(model: str, *, cache_root: str | None, verbose: bool) -> str:
    folder = cache_folder(model, cache_root=cache_root)
    if _is_complete(folder):
        return folder
    registered = MODELS.get(model)
    url = registered.url if registered else model
    if _offline():
        raise RuntimeError(
            f"Model '{model}' is not in the cache ({folder}) "
            f"and AUDEMO_OFFLINE=1 forbids downloading it. "
            f"Download {url} on a machine with network access, "
            f"extract it and pass the folder as model, "
            f"or copy it to {folder}."
        )
    audeer.mkdir(os.path.dirname(folder))
    with filelock.FileLock(folder + ".lock"):
        # another process may have finished while we waited for the lock
        if _is_complete(folder):
            return folder
        if os.path.exists(folder):
            # left over by a copy interrupted outside audemo
            shutil.rmtree(folder)
        token = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        archive = f"{folder}.{token}.part.zip"
        extract_root = f"{folder}.{token}.extract"
        try:
            _download(url, archive, model=model, folder=folder, verbose=verbose)
            if registered and registered.sha256:
                digest = _sha256(archive)
                if digest != registered.sha256:
                    raise RuntimeError(
                        f"The archive downloaded from {url} has SHA256 "
                        f"{digest}, expected {registered.sha256}. "
                        f"It is corrupt or was replaced; nothing was cached."
                    )
            root = _extract(archive, extract_root, url=url)
            check_interface(root, source=url)
            os.replace(root, folder)
        finally:
            if os.path.exists(archive):
                os.remove(archive)
            if os.path.exists(extract_root):
                shutil.rmtree(extract_root)
    fingerprint(folder, cache_root=cache_root)
    return folder


def _is_complete(folder: str) -> bool:
    # the folder appears by an atomic rename only after it was verified
    return os.path.isfile(os.path.join(folder, MODEL_FILE))


def _offline() -> bool:
    return os.environ.get("AUDEMO_OFFLINE", "").lower() in ("1", "true", "yes")


def _opener(url: str) -> urllib.request.OpenerDirector:
    host = urllib.parse.urlparse(url).hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if loopback:
        # a proxy cannot reach this machine's own loopback interface
        return urllib.request.build_opener(urllib.request.ProxyHandler({}))
    return urllib.request.build_opener()


def _download(
    url: str,
    path: str,
    *,
    model: str,
    folder: str,
    verbose: bool,
):
    from audemo import __version__

    request = urllib.request.Request(
        url, headers={"User-Agent": f"audemo/{__version__}"}
    )
    hint = (
        f"Check the network connection, "
        f"or download {url} yourself, extract it "
        f"and pass the folder as model (or copy it to {folder})."
    )
    received = 0
    expected = None
    try:
        with _opener(url).open(request, timeout=60) as response:
            length = response.headers.get("Content-Length")
            expected = int(length) if length else None
            with (
                open(path, "wb") as fp,
                audeer.progress_bar(
                    total=expected,
                    desc=f"Download {model}"[:60],
                    disable=not verbose,
                ) as bar,
            ):
                while True:
                    block = response.read(CHUNK_SIZE)
                    if not block:
                        break
                    fp.write(block)
                    received += len(block)
                    bar.update(len(block))
    except urllib.error.HTTPError as ex:
        raise RuntimeError(
            f"Cannot download model '{model}' from {url}: "
            f"HTTP {ex.code} {ex.reason}. {hint}"
        ) from ex
    except (OSError, http.client.HTTPException) as ex:
        reason = getattr(ex, "reason", None) or ex
        if received or isinstance(ex, http.client.IncompleteRead):
            raise RuntimeError(
                f"Download of model '{model}' from {url} was interrupted "
                f"after {received} of {expected or 'unknown'} bytes ({reason}). "
                f"Nothing was cached; run again to retry."
            ) from ex
        raise RuntimeError(
            f"Cannot download model '{model}' from {url}: {reason}. {hint}"
        ) from ex
    if expected is not None and received != expected:
        raise RuntimeError(
            f"Download of model '{model}' from {url} was interrupted "
            f"after {received} of {expected} bytes. "
            f"Nothing was cached; run again to retry."
        )


def _extract(archive: str, destination: str, *, url: str) -> str:
    try:
        audeer.extract_archive(archive, destination)
    except Exception as ex:  # zipfile raises several types
        raise RuntimeError(
            f"The archive downloaded from {url} is broken "
            f"and cannot be extracted: {ex}. Nothing was cached."
        ) from ex
    if os.path.exists(os.path.join(destination, MODEL_FILE)):
        return destination
    entries = [
        entry
        for entry in os.listdir(destination)
        if os.path.isdir(os.path.join(destination, entry))
        and os.path.exists(os.path.join(destination, entry, MODEL_FILE))
    ]
    if len(entries) != 1:
        raise RuntimeError(
            f"The archive downloaded from {url} holds no '{MODEL_FILE}' "
            f"at its top level or in a single sub-folder. Nothing was cached."
        )
    return os.path.join(destination, entries[0])


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fp:
        for block in iter(lambda: fp.read(CHUNK_SIZE), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_json_atomic(path: str, data: dict):
    audeer.mkdir(os.path.dirname(path))
    tmp = f"{path}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp"
    with open(tmp, "w") as fp:
        json.dump(data, fp)
    os.replace(tmp, path)
