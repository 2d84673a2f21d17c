import os

import numpy as np
import pytest

import audemo
from audemo.core.cli import main
from audemo.core.compare import concordance
from audemo.core.precision import precision_root


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


def test_concordance():
    x = np.array([0.1, 0.4, 0.5, 0.9])
    assert concordance(x, x) == pytest.approx(1.0)
    y = x + 0.1
    expected = 2 * np.cov(x, y, bias=True)[0, 1] / (x.var() + y.var() + 0.01)
    assert concordance(x, y) == pytest.approx(expected)
    assert np.isnan(concordance(np.ones(3), np.ones(3)))


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
