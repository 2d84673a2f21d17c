import importlib.util

import pandas as pd
import pytest

import audemo


@pytest.fixture
def pipeline(model_root, tmp_path):
    path = str(tmp_path / "emotion.yaml")
    interface = audemo.Emotion(model_root, segment=audemo.VoiceActivity())
    interface.to_yaml(path)
    return path, interface


def test_load_trusted_pipeline(pipeline, speech_files):
    path, interface = pipeline
    loaded = audemo.load_pipeline(path, override_args={"num_workers": 2})
    assert isinstance(loaded, audemo.Emotion)
    pd.testing.assert_frame_equal(
        loaded.process_files(speech_files), interface.process_files(speech_files)
    )


def write(tmp_path, text):
    path = tmp_path / "pipeline.yaml"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize(
    "text, message",
    [
        ("$os.system:\n  command: touch /tmp/audemo-pwned\n", "'os.system'"),
        (
            "$subprocess.Popen:\n  args: [touch, /tmp/audemo-pwned]\n",
            "'subprocess.Popen'",
        ),
        (
            "!!python/object/apply:os.system ['touch /tmp/audemo-pwned']\n",
            "Python tags are refused",
        ),
        ("$audonnx.core.function.Function:\n  func: x\n", "runs code"),
        ("- a\n- b\n", "does not describe one object"),
    ],
)
def test_refused(tmp_path, text, message):
    with pytest.raises(ValueError, match=message):
        audemo.load_pipeline(write(tmp_path, text))
    assert not (tmp_path / "audemo-pwned").exists()


def test_refused_nested_class(pipeline, tmp_path):
    path, _ = pipeline
    with open(path) as fp:
        text = fp.read()
    text = text.replace("$audemo.core.segment.VoiceActivity", "$subprocess.Popen")
    with pytest.raises(ValueError, match="'subprocess.Popen', which is not allowed"):
        audemo.load_pipeline(write(tmp_path, text))


def test_unknown_package_is_not_installed(tmp_path):
    text = "$audemo_evil_package.core.Thing==1.0.0:\n  value: 1\n"
    with pytest.raises(ValueError, match="not allowed"):
        audemo.load_pipeline(write(tmp_path, text))
    assert importlib.util.find_spec("audemo_evil_package") is None
    # even when allowed, nothing is installed
    with pytest.raises(Exception, match="audemo_evil_package"):
        audemo.load_pipeline(
            write(tmp_path, text), allow=["audemo_evil_package.core.Thing"]
        )
    assert importlib.util.find_spec("audemo_evil_package") is None


def test_fingerprint_required_and_checked(pipeline, model_root, tmp_path):
    path, interface = pipeline
    with open(path) as fp:
        text = fp.read()
    without = "\n".join(
        line for line in text.splitlines() if not line.strip().startswith("fingerprint")
    )
    with pytest.raises(ValueError, match="no model fingerprint"):
        audemo.load_pipeline(write(tmp_path, without))
    changed = text.replace(interface.fingerprint, "a" * 64)
    with pytest.raises(RuntimeError, match="expects aaaa"):
        audemo.load_pipeline(write(tmp_path, changed))
