r"""A model folder, archive or cache from elsewhere must not run code or lie.

Attacks that could run code or exhaust memory run in a child process
(tests/sandbox.py), so a failing defence cannot take the test session down.

"""

import ctypes
import glob
import hashlib
import http.server
import io
import json
import os
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import textwrap
import threading
import time
import urllib.request
import warnings
import zipfile

from external_data import external_tensor
from external_data import sparse_external_initializer
import numpy as np
import onnx
import onnx.helper
import onnx.numpy_helper
import onnxruntime
import pytest
from sandbox import run_limited

import audeer
import audonnx

import audemo
from audemo.core.model import api as model_module
from audemo.core.model import archive as archive_module
from audemo.core.model import registry
from audemo.core.model import transfer
from audemo.core.model.fingerprint import fingerprint
from audemo.core.model.folder import refuse_external_data
from audemo.core.model.precision import precision_root
from audemo.core.model.weights import shared_weights
from audemo.core.storage import cache_lock
from audemo.core.storage import write_json_atomic


HERE = os.path.dirname(os.path.abspath(__file__))
KEY = f"$audonnx.core.model.Model=={audonnx.__version__}"
LABELS = {"logits": ["arousal", "dominance", "valence"]}


def sha256(path):
    with open(path, "rb") as fp:
        return hashlib.sha256(fp.read()).hexdigest()


def write_yaml(root, text):
    with open(os.path.join(root, "model.yaml"), "w") as fp:
        fp.write(textwrap.dedent(text))


def popen_yaml(marker, *, key=KEY):
    # what audobject turns into subprocess.Popen(["touch", marker])
    return f"""
    {key}:
      path: model.onnx
      labels: {{logits: [arousal, dominance, valence]}}
      transform:
        $subprocess.Popen:
          args: [touch, {marker}]
    """


def zip_folder(root):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(os.listdir(root)):
            archive.write(os.path.join(root, name), name)
    return buffer.getvalue()


def attack(code, tmp_path, **kwargs):
    r"""Run attack code in a limited child and return its output."""
    result = run_limited(
        f"import sys; sys.path.insert(0, {HERE!r})\n" + textwrap.dedent(code),
        cwd=str(tmp_path),
        memory_mb=kwargs.pop("memory_mb", 3072),
        seconds=kwargs.pop("seconds", 120),
        **kwargs,
    )
    return result.stdout + result.stderr


def emotion(model, *, cache_root):
    return audemo.Emotion(model, model_cache_root=cache_root)


@pytest.fixture
def folder(tmp_path):
    r"""A fresh test model folder the test may change."""
    return audemo.testing.create_model(str(tmp_path / "model"))


# ----- 1. model.yaml and legacy files run no code -------------------------


@pytest.mark.slow
@pytest.mark.subprocess
@pytest.mark.network
def test_model_yaml_transform_not_run(folder, tmp_path, server, cache_root):
    marker = tmp_path / "pwned"
    write_yaml(folder, popen_yaml(marker))
    server.files["/evil.zip"] = zip_folder(folder)
    url = server.url("/evil.zip")
    output = attack(
        f"""
        import time, audemo, audemo.core.cli as cli
        for load in (
            lambda: audemo.Emotion({folder!r}),
            lambda: audemo.load_model({folder!r}),
            lambda: audemo.Emotion({url!r}, model_cache_root={cache_root!r}),
        ):
            try:
                load()
                print("LOADED")
            except ValueError as ex:
                print("REFUSED", ex)
        args = ["info", {url!r}, "--model-cache-root", {cache_root!r}, "--download"]
        print("CLI", cli.main(args))
        time.sleep(0.5)  # a started process would have touched the marker by now
        """,
        tmp_path,
    )
    assert not marker.exists(), output
    assert output.count("REFUSED") == 3, output
    assert "has a transform" in output and "transform: null" in output
    assert "CLI 1" in output
    models = os.path.join(cache_root, "models")
    assert [n for n in os.listdir(models) if not n.endswith(".lock")] == []


@pytest.mark.slow
@pytest.mark.subprocess
@pytest.mark.parametrize(
    "text, message",
    [
        # a YAML tag that would call os.system
        (
            "$audonnx.core.model.Model:\n"
            "  path: !!python/object/apply:os.system ['touch {marker}']\n",
            "not plain YAML",
        ),
        # another class than a model at the top
        ("$subprocess.Popen:\n  args: [touch, '{marker}']\n", "not a model"),
        (
            "$audonnx.core.model.Model:\n  path: model.onnx\n"
            "  device: {{$subprocess.Popen: {{args: [touch, '{marker}']}}}}\n",
            "unknown entries",
        ),
        ("[1, 2]\n", "does not describe one model"),
        ("$audonnx.core.model.Model:\n  path: model.onnx\n  labels: 7\n", "labels"),
    ],
)
def test_model_yaml_refused(folder, tmp_path, text, message):
    marker = tmp_path / "pwned"
    write_yaml(folder, text.format(marker=marker))
    output = attack(
        f"""
        import audemo
        try:
            audemo.load_model({folder!r})
        except ValueError as ex:
            print("REFUSED", ex)
        """,
        tmp_path,
    )
    assert not marker.exists(), output
    assert "REFUSED" in output and message in output, output
    assert os.path.join(folder, "model.yaml") in output


@pytest.mark.slow
@pytest.mark.subprocess
def test_model_yaml_alias_bomb(folder, tmp_path):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    write_yaml(folder, "\n".join(lines) + "\n")
    output = attack(
        f"""
        import audemo
        try:
            audemo.load_model({folder!r})
        except ValueError as ex:
            print("REFUSED", ex)
        """,
        tmp_path,
        memory_mb=1024,
        seconds=30,
    )
    assert "REFUSED" in output and "aliases" in output, output


@pytest.mark.slow
@pytest.mark.subprocess
def test_legacy_transform_yaml_refused(folder, tmp_path):
    marker = tmp_path / "pwned"
    os.remove(os.path.join(folder, "model.yaml"))
    with open(os.path.join(folder, "transform.yaml"), "w") as fp:
        fp.write(f"$subprocess.Popen:\n  args: [touch, '{marker}']\n")
    output = attack(
        f"""
        import audemo
        try:
            audemo.Emotion({folder!r})
        except ValueError as ex:
            print("REFUSED", ex)
        """,
        tmp_path,
    )
    assert not marker.exists(), output
    assert "REFUSED" in output and "transform.yaml" in output, output
    assert "delete 'transform.yaml'" in output


def test_legacy_folders_accepted(folder, tmp_path, cache_root):
    digest = sha256(os.path.join(folder, "model.onnx"))
    # the published model's YAML, written by an older audonnx, with and
    # without the '$' audobject also accepts
    for key in ("$audonnx.core.model.Model==0.3.3", "audonnx.core.model.Model"):
        write_yaml(
            folder,
            f"{key}:\n  path: model.onnx\n  labels:\n    logits: "
            f"[arousal, dominance, valence]\n  transform: null\n",
        )
        assert audemo.Emotion(folder, model_cache_root=cache_root).fingerprint == digest
    # plain ONNX, then with a legacy labels.yaml
    os.remove(os.path.join(folder, "model.yaml"))
    model = audemo.load_model(folder, cache_root=cache_root)
    assert model.labels("logits") == ["logits-0", "logits-1", "logits-2"]
    assert fingerprint(folder, cache_root=cache_root) == digest
    with open(os.path.join(folder, "labels.yaml"), "w") as fp:
        fp.write("logits: [arousal, dominance, valence]\n")
    model = audemo.load_model(folder, cache_root=cache_root)
    assert model.labels("logits") == LABELS["logits"]
    assert fingerprint(folder, cache_root=cache_root) == digest


@pytest.mark.parametrize(
    "path",
    ["../other/model.onnx", "/tmp/model.onnx", "other.onnx", "sub/../../model.onnx"],
)
def test_model_yaml_path_refused(folder, tmp_path, path):
    other = audemo.testing.create_model(str(tmp_path / "other"), seed=1)
    shutil.copy(os.path.join(other, "model.onnx"), os.path.join(folder, "other.onnx"))
    write_yaml(folder, f"{KEY}:\n  path: {path}\n  labels: null\n")
    for load in (audemo.load_model, audemo.Emotion, fingerprint):
        with pytest.raises(ValueError, match=f"has 'path: {path}': refused"):
            load(folder)


def test_model_onnx_link_outside_refused(folder, tmp_path):
    other = audemo.testing.create_model(str(tmp_path / "other"), seed=1)
    os.remove(os.path.join(folder, "model.onnx"))
    os.symlink(os.path.join(other, "model.onnx"), os.path.join(folder, "model.onnx"))
    with pytest.raises(ValueError, match="outside the folder"):
        audemo.Emotion(folder)


def test_int8_yaml_written_clean(folder, cache_root):
    int8 = precision_root(folder, "int8", cache_root=cache_root)
    with open(os.path.join(int8, "model.yaml")) as fp:
        assert fp.read() == (
            f"{KEY}:\n  path: model.onnx\n  labels:\n    logits:\n"
            f"    - arousal\n    - dominance\n    - valence\n  transform: null\n"
        )
    assert audonnx.load(int8).labels("logits") == LABELS["logits"]
    interface = audemo.Emotion(folder, precision="int8", model_cache_root=cache_root)
    assert interface.process_signal(np.zeros((1, 16000), np.float32), 16000).shape
    # a folder refused in fp32 is refused for int8 as well
    write_yaml(folder, f"{KEY}:\n  path: other.onnx\n")
    with pytest.raises(ValueError, match="path: other.onnx"):
        precision_root(folder, "int8", cache_root=cache_root)


# ----- 2. the fingerprint identifies what runs ------------------------------


def save_external(folder):
    proto = onnx.load(os.path.join(folder, "model.onnx"))
    onnx.save(
        proto,
        os.path.join(folder, "model.onnx"),
        save_as_external_data=True,
        location="weights.bin",
        size_threshold=100,
    )


@pytest.mark.network
def test_external_data_refused(folder, server, cache_root):
    save_external(folder)
    # onnxruntime would run it, with weights the fingerprint does not cover
    assert os.path.exists(os.path.join(folder, "weights.bin"))
    for load in (emotion, audemo.load_model, fingerprint):
        with pytest.raises(RuntimeError, match=r"external data files \['weights.bin'"):
            load(folder, cache_root=cache_root)
    server.files["/external.zip"] = zip_folder(folder)
    with pytest.raises(RuntimeError, match="external data"):
        audemo.download_model(server.url("/external.zip"), cache_root=cache_root)


def test_sparse_external_data_refused(folder, tmp_path, cache_root):
    # the model's weights move to a sparse initializer whose values live in
    # w.bin: onnx's own tensor iterator skips sparse tensors, onnxruntime
    # loads them, and editing w.bin would change the outputs unseen
    path = os.path.join(folder, "model.onnx")
    sparse_external_initializer(path, "head_weight")
    signal = np.random.default_rng(1).standard_normal((1, 16000), np.float32)

    def logits():
        session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
        return session.run(["logits"], {"signal": signal})[0]

    before = logits()
    with open(os.path.join(folder, "w.bin"), "r+b") as fp:
        fp.write(np.float32(5).tobytes())
    assert not np.allclose(logits(), before)  # the threat is real
    for load in (emotion, audemo.load_model, fingerprint):
        with pytest.raises(RuntimeError, match=r"external data files \['w.bin'\]"):
            load(folder, cache_root=cache_root)
    # a pipeline that names the very fingerprint of model.onnx
    pipeline = tmp_path / "pipeline.yaml"
    audemo.Emotion(audemo.testing.create_model(str(tmp_path / "m"))).to_yaml(
        str(pipeline)
    )
    text = pipeline.read_text()
    text = text.replace("model: m\n", "model: model\n").replace(
        text.split("fingerprint: ")[1].split()[0], sha256(path)
    )
    pipeline.write_text(text)
    with pytest.raises(RuntimeError, match=r"external data files \['w.bin'\]"):
        audemo.load_pipeline(str(pipeline))


@pytest.mark.parametrize("where", ["sparse attribute", "subgraph", "function"])
def test_external_data_found_anywhere(where, tmp_path):
    # each place of the protobuf that holds a tensor
    array = np.arange(1, 5, dtype=np.float32).reshape(2, 2)
    sparse = where == "sparse attribute"
    values = array.reshape(-1) if sparse else array
    value = external_tensor(values, "value", str(tmp_path), "x.bin")
    output = onnx.helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [2, 2])
    if sparse:
        indices = onnx.numpy_helper.from_array(np.arange(4, dtype=np.int64), "i")
        sparse = onnx.helper.make_sparse_tensor(value, indices, [2, 2])
        nodes = [onnx.helper.make_node("Constant", [], ["y"], sparse_value=sparse)]
    else:
        constant = onnx.helper.make_node("Constant", [], ["y"], value=value)
        branch = onnx.helper.make_graph([constant], "branch", [], [output])
        condition = onnx.numpy_helper.from_array(np.array(True), "c")
        nodes = [
            onnx.helper.make_node("Constant", [], ["c"], value=condition),
            onnx.helper.make_node(
                "If", ["c"], ["y"], then_branch=branch, else_branch=branch
            ),
        ]
    functions = []
    if where == "function":
        functions = [
            onnx.helper.make_function(
                "local", "f", [], ["y"], nodes, [onnx.helper.make_opsetid("", 21)]
            )
        ]
        nodes = [onnx.helper.make_node("f", [], ["y"], domain="local")]
    proto = onnx.helper.make_model(
        onnx.helper.make_graph(nodes, "g", [], [output]),
        functions=functions,
        opset_imports=[
            onnx.helper.make_opsetid("", 21),
            onnx.helper.make_opsetid("local", 1),
        ],
    )
    path = str(tmp_path / "model.onnx")
    with open(path, "wb") as fp:
        fp.write(proto.SerializeToString())
    # onnxruntime reads the tensor from x.bin
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    (read,) = session.run(["y"], {})
    if sparse:  # onnxruntime answers a sparse tensor
        read = read.values()
    np.testing.assert_array_equal(read, values)
    with pytest.raises(RuntimeError, match=r"external data files \['x.bin'\]"):
        refuse_external_data(path)


def test_fingerprint_covers_labels(folder, cache_root):
    digest = sha256(os.path.join(folder, "model.onnx"))
    assert fingerprint(folder, cache_root=cache_root) == digest
    names = [f"dim-{i}" for i in range(32)]
    write_yaml(
        folder,
        f"{KEY}:\n  path: model.onnx\n  labels:\n"
        f"    logits: [arousal, dominance, valence]\n    hidden_states: {names}\n",
    )
    labelled = fingerprint(folder, cache_root=cache_root)
    assert labelled != digest
    interface = audemo.Emotion(
        folder, outputs="hidden_states", model_cache_root=cache_root
    )
    assert interface.fingerprint == labelled
    assert list(interface.process_signal(np.zeros(16000), 16000).columns) == names


def test_changed_folder_loads_anew(folder, tmp_path, cache_root):
    signal = np.random.default_rng(0).normal(size=(1, 16000)).astype(np.float32)
    before = audemo.Emotion(folder, model_cache_root=cache_root)
    y_before = before.process_signal(signal, 16000)
    onnx_path = os.path.join(folder, "model.onnx")
    stat = os.stat(onnx_path)
    other = audemo.testing.create_model(str(tmp_path / "other"), seed=1)
    shutil.copy(os.path.join(other, "model.onnx"), onnx_path)
    # same size, old modification time: the memo used to trust it
    assert os.path.getsize(onnx_path) == stat.st_size
    os.utime(onnx_path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    after = audemo.Emotion(folder, model_cache_root=cache_root)
    assert after.fingerprint == sha256(onnx_path) != before.fingerprint
    y_after = after.process_signal(signal, 16000)
    assert not np.allclose(y_before.values, y_after.values)
    with pytest.raises(RuntimeError, match="changed: it has fingerprint"):
        model_module.open_model(folder, expected_fingerprint=before.fingerprint)


# ----- 3. the fingerprint memo ----------------------------------------------


@pytest.mark.parametrize("in_place", [False, True])
def test_fingerprint_memo_same_size_old_mtime(folder, tmp_path, cache_root, in_place):
    onnx_path = os.path.join(folder, "model.onnx")
    old = fingerprint(folder, cache_root=cache_root)
    stat = os.stat(onnx_path)
    other = audemo.testing.create_model(str(tmp_path / "other"), seed=1)
    if in_place:  # same inode
        with open(os.path.join(other, "model.onnx"), "rb") as src:
            data = src.read()
        with open(onnx_path, "r+b") as fp:
            fp.write(data)
    else:  # a new file renamed into place
        shutil.copy(os.path.join(other, "model.onnx"), onnx_path + ".new")
        os.replace(onnx_path + ".new", onnx_path)
    os.utime(onnx_path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert os.stat(onnx_path).st_size == stat.st_size
    assert os.stat(onnx_path).st_mtime_ns == stat.st_mtime_ns
    new = fingerprint(folder, cache_root=cache_root)
    assert new == sha256(onnx_path) != old


@pytest.mark.parametrize("planted", ["folder", "file", "mode"])
def test_fingerprint_memo_of_others_ignored(folder, tmp_path, planted, monkeypatch):
    # a shared cache (mode 1777, like /tmp): a memo's stamp is public through
    # stat(), so another user can plant a memo with any SHA256 for your model
    cache_root = str(tmp_path / "shared")
    os.mkdir(cache_root)
    os.chmod(cache_root, 0o1777)
    digest = fingerprint(folder, cache_root=cache_root)
    (memo,) = glob.glob(os.path.join(cache_root, "fingerprints", "*.json"))
    # memos of your own are written for you only, whatever the umask
    assert os.stat(memo).st_mode & 0o777 == 0o644
    assert os.stat(os.path.dirname(memo)).st_mode & 0o777 == 0o755
    with open(memo) as fp:
        forged = {**json.load(fp), "sha256": "f" * 64}
    memos = os.path.dirname(memo)
    if planted == "folder":  # their own fingerprints/ folder in the cache
        shutil.rmtree(memos)
    write_json_atomic(memo, forged)
    if planted == "mode":  # your memo, made writable by all
        os.chmod(memo, 0o666)
    elif os.geteuid() == 0:
        os.chown(memo, 65534, 65534)  # nobody
        if planted == "folder":
            os.chown(memos, 65534, 65534)
    else:  # CI runs as root; elsewhere you are the other user
        monkeypatch.setattr(os, "geteuid", lambda: os.getuid() + 1)
    # planted in a 1777 folder of your own: the same, only the file is theirs
    if planted == "file":
        os.chmod(memos, 0o1777)
    assert fingerprint(folder, cache_root=cache_root) == digest
    assert audemo.Emotion(folder, model_cache_root=cache_root).fingerprint == digest


# ----- 4. read-only caches ----------------------------------------------------


def run_without_root_permissions(code, tmp_path):
    r"""Run code in a child that file permissions apply to.

    Tests run as root, and root ignores file permissions
    through the capabilities CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH.
    The child drops both from its capability bounding set before it
    executes Python, so the new program never gets them:
    a folder chmod'ed read-only is then read-only for it
    (root still owns the files, so it can read them).

    """

    def drop():
        if os.geteuid() == 0:
            libc = ctypes.CDLL(None, use_errno=True)
            for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
                if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
                    raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")

    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=str(tmp_path),
        preexec_fn=drop,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result.stdout + result.stderr


def make_read_only(root):
    for path, folders, files in os.walk(root):
        for name in files:
            os.chmod(os.path.join(path, name), 0o444)
        os.chmod(path, 0o555)


@pytest.mark.slow
@pytest.mark.subprocess
@pytest.mark.network
def test_read_only_cache(tmp_path, server, archive, cache_root):
    server.files["/m.zip"] = archive
    # another model than the archive's, whose int8 variant is not cached
    folder = audemo.testing.create_model(str(tmp_path / "local"), seed=2)
    url = server.url("/m.zip")
    audemo.Emotion(url, precision="int8", model_cache_root=cache_root)
    # a cache copied for offline use: new inodes, so every memo is stale
    copied = str(tmp_path / "copied-cache")
    shutil.copytree(cache_root, copied)
    empty = str(tmp_path / "empty-cache")
    os.mkdir(empty)
    for root in (copied, empty, folder):
        make_read_only(root)
    # the check of the setup: this child really cannot write
    output = run_without_root_permissions(
        f"open({os.path.join(copied, 'x')!r}, 'w')", tmp_path
    )
    assert "PermissionError" in output
    server.stop()
    output = run_without_root_permissions(
        f"""
        import os, numpy as np, audemo
        os.environ["AUDEMO_OFFLINE"] = "1"
        signal = np.zeros((1, 16000), np.float32)
        for model, precision, cache_root in [
            ({url!r}, "int8", {copied!r}),
            ({url!r}, "fp32", {copied!r}),
            ({folder!r}, "fp32", {empty!r}),
        ]:
            emotion = audemo.Emotion(
                model, precision=precision, model_cache_root=cache_root
            )
            print("OK", emotion.process_signal(signal, 16000).shape)
        for precision in ("int8", "fp32"):
            try:
                audemo.Emotion(
                    {folder!r}, precision=precision, model_cache_root={copied!r}
                ).process_signal(signal, 16000)
                print("OK")
            except PermissionError as ex:
                print("REFUSED", ex)
        """,
        tmp_path,
    )
    assert output.count("OK (1, 3)") == 3, output
    # fp32 of a local folder needs no cache; int8 must be made and cannot
    assert output.count("OK\n") == 1, output
    assert f"Cannot write to the cache folder '{copied}/int8'" in output
    assert f"cache_root='{copied}'" in output


@pytest.mark.slow
@pytest.mark.subprocess
@pytest.mark.network
def test_read_only_cache_download(tmp_path, server, archive):
    server.files["/m.zip"] = archive
    cache_root = str(tmp_path / "read-only")
    os.mkdir(cache_root)
    make_read_only(cache_root)
    output = run_without_root_permissions(
        f"""
        import os, audemo
        os.environ["AUDEMO_CACHE_ROOT"] = {cache_root!r}
        try:
            audemo.download_model({server.url("/m.zip")!r})
        except PermissionError as ex:
            print("REFUSED", ex)
        """,
        tmp_path,
    )
    assert f"REFUSED Cannot write to the cache folder '{cache_root}/models'" in output
    assert "Set $AUDEMO_CACHE_ROOT" in output
    assert server.requests["/m.zip"] == 0


# ----- 5. downloads -----------------------------------------------------------


def _assert_nothing_cached(cache_root):
    models = os.path.join(cache_root, "models")
    assert [n for n in os.listdir(models) if not n.endswith(".lock")] == []


@pytest.mark.network
def test_zip_bomb_refused(folder, server, cache_root):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in ("model.onnx", "model.yaml"):
            archive.write(os.path.join(folder, name), name)
        with archive.open("padding.bin", "w") as fp:
            for _ in range(32):
                fp.write(bytes(1024 * 1024))
    data = buffer.getvalue()
    assert len(data) < 100_000
    server.files["/bomb.zip"] = data
    with pytest.raises(RuntimeError, match=r"\['padding.bin'\], compressed more"):
        audemo.download_model(server.url("/bomb.zip"), cache_root=cache_root)
    _assert_nothing_cached(cache_root)


@pytest.mark.network
def test_size_caps(server, archive, cache_root, monkeypatch):
    server.files["/m.zip"] = archive
    url = server.url("/m.zip")
    monkeypatch.setattr(archive_module, "MAX_UNPACKED_BYTES", 1000)
    with pytest.raises(RuntimeError, match="more than 1000 files or 1000 bytes"):
        audemo.download_model(url, cache_root=cache_root)
    monkeypatch.setattr(transfer, "MAX_DOWNLOAD_BYTES", 1000)
    with pytest.raises(RuntimeError, match="larger than 1000 bytes: refused"):
        audemo.download_model(url, cache_root=cache_root)
    _assert_nothing_cached(cache_root)


@pytest.mark.slow
@pytest.mark.network
def test_download_deadline(server, archive, cache_root, monkeypatch):
    server.files["/slow.zip"] = archive
    server.delay = 30.0  # a tenth of the archive every 3 s
    monkeypatch.setenv("AUDEMO_DOWNLOAD_DEADLINE", "1")
    start = time.monotonic()
    with pytest.raises(RuntimeError, match="took longer than 1 s"):
        audemo.download_model(server.url("/slow.zip"), cache_root=cache_root)
    assert time.monotonic() - start < 10
    _assert_nothing_cached(cache_root)
    monkeypatch.setenv("AUDEMO_DOWNLOAD_DEADLINE", "soon")
    with pytest.raises(ValueError, match="AUDEMO_DOWNLOAD_DEADLINE"):
        audemo.download_model(server.url("/slow.zip"), cache_root=cache_root)


@pytest.fixture
def trickle_server(server, archive, tmp_path):
    r"""Server whose answers' status lines and headers arrive byte by byte.

    ``/slow`` answers 302 to ``server``'s ``/m.zip``, one byte per 0.2 s;
    ``/hop/N`` answers 302 to ``/hop/N-1`` at 20 bytes per second, and
    ``/hop/0`` to ``/m.zip``: each hop well within the read timeout;
    ``/body`` sends the start of a body without length and waits.

    """
    target = server.url("/m.zip")
    stopping = threading.Event()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            hop = self.path.removeprefix("/hop/")
            if self.path == "/body":  # no length: the body ends when it closes
                self.wfile.write(b"HTTP/1.1 200 OK\r\n\r\n" + archive[:100])
                self.wfile.flush()
                stopping.wait(30)
                return
            if self.path == "/slow":
                location, pause = target, 0.2
            else:
                location = f"/hop/{int(hop) - 1}" if int(hop) else target
                pause = 0.05
            head = f"HTTP/1.1 302 Found\r\nLocation: {location}\r\n"
            head += "Content-Length: 0\r\n\r\n"
            try:
                for byte in head.encode():
                    if stopping.wait(pause):
                        return
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
            except OSError:  # the client closed the connection
                pass

        def log_message(self, *args):
            pass

    # the same over https, with a certificate for 127.0.0.1 made here
    certificate = str(tmp_path / "certificate.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]
        + ["-keyout", certificate, "-out", certificate],
        check=True,
        capture_output=True,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate)
    servers = {}
    for scheme in ("http", "https"):
        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if scheme == "https":
            httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
        threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        servers[scheme] = httpd

    def url(path, scheme="http"):
        host, port = servers[scheme].server_address[:2]
        return f"{scheme}://{host}:{port}{path}"

    url.certificate = certificate
    yield url
    stopping.set()
    for httpd in servers.values():
        httpd.shutdown()
        httpd.server_close()


@pytest.mark.slow
@pytest.mark.network
@pytest.mark.parametrize(
    "path, scheme",
    [("/slow", "http"), ("/hop/4", "http"), ("/slow", "https"), ("/body", "http")],
)
def test_download_deadline_covers_headers(
    trickle_server, server, archive, cache_root, monkeypatch, path, scheme
):
    # headers that trickle in keep every read within the read timeout;
    # before, a 3-s deadline held a download 22 s and more, and each
    # redirect started anew
    server.files["/m.zip"] = archive
    url = trickle_server(path, scheme)
    if scheme == "https":  # certificates are checked as before
        with pytest.raises(RuntimeError, match="CERTIFICATE_VERIFY_FAILED"):
            audemo.download_model(url, cache_root=cache_root)
        monkeypatch.setenv("SSL_CERT_FILE", trickle_server.certificate)
    monkeypatch.setenv("AUDEMO_DOWNLOAD_DEADLINE", "2")
    with pytest.raises(RuntimeError, match="took longer than 2 s"):
        audemo.download_model(url, cache_root=cache_root)
    _assert_nothing_cached(cache_root)
    # stopped on the way (the slow header alone lasts 16 s, the five
    # redirects 15 s): the archive was never asked for
    assert server.requests["/m.zip"] == 0


@pytest.mark.slow
@pytest.mark.subprocess
@pytest.mark.network
def test_killed_download_cleaned(server, archive, cache_root):
    server.files["/m.zip"] = archive
    server.delay = 60.0
    url = server.url("/m.zip")
    folder = registry.cache_folder(url, cache_root=cache_root)
    code = (
        "import audemo, sys; audemo.download_model(sys.argv[1], cache_root=sys.argv[2])"
    )
    child = subprocess.Popen([sys.executable, "-c", code, url, cache_root])
    try:
        for _ in range(300):
            parts = glob.glob(f"{folder}.*.part.zip")
            if parts:
                break
            time.sleep(0.1)
        assert parts
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    # the lock died with the process; its partial archive stayed
    assert os.path.exists(parts[0])
    server.delay = 0.0
    assert audemo.download_model(url, cache_root=cache_root) == folder
    leftovers = sorted(os.listdir(os.path.dirname(folder)))
    assert leftovers == [os.path.basename(folder), os.path.basename(folder) + ".lock"]


@pytest.fixture
def redirect_server(server):
    r"""Server that answers /to?<url> with a redirect to <url>."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(302)
            self.send_header("Location", self.path.split("?", 1)[1])
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    host, port = httpd.server_address[:2]
    yield lambda target: f"http://{host}:{port}/to?{target}"
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.network
def test_redirects(server, archive, redirect_server, cache_root):
    server.files["/m.zip"] = archive
    with pytest.raises(
        RuntimeError, match="redirects to ftp://127.0.0.1/m.zip: refused"
    ):
        audemo.download_model(
            redirect_server("ftp://127.0.0.1/m.zip"), cache_root=cache_root
        )
    with pytest.raises(RuntimeError, match="not allowed"):
        audemo.download_model(
            redirect_server("file:///etc/passwd"), cache_root=cache_root
        )
    _assert_nothing_cached(cache_root)
    # to another host over the same scheme, as Zenodo does
    target = server.url("/m.zip").replace("127.0.0.1", "localhost")
    folder = audemo.download_model(redirect_server(target), cache_root=cache_root)
    assert os.path.isfile(os.path.join(folder, "model.onnx"))
    # a TLS server is out of reach here: the handler decides on its own
    handler = transfer.RedirectHandler()
    request = urllib.request.Request("https://zenodo.org/record/1/files/m.zip")
    with pytest.raises(RuntimeError, match="never from https to http"):
        handler.redirect_request(request, None, 302, "Found", {}, "http://a.b/m.zip")
    assert (
        handler.redirect_request(
            request, None, 302, "Found", {}, "https://cdn.zenodo.org/m.zip"
        ).full_url
        == "https://cdn.zenodo.org/m.zip"
    )


@pytest.mark.network
@pytest.mark.parametrize("value", ["on", "ON", "True", " yes "])
def test_offline_values(server, archive, cache_root, monkeypatch, value):
    server.files["/m.zip"] = archive
    monkeypatch.setenv("AUDEMO_OFFLINE", value)
    with pytest.raises(RuntimeError, match="forbids downloading"):
        audemo.download_model(server.url("/m.zip"), cache_root=cache_root)
    assert server.requests["/m.zip"] == 0


@pytest.mark.network
def test_truncated_cache(server, archive, cache_root):
    server.files["/m.zip"] = archive
    url = server.url("/m.zip")
    folder = audemo.download_model(url, cache_root=cache_root)
    with open(os.path.join(folder, ".audemo-download.json")) as fp:
        record = json.load(fp)
    onnx_path = os.path.join(folder, "model.onnx")
    assert record["files"]["model.onnx"] == {
        "size": os.path.getsize(onnx_path),
        "sha256": sha256(onnx_path),
    }
    os.truncate(onnx_path, os.path.getsize(onnx_path) // 2)
    for load in (audemo.download_model, emotion):
        with pytest.raises(RuntimeError, match="is damaged: 'model.onnx' has") as error:
            load(url, cache_root=cache_root)
        assert f"Delete '{folder}' and run again" in str(error.value)
    assert server.requests["/m.zip"] == 1


# ----- 6. download records and models copied into the cache ------------------


def register(monkeypatch, name, url, sha256=None):
    entry = registry.RegisteredModel(
        url=url, sha256=sha256, license="MIT", description="test"
    )
    monkeypatch.setitem(registry.MODELS, name, entry)


@pytest.mark.network
def test_download_record_and_info(server, archive, cache_root, monkeypatch):
    server.files["/unpinned.zip"] = archive
    url = server.url("/unpinned.zip")
    register(monkeypatch, "unpinned", url)
    info = model_module.model_info("unpinned", cache_root=cache_root)
    assert info["url"] == url and info["license"] == "MIT"
    assert info["pinned_sha256"] is None
    assert info["folder"] is info["archive_sha256"] is info["fingerprint"] is None
    assert server.requests["/unpinned.zip"] == 0  # never downloads
    folder = audemo.download_model("unpinned", cache_root=cache_root)
    with open(os.path.join(folder, ".audemo-download.json")) as fp:
        record = json.load(fp)
    digest = hashlib.sha256(archive).hexdigest()
    assert record["url"] == url
    assert record["archive"] == {"sha256": digest, "size": len(archive)}
    assert record["verified"] == "download"
    info = model_module.model_info("unpinned", cache_root=cache_root)
    assert info["folder"] == folder
    assert (info["archive_sha256"], info["archive_size"]) == (digest, len(archive))
    assert info["verified"] == "download" and info["problem"] is None
    assert info["fingerprint"] == sha256(os.path.join(folder, "model.onnx"))
    # the published default model has no pinned checksum yet
    info = model_module.model_info(cache_root=cache_root)
    assert info["model"] == "w2v2-L-robust-12" and info["pinned_sha256"] is None
    assert info["url"].startswith("https://zenodo.org/")
    # a local folder: its path and fingerprint, nothing from a registry
    info = model_module.model_info(folder)
    assert info["folder"] == folder and info["url"] is None
    with pytest.raises(ValueError, match="Unknown model"):
        model_module.model_info("no-such-model")


@pytest.mark.network
def test_cached_model_replaced(server, archive, cache_root, tmp_path):
    server.files["/m.zip"] = archive
    url = server.url("/m.zip")
    folder = audemo.download_model(url, cache_root=cache_root)
    # another model of the same size, copied over the cached one
    other = audemo.testing.create_model(str(tmp_path / "other"), seed=3)
    shutil.copy(os.path.join(other, "model.onnx"), folder)
    size = os.path.getsize(os.path.join(folder, "model.onnx"))
    assert size == os.path.getsize(os.path.join(other, "model.onnx"))
    for load in (audemo.download_model, audemo.load_model):
        with pytest.raises(RuntimeError, match="'model.onnx' has SHA256") as error:
            load(url, cache_root=cache_root)
        assert f"Delete '{folder}' and run again" in str(error.value)
    info = model_module.model_info(url, cache_root=cache_root)
    assert info["problem"] is None  # info reports, use refuses
    assert server.requests["/m.zip"] == 1


@pytest.mark.network
def test_pinned_checksum_checked_on_use(server, archive, cache_root, monkeypatch):
    server.files["/pinned.zip"] = archive
    url = server.url("/pinned.zip")
    register(monkeypatch, "pinned", url, hashlib.sha256(archive).hexdigest())
    folder = audemo.download_model("pinned", cache_root=cache_root)
    # a later audemo pins another archive under the same name
    register(monkeypatch, "pinned", url, "0" * 64)
    with pytest.raises(RuntimeError, match="but audemo expects 0000") as error:
        audemo.download_model("pinned", cache_root=cache_root)
    assert f"Delete '{folder}'" in str(error.value)


@pytest.mark.network
def test_copied_into_cache_verified_once(server, cache_root, model_root, monkeypatch):
    url = server.url("/never-served.zip")
    register(monkeypatch, "copied", url)
    folder = registry.cache_folder("copied", cache_root=cache_root)
    shutil.copytree(model_root, folder)
    info = model_module.model_info("copied", cache_root=cache_root)
    assert info["folder"] == folder and info["verified"] is None
    with pytest.warns(UserWarning, match="has no '.audemo-download.json'"):
        assert audemo.download_model("copied", cache_root=cache_root) == folder
    with open(os.path.join(folder, ".audemo-download.json")) as fp:
        record = json.load(fp)
    assert record["url"] == url
    assert record["archive"] is None and record["verified"] == "interface"
    assert "checksum is unknown" in record["note"]
    assert record["files"]["model.onnx"]["sha256"] == sha256(
        os.path.join(model_root, "model.onnx")
    )
    info = model_module.model_info("copied", cache_root=cache_root)
    assert info["verified"] == "interface" and info["archive_sha256"] is None
    # recorded: no check and no warning the next time
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        audemo.load_model("copied", cache_root=cache_root)
    assert server.requests["/never-served.zip"] == 0


@pytest.mark.network
def test_copied_into_cache_refused(server, cache_root, tmp_path, monkeypatch):
    register(monkeypatch, "copied", server.url("/never-served.zip"))
    folder = registry.cache_folder("copied", cache_root=cache_root)
    os.makedirs(folder)
    with open(os.path.join(folder, "model.onnx"), "wb") as fp:
        fp.write(b"not a model")
    with pytest.raises(RuntimeError, match="is damaged: it has no") as error:
        audemo.download_model("copied", cache_root=cache_root)
    assert "cannot be opened by onnxruntime" in str(error.value)
    assert f"Delete '{folder}'" in str(error.value)
    assert not os.path.exists(os.path.join(folder, ".audemo-download.json"))
    assert server.requests["/never-served.zip"] == 0


# ----- 7. the cache under concurrent and unusual conditions --------------------


def hold_lock_while(folder, action):
    r"""Hold the lock of a cache folder in a thread, run action, release.

    Returns a function that waits for the thread.
    The caller should block on the lock before action ends:
    the thread waits half a second before it acts.

    """
    holding = threading.Event()

    def hold():
        with cache_lock(folder, cache_root=None):
            holding.set()
            time.sleep(0.5)
            action()

    thread = threading.Thread(target=hold)
    thread.start()
    holding.wait()
    return thread.join


@pytest.mark.slow
@pytest.mark.network
def test_download_finished_by_another(server, archive, cache_root, tmp_path):
    server.files["/m.zip"] = archive
    url = server.url("/m.zip")
    done = audemo.download_model(url, cache_root=str(tmp_path / "other-cache"))
    folder = registry.cache_folder(url, cache_root=cache_root)
    # another process downloads while this one waits for the lock
    join = hold_lock_while(folder, lambda: shutil.copytree(done, folder))
    assert audemo.download_model(url, cache_root=cache_root) == folder
    join()
    assert server.requests["/m.zip"] == 1


@pytest.mark.network
def test_download_replaces_incomplete_folder(server, archive, cache_root):
    server.files["/m.zip"] = archive
    url = server.url("/m.zip")
    folder = registry.cache_folder(url, cache_root=cache_root)
    os.makedirs(folder)
    with open(os.path.join(folder, "model.yaml"), "w") as fp:
        fp.write("left over by a copy interrupted outside audemo\n")
    assert audemo.download_model(url, cache_root=cache_root) == folder
    assert os.path.isfile(os.path.join(folder, "model.onnx"))
    assert server.requests["/m.zip"] == 1


@pytest.mark.network
def test_unreadable_record(server, archive, cache_root):
    server.files["/m.zip"] = archive
    url = server.url("/m.zip")
    folder = audemo.download_model(url, cache_root=cache_root)
    with open(os.path.join(folder, ".audemo-download.json"), "w") as fp:
        fp.write("{not json")
    with pytest.raises(RuntimeError, match="is unreadable") as error:
        audemo.download_model(url, cache_root=cache_root)
    assert f"Delete '{folder}'" in str(error.value)
    info = model_module.model_info(url, cache_root=cache_root)
    assert info["folder"] == folder and "is unreadable" in info["problem"]
    assert info["fingerprint"] is None


@pytest.mark.slow
@pytest.mark.network
def test_copied_into_cache_recorded_by_another(server, cache_root, model_root):
    url = server.url("/never-served.zip")
    folder = registry.cache_folder(url, cache_root=cache_root)
    shutil.copytree(model_root, folder)
    record = os.path.join(folder, ".audemo-download.json")
    # another process checks and records it while this one waits for the lock
    record_it = lambda: write_json_atomic(record, {"files": {}})  # noqa: E731
    join = hold_lock_while(folder, record_it)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning: the other one recorded it
        assert audemo.download_model(url, cache_root=cache_root) == folder
    join()
    with open(record) as fp:
        assert json.load(fp) == {"files": {}}


def cannot_write(folder):
    r"""Make a folder read-only, also for root; skip if this is impossible."""
    if os.geteuid() == 0:
        # root ignores permissions, not the immutable attribute
        made = subprocess.run(["chattr", "+i", folder], capture_output=True)
        undo = ["chattr", "-i", folder]
    else:  # not root: permissions apply
        os.chmod(folder, 0o555)
        made = subprocess.CompletedProcess([], 0)
        undo = ["chmod", "755", folder]
    try:
        open(os.path.join(folder, "probe"), "w").close()
    except OSError:
        return lambda: subprocess.run(undo, check=True)
    subprocess.run(undo, check=False)
    pytest.skip(f"cannot make a folder read-only here: {made}")


@pytest.mark.network
def test_copied_into_read_only_cache(server, cache_root, model_root):
    url = server.url("/never-served.zip")
    folder = registry.cache_folder(url, cache_root=cache_root)
    shutil.copytree(model_root, folder)
    record = os.path.join(folder, ".audemo-download.json")
    # the folder is read-only, its parent is not: checked, not recorded
    undo = cannot_write(folder)
    try:
        for _ in range(2):
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                assert audemo.download_model(url, cache_root=cache_root) == folder
    finally:
        undo()
    assert not os.path.exists(record)
    # the lock cannot be taken either: checked on every use
    os.remove(folder + ".lock")
    os.mkdir(folder + ".lock")
    assert audemo.download_model(url, cache_root=cache_root) == folder
    assert not os.path.exists(record)
    # and a damaged model is refused on that path as well
    with open(os.path.join(folder, "model.onnx"), "wb") as fp:
        fp.write(b"not a model")
    with pytest.raises(RuntimeError, match="is damaged: it has no"):
        audemo.download_model(url, cache_root=cache_root)
    assert server.requests["/never-served.zip"] == 0


@pytest.fixture
def reset_server():
    r"""Server that sends half of what it announces, then resets the connection."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Length", "200000")
            self.end_headers()
            self.wfile.write(bytes(100000))
            self.wfile.flush()
            time.sleep(0.2)  # let the client read what was sent
            # closing with SO_LINGER 0 sends a reset instead of a clean end
            linger = struct.pack("ii", 1, 0)
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
            self.connection.close()

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    host, port = httpd.server_address[:2]
    yield f"http://{host}:{port}/m.zip"
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.network
def test_download_reset(reset_server, cache_root):
    with pytest.raises(RuntimeError, match="interrupted after 100000 of 200000 bytes"):
        audemo.download_model(reset_server, cache_root=cache_root)
    _assert_nothing_cached(cache_root)


# ----- 8. weights shared by worker processes ---------------------------------


def shared_weights_outputs(folder, cache_root, signal, *, share):
    model = model_module.open_model(folder, cache_root=cache_root, share_weights=share)
    result = model(signal, 16000)
    values = np.concatenate([result[name].reshape(-1) for name in sorted(result)])
    return model, values


def forge_weights(stem):
    r"""Zeros for the weights, and a record that matches them."""
    size = os.path.getsize(stem + ".bin")
    with open(stem + ".bin", "wb") as fp:
        fp.write(bytes(size))
    with open(stem + ".json") as fp:
        record = json.load(fp)
    stat = os.stat(stem + ".bin")
    stamp = {key: getattr(stat, f"st_{key}") for key in record["weights_stamp"]}
    forged = {**record, "weights_sha256": sha256(stem + ".bin"), "weights_stamp": stamp}
    with open(stem + ".json", "w") as fp:
        json.dump(forged, fp)


@pytest.mark.parametrize(
    "attack",
    [
        "tampered",
        "truncated",
        "graph",
        "foreign",
        "writable",
        "folder",
        "format",
    ],
)
def test_shared_weights_checked(folder, tmp_path, cache_root, attack, monkeypatch):
    signal = np.random.default_rng(0).normal(size=(1, 16000)).astype(np.float32)
    _, expected = shared_weights_outputs(folder, cache_root, signal, share=False)
    first, _ = shared_weights_outputs(folder, cache_root, signal, share=True)
    stem = os.path.splitext(first.shared_weights.path)[0]
    made = sha256(stem + ".bin")
    if attack == "tampered":  # same size and modification time, other bytes
        stat = os.stat(stem + ".bin")
        with open(stem + ".bin", "r+b") as fp:
            fp.write(bytes(stat.st_size))
        os.utime(stem + ".bin", ns=(stat.st_atime_ns, stat.st_mtime_ns))
    elif attack == "truncated":
        os.truncate(stem + ".bin", os.path.getsize(stem + ".bin") // 2)
    elif attack == "graph":  # the graph of another model
        other = audemo.testing.create_model(str(tmp_path / "other"), seed=1)
        other_cache = str(tmp_path / "other-cache")
        other_model = model_module.open_model(
            other, cache_root=other_cache, share_weights=True
        )
        other_stem = os.path.splitext(other_model.shared_weights.path)[0]
        shutil.copy(other_stem + ".onnx", stem + ".onnx")
    elif attack in ("foreign", "writable"):  # weights and record that agree
        forge_weights(stem)
        for path in (stem + ".bin", stem + ".json"):
            if attack == "writable":
                os.chmod(path, 0o666)
            elif os.geteuid() == 0:
                os.chown(path, 65534, 65534)  # nobody
        if attack == "foreign" and os.geteuid() != 0:
            monkeypatch.setattr(os, "geteuid", lambda: os.getuid() + 1)
    elif attack == "folder":  # others can write it: they could swap the files
        forge_weights(stem)
        os.chmod(os.path.dirname(stem), 0o777)
    else:  # a record of yours in another format
        with open(stem + ".json") as fp:
            record = json.load(fp)
        write_json_atomic(stem + ".json", {**record, "format": 0})
    model, values = shared_weights_outputs(folder, cache_root, signal, share=True)
    np.testing.assert_array_equal(values, expected)
    if attack == "folder":  # not shared: the model's own weights
        assert model.shared_weights is None
        return
    # made again from the model
    assert model.shared_weights.path == stem + ".bin"
    assert sha256(stem + ".bin") == made
    for path in (stem + ".bin", stem + ".json", stem + ".onnx"):
        assert os.stat(path).st_mode & 0o777 == 0o644
        assert os.stat(path).st_uid == os.getuid()


def test_shared_weights_follow_the_model(folder, tmp_path, cache_root):
    signal = np.random.default_rng(0).normal(size=(1, 16000)).astype(np.float32)
    before, _ = shared_weights_outputs(folder, cache_root, signal, share=True)
    # another model in the same folder: its own weights file
    other = audemo.testing.create_model(str(tmp_path / "other"), seed=1)
    shutil.copy(os.path.join(other, "model.onnx"), os.path.join(folder, "model.onnx"))
    after, values = shared_weights_outputs(folder, cache_root, signal, share=True)
    assert after.shared_weights.path != before.shared_weights.path
    _, expected = shared_weights_outputs(other, cache_root, signal, share=False)
    np.testing.assert_array_equal(values, expected)


def test_shared_weights_killed_while_made(folder, cache_root):
    signal = np.random.default_rng(0).normal(size=(1, 16000)).astype(np.float32)
    first, _ = shared_weights_outputs(folder, cache_root, signal, share=True)
    stem = os.path.splitext(first.shared_weights.path)[0]
    # what a process killed while making them leaves: a temporary folder
    stale = audeer.mkdir(f"{stem}.12345-0badc0de.tmp")
    with open(os.path.join(stale, "part.bin"), "wb") as fp:
        fp.write(bytes(1000))
    os.remove(stem + ".json")  # made again
    model, values = shared_weights_outputs(folder, cache_root, signal, share=True)
    assert model.shared_weights.path == stem + ".bin"
    assert not os.path.exists(stale)
    assert not glob.glob(os.path.join(cache_root, "weights", "*.tmp"))


def test_shared_weights_touched_not_made_again(folder, cache_root):
    signal = np.random.default_rng(0).normal(size=(1, 16000)).astype(np.float32)
    first, _ = shared_weights_outputs(folder, cache_root, signal, share=True)
    path = first.shared_weights.path
    os.utime(path)  # a new modification time, the same bytes
    inode = os.stat(path).st_ino
    model, values = shared_weights_outputs(folder, cache_root, signal, share=True)
    # hashed again, found right, remembered: the same file
    assert model.shared_weights.path == path
    assert os.stat(path).st_ino == inode
    with open(os.path.splitext(path)[0] + ".json") as fp:
        assert json.load(fp)["weights_stamp"]["mtime_ns"] == os.stat(path).st_mtime_ns


def test_shared_weights_only_of_checked_bytes(folder, tmp_path, cache_root):
    path = os.path.join(folder, "model.onnx")
    # bytes that are not the ones checked: nothing made
    assert shared_weights(path, "0" * 64, cache_root=cache_root) is None
    # a model with external data (refused by its fingerprint before)
    proto = onnx.load(path)
    external = str(tmp_path / "external" / "model.onnx")
    os.makedirs(os.path.dirname(external))
    onnx.save(proto, external, save_as_external_data=True, size_threshold=0)
    assert shared_weights(external, sha256(external), cache_root=cache_root) is None
    assert not glob.glob(os.path.join(cache_root, "weights", "*.bin"))


@pytest.mark.slow
@pytest.mark.subprocess
def test_shared_weights_read_only_cache(folder, tmp_path, cache_root):
    signal = np.random.default_rng(0).normal(size=(1, 16000)).astype(np.float32)
    _, expected = shared_weights_outputs(folder, cache_root, signal, share=False)
    first, _ = shared_weights_outputs(folder, cache_root, signal, share=True)
    os.utime(first.shared_weights.path)  # hashed again, not remembered
    make_read_only(cache_root)
    output = run_without_root_permissions(
        f"""
        import numpy as np
        from audemo.core.model.api import open_model

        model = open_model({folder!r}, cache_root={cache_root!r}, share_weights=True)
        signal = np.random.default_rng(0).normal(size=(1, 16000)).astype(np.float32)
        result = model(signal, 16000)
        values = np.concatenate([result[name].reshape(-1) for name in sorted(result)])
        print(model.shared_weights is not None, values.tolist())
        """,
        tmp_path,
    )
    shared, values = output.strip().splitlines()[-1].split(" ", 1)
    assert shared == "True", output
    np.testing.assert_array_equal(np.float32(json.loads(values)), expected)
