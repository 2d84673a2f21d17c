import importlib
import importlib.util
import os
import re

import numpy as np
import pandas as pd
import pytest
import yaml

import audformat
import audobject

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


RUNTIME = {
    "cache_root": "/tmp/audemo-elsewhere",
    "device": "cuda",
    "num_workers": 26,
    "num_threads": 26,
    "multiprocessing": True,
    "verbose": True,
}


def with_arguments(text, marker, arguments, indent):
    r"""Insert arguments after the line that contains ``marker``."""
    lines = [f"{' ' * indent}{name}: {value}" for name, value in arguments.items()]
    head, tail = text.split(marker, 1)
    first, rest = tail.split("\n", 1)
    return head + marker + first + "\n" + "\n".join(lines) + "\n" + rest


def test_runtime_settings_ignored(pipeline, tmp_path):
    # a file that asked for 26 processes started 26 processes on 2 cores
    path, _ = pipeline
    with open(path) as fp:
        text = fp.read()
    text = with_arguments(text, "$audemo.core.emotion.Emotion", RUNTIME, 2)
    text = with_arguments(
        text,
        "$audemo.core.segment.VoiceActivity",
        {"num_workers": 26, "verbose": True, "errors": "coerce"},
        6,
    )
    path = write(tmp_path, text)
    message = (
        "sets Emotion.cache_root, Emotion.device, Emotion.num_workers, "
        "Emotion.num_threads, Emotion.multiprocessing, Emotion.verbose, "
        "VoiceActivity.num_workers, VoiceActivity.verbose, VoiceActivity.errors: "
    )
    with pytest.warns(UserWarning, match=re.escape(message)):
        loaded = audemo.load_pipeline(path)
    assert loaded.model_cache_root is None
    assert loaded.device == "cpu"
    assert loaded.num_workers == 1
    assert loaded.multiprocessing is False
    assert loaded.num_threads != 26
    assert loaded.process.verbose is False
    assert loaded.process.segment.process.num_workers == 1
    assert loaded.process.segment.errors == "raise"  # Emotion's errors
    # only the caller sets them
    with pytest.warns(UserWarning, match="override_args"):
        loaded = audemo.load_pipeline(path, override_args={"num_workers": 2})
    assert loaded.num_workers == 2
    assert loaded.process.segment.process.num_workers == 2


def test_runtime_settings_of_categories_ignored(model_root, tmp_path):
    size = len(audemo.Emotion(model_root, outputs="hidden_states").column_names)
    files = [f"{i}.wav" for i in range(8)]
    embeddings = pd.DataFrame(
        np.random.default_rng(0).normal(size=(8, size)),
        index=audformat.filewise_index(files),
        columns=[f"hidden_states-{i}" for i in range(size)],
    )
    labels = pd.Series(["a", "b"] * 4, index=embeddings.index)
    head = audemo.save_categories(
        audemo.train_categories(embeddings, labels), str(tmp_path / "head")
    )
    path = str(tmp_path / "categories.yaml")
    audemo.Categories(head, model=model_root).to_yaml(path)
    with open(path) as fp:
        text = fp.read()
    text = with_arguments(
        text, "$audemo.core.categories.categorical.Categories", RUNTIME, 2
    )
    with pytest.warns(UserWarning, match="sets Categories.cache_root"):
        loaded = audemo.load_pipeline(write(tmp_path, text))
    assert isinstance(loaded, audemo.Categories)
    assert (loaded.num_workers, loaded.multiprocessing) == (1, False)
    assert loaded.model_cache_root is None


def test_runtime_arguments_are_the_hidden_ones():
    # RUNTIME_ARGUMENTS must follow the classes' init_decorator(hide=...)
    for name, arguments in audemo.core.pipeline.RUNTIME_ARGUMENTS.items():
        module, cls = name.rsplit(".", 1)
        init = getattr(importlib.import_module(module), cls).__init__
        if not arguments:  # no init_decorator, nothing hidden
            assert init.__closure__ is None, name
            continue
        cells = dict(zip(init.__code__.co_freevars, init.__closure__))
        assert set(cells["hide"].cell_contents) == set(arguments), name
    # every class allowed by default has its runtime settings listed
    assert set(audemo.core.pipeline.ALLOWED_CLASSES) <= set(
        audemo.core.pipeline.RUNTIME_ARGUMENTS
    )


@pytest.mark.parametrize(
    "digits, quoted, number",
    [
        # YAML 1.1 reads these as numbers: PyYAML quotes them when it writes
        ("1234567890" * 6 + "1234", True, int("1234567890" * 6 + "1234")),
        ("0" + "1234567" * 9, True, int("1234567" * 9, 8)),  # octal
        # a leading 0 before an 8 or 9 is no number in YAML 1.1: a string
        ("0" + "1234567890" * 6 + "123", False, None),
    ],
    ids=["decimal", "octal", "string"],
)
def test_all_digit_fingerprint(pipeline, tmp_path, digits, quoted, number):
    path, interface = pipeline
    assert len(digits) == 64
    interface.fingerprint = digits
    interface.to_yaml(path)
    with open(path) as fp:
        text = fp.read()
    assert (f"fingerprint: '{digits}'" in text) == quoted
    (arguments,) = yaml.safe_load(text).values()
    assert arguments["fingerprint"] == digits
    # the string reaches the model check (and fails there: not the model's)
    with pytest.raises(RuntimeError, match=f"expects {digits}"):
        audemo.load_pipeline(path)
    if number is not None:
        # written by hand without quotes, YAML reads a number
        unquoted = text.replace(f"'{digits}'", digits)
        with pytest.raises(ValueError, match="as the number .*: quote it") as error:
            audemo.load_pipeline(write(tmp_path, unquoted))
        assert f"{number!r}" in str(error.value)
        assert "pipeline.yaml" in str(error.value)


@pytest.mark.parametrize(
    "value, message",
    [
        ("'abc'", "is not a SHA256"),
        ("'" + "A" * 64 + "'", "is not a SHA256"),
        ("[1, 2]", "is not a SHA256"),
        ("''", "no model fingerprint"),
        ("null", "no model fingerprint"),
        ("1.5e+3", "as the number 1500.0"),
        ("true", "is not a SHA256"),
    ],
)
def test_fingerprint_format(pipeline, tmp_path, value, message):
    path, interface = pipeline
    with open(path) as fp:
        text = fp.read()
    text = text.replace(interface.fingerprint, value)
    with pytest.raises(ValueError, match=re.escape(message)):
        audemo.load_pipeline(write(tmp_path, text))


def test_pipeline_is_built_from_checked_data(pipeline, tmp_path, monkeypatch):
    # audobject gets the checked data and never opens the file again
    path, _ = pipeline
    calls = []
    from_dict = audobject.from_dict

    def spy(data, *args, **kwargs):
        calls.append((data, args, kwargs))
        return from_dict(data, *args, **kwargs)

    monkeypatch.setattr(audobject, "from_dict", spy)
    monkeypatch.setattr(audobject, "from_yaml", None)
    loaded = audemo.load_pipeline(path)
    ((data, _, kwargs),) = calls
    assert next(iter(data)).startswith("$audemo.core.emotion.Emotion")
    assert kwargs["root"] == str(tmp_path)
    assert kwargs["auto_install"] is False
    assert isinstance(loaded, audemo.Emotion)


def test_non_regular_file_refused(tmp_path):
    with pytest.raises(ValueError, match="'/dev/null' is not a regular file"):
        audemo.load_pipeline(os.devnull)
    with pytest.raises(FileNotFoundError, match="missing.yaml"):
        audemo.load_pipeline(str(tmp_path / "missing.yaml"))


def test_deep_nesting_refused(tmp_path):
    text = "$audemo.core.segment.VoiceActivity:\n  x: " + "[" * 5000 + "]" * 5000
    with pytest.raises(ValueError, match="nested too deeply"):
        audemo.load_pipeline(write(tmp_path, text))


def test_allow(tmp_path):
    text = "$collections.OrderedDict:\n  {}\n"
    with pytest.raises(ValueError, match="'collections.OrderedDict', which is not"):
        audemo.load_pipeline(write(tmp_path, text))
    loaded = audemo.load_pipeline(
        write(tmp_path, text), allow=["collections.OrderedDict"]
    )
    assert type(loaded).__name__ == "OrderedDict"
    loaded = audemo.load_pipeline(
        write(tmp_path, text), allow="collections.OrderedDict"
    )
    assert type(loaded).__name__ == "OrderedDict"
    # refused classes stay refused
    text = "$audonnx.core.function.Function:\n  func: x\n"
    with pytest.raises(ValueError, match="runs code"):
        audemo.load_pipeline(
            write(tmp_path, text), allow=["audonnx.core.function.Function"]
        )
