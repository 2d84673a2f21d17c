import os
import shutil

import numpy as np
import pandas as pd
import pytest

import audeer
import audformat
import audiofile
import audobject
import audonnx
import audresample

import audemo
from audemo.core import emotion as emotion_module
from audemo.core.index import files_index
from audemo.core.inputs import input_to_index
from audemo.core.options import check_options


DIMENSIONS = ["arousal", "dominance", "valence"]


def raw_model_output(model_root, signal, outputs, threads=os.cpu_count()):
    model = audemo.load_model(model_root, num_workers=threads)
    outputs = audeer.to_list(outputs)
    result = model(np.atleast_2d(signal).astype(np.float32), 16000, outputs=outputs)
    return np.concatenate([result[name].reshape(-1) for name in outputs])


@pytest.mark.parametrize("threads", [1, 2])
def test_logits_equal_raw_model(model_root, speech_files, threads):
    interface = audemo.Emotion(model_root, num_threads=threads)
    assert list(interface.column_names) == DIMENSIONS
    for file in speech_files:
        signal, sampling_rate = audiofile.read(file, always_2d=True)
        assert sampling_rate == 16000
        frame = interface.process_file(file)
        assert list(frame.columns) == DIMENSIONS
        expected = raw_model_output(model_root, signal, "logits", threads)
        np.testing.assert_array_equal(frame.values[0], expected)


def test_outputs(model_root, speech_files):
    file = speech_files[0]
    signal, _ = audiofile.read(file, always_2d=True)
    hidden = audemo.Emotion(model_root, outputs="hidden_states").process_file(file)
    assert list(hidden.columns) == [f"hidden_states-{i}" for i in range(32)]
    np.testing.assert_array_equal(
        hidden.values[0], raw_model_output(model_root, signal, "hidden_states")
    )
    both = audemo.Emotion(model_root, outputs=["logits", "hidden_states"])
    frame = both.process_file(file)
    assert list(frame.columns) == DIMENSIONS + list(hidden.columns)
    np.testing.assert_array_equal(frame[hidden.columns].values, hidden.values)
    reverse = audemo.Emotion(model_root, outputs=["hidden_states", "logits"])
    assert list(reverse.column_names) == list(hidden.columns) + DIMENSIONS


def test_both_outputs_one_model_run(model_root, speech_files, monkeypatch):
    runs = []
    original = audonnx.Model.__call__

    def counting_call(self, *args, **kwargs):
        runs.append(kwargs.get("outputs"))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(audonnx.Model, "__call__", counting_call)
    interface = audemo.Emotion(model_root, outputs=["logits", "hidden_states"])
    interface.process_files(speech_files)
    assert runs == [["logits", "hidden_states"]] * len(speech_files)


def test_resample_48khz(model_root, human_voice):
    signal, sampling_rate = audiofile.read(human_voice, always_2d=True)
    assert sampling_rate == 48000
    frame = audemo.Emotion(model_root).process_file(human_voice)
    resampled = audresample.resample(signal, sampling_rate, 16000)
    np.testing.assert_array_equal(
        frame.values[0], raw_model_output(model_root, resampled, "logits")
    )
    with pytest.raises(
        RuntimeError, match="Cannot process audio file .*[Ss]ampling rate"
    ):
        audemo.Emotion(model_root, resample=False).process_file(human_voice)


def test_stereo_8khz_mixdown(model_root, human_voice, tmp_path):
    mono, sampling_rate = audiofile.read(human_voice, always_2d=True)
    mono = audresample.resample(mono, sampling_rate, 8000)
    stereo = np.concatenate([mono, 0.5 * mono])
    path = str(tmp_path / "stereo-8k.wav")
    audiofile.write(path, stereo, 8000)
    stereo, _ = audiofile.read(path, always_2d=True)

    first = audemo.Emotion(model_root).process_file(path)
    np.testing.assert_array_equal(
        first.values[0],
        raw_model_output(
            model_root, audresample.resample(stereo[:1], 8000, 16000), "logits"
        ),
    )
    mixed = audemo.Emotion(model_root, channels=[0, 1], mixdown=True).process_file(path)
    expected = audresample.resample(
        audresample.remix(stereo, [0, 1], mixdown=True), 8000, 16000
    )
    np.testing.assert_array_equal(
        mixed.values[0], raw_model_output(model_root, expected, "logits")
    )
    assert not np.allclose(first.values, mixed.values)
    second = audemo.Emotion(model_root, channels=1).process_file(path)
    assert not np.allclose(first.values, second.values)


def test_all_process_methods(model_root, speech_root, speech_files):
    interface = audemo.Emotion(model_root)
    signal, sampling_rate = audiofile.read(speech_files[0], always_2d=True)
    expected = interface.process_file(speech_files[0]).values

    from_signal = interface.process_signal(signal, sampling_rate)
    np.testing.assert_array_equal(from_signal.values, expected)
    from_index = interface.process_signal_from_index(
        signal,
        sampling_rate,
        audinterface_index(from_signal.index),
    )
    np.testing.assert_array_equal(from_index.values, expected)
    np.testing.assert_array_equal(
        interface(signal, sampling_rate).reshape(-1), expected[0]
    )

    files = interface.process_files(speech_files)
    assert len(files) == 3
    np.testing.assert_array_equal(files.values[0], expected[0])
    folder = interface.process_folder(speech_root)
    assert sorted(folder.index.get_level_values("file")) == sorted(speech_files)

    index = audformat.filewise_index(speech_files)
    frame = interface.process_index(index, preserve_index=True)
    assert frame.index.equals(index)
    np.testing.assert_array_equal(frame.loc[speech_files[0]].values, expected[0])


def audinterface_index(index):
    return pd.MultiIndex.from_arrays(
        [index.get_level_values("start"), index.get_level_values("end")],
        names=["start", "end"],
    )


def test_segmented_index(model_root, speech_files):
    interface = audemo.Emotion(model_root)
    index = audformat.segmented_index(
        [speech_files[0], speech_files[0]], [0.0, 1.0], [1.0, 2.5]
    )
    frame = interface.process_index(index)
    assert frame.index.equals(index)
    signal, _ = audiofile.read(speech_files[0], always_2d=True)
    np.testing.assert_array_equal(
        frame.values[1], raw_model_output(model_root, signal[:, 16000:40000], "logits")
    )


# not slow: the quick tests' one run of the process pool (a core path)
def test_threads_and_processes_agree(model_root, speech_files):
    sequential = audemo.Emotion(model_root).process_files(speech_files)
    threads = audemo.Emotion(model_root, num_workers=2).process_files(speech_files)
    processes = audemo.Emotion(
        model_root, num_workers=2, multiprocessing=True
    ).process_files(speech_files)
    pd.testing.assert_frame_equal(sequential, threads)
    pd.testing.assert_frame_equal(sequential, processes)


def test_sliding_window(model_root, speech_files):
    interface = audemo.Emotion(model_root, win_dur=1.0, hop_dur=0.5)
    signal, _ = audiofile.read(speech_files[2], always_2d=True)
    frame = interface.process_signal(signal, 16000)
    duration = signal.shape[1] / 16000
    assert len(frame) == int((duration - 1.0) / 0.5) + 1
    starts = frame.index.get_level_values("start")
    ends = frame.index.get_level_values("end")
    assert list(starts[:3].total_seconds()) == [0.0, 0.5, 1.0]
    assert all((ends - starts).total_seconds() == 1.0)
    np.testing.assert_array_equal(
        frame.values[1], raw_model_output(model_root, signal[:, 8000:24000], "logits")
    )
    assert interface.hop_dur == 0.5
    assert audemo.Emotion(model_root, win_dur=2.0).hop_dur is None


def test_short_and_invalid_signals(model_root, tmp_path):
    interface = audemo.Emotion(model_root)
    path = str(tmp_path / "short.wav")
    audiofile.write(path, np.zeros(200, np.float32), 16000)
    with pytest.raises(ValueError, match="short.wav.*200 samples.*at least 400"):
        interface.process_file(path)
    interface.process_signal(np.zeros(400, np.float32), 16000)
    signal = np.zeros(16000, np.float32)
    signal[100] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite"):
        interface.process_signal(signal, 16000)


def test_invalid_arguments(model_root):
    with pytest.raises(ValueError, match="outputs must be"):
        audemo.Emotion(model_root, outputs="scores")
    with pytest.raises(ValueError, match="outputs must be"):
        audemo.Emotion(model_root, outputs=["logits", "logits"])
    with pytest.raises(ValueError, match="16000"):
        audemo.Emotion(model_root, sampling_rate=8000)
    with pytest.raises(ValueError, match="mixdown=True"):
        audemo.Emotion(model_root, channels=[0, 1])
    with pytest.raises(ValueError, match="errors must be"):
        audemo.Emotion(model_root, errors="ignore")


def test_yaml_round_trip(model_root, speech_files, tmp_path):
    project = tmp_path / "project"
    model = audemo.testing.create_model(str(project / "models" / "emotion"))
    interface = audemo.Emotion(
        model, outputs=["logits", "hidden_states"], win_dur=1.5, hop_dur=0.5
    )
    expected = interface.process_files(speech_files)
    path = str(project / "pipelines" / "emotion.yaml")
    interface.to_yaml(path)
    with open(path) as fp:
        text = fp.read()
    assert "model: ../models/emotion\n" in text
    assert f"fingerprint: {interface.fingerprint}" in text
    assert str(tmp_path) not in text
    for hidden in ("model_cache_root", "cache_root", "device", "num_workers"):
        assert f"{hidden}:" not in text

    # the project moves to another machine
    moved = tmp_path / "elsewhere"
    shutil.move(str(project), str(moved))
    loaded = audobject.from_yaml(str(moved / "pipelines" / "emotion.yaml"))
    assert isinstance(loaded, audemo.Emotion)
    assert loaded.model == str(moved / "models" / "emotion")
    pd.testing.assert_frame_equal(loaded.process_files(speech_files), expected)

    # a different model at that place is refused
    audemo.testing.create_model(str(moved / "models" / "emotion"), seed=7)
    with pytest.raises(RuntimeError, match="has fingerprint .* expects"):
        audobject.from_yaml(str(moved / "pipelines" / "emotion.yaml"))


@pytest.mark.network
def test_yaml_url_model(server, archive, cache_root, tmp_path, speech_files):
    server.files["/emotion.zip"] = archive
    url = server.url("/emotion.zip")
    interface = audemo.Emotion(url, model_cache_root=cache_root)
    assert interface.model == url
    path = str(tmp_path / "emotion.yaml")
    interface.to_yaml(path)
    with open(path) as fp:
        assert f"model: {url}\n" in fp.read()
    # another machine: an empty cache downloads the model again
    other_cache = str(tmp_path / "other-cache")
    loaded = audobject.from_yaml(path, override_args={"model_cache_root": other_cache})
    assert loaded.model == url
    assert loaded.model_root.startswith(other_cache)
    pd.testing.assert_frame_equal(
        loaded.process_files(speech_files), interface.process_files(speech_files)
    )
    assert server.requests["/emotion.zip"] == 2


@pytest.mark.network
def test_default_model_name_in_yaml(server, archive, cache_root, monkeypatch):
    from audemo.core.model import api as model_module
    from audemo.core.model.registry import RegisteredModel

    server.files["/default.zip"] = archive
    registered = RegisteredModel(
        url=server.url("/default.zip"), sha256=None, license="x", description="x"
    )
    monkeypatch.setitem(model_module.MODELS, "w2v2-L-robust-12", registered)
    interface = audemo.Emotion(model_cache_root=cache_root)
    assert interface.model == "w2v2-L-robust-12"
    assert "model: w2v2-L-robust-12\n" in interface.to_yaml_s()


def test_cache_key_covers_settings(model_root, speech_files, tmp_path):
    index = audformat.filewise_index(speech_files)
    cache = str(tmp_path / "results")
    other_root = audemo.testing.create_model(str(tmp_path / "other"), seed=5)
    interfaces = [
        audemo.Emotion(model_root),
        audemo.Emotion(model_root, outputs="hidden_states"),
        audemo.Emotion(model_root, win_dur=1.0),
        audemo.Emotion(model_root, channels=0, mixdown=True),
        audemo.Emotion(other_root),
    ]
    keys = [interface.cache_key() for interface in interfaces]
    assert len(set(keys)) == len(keys)
    results = [
        interface.process_index(index, cache_root=cache) for interface in interfaces
    ]
    for interface, result in zip(interfaces, results):
        pd.testing.assert_frame_equal(result, interface.process_index(index))
    assert not np.allclose(results[0].values, results[4].values)


def test_cache_reused_and_model_moved(model_root, speech_files, tmp_path, monkeypatch):
    audio = audeer.mkdir(tmp_path / "audio")
    files = []
    for file in speech_files:
        shutil.copy(file, audio)
        files.append(os.path.basename(file))
    index = audformat.filewise_index(files)
    cache = str(tmp_path / "results")
    model = audemo.testing.create_model(str(tmp_path / "model-a"))
    first = audemo.Emotion(model).process_index(index, root=audio, cache_root=cache)

    # a moved model folder keeps its cache: the key is the fingerprint
    moved = str(tmp_path / "model-b")
    shutil.move(model, moved)
    calls = []
    predict = audemo.Emotion._predict
    monkeypatch.setattr(
        audemo.Emotion,
        "_predict",
        lambda *args, **kwargs: calls.append(1) or predict(*args, **kwargs),
    )
    second = audemo.Emotion(moved).process_index(
        index, root=audio, cache_root=cache, preserve_index=True
    )
    assert calls == []
    assert second.index.equals(index)
    np.testing.assert_array_equal(first.values, second.values)
    # the key covers the files: without them nothing is served from the cache
    shutil.rmtree(audio)
    with pytest.raises(Exception, match="audio"):
        audemo.Emotion(moved).process_index(index, root=audio, cache_root=cache)


def test_cache_resumes_missing_parts(model_root, speech_files, tmp_path, monkeypatch):
    from audemo.core import cache as cache_module

    monkeypatch.setattr(cache_module, "PART_SIZE", 2)
    files = speech_files * 3
    index = audformat.segmented_index(
        files, [0.0] * 9, [float(i % 3 + 1) for i in range(9)]
    )
    cache = str(tmp_path / "results")
    interface = audemo.Emotion(model_root, verbose=True)
    complete = interface.process_index(index, cache_root=cache)
    folder = os.path.join(cache, interface.cache_key())
    (index_folder,) = os.listdir(folder)
    parts = sorted(os.listdir(os.path.join(folder, index_folder)))
    assert len(parts) == 5
    # a crash lost the last two parts; the rest is trusted
    for part in parts[-2:]:
        os.remove(os.path.join(folder, index_folder, part))
    calls = []
    original = audemo.Emotion._predict

    def counting_predict(self, *args, **kwargs):
        calls.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(audemo.Emotion, "_predict", counting_predict)
    resumed = audemo.Emotion(model_root).process_index(index, cache_root=cache)
    pd.testing.assert_frame_equal(resumed, complete)
    assert len(calls) == 3
    assert interface.verbose


def test_cache_requires_serializable_segment(model_root, speech_files, tmp_path):
    import audinterface

    interface = audemo.Emotion(model_root, segment=audinterface.Segment())
    with pytest.raises(ValueError, match="audobject.Object"):
        interface.process_index(
            audformat.filewise_index(speech_files), cache_root=str(tmp_path)
        )


def test_audformat_database_and_audb(
    model_root, speech_files, tmp_path, publish_and_load
):
    build = audeer.mkdir(tmp_path / "build")
    audeer.mkdir(build, "audio")
    files = []
    for file in speech_files:
        name = f"audio/{os.path.basename(file)}"
        shutil.copy(file, os.path.join(build, name))
        files.append(name)
    db = audformat.Database("emotion-test", source="espeak-ng", usage="unrestricted")
    db.schemes["text"] = audformat.Scheme("str")
    db["files"] = audformat.Table(audformat.filewise_index(files))
    db["files"]["text"] = audformat.Column(scheme_id="text")
    db["files"]["text"].set(["happy", "sad", "neutral"])
    db.save(build)

    loaded = publish_and_load(build)

    interface = audemo.Emotion(model_root)
    frame = interface.process_index(
        loaded.files, root=loaded.root, cache_root=str(tmp_path / "results")
    )
    assert sorted(frame.index.get_level_values("file")) == sorted(files)
    expected = interface.process_files(speech_files)
    expected.index = audformat.segmented_index(
        ["audio/" + os.path.basename(f) for f in expected.index.get_level_values(0)],
        expected.index.get_level_values(1),
        expected.index.get_level_values(2),
    )
    pd.testing.assert_frame_equal(frame, expected.loc[frame.index])


def test_model_replaced_in_folder(tmp_path, speech_files):
    root = audemo.testing.create_model(str(tmp_path / "m"), seed=1)
    first = audemo.Emotion(root).process_file(speech_files[0])
    audemo.testing.create_model(root, seed=2)
    os.utime(os.path.join(root, "model.onnx"), ns=(10**9, 10**9))
    second = audemo.Emotion(root).process_file(speech_files[0])
    assert not np.allclose(first.values, second.values)
    np.testing.assert_array_equal(
        second.values[0],
        raw_model_output(root, audiofile.read(speech_files[0])[0], "logits"),
    )


def test_fingerprint_must_be_string(model_root, speech_files, tmp_path):
    interface = audemo.Emotion(model_root)
    with pytest.raises(ValueError, match="quote it"):
        audemo.Emotion(model_root, fingerprint=int("1" * 64))
    # hand-edited YAML: an all-digit SHA256 without quotes is an integer
    path = str(tmp_path / "emotion.yaml")
    interface.to_yaml(path)
    with open(path) as fp:
        text = fp.read()
    assert f"fingerprint: {interface.fingerprint}\n" in text
    digits = "0" + "1" * 63
    with open(path, "w") as fp:
        fp.write(text.replace(interface.fingerprint, digits))
    for load in (audobject.from_yaml, audemo.load_pipeline):
        with pytest.raises(ValueError, match="quote it"):
            load(path)
    # quoted, it is the string it should be: refused only as another model
    with open(path, "w") as fp:
        fp.write(text.replace(interface.fingerprint, f"'{digits}'"))
    with pytest.raises(RuntimeError, match=f"expects {digits}"):
        audobject.from_yaml(path)
    with open(path, "w") as fp:
        fp.write(text.replace(interface.fingerprint, f"'{interface.fingerprint}'"))
    pd.testing.assert_frame_equal(
        audobject.from_yaml(path).process_file(speech_files[0]),
        interface.process_file(speech_files[0]),
    )


# ----- a newcomer's first hour ---------------------------------------------


@pytest.fixture
def many_files(speech_files, tmp_path):
    r"""24 real speech files: enough tasks to start every worker thread."""
    files = []
    for i in range(24):
        path = str(tmp_path / f"speech-{i:02d}.wav")
        shutil.copy(speech_files[i % len(speech_files)], path)
        files.append(path)
    return files


def test_num_workers_none_one_worker_per_core(model_root, many_files, monkeypatch):
    import threading

    cores = len(os.sched_getaffinity(0))
    interface = audemo.Emotion(model_root, num_workers=None)
    assert interface.num_workers == cores
    assert interface.num_workers * interface.num_threads <= max(cores, 1)
    # observe the threads that really ran the model, and how many at once
    lock = threading.Lock()
    threads, running, peak = set(), [0], [0]
    run_model = interface._run_model

    def observed(signal, where):
        with lock:
            threads.add(threading.get_ident())
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        try:
            return run_model(signal, where)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(interface, "_run_model", observed)
    frame = interface.process_files(many_files)
    assert len(frame) == len(many_files) and np.isfinite(frame.values).all()
    assert len(threads) <= cores, f"{len(threads)} worker threads on {cores} cores"
    assert peak[0] <= cores
    # the same numbers as one worker
    expected = audemo.Emotion(model_root, num_threads=interface.num_threads)
    pd.testing.assert_frame_equal(frame, expected.process_files(many_files))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"win_dur": -1}, "win_dur must be at least 0.025 s"),
        ({"win_dur": 0}, "win_dur must be at least 0.025 s"),
        ({"win_dur": 0.01}, "win_dur must be at least 0.025 s"),
        ({"win_dur": float("nan")}, "win_dur must be"),
        ({"win_dur": "soon"}, "win_dur must be"),
        ({"win_dur": 1.0, "hop_dur": 0}, "hop_dur must be positive"),
        ({"win_dur": 1.0, "hop_dur": -0.5}, "hop_dur must be positive"),
        ({"hop_dur": 0.5}, r"hop_dur=0.5 needs win_dur.*win_dur=1.0"),
        ({"chunk_dur": 0}, "chunk_dur must be at least"),
        ({"chunk_dur": -5}, "chunk_dur must be at least"),
        ({"num_workers": 0}, r"num_workers must be a positive integer.*not 0"),
        ({"num_workers": -2}, "num_workers must be a positive integer"),
        ({"num_workers": 1.5}, "num_workers must be a positive integer"),
        ({"num_threads": -1}, "num_threads must be a positive integer"),
        ({"num_threads": 0}, "num_threads must be a positive integer"),
    ],
)
def test_invalid_options_fail_at_construction(model_root, speech_files, kwargs, match):
    # before, these constructed, and with errors="coerce"
    # every file of a run came back as NaN
    with pytest.raises(ValueError, match=match):
        audemo.Emotion(model_root, errors="coerce", **kwargs)


@pytest.mark.parametrize(
    "value, match",
    [
        (
            "2",
            r"not the text '2', which counts samples: pass win_dur=2 or win_dur='2s'",
        ),
        ([1], r"win_dur must be a number of seconds.*not list \[1\]"),
        (True, "not bool True"),
    ],
)
def test_duration_of_wrong_type(model_root, value, match):
    with pytest.raises(TypeError, match=match):
        audemo.Emotion(model_root, win_dur=value)


def test_process_folder_names_what_it_skips(model_root, speech_files, tmp_path):
    import subprocess

    folder = audeer.mkdir(tmp_path / "mixed")
    shutil.copy(speech_files[0], os.path.join(folder, "a.wav"))
    subprocess.run(["sox", speech_files[1], os.path.join(folder, "b.flac")], check=True)
    shutil.copy(speech_files[2], os.path.join(audeer.mkdir(folder, "sub"), "c.wav"))
    interface = audemo.Emotion(model_root)
    with pytest.warns(UserWarning) as record:
        frame = interface.process_folder(folder)
    files = frame.index.get_level_values("file")
    assert [os.path.basename(file) for file in files] == ["a.wav"]
    (message,) = [str(warning.message) for warning in record]
    assert message == (
        f"process_folder() processed the .wav files of '{folder}' only "
        f"(filetype='wav', case-sensitive, not in sub-folders) "
        f"and skipped 1 file .flac, 1 file .wav in sub-folders: "
        f"process them with another filetype (e.g. filetype='flac')."
    )
    # the folder search of the command line finds all three
    index, _ = input_to_index(folder)
    assert sorted(index) == ["a.wav", "b.flac", "sub/c.wav"]


def test_valid_edge_options_work(model_root, speech_files):
    interface = audemo.Emotion(
        model_root, win_dur=0.025, hop_dur=0.5, chunk_dur=0.025, num_threads=1
    )
    frame = interface.process_file(speech_files[0])
    assert len(frame) > 1 and np.isfinite(frame.values).all()
    # durations as audinterface takes them
    frame = audemo.Emotion(model_root, win_dur="1s").process_file(speech_files[0])
    assert np.isfinite(frame.values).all()


@pytest.mark.network
def test_model_cache_root(model_root, speech_files, tmp_path, server, archive):
    server.files["/emotion.zip"] = archive
    url = server.url("/emotion.zip")
    models = str(tmp_path / "models")
    interface = audemo.Emotion(url, model_cache_root=models)
    assert interface.model_cache_root == models
    assert interface.model_root.startswith(models)
    text = interface.to_yaml_s()
    assert "cache_root" not in text
    expected = interface.process_file(speech_files[0])

    # the old name works, with a warning that names the new one
    with pytest.warns(FutureWarning, match="pass model_cache_root=") as record:
        old = audemo.Emotion(url, cache_root=models)
    assert record[0].filename == __file__  # points at the user's call
    assert old.model_cache_root == models
    pd.testing.assert_frame_equal(old.process_file(speech_files[0]), expected)
    with pytest.warns(FutureWarning, match="use Emotion.model_cache_root"):
        assert old.cache_root == models
    with pytest.raises(AttributeError):
        old.cache_root = "elsewhere"
    with pytest.raises(ValueError, match="pass only model_cache_root"):
        audemo.Emotion(url, cache_root=models, model_cache_root=str(tmp_path))
    assert server.requests["/emotion.zip"] == 1

    # process_index(cache_root=...) stays the cache of results
    results = str(tmp_path / "results")
    index = audformat.filewise_index(speech_files[:1])
    frame = interface.process_index(index, cache_root=results)
    pd.testing.assert_frame_equal(frame, expected)
    assert os.listdir(results)


def test_plain_index_or_list_is_a_clear_error(model_root, speech_files):
    interface = audemo.Emotion(model_root)
    with pytest.raises(TypeError, match=r"not a list.*filewise_index.*process_files"):
        interface.process_index(speech_files)
    with pytest.raises(ValueError, match=r"levels \[None\].*filewise_index"):
        interface.process_index(pd.Index(speech_files))
    frame = interface.process_files(speech_files)
    with pytest.raises(TypeError, match=r"not a DataFrame.*\.index"):
        interface.process_index(frame)
    with pytest.raises(TypeError, match=r"not a string.*process_file\(file\)"):
        interface.process_files(speech_files[0])
    # the right way works
    pd.testing.assert_frame_equal(
        interface.process_index(audformat.filewise_index(speech_files)), frame
    )


@pytest.mark.slow
def test_progress_labels(model_root, speech_files, capsys):
    def labels(interface, index):
        interface.process_index(index)
        return capsys.readouterr().err

    interface = audemo.Emotion(model_root, verbose=True)
    files = audformat.filewise_index(speech_files)
    segments = audformat.segmented_index(speech_files[:2], [0.0, 0.5], [1.0, 1.5])
    assert "Process 3 files" in labels(interface, files)
    assert "segments" not in labels(interface, files)
    assert "Process 2 segments" in labels(interface, segments)
    processes = audemo.Emotion(
        model_root, verbose=True, num_workers=2, multiprocessing=True
    )
    assert "Process 3 files" in labels(processes, files)
    assert "Process 2 segments" in labels(processes, segments)
    assert "entries" not in labels(processes, files)


@pytest.mark.parametrize(
    "options, match",
    [
        ({"precision": "fp16"}, "precision must be one of"),
        ({"win_dur": 0.01}, "win_dur must be at least"),
        ({"errors": "ignore"}, "errors must be one of"),
    ],
)
def test_check_options(options, match):
    with pytest.raises(ValueError, match=match):
        check_options(**options)


def test_files_index_lists():
    index = files_index(["a.wav", "b.wav"], starts=[0.0, 1.0], ends=None)
    assert index.get_level_values("start").total_seconds().tolist() == [0.0, 1.0]


def test_model_replaced_after_construction(model_root, tmp_path, speech_files):
    # the session of a process is opened from the fingerprint recorded at
    # construction: a model replaced in its folder is refused, naming the input
    root = str(tmp_path / "model")
    shutil.copytree(model_root, root)
    interface = audemo.Emotion(root)
    other = audemo.testing.create_model(str(tmp_path / "other"), seed=1)
    shutil.copy(os.path.join(other, "model.onnx"), os.path.join(root, "model.onnx"))
    emotion_module._shared_model.cache_clear()
    with pytest.raises(RuntimeError, match="The model failed on"):
        interface.process_file(speech_files[0])
