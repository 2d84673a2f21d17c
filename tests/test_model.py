import hashlib
import os
import subprocess
import sys
import time

import numpy as np
import onnxruntime
import pandas as pd
import pytest

import audeer
import audformat
import audonnx
import audonnx.testing

import audemo
from audemo.core.model import api as model_module
from audemo.core.model import registry
from audemo.core.model.fingerprint import fingerprint
from audemo.core.model.folder import check_interface
from audemo.core.model.folder import read_model_folder
from audemo.core.model.folder import write_model_yaml
from audemo.core.model.resolver import ModelResolver
from audemo.core.ort import session_options
from audemo.core.storage import cache_lock
from audemo.core.storage import write_json_atomic
from conftest import model_archive


def test_create_model_interface(tmp_path):
    start = time.perf_counter()
    root = audemo.testing.create_model(str(tmp_path / "m"), hidden_size=16)
    elapsed = time.perf_counter() - start
    # "well under a second" is the contract; keep a wide margin for slow CI
    assert elapsed < 1.0
    assert sorted(os.listdir(root)) == ["model.onnx", "model.yaml"]
    model = audonnx.load(root)
    assert list(model.inputs) == ["signal"]
    assert model.inputs["signal"].shape == [1, -1]
    assert model.outputs["hidden_states"].shape == [1, 16]
    assert model.outputs["logits"].shape == [1, 3]
    assert model.labels("logits") == ["arousal", "dominance", "valence"]

    rng = np.random.default_rng(1)
    loud = (0.5 * rng.standard_normal((1, 16000))).astype(np.float32)
    quiet = (0.01 * rng.standard_normal((1, 16000))).astype(np.float32)
    y_loud = model(loud, 16000)
    y_quiet = model(quiet, 16000)
    assert y_loud["hidden_states"].shape == (1, 16)
    assert y_loud["logits"].shape == (1, 3)
    assert np.all((y_loud["logits"] > 0) & (y_loud["logits"] < 1))
    # the output depends on the signal
    assert np.abs(y_loud["logits"] - y_quiet["logits"]).max() > 1e-3


def test_create_model_receptive_field(model_root):
    model = audonnx.load(model_root)
    model(np.zeros((1, 400), np.float32), 16000)
    with pytest.raises(Exception, match="Invalid input shape|shape"):
        model(np.zeros((1, 399), np.float32), 16000)


def test_create_model_deterministic(tmp_path):
    a = audemo.testing.create_model(str(tmp_path / "a"), seed=3)
    b = audemo.testing.create_model(str(tmp_path / "b"), seed=3)
    c = audemo.testing.create_model(str(tmp_path / "c"), seed=4)

    def digest(root):
        with open(os.path.join(root, "model.onnx"), "rb") as fp:
            return hashlib.sha256(fp.read()).hexdigest()

    assert digest(a) == digest(b)
    assert digest(a) != digest(c)


def test_create_model_invalid(tmp_path):
    with pytest.raises(ValueError, match="hidden_size"):
        audemo.testing.create_model(str(tmp_path), hidden_size=0)


def test_local_folder(model_root, tmp_path):
    assert audemo.download_model(model_root) == model_root
    model = audemo.load_model(model_root, num_workers=2)
    assert isinstance(model, audonnx.Model)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        audemo.download_model(str(tmp_path / "missing"))
    empty = audeer.mkdir(tmp_path / "empty")
    with pytest.raises(FileNotFoundError, match="holds no 'model.onnx'"):
        audemo.download_model(empty)
    with pytest.raises(ValueError, match="Unknown model 'no-such-model'"):
        audemo.download_model("no-such-model")


def test_load_model_broken_onnx(tmp_path):
    root = audeer.mkdir(tmp_path / "broken")
    with open(os.path.join(root, "model.onnx"), "wb") as fp:
        fp.write(b"this is not a model")
    with pytest.raises(RuntimeError, match="Cannot load the model"):
        audemo.load_model(root)


def test_cache_root(monkeypatch, tmp_path):
    monkeypatch.setenv("AUDEMO_CACHE_ROOT", str(tmp_path / "env"))
    assert registry.resolve_cache_root() == str(tmp_path / "env")
    assert registry.resolve_cache_root(str(tmp_path / "x")) == str(tmp_path / "x")
    monkeypatch.delenv("AUDEMO_CACHE_ROOT")
    assert registry.resolve_cache_root() == audeer.path("~/.cache/audemo")


@pytest.mark.network
def test_download(server, archive, cache_root):
    server.files["/m.zip"] = archive
    url = server.url("/m.zip")
    folder = audemo.download_model(url, cache_root=cache_root, verbose=True)
    assert folder.startswith(os.path.join(cache_root, "models", "m-"))
    assert server.requests["/m.zip"] == 1
    model = audemo.load_model(url, cache_root=cache_root)
    assert model.labels("logits") == ["arousal", "dominance", "valence"]
    # nothing temporary is left behind
    leftovers = [
        name
        for name in os.listdir(os.path.dirname(folder))
        if not name.endswith(".lock") and name != os.path.basename(folder)
    ]
    assert leftovers == []
    # reuse from the cache with the server gone
    server.stop()
    assert audemo.download_model(url, cache_root=cache_root) == folder
    assert server.requests["/m.zip"] == 1


@pytest.mark.network
def test_download_subfolder(server, tmp_path, cache_root):
    server.files["/nested.zip"] = model_archive(str(tmp_path), subfolder="w2v2")
    folder = audemo.download_model(server.url("/nested.zip"), cache_root=cache_root)
    assert sorted(os.listdir(folder)) == [
        ".audemo-download.json",
        "model.onnx",
        "model.yaml",
    ]


def _assert_nothing_cached(cache_root):
    models = os.path.join(cache_root, "models")
    if os.path.exists(models):
        assert [n for n in os.listdir(models) if not n.endswith(".lock")] == []


@pytest.mark.network
def test_download_broken_archive(server, cache_root):
    server.files["/broken.zip"] = b"PK\x03\x04 this is not really a zip archive"
    url = server.url("/broken.zip")
    with pytest.raises(RuntimeError, match="broken and cannot be extracted"):
        audemo.download_model(url, cache_root=cache_root)
    _assert_nothing_cached(cache_root)


@pytest.mark.network
def test_download_archive_without_model(server, cache_root, tmp_path):
    import zipfile

    path = tmp_path / "readme.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("README.txt", "no model here")
    server.files["/readme.zip"] = path.read_bytes()
    with pytest.raises(RuntimeError, match="holds no 'model.onnx'"):
        audemo.download_model(server.url("/readme.zip"), cache_root=cache_root)
    _assert_nothing_cached(cache_root)


@pytest.mark.network
def test_download_wrong_interface(server, cache_root, tmp_path):
    import zipfile

    identity = audonnx.testing.create_model([[1, -1]])
    identity.to_yaml(str(tmp_path / "identity" / "model.yaml"))
    # without the transform audonnx's test model has, which audemo refuses
    write_model_yaml(str(tmp_path / "identity"), None)
    path = tmp_path / "identity.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for name in ("model.onnx", "model.yaml"):
            archive.write(tmp_path / "identity" / name, name)
    server.files["/identity.zip"] = path.read_bytes()
    with pytest.raises(RuntimeError, match="is not an emotion model"):
        audemo.download_model(server.url("/identity.zip"), cache_root=cache_root)
    _assert_nothing_cached(cache_root)


@pytest.mark.network
def test_download_corrupt_onnx(server, cache_root, tmp_path):
    import zipfile

    path = tmp_path / "corrupt.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("model.onnx", b"\x08\x07 garbage")
    server.files["/corrupt.zip"] = path.read_bytes()
    with pytest.raises(RuntimeError, match="cannot be opened by onnxruntime"):
        audemo.download_model(server.url("/corrupt.zip"), cache_root=cache_root)
    _assert_nothing_cached(cache_root)


@pytest.mark.network
def test_download_interrupted(server, archive, cache_root):
    server.files["/m.zip"] = archive
    server.drop.add("/m.zip")
    url = server.url("/m.zip")
    with pytest.raises(RuntimeError, match="interrupted"):
        audemo.download_model(url, cache_root=cache_root)
    _assert_nothing_cached(cache_root)
    # the next call downloads again and succeeds
    server.drop.clear()
    folder = audemo.download_model(url, cache_root=cache_root)
    assert os.path.exists(os.path.join(folder, "model.onnx"))
    assert server.requests["/m.zip"] == 2


@pytest.mark.network
def test_download_http_error(server, cache_root):
    url = server.url("/missing.zip")
    with pytest.raises(RuntimeError, match="HTTP 404") as error:
        audemo.download_model(url, cache_root=cache_root)
    assert url in str(error.value)


@pytest.mark.network
def test_download_no_network(cache_root):
    # nothing listens on port 9 (discard) of the loopback interface
    url = "http://127.0.0.1:9/model.zip"
    with pytest.raises(RuntimeError, match="Cannot download model") as error:
        audemo.download_model(url, cache_root=cache_root)
    assert "pass the folder as model" in str(error.value)


@pytest.mark.network
def test_offline(server, archive, cache_root, monkeypatch):
    server.files["/m.zip"] = archive
    url = server.url("/m.zip")
    monkeypatch.setenv("AUDEMO_OFFLINE", "1")
    with pytest.raises(RuntimeError, match="AUDEMO_OFFLINE=1") as error:
        audemo.download_model(url, cache_root=cache_root)
    assert url in str(error.value)
    assert server.requests["/m.zip"] == 0
    with pytest.raises(RuntimeError, match="zenodo.org/record/6221127"):
        audemo.download_model(cache_root=cache_root)
    # a cached model is used offline
    monkeypatch.delenv("AUDEMO_OFFLINE")
    folder = audemo.download_model(url, cache_root=cache_root)
    monkeypatch.setenv("AUDEMO_OFFLINE", "1")
    assert audemo.download_model(url, cache_root=cache_root) == folder


@pytest.mark.network
def test_registered_model_checksum(server, archive, cache_root, monkeypatch):
    server.files["/registered.zip"] = archive
    good = registry.RegisteredModel(
        url=server.url("/registered.zip"),
        sha256=hashlib.sha256(archive).hexdigest(),
        license="MIT",
        description="test",
    )
    bad = registry.RegisteredModel(
        url=good.url, sha256="0" * 64, license="MIT", description="test"
    )
    monkeypatch.setitem(registry.MODELS, "bad-model", bad)
    with pytest.raises(RuntimeError, match="expected 0000"):
        audemo.download_model("bad-model", cache_root=cache_root)
    _assert_nothing_cached(cache_root)
    monkeypatch.setitem(registry.MODELS, "good-model", good)
    folder = audemo.download_model("good-model", cache_root=cache_root)
    assert folder == os.path.join(cache_root, "models", "registered")


@pytest.mark.slow
@pytest.mark.subprocess
@pytest.mark.network
def test_concurrent_download(server, archive, cache_root):
    server.files["/m.zip"] = archive
    server.delay = 1.0
    url = server.url("/m.zip")
    code = (
        "import audemo, sys; "
        "print(audemo.download_model(sys.argv[1], cache_root=sys.argv[2]))"
    )
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", code, url, cache_root],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    results = [process.communicate(timeout=120) for process in processes]
    assert [process.returncode for process in processes] == [0] * 4, results
    folders = {out.strip() for out, _ in results}
    assert len(folders) == 1
    assert server.requests["/m.zip"] == 1


def test_fingerprint(model_root, tmp_path, cache_root):
    root = audemo.testing.create_model(str(tmp_path / "m"))
    with open(os.path.join(root, "model.onnx"), "rb") as fp:
        expected = hashlib.sha256(fp.read()).hexdigest()
    assert fingerprint(root, cache_root=cache_root) == expected
    records = os.listdir(os.path.join(cache_root, "fingerprints"))
    assert len(records) == 1
    # remembered: a stale record is trusted while size and mtime match
    record = os.path.join(cache_root, "fingerprints", records[0])
    with open(record) as fp:
        text = fp.read()
    with open(record, "w") as fp:
        fp.write(text.replace(expected, "f" * 64))
    assert fingerprint(root, cache_root=cache_root) == "f" * 64
    # a changed file is hashed again
    audemo.testing.create_model(root, seed=1)
    os.utime(os.path.join(root, "model.onnx"), ns=(1, 1))
    changed = fingerprint(root, cache_root=cache_root)
    assert changed not in (expected, "f" * 64)
    # an unreadable record is recomputed
    with open(record, "w") as fp:
        fp.write("{not json")
    assert fingerprint(root, cache_root=cache_root) == changed


def test_check_interface_accepts_test_model(model_root):
    check_interface(model_root)
    session = onnxruntime.InferenceSession(os.path.join(model_root, "model.onnx"))
    assert [node.name for node in session.get_outputs()] == [
        "hidden_states",
        "logits",
    ]


# ----- devices ----------------------------------------------------------------

cuda_missing = pytest.mark.skipif(
    "CUDAExecutionProvider" in onnxruntime.get_available_providers(),
    reason="tests the error without a CUDA runtime",
)


@cuda_missing
@pytest.mark.parametrize("device", ["cuda", "cuda:0"])
def test_device_cuda_without_cuda(model_root, device):
    # real onnxruntime: it would fall back to the CPU with a warning only
    calls = [
        lambda: audemo.load_model(model_root, device=device),
        lambda: model_module.open_model(model_root, device=device),
        lambda: audemo.Emotion(model_root, device=device),
    ]
    for call in calls:
        with pytest.raises(RuntimeError, match=f"device='{device}' asks for CUDA"):
            call()
    message = str(pytest.raises(RuntimeError, calls[0]).value)
    assert "has no CUDA support" in message
    assert "pip uninstall -y onnxruntime onnxruntime-gpu" in message
    assert "&& pip install onnxruntime-gpu" in message
    assert "get_available_providers()" in message
    assert "CUDAExecutionProvider" in message
    assert "device='cpu'" in message


@cuda_missing
def test_device_cuda_fallback_detected(model_root, monkeypatch):
    # onnxruntime-gpu without CUDA libraries lists CUDA but runs on the CPU:
    # the session is real and falls back, the check must see it
    monkeypatch.setattr(
        onnxruntime,
        "get_available_providers",
        lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"],
    )
    with (
        pytest.warns(UserWarning, match="CUDAExecutionProvider"),
        pytest.raises(RuntimeError, match="could not start CUDA") as error,
    ):
        audemo.load_model(model_root, device="cuda")
    assert "['CPUExecutionProvider']" in str(error.value)
    assert "cuDNN" in str(error.value)


def test_device_cpu(model_root):
    model = audemo.load_model(model_root, device="cpu")
    assert model.sess.get_providers() == ["CPUExecutionProvider"]


@pytest.mark.parametrize("device", ["gpu", "CUDA", "cuda:x", "cuda0", "", None])
def test_device_invalid(model_root, device):
    match = r"device must be 'cpu', 'cuda' or 'cuda:<id>' \(e.g. 'cuda:0'\), not"
    with pytest.raises(ValueError, match=match):
        audemo.load_model(model_root, device=device)
    with pytest.raises(ValueError, match=match):
        audemo.Emotion(model_root, device=device)


# ----- archives and folders passed as model -------------------------------------


def test_zip_archive_as_model(archive, run_in_tmpdir):
    with open("w2v2.zip", "wb") as fp:
        fp.write(archive)
    for model in ("w2v2.zip", os.path.join(run_in_tmpdir, "w2v2.zip")):
        with pytest.raises(FileNotFoundError, match="is a zip archive") as error:
            audemo.download_model(model)
        message = str(error.value)
        assert os.path.join(run_in_tmpdir, "w2v2.zip") in message
        assert f"'unzip {model} -d <folder>'" in message
        assert "http(s):// URL" in message


def test_folder_with_model_subfolder(tmp_path, archive):
    import io
    import zipfile

    # as the published archive extracts: one folder that holds the model
    zipfile.ZipFile(io.BytesIO(archive)).extractall(tmp_path / "zenodo" / "w2v2")
    outer = str(tmp_path / "zenodo")
    inner = os.path.join(outer, "w2v2")
    for load in (audemo.download_model, audemo.load_model, audemo.Emotion):
        with pytest.raises(FileNotFoundError, match="holds no 'model.onnx'") as error:
            load(outer)
        assert f"sub-folder '{inner}' holds the model: pass that folder" in str(
            error.value
        )
    audemo.testing.create_model(os.path.join(outer, "other"))
    with pytest.raises(FileNotFoundError, match="hold models: pass one of them"):
        audemo.download_model(outer)


# ----- pieces of the model layer, in-process --------------------------------

KEY = f"$audonnx.core.model.Model=={audonnx.__version__}"


@pytest.mark.parametrize(
    "text, message",
    [
        ("[1, 2]\n", "does not describe one model"),
        ("builtins.dict:\n  path: model.onnx\n", "describes a 'builtins.dict'"),
        (f"{KEY}: [model.onnx]\n", "has no entries under"),
        (f"{KEY}:\n  path: model.onnx\n  device: cpu\n", "unknown entries"),
        (f"{KEY}:\n  path: model.onnx\n  transform: {{a: 1}}\n", "has a transform"),
        (f"{KEY}:\n  path: model.onnx\n  labels: 7\n", "has labels 7"),
        (f"{KEY}:\n  labels: null\n", "has 'path: None'"),
    ],
)
def test_read_model_folder_refused(tmp_path, text, message):
    # plain YAML only: nothing here could run code, so no child process
    root = audemo.testing.create_model(str(tmp_path / "m"))
    with open(os.path.join(root, "model.yaml"), "w") as fp:
        fp.write(text)
    with pytest.raises(ValueError, match=message) as error:
        read_model_folder(root)
    assert os.path.join(root, "model.yaml") in str(error.value)
    with pytest.raises(ValueError, match=message) as error:
        read_model_folder(root, source="https://example.org/m.zip")
    assert "of the model from https://example.org/m.zip" in str(error.value)


def test_read_model_folder_legacy_labels_refused(tmp_path):
    root = audemo.testing.create_model(str(tmp_path / "m"))
    os.remove(os.path.join(root, "model.yaml"))
    with open(os.path.join(root, "labels.yaml"), "w") as fp:
        fp.write("logits: [1, 2, 3]\n")
    with pytest.raises(ValueError, match="labels.yaml' has labels"):
        read_model_folder(root)


def test_read_model_folder_missing(tmp_path):
    missing = str(tmp_path / "missing")
    with pytest.raises(FileNotFoundError) as error:
        read_model_folder(missing)
    assert str(error.value) == f"Model folder '{missing}' holds no 'model.onnx'."


def test_check_interface_labels(tmp_path):
    root = audemo.testing.create_model(str(tmp_path / "m"))
    write_model_yaml(root, {"logits": ["a", "b", "c"]})
    with pytest.raises(RuntimeError, match=r"labelled \['arousal'"):
        check_interface(root)


def test_session_options_built_once():
    # the three uses of onnxruntime: a model, a small model, an interface check
    model = session_options(4, memory_pattern=False)
    assert (model.intra_op_num_threads, model.inter_op_num_threads) == (4, 1)
    assert not model.enable_mem_pattern
    default = session_options()
    assert default.intra_op_num_threads == 0  # onnxruntime decides
    assert default.log_severity_level == 3
    check = session_options(optimize=False)
    assert (
        check.graph_optimization_level
        == onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
    )


def test_open_model_threads(model_root):
    model = model_module.open_model(model_root, num_threads=3)
    assert model.sess.get_session_options().intra_op_num_threads == 3
    model = audemo.load_model(model_root, num_workers=None)
    assert model.sess.get_session_options().intra_op_num_threads == 0


def test_load_model_gpu_not_onnx(tmp_path):
    # a file that is not ONNX passes the check for CPU-only operators:
    # onnxruntime or the CUDA check reports it, whatever the machine has
    root = audeer.mkdir(tmp_path / "broken")
    with open(os.path.join(root, "model.onnx"), "wb") as fp:
        fp.write(b"this is not a model")
    with pytest.raises(RuntimeError, match="asks for CUDA|Cannot load the model"):
        audemo.load_model(root, device="cuda")


def test_acquire_model_fingerprint_mismatch(model_root, cache_root):
    with pytest.raises(RuntimeError, match=f"this pipeline expects {'0' * 64}"):
        model_module.acquire_model(
            model_root, expected_fingerprint="0" * 64, cache_root=cache_root
        )


def test_model_info_refused_folder(tmp_path):
    root = audemo.testing.create_model(str(tmp_path / "m"))
    with open(os.path.join(root, "transform.yaml"), "w") as fp:
        fp.write("null\n")
    info = model_module.model_info(root)
    assert info["folder"] == root and info["fingerprint"] is None
    assert "does not load transforms" in info["problem"]


def test_fingerprint_read_only_memo(tmp_path):
    # a cache folder that cannot be written: hashed once by this process
    root = audemo.testing.create_model(str(tmp_path / "m"), seed=7)
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    digest = fingerprint(root, cache_root=str(blocked))
    assert fingerprint(root, cache_root=str(blocked)) == digest
    with open(os.path.join(root, "model.onnx"), "rb") as fp:
        assert digest == hashlib.sha256(fp.read()).hexdigest()


def test_write_json_atomic_failure(tmp_path):
    target = audeer.mkdir(tmp_path / "taken")
    with pytest.raises(OSError):
        write_json_atomic(target, {"a": 1})
    assert os.listdir(tmp_path) == ["taken"]  # no temporary file left


def test_cache_lock_not_writable(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    folder = str(blocked / "models" / "m")
    with pytest.raises(PermissionError, match="Cannot write to the cache folder"):
        with cache_lock(folder, cache_root=str(blocked)):
            pass


def test_resolver_round_trip(model_root, tmp_path):
    interface = audemo.Emotion(model_root)
    path = str(tmp_path / "pipeline" / "emotion.yaml")
    interface.to_yaml(path)
    relative = os.path.relpath(model_root, os.path.dirname(path))
    with open(path) as fp:
        assert f"model: {relative}\n" in fp.read()
    assert audemo.load_pipeline(path).model == model_root
    resolver = ModelResolver()
    assert resolver.encode(model_root) == resolver.decode(model_root) == model_root
    with pytest.raises(ValueError, match="must be a string, not int: 7"):
        resolver.decode(7)


@pytest.mark.network
def test_folder_named_like_registered_model(
    server, archive, cache_root, human_voice, tmp_path, monkeypatch, capsys
):
    import io
    import zipfile

    from audemo.core.cli import main

    # the offline recipe of docs/install.rst:
    # unzip <archive> -d w2v2-L-robust-12; --model w2v2-L-robust-12
    server.files["/registered.zip"] = archive
    registered = registry.RegisteredModel(
        url=server.url("/registered.zip"),
        sha256=None,
        license="CC BY-NC-SA 4.0",
        description="test",
    )
    monkeypatch.setitem(registry.MODELS, "w2v2-L-robust-12", registered)
    work = audeer.mkdir(tmp_path / "work")
    monkeypatch.chdir(work)
    zipfile.ZipFile(io.BytesIO(archive)).extractall("w2v2-L-robust-12")
    folder = os.path.join(work, "w2v2-L-robust-12")
    assert audemo.download_model("w2v2-L-robust-12", cache_root=cache_root) == folder
    interface = audemo.Emotion("w2v2-L-robust-12", cache_root=cache_root)
    assert interface.model == folder
    assert main(["predict", human_voice, "--model", "w2v2-L-robust-12"]) == 0
    assert "arousal" in capsys.readouterr().out
    info = model_module.model_info("w2v2-L-robust-12", cache_root=cache_root)
    assert info["folder"] == folder and info["url"] is None
    assert main(["info", "w2v2-L-robust-12"]) == 0
    out = capsys.readouterr().out
    assert f"folder: {folder}" in out and "sha256: not pinned" not in out
    # a pipeline next to the folder reads it back as that folder,
    # from any working folder
    interface.to_yaml("emotion.yaml")
    with open("emotion.yaml") as fp:
        assert "model: w2v2-L-robust-12\n" in fp.read()
    monkeypatch.chdir(tmp_path)
    assert audemo.load_pipeline(os.path.join(work, "emotion.yaml")).model == folder
    # nothing was downloaded, nothing cached
    assert server.requests.get("/registered.zip", 0) == 0
    assert not os.path.exists(os.path.join(cache_root, "models"))
    # without the folder the name means the registered model again
    assert audemo.download_model("w2v2-L-robust-12", cache_root=cache_root) == (
        registry.cache_folder("w2v2-L-robust-12", cache_root=cache_root)
    )
    assert server.requests["/registered.zip"] == 1
    # the default model is the registered one, whatever folders lie here
    monkeypatch.chdir(work)
    cached = registry.cache_folder("w2v2-L-robust-12", cache_root=cache_root)
    assert audemo.download_model(cache_root=cache_root) == cached
    default = audemo.Emotion(cache_root=cache_root)
    assert default.model == "w2v2-L-robust-12"
    default.to_yaml(os.path.join("pipelines", "default.yaml"))
    with open(os.path.join("pipelines", "default.yaml")) as fp:
        assert "model: w2v2-L-robust-12\n" in fp.read()
    assert main(["info", "--model-cache-root", cache_root]) == 0
    out = capsys.readouterr().out
    assert f"folder: {cached}" in out and "sha256: not pinned" in out


# ----- weights shared by worker processes ------------------------------------


def weights_files(cache_root):
    folder = os.path.join(cache_root, "weights")
    return sorted(
        os.path.join(folder, name)
        for name in os.listdir(folder)
        if name.endswith((".bin", ".json", ".onnx"))
    )


def test_shared_weights_made_once(model_root, cache_root):
    model = model_module.open_model(
        model_root, cache_root=cache_root, share_weights=True
    )
    weights = model.shared_weights
    assert weights is not None
    files = weights_files(cache_root)
    assert [os.path.splitext(path)[1] for path in files] == [".bin", ".json", ".onnx"]
    assert weights.path == files[0]
    stats = [os.stat(path) for path in files]
    again = model_module.open_model(
        model_root, cache_root=cache_root, share_weights=True
    )
    # reused as it is: no file written again
    assert [os.stat(path) for path in weights_files(cache_root)] == stats
    assert again.shared_weights.path == weights.path
    # without sharing: the model's own weights, prepacked
    plain = model_module.open_model(model_root, cache_root=cache_root)
    assert plain.shared_weights is None


@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_shared_weights_same_results(model_root, speech_files, cache_root, precision):
    outputs = ["logits", "hidden_states"]
    results = {
        share: audemo.Emotion(
            model_root,
            outputs=outputs,
            precision=precision,
            share_weights=share,
            model_cache_root=cache_root,
        ).process_files(speech_files)
        for share in (False, True)
    }
    # the same kernels on the same prepacked weights
    pd.testing.assert_frame_equal(results[True], results[False], check_exact=True)
    assert os.path.exists(os.path.join(cache_root, "weights"))


def test_shared_weights_default(model_root, cache_root):
    # on by default, in one process too: the file is made on first use
    single = audemo.Emotion(model_root, num_workers=2, model_cache_root=cache_root)
    assert single.share_weights is True
    assert single._onnx_model().shared_weights is not None
    assert os.path.exists(os.path.join(cache_root, "weights"))
    # a runtime setting: not in the pipeline file
    assert "share_weights" not in single.to_yaml_s()
    # int8 too
    int8 = {"precision": "int8", "num_workers": 2, "multiprocessing": True}
    interface = audemo.Emotion(model_root, model_cache_root=cache_root, **int8)
    assert interface._onnx_model().shared_weights is not None
    # unless asked not to
    interface = audemo.Emotion(
        model_root, model_cache_root=cache_root, share_weights=False, **int8
    )
    assert interface._onnx_model().shared_weights is None


def test_shared_weights_in_worker_processes(model_root, speech_files, cache_root):
    index = audformat.filewise_index(speech_files * 2)
    expected = audemo.Emotion(
        model_root, model_cache_root=cache_root, share_weights=False
    ).process_index(index)
    assert not os.path.exists(os.path.join(cache_root, "weights"))
    interface = audemo.Emotion(
        model_root, num_workers=2, multiprocessing=True, model_cache_root=cache_root
    )
    result = interface.process_index(index)
    # the workers made the file, and ran on it
    assert len(weights_files(cache_root)) == 3
    pd.testing.assert_frame_equal(result, expected, check_exact=True)


def test_shared_weights_cache_not_writable(model_root, tmp_path):
    cache_root = str(tmp_path / "cache")
    os.makedirs(cache_root)
    with open(os.path.join(cache_root, "weights"), "w"):
        pass  # a file where the folder would be: nothing can be written
    model = model_module.open_model(
        model_root, cache_root=cache_root, share_weights=True
    )
    assert model.shared_weights is None
    # the model as it is, with its own prepacked weights
    assert model.path == os.path.join(model_root, "model.onnx")


SHARING_WORKER = """
import sys
import numpy as np
from audemo.core.model.api import open_model

model = open_model(sys.argv[1], cache_root=sys.argv[2], share_weights=True)
model(np.zeros((1, 16000), np.float32), 16000)
print(model.shared_weights.path, flush=True)
sys.stdin.readline()
"""


def mapping_memory_kb(pid, path):
    r"""Rss and Pss of the mappings of a file in a process, in kB."""
    memory = {"Rss": 0, "Pss": 0}
    mapped = False
    with open(f"/proc/{pid}/smaps") as fp:
        for line in fp:
            fields = line.split()
            if "-" in fields[0] and len(fields) >= 5:  # a mapping's header
                mapped = fields[-1] == path
            elif mapped and fields[0].rstrip(":") in memory:
                memory[fields[0].rstrip(":")] += int(fields[1])
    return memory


@pytest.mark.slow
@pytest.mark.subprocess
@pytest.mark.skipif(not os.path.exists("/proc/self/smaps"), reason="Linux only")
def test_shared_weights_pages_shared(model_root, cache_root):
    # made once before, as by the first worker
    model_module.open_model(model_root, cache_root=cache_root, share_weights=True)
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", SHARING_WORKER, model_root, cache_root],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        paths = {process.stdout.readline().strip() for process in processes}
        (path,) = paths
        memory = [mapping_memory_kb(process.pid, path) for process in processes]
    finally:
        for process in processes:
            process.communicate("\n", timeout=60)
    for one in memory:
        # the pages of the weights are resident and counted half in each
        assert one["Rss"] > 0
        assert one["Pss"] < one["Rss"]
    assert sum(one["Pss"] for one in memory) <= max(one["Rss"] for one in memory)
