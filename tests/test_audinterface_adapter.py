r"""Contract of the private audinterface API that audemo relies on.

A new audinterface release that changes one of these
fails here, before it breaks audemo without a word:
see CONTRIBUTING.md, "Moving the audinterface cap".
"""

import ast
import inspect
import os

import numpy as np
import pandas as pd
import pytest

import audformat
import audinterface
from audinterface.core import utils as audinterface_utils
import audiofile

import audemo
from audemo.core import audinterface_adapter
from audemo.core.audinterface_adapter import PRIVATE_SIGNATURES
from audemo.core.audinterface_adapter import FeatureAdapter
from audemo.core.audinterface_adapter import ProcessAdapter


AUDEMO_ROOT = os.path.dirname(audemo.__file__)


def parameters(function) -> tuple[str, ...]:
    r"""Parameters as PRIVATE_SIGNATURES writes them."""
    written = []
    for parameter in inspect.signature(function).parameters.values():
        if parameter.name == "self":
            continue
        if parameter.kind == parameter.KEYWORD_ONLY and "*" not in written:
            written.append("*")
        if parameter.default is parameter.empty:
            written.append(parameter.name)
        else:
            written.append(f"{parameter.name}={parameter.default!r}")
    return tuple(written)


def private_function(name: str):
    owner, attribute = name.rsplit(".", 1)
    if owner == "core.utils":
        return getattr(audinterface_utils, attribute)
    return getattr(getattr(audinterface, owner), attribute)


@pytest.mark.parametrize("name", sorted(PRIVATE_SIGNATURES))
def test_private_signatures(name):
    assert parameters(private_function(name)) == PRIVATE_SIGNATURES[name], (
        f"audinterface {audinterface.__version__} changed {name}: "
        "adapt audemo/core/audinterface_adapter.py"
    )


def test_no_other_module_uses_private_audinterface():
    # the adapter is the one place: other modules use its names
    private = {name.rsplit(".", 1)[1] for name in PRIVATE_SIGNATURES}
    offenders = []
    for folder, _, names in os.walk(AUDEMO_ROOT):
        for name in names:
            path = os.path.join(folder, name)
            if not name.endswith(".py") or path == audinterface_adapter.__file__:
                continue
            with open(path, encoding="utf-8") as fp:
                tree = ast.parse(fp.read())
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                    "audinterface.core"
                ):
                    offenders.append(f"{path}:{node.lineno} {node.module}")
                if isinstance(node, ast.Attribute) and node.attr in private:
                    offenders.append(f"{path}:{node.lineno} {node.attr}")
                if isinstance(node, ast.FunctionDef) and node.name in private:
                    offenders.append(f"{path}:{node.lineno} def {node.name}")
    assert offenders == []


class Recording(ProcessAdapter):
    r"""A process that records which of audemo's hooks audinterface calls."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.calls = []

    def process_file_rows(self, file, **kwargs):
        self.calls.append(("file", os.path.basename(file)))
        return super().process_file_rows(file, **kwargs)

    def process_signal_rows(self, signal, sampling_rate, **kwargs):
        self.calls.append(("signal", sampling_rate))
        return super().process_signal_rows(signal, sampling_rate, **kwargs)

    def call_process_func(self, signal, sampling_rate, **kwargs):
        self.calls.append(("call", sampling_rate))
        return super().call_process_func(signal, sampling_rate, **kwargs)


def duration(signal, sampling_rate):
    return signal.shape[-1] / sampling_rate


def test_hooks_of_files(human_voice):
    # a file is read by process_file_rows, which hands the signal
    # at the file's sampling rate to process_signal_rows,
    # which runs call_process_func; resampling happens in the last
    process = Recording(
        process_func=duration, sampling_rate=16000, resample=True, num_workers=1
    )
    y = process.process_file(human_voice)
    rate = audiofile.sampling_rate(human_voice)
    name = os.path.basename(human_voice)
    assert process.calls == [("file", name), ("signal", rate), ("call", rate)]
    assert y.iloc[0] == pytest.approx(audiofile.duration(human_voice), abs=1e-4)
    assert y.index.names == ["file", "start", "end"]

    process.calls = []
    index = audformat.filewise_index([human_voice, human_voice])
    process.process_index(index)
    assert process.calls == [("file", name), ("signal", rate), ("call", rate)] * 2


def test_hooks_of_signals_and_windows():
    signal = np.zeros((1, 8000), dtype="float32")
    process = Recording(process_func=duration, sampling_rate=16000, resample=True)
    y = process.process_signal(signal, 8000)
    assert process.calls == [("signal", 8000), ("call", 8000)]
    assert y.iloc[0] == pytest.approx(1.0)

    # with windows: the processing function gets the whole signal once
    # and returns one value per window
    def window_means(signal, sampling_rate):
        return signal.reshape(-1, sampling_rate // 4).mean(axis=1)

    windowed = Recording(process_func=window_means, win_dur=0.25, hop_dur=0.25)
    ramp = np.repeat(np.arange(4, dtype="float32"), 2000).reshape(1, -1)
    y = windowed.process_signal(ramp, 8000)
    assert windowed.calls == [("signal", 8000), ("call", 8000)]
    assert y.tolist() == [0.0, 1.0, 2.0, 3.0]
    starts = y.index.get_level_values("start").total_seconds().tolist()
    assert starts == [0, 0.25, 0.5, 0.75]
    ends = y.index.get_level_values("end").total_seconds().tolist()
    assert ends == [0.25, 0.5, 0.75, 1.0]


def test_rows_of_file_hook_replace_audinterfaces(tmp_path):
    # what process_file_rows returns is what process_index gives:
    # results, files, starts and ends of the rows
    class Replaced(ProcessAdapter):
        def process_file_rows(self, file, **kwargs):
            end = pd.Timedelta(1, unit="s")
            return ["replaced"], [file], [pd.Timedelta(0)], [end]

    index = audformat.filewise_index(["missing.wav"])
    y = Replaced(process_func=duration, num_workers=1).process_index(index)
    assert y.tolist() == ["replaced"]
    assert y.index[0] == ("missing.wav", pd.Timedelta(0), pd.Timedelta(1, unit="s"))


def test_rows_of_an_index_as_audinterface(speech_files, capfd):
    # the rows of an index are audinterface's, only the label differs
    index = audformat.segmented_index(
        speech_files + speech_files[:1], [0, 0, 0, 0.5], [pd.NaT, pd.NaT, 1.0, 1.5]
    )
    options = {"process_func": duration, "num_workers": 2, "verbose": True}
    expected = audinterface.Process(**options).process_index(index)
    assert "Process 4 segments" in capfd.readouterr().err
    y = ProcessAdapter(**options).process_index(index)
    assert "Process 4 segments" in capfd.readouterr().err
    pd.testing.assert_series_equal(y, expected)

    files = audformat.filewise_index(speech_files)
    expected = audinterface.Process(**options).process_index(files)
    assert "Process 3 segments" in capfd.readouterr().err
    y = ProcessAdapter(**options).process_index(files)
    assert "Process 3 files" in capfd.readouterr().err
    pd.testing.assert_series_equal(y, expected)

    empty = audformat.segmented_index()
    assert ProcessAdapter(**options).process_index(empty).empty


class Doubled(FeatureAdapter):
    def _results_to_frame(self, y):
        return super()._results_to_frame(y) * 2


def features(signal, sampling_rate):
    return np.array([signal.shape[-1] / sampling_rate, 1.0])


def test_frame_hook_of_features(speech_files):
    # every process_* method of Feature builds its frame in _results_to_frame
    options = {"process_func": features, "num_workers": 1}
    plain = audinterface.Feature(["seconds", "one"], **options)
    doubled = Doubled(["seconds", "one"], **options)
    signal = np.zeros((1, 16000), dtype="float32")
    index = audformat.filewise_index(speech_files)
    for method, args in [
        ("process_signal", (signal, 16000)),
        ("process_file", (speech_files[0],)),
        ("process_files", (speech_files,)),
        ("process_index", (index,)),
    ]:
        expected = getattr(plain, method)(*args) * 2
        pd.testing.assert_frame_equal(getattr(doubled, method)(*args), expected)


def test_reshape_3d():
    feature = FeatureAdapter(["a", "b", "c"], process_func=features)
    reshaped = feature._features_3d(np.array([1.0, 2.0, 3.0]))
    assert reshaped.shape == (1, 3, 1)
    np.testing.assert_array_equal(reshaped[0, :, 0], [1.0, 2.0, 3.0])
    # what __call__ of a Feature returns
    plain = audinterface.Feature(
        ["a", "b", "c"], process_func=lambda x, sr: np.array([1.0, 2.0, 3.0])
    )
    np.testing.assert_array_equal(plain(np.zeros((1, 10)), 16000), reshaped)


def test_signal_utilities():
    signal = np.arange(16000, dtype="float32").reshape(1, -1) / 16000
    start, end = pd.Timedelta(0.25, "s"), pd.Timedelta(0.5, "s")
    assert audinterface_adapter.segment_to_indices(signal, 16000, start, end) == (
        4000,
        8000,
    )
    stereo = np.stack([signal[0], -signal[0]])
    # expected rate, resample, channels, mixdown
    mixed, rate = audinterface_adapter.preprocess_signal(
        stereo, 16000, 8000, True, [0, 1], True
    )
    assert rate == 8000
    assert mixed.shape == (1, 8000)
    np.testing.assert_allclose(mixed, 0.0, atol=1e-6)
    first, rate = audinterface_adapter.preprocess_signal(
        stereo, 16000, None, False, 1, False
    )
    assert rate == 16000
    np.testing.assert_array_equal(first, -signal)
