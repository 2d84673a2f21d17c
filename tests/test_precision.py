import hashlib
import os
import shutil
import threading
import time

import numpy as np
import onnx
import pytest

import audeer

import audemo
from audemo.core.cli import main
from audemo.core.model.fingerprint import fingerprint
from audemo.core.model.precision import precision_root
from audemo.core.storage import cache_lock
from audemo.core.storage import write_json_atomic


def test_int8_model(model_root, speech_files, cache_root):
    fp32 = audemo.Emotion(model_root, model_cache_root=cache_root)
    int8 = audemo.Emotion(model_root, precision="int8", model_cache_root=cache_root)
    folder = int8.model_root
    assert folder.startswith(os.path.join(cache_root, "int8"))
    assert int8.fingerprint == fp32.fingerprint
    assert int8.cache_key() != fp32.cache_key()
    a = fp32.process_files(speech_files)
    b = int8.process_files(speech_files)
    assert not np.array_equal(a.values, b.values)
    np.testing.assert_allclose(a.values, b.values, atol=0.02)
    # made once, then reused
    mtime = os.path.getmtime(os.path.join(folder, "model.onnx"))
    assert precision_root(model_root, "int8", cache_root=cache_root) == folder
    assert os.path.getmtime(os.path.join(folder, "model.onnx")) == mtime
    raw = audemo.load_model(model_root, precision="int8", cache_root=cache_root)
    assert raw.labels("logits") == ["arousal", "dominance", "valence"]
    assert "precision: int8" in int8.to_yaml_s()
    with pytest.raises(ValueError, match="precision"):
        audemo.Emotion(model_root, precision="int4")
    with pytest.raises(ValueError, match="precision"):
        precision_root(model_root, "fp16")


def test_compare_precision(model_root, speech_files, cache_root, capsys):
    table = audemo.compare_precision(
        speech_files, model=model_root, cache_root=cache_root
    )
    assert list(table.index) == ["arousal", "dominance", "valence", "hidden_states"]
    assert (table.loc[["arousal", "dominance", "valence"], "max_abs_diff"] < 0.02).all()
    assert table.loc["hidden_states", "cosine"] > 0.99
    assert main(["compare", *speech_files, "--model", model_root]) == 0
    out = capsys.readouterr().out
    assert "ccc" in out and "hidden_states" in out


def test_int8_refused_on_gpu(model_root, cache_root):
    # dynamic quantization has CPU kernels only: refused before anything runs
    for device in ("cuda", "cuda:1"):
        with pytest.raises(
            ValueError, match=f"precision='int8' with device='{device}'"
        ):
            audemo.load_model(model_root, device=device, precision="int8")
    assert not os.path.exists(os.path.join(cache_root, "int8"))
    # an int8 folder opened directly, whatever the machine has
    folder = precision_root(model_root, "int8", cache_root=cache_root)
    with pytest.raises(ValueError, match="runs on the CPU only") as error:
        audemo.load_model(folder, device="cuda")
    assert os.path.join(folder, "model.onnx") in str(error.value)
    assert "precision='fp32' on a GPU" in str(error.value)
    assert audemo.load_model(folder, device="cpu").sess.get_providers() == [
        "CPUExecutionProvider"
    ]


def test_int8_made_by_another(model_root, cache_root, tmp_path):
    made = precision_root(model_root, "int8", cache_root=str(tmp_path / "other"))
    digest = fingerprint(model_root, cache_root=cache_root)
    folder = os.path.join(cache_root, "int8", digest[:32])
    # a temporary folder of a process that was killed
    stale = audeer.mkdir(f"{folder}.1234-abcdef12.tmp")
    holding = threading.Event()

    def another_process():
        with cache_lock(folder, cache_root=cache_root):
            holding.set()
            time.sleep(0.5)
            shutil.copytree(made, folder)

    thread = threading.Thread(target=another_process)
    thread.start()
    holding.wait()
    assert precision_root(model_root, "int8", cache_root=cache_root) == folder
    thread.join()
    assert os.path.exists(stale)  # found complete: no clean-up needed
    # a new variant under the lock removes what the killed process left
    other = audemo.testing.create_model(str(tmp_path / "m2"), seed=1)
    digest = fingerprint(other, cache_root=cache_root)
    stale = audeer.mkdir(
        os.path.join(cache_root, "int8", f"{digest[:32]}.1234-abcdef12.tmp")
    )
    precision_root(other, "int8", cache_root=cache_root)
    assert not os.path.exists(stale)


def test_int8_refuses_external_data_behind_memo(tmp_path, cache_root):
    # the memo of the fingerprint is forged for a model with external data:
    # quantization checks the file itself and leaves nothing behind
    root = audemo.testing.create_model(str(tmp_path / "m"))
    path = os.path.join(root, "model.onnx")
    onnx.save(
        onnx.load(path),
        path,
        save_as_external_data=True,
        location="weights.bin",
        size_threshold=100,
    )
    with pytest.raises(RuntimeError, match="external data"):
        fingerprint(root, cache_root=cache_root)
    real = os.path.realpath(path)
    stat = os.stat(real)
    memo = os.path.join(
        cache_root,
        "fingerprints",
        hashlib.sha256(real.encode()).hexdigest()[:32] + ".json",
    )
    forged = {
        "path": real,
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "ctime_ns": stat.st_ctime_ns,
        "ino": stat.st_ino,
        "dev": stat.st_dev,
        "sha256": "f" * 64,
    }
    write_json_atomic(memo, forged)
    assert fingerprint(root, cache_root=cache_root) == "f" * 64
    with pytest.raises(RuntimeError, match=r"external data files \['weights.bin'\]"):
        precision_root(root, "int8", cache_root=cache_root)
    assert os.listdir(os.path.join(cache_root, "int8")) == ["f" * 32 + ".lock"]
