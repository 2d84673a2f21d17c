r"""The result cache trusts only what identifies the audio, and runs no code.

Every test runs on real audio: sentences of espeak-ng.
"""

import glob
import os
import pickle
import shutil

import numpy as np
import pandas as pd
import pytest
from sandbox import run_limited

import audeer
import audformat
import audiofile

import audemo
from audemo.core import cache
from audemo.core import emotion as emotion_module
from audemo.core.cli import main


NAMES = ["happy.wav", "sad.wav", "neutral.wav"]


def folder_of(speech_files, root, shift=0):
    r"""The sentences under ``NAMES``, rotated by ``shift``."""
    audeer.mkdir(root)
    for number, name in enumerate(NAMES):
        source = speech_files[(number + shift) % len(speech_files)]
        shutil.copy(source, os.path.join(root, name))
    return str(root)


@pytest.fixture
def count_calls(monkeypatch):
    r"""Count the model runs (one per file)."""
    calls = []
    predict = audemo.Emotion._predict

    def counting_predict(self, *args, **kwargs):
        calls.append(1)
        return predict(self, *args, **kwargs)

    monkeypatch.setattr(audemo.Emotion, "_predict", counting_predict)
    return calls


def parts_of(cache_root):
    return sorted(glob.glob(os.path.join(cache_root, "*", "*", "part-*")))


# ----- 1. the key covers root and the files ------------------------------


def test_same_names_under_other_root(model_root, speech_files, tmp_path, count_calls):
    a = folder_of(speech_files, tmp_path / "a")
    b = folder_of(speech_files, tmp_path / "b", shift=1)
    index = audformat.filewise_index(NAMES)
    interface = audemo.Emotion(model_root)
    cache_root = str(tmp_path / "results")
    result_a = interface.process_index(index, root=a, cache_root=cache_root)
    result_b = interface.process_index(index, root=b, cache_root=cache_root)
    # the old key (index only) gave B the numbers of A
    pd.testing.assert_frame_equal(result_b, interface.process_index(index, root=b))
    assert not np.allclose(result_a.values, result_b.values)
    # both stay cached side by side
    count_calls.clear()
    pd.testing.assert_frame_equal(
        interface.process_index(index, root=a, cache_root=cache_root), result_a
    )
    pd.testing.assert_frame_equal(
        interface.process_index(index, root=b, cache_root=cache_root), result_b
    )
    assert count_calls == []


def test_two_audb_databases(model_root, speech_files, tmp_path, publish_and_load):
    loaded = []
    for shift, name in enumerate(["db-a", "db-b"]):
        build = folder_of(speech_files, tmp_path / name / "audio", shift=shift)
        build = os.path.dirname(build)
        db = audformat.Database(name, usage="unrestricted")
        db["files"] = audformat.Table(
            audformat.filewise_index([f"audio/{file}" for file in NAMES])
        )
        db.save(build)
        loaded.append(publish_and_load(build))
    a, b = loaded
    assert a.files.equals(b.files)
    interface = audemo.Emotion(model_root)
    cache_root = str(tmp_path / "results")
    result_a = interface.process_index(a.files, root=a.root, cache_root=cache_root)
    result_b = interface.process_index(b.files, root=b.root, cache_root=cache_root)
    pd.testing.assert_frame_equal(
        result_b, interface.process_index(b.files, root=b.root)
    )
    assert not np.allclose(result_a.values, result_b.values)


def test_cli_predict_cache_root(model_root, speech_files, tmp_path):
    a = folder_of(speech_files, tmp_path / "a")
    b = folder_of(speech_files, tmp_path / "b", shift=2)
    cache_root = str(tmp_path / "cache")
    outputs = []
    for folder, cached in [(a, True), (b, True), (b, False)]:
        output = str(tmp_path / f"{len(outputs)}.csv")
        arguments = ["predict", folder, "--model", model_root, "-o", output]
        if cached:
            arguments += ["--cache-root", cache_root]
        assert main(arguments) == 0
        outputs.append(pd.read_csv(output, index_col=[0, 1, 2]))
    assert len(parts_of(cache_root)) == 2
    pd.testing.assert_frame_equal(outputs[1], outputs[2])
    assert not np.allclose(outputs[0].values, outputs[1].values)


def test_file_recorded_again(model_root, speech_files, tmp_path, count_calls):
    a = folder_of(speech_files, tmp_path / "a")
    index = audformat.filewise_index(NAMES)
    interface = audemo.Emotion(model_root)
    cache_root = str(tmp_path / "results")
    interface.process_index(index, root=a, cache_root=cache_root)
    # recorded again with the same length: same size, new mtime
    path = os.path.join(a, "happy.wav")
    signal, sampling_rate = audiofile.read(path)
    before = os.stat(path)
    audiofile.write(path, signal[::-1] * 0.5, sampling_rate)
    after = os.stat(path)
    assert after.st_size == before.st_size
    count_calls.clear()
    result = interface.process_index(index, root=a, cache_root=cache_root)
    assert len(count_calls) == 3  # the part is processed again
    pd.testing.assert_frame_equal(result, interface.process_index(index, root=a))

    # same size and mtime restored: only the content tells
    content = interface.process_index(
        index, root=a, cache_root=cache_root, file_key="content"
    )
    audiofile.write(path, signal, sampling_rate)
    os.utime(path, ns=(after.st_atime_ns, after.st_mtime_ns))
    assert os.stat(path).st_size == after.st_size
    again = interface.process_index(
        index, root=a, cache_root=cache_root, file_key="content"
    )
    pd.testing.assert_frame_equal(again, interface.process_index(index, root=a))
    assert not np.allclose(again.values[0], content.values[0])


def test_content_key_keeps_moved_database(
    model_root, speech_files, tmp_path, count_calls
):
    a = folder_of(speech_files, tmp_path / "a")
    index = audformat.filewise_index(NAMES)
    interface = audemo.Emotion(model_root)
    cache_root = str(tmp_path / "results")
    first = interface.process_index(
        index, root=a, cache_root=cache_root, file_key="content"
    )
    moved = str(tmp_path / "moved")
    shutil.move(a, moved)
    count_calls.clear()
    second = interface.process_index(
        index, root=moved, cache_root=cache_root, file_key="content"
    )
    assert count_calls == []
    pd.testing.assert_frame_equal(second, first)
    # by stat, another path is another file
    interface.process_index(index, root=moved, cache_root=cache_root)
    assert len(count_calls) == 3


@pytest.mark.parametrize("file_key", cache.FILE_KEYS)
def test_missing_file_coerce(model_root, speech_files, tmp_path, file_key):
    a = folder_of(speech_files, tmp_path / "a")
    index = audformat.filewise_index(NAMES + ["missing.wav"])
    interface = audemo.Emotion(model_root, errors="coerce")
    cache_root = str(tmp_path / "results")
    with pytest.warns(RuntimeWarning, match="1 of 4 files failed"):
        result = interface.process_index(
            index, root=a, cache_root=cache_root, file_key=file_key
        )
    assert result.iloc[3].isna().all()
    assert np.isfinite(result.iloc[:3].values).all()
    assert parts_of(cache_root) == []  # a part with failures is not cached


def test_file_key_invalid(model_root, speech_files, tmp_path):
    interface = audemo.Emotion(model_root)
    with pytest.raises(ValueError, match="file_key"):
        interface.process_index(
            audformat.filewise_index(speech_files),
            cache_root=str(tmp_path),
            file_key="name",
        )


# ----- 2. parquet, no pickle; untrusted folders ----------------------------


@pytest.mark.slow
def test_parts_round_trip(model_root, speech_files, tmp_path):
    # as many hidden_states columns as the real model has
    large = audemo.testing.create_model(str(tmp_path / "large"), hidden_size=1024)
    interface = audemo.Emotion(large, outputs=["logits", "hidden_states"])
    index = audformat.filewise_index(speech_files)
    silence = str(tmp_path / "silence.wav")
    audiofile.write(silence, np.zeros((1, 16000), dtype="float32"), 16000)
    segmented = audformat.segmented_index(
        speech_files, [0.0, 0.5, 1.0], [1.5, pd.NaT, 2.0]
    )
    with pytest.warns(RuntimeWarning, match="failed"):
        failed = audemo.Emotion(model_root, errors="coerce").process_index(
            audformat.filewise_index([speech_files[0], str(tmp_path / "missing.wav")])
        )
    with pytest.warns(RuntimeWarning, match="no segments"):
        empty = audemo.Emotion(
            model_root, segment=audemo.VoiceActivity()
        ).process_index(audformat.filewise_index([silence]))
    frames = {
        "hidden_states": interface.process_index(index),
        "filewise": interface.process_index(index, preserve_index=True),
        "segmented with NaT": interface.process_index(segmented).set_axis(segmented),
        "empty": empty,
        "failed": failed,
    }
    assert len(frames["hidden_states"].columns) == 1027
    assert len(empty) == 0 and failed.iloc[1].isna().all()
    for name, frame in frames.items():
        path = str(tmp_path / f"{name}.parquet")
        cache.write_part(frame, path)
        with open(path, "rb") as fp:
            assert fp.read(4) == b"PAR1"
        read = cache.read_part(path)
        pd.testing.assert_frame_equal(read, frame, obj=name)
        assert read.attrs == frame.attrs


def test_cached_equals_uncached(model_root, speech_files, tmp_path, monkeypatch):
    # one file per part: the part of the silent file has no rows
    monkeypatch.setattr(cache, "PART_SIZE", 1)
    silence = str(tmp_path / "silence.wav")
    audiofile.write(silence, np.zeros((1, 16000), dtype="float32"), 16000)
    index = audformat.filewise_index(speech_files + [silence])
    interface = audemo.Emotion(
        model_root, outputs="hidden_states", segment=audemo.VoiceActivity()
    )
    cache_root = str(tmp_path / "results")
    with pytest.warns(RuntimeWarning, match="no segments"):
        expected = interface.process_index(index)
    for _ in range(2):  # written, then read
        with pytest.warns(RuntimeWarning, match="no segments"):
            result = interface.process_index(index, cache_root=cache_root)
        pd.testing.assert_frame_equal(result, expected)
    assert len(parts_of(cache_root)) == 4


class Plant:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


@pytest.mark.slow
@pytest.mark.subprocess
def test_planted_pickle_not_run(model_root, speech_files, tmp_path):
    a = folder_of(speech_files, tmp_path / "a")
    cache_root = str(tmp_path / "results")
    marker = str(tmp_path / "marker")
    index = audformat.filewise_index(NAMES)
    interface = audemo.Emotion(model_root)
    # where the part of this index goes, under its old name and its new one
    folder = audeer.mkdir(
        cache_root, interface.cache_key(), audformat.utils.hash(index, strict=True)
    )
    path = os.path.join(
        folder, f"part-000000-of-000001-{cache.part_key(index, a, 'stat')}.parquet"
    )
    payload = pickle.dumps(Plant(marker), protocol=4)
    for name in (os.path.basename(path), "part-000000-of-000001.pkl"):
        with open(os.path.join(os.path.dirname(path), name), "wb") as fp:
            fp.write(payload)
    result = run_limited(
        f"""
        import warnings
        import audformat
        import audemo
        interface = audemo.Emotion({model_root!r})
        index = audformat.filewise_index({NAMES!r})
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            frame = interface.process_index(
                index, root={a!r}, cache_root={cache_root!r}
            )
        for warning in record:
            print("WARNING", warning.message)
        frame.to_csv("result.csv")
        """,
        cwd=str(tmp_path),
        memory_mb=4096,
        seconds=120,
    )
    assert not os.path.exists(marker), "the planted pickle ran"
    assert result.returncode == 0, result.stderr[-2000:]
    # the pickle at the name of the part is not parquet: processed again
    assert "Cannot read cached part" in result.stdout
    assert cache.read_part(path) is not None
    expected = interface.process_index(index, root=a)
    np.testing.assert_allclose(
        pd.read_csv(tmp_path / "result.csv", index_col=[0, 1, 2]).values,
        expected.values,
        rtol=1e-6,
    )


def test_untrusted_folder_refused(model_root, speech_files, tmp_path, monkeypatch):
    a = folder_of(speech_files, tmp_path / "a")
    index = audformat.filewise_index(NAMES)
    interface = audemo.Emotion(model_root)
    cache_root = str(tmp_path / "results")
    # folders and parts are not writable by others, whatever the umask
    old_umask = os.umask(0o000)
    try:
        interface.process_index(index, root=a, cache_root=cache_root)
    finally:
        os.umask(old_umask)
    (part,) = parts_of(cache_root)
    settings = os.path.dirname(os.path.dirname(part))
    for path in (cache_root, settings, part):
        assert os.stat(path).st_mode & 0o022 == 0

    def refused(path, reason):
        with pytest.raises(PermissionError, match=reason) as error:
            interface.process_index(index, root=a, cache_root=cache_root)
        assert f"'{path}'" in str(error.value)

    os.chmod(cache_root, 0o777)
    refused(cache_root, "can be written by other users")
    os.chmod(cache_root, 0o1777)  # sticky, like /tmp
    interface.process_index(index, root=a, cache_root=cache_root)
    os.chmod(settings, 0o775)
    refused(settings, "can be written by other users")
    os.chmod(settings, 0o755)
    os.chmod(part, 0o666)
    refused(part, "can be written by other users")
    os.chmod(part, 0o644)
    if os.geteuid() == 0:
        os.chown(settings, 12345, -1)
    else:
        monkeypatch.setattr(cache.os, "geteuid", lambda: 12345)
    refused(settings, "is owned by user id")


# ----- 3. format version, unreadable parts ---------------------------------


def test_cache_version_in_key(model_root, monkeypatch):
    key = audemo.Emotion(model_root).cache_key()
    monkeypatch.setattr(emotion_module, "_CACHE_VERSION", 1)
    assert audemo.Emotion(model_root).cache_key() != key


def test_truncated_part_processed_again(
    model_root, speech_files, tmp_path, monkeypatch, count_calls
):
    monkeypatch.setattr(cache, "PART_SIZE", 2)
    a = folder_of(speech_files, tmp_path / "a")
    index = audformat.filewise_index(NAMES)
    interface = audemo.Emotion(model_root)
    cache_root = str(tmp_path / "results")
    expected = interface.process_index(index, root=a, cache_root=cache_root)
    first, second = parts_of(cache_root)
    size = os.path.getsize(second)
    with open(second, "r+b") as fp:
        fp.truncate(size // 2)
    count_calls.clear()
    with pytest.warns(RuntimeWarning, match="Cannot read cached part"):
        result = interface.process_index(index, root=a, cache_root=cache_root)
    pd.testing.assert_frame_equal(result, expected)
    assert len(count_calls) == 1  # the second part has one file
    assert os.path.getsize(second) == size  # written again
    pd.testing.assert_frame_equal(cache.read_part(second), expected.iloc[2:])


def test_part_key_refuses_file_key():
    with pytest.raises(ValueError, match="file_key must be one of"):
        cache.part_key(audformat.filewise_index(["a.wav"]), None, "name")


def test_write_part_leaves_no_temporary(tmp_path):
    # the part cannot replace a folder: the temporary file is removed
    target = audeer.mkdir(tmp_path / "part.parquet")
    audeer.touch(os.path.join(target, "x"))
    frame = pd.DataFrame({"a": [1.0]}, index=audformat.filewise_index(["a.wav"]))
    with pytest.raises(OSError):
        cache.write_part(frame, target)
    assert os.listdir(tmp_path) == ["part.parquet"]
