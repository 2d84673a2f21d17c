import os
import re
import shutil
import signal as signals
import subprocess
import sys
import textwrap
import time
import warnings

import numpy as np
import pandas as pd
import pytest
import soundfile

import audeer
import audformat
import audiofile
import audresample

import audemo
from audemo.core import cache as cache_module
from audemo.core.process import chunk_bounds


def raw(model_root, signal, outputs="logits"):
    model = audemo.load_model(model_root, num_workers=os.cpu_count())
    signal = np.atleast_2d(signal).astype(np.float32)
    return model(signal, 16000, outputs=[outputs])[outputs].reshape(-1)


@pytest.fixture(scope="module")
def speech(speech_files):
    signal, sampling_rate = audiofile.read(speech_files[0], always_2d=True)
    assert sampling_rate == 16000
    return signal


# ----- long recordings ---------------------------------------------------


@pytest.fixture(scope="module")
def long_recording(tmp_path_factory, speech_files):
    r"""20 minutes of speech and pauses at 16 kHz."""
    pieces = []
    pause = np.zeros((1, 8000), np.float32)
    for file in speech_files:
        signal, _ = audiofile.read(file, always_2d=True)
        pieces += [signal, pause]
    block = np.concatenate(pieces, axis=1)
    repeats = int(np.ceil(20 * 60 * 16000 / block.shape[1]))
    signal = np.tile(block, repeats)[:, : 20 * 60 * 16000]
    path = str(tmp_path_factory.mktemp("long") / "twenty-minutes.wav")
    audiofile.write(path, signal, 16000)
    signal, _ = audiofile.read(path, always_2d=True)
    return path, signal


def test_chunk_bounds():
    assert chunk_bounds(400, 16000, 20.0) == [0, 400]
    assert chunk_bounds(20 * 16000, 16000, 20.0) == [0, 320000]
    assert chunk_bounds(20 * 16000 + 1, 16000, 20.0) == [0, 160000, 320001]
    bounds = chunk_bounds(20 * 60 * 16000, 16000, 20.0)
    assert len(bounds) == 61
    assert set(np.diff(bounds)) == {320000}


@pytest.mark.slow
def test_long_recording(model_root, long_recording):
    path, signal = long_recording
    interface = audemo.Emotion(model_root, outputs=["logits", "hidden_states"])
    from_file = interface.process_file(path)
    assert len(from_file) == 1
    assert from_file.index[0][2] == pd.Timedelta(minutes=20)
    from_signal = interface.process_signal(signal, 16000)
    # a file read chunk by chunk equals the signal processed in memory
    np.testing.assert_array_equal(from_file.values, from_signal.values)
    # documented combination: mean of the 60 chunks of 20 s
    chunks = [
        raw(model_root, signal[:, i : i + 320000], "logits")
        for i in range(0, signal.shape[1], 320000)
    ]
    np.testing.assert_allclose(
        from_file.values[0, :3], np.mean(chunks, axis=0), rtol=1e-6
    )
    assert np.all(np.isfinite(from_file.values))


def test_long_recording_resampled(model_root, long_recording, tmp_path):
    _, signal = long_recording
    minutes = signal[:, : 3 * 60 * 16000]
    path = str(tmp_path / "three-minutes-44k.flac")
    audiofile.write(path, audresample.resample(minutes, 16000, 44100), 44100)
    interface = audemo.Emotion(model_root)
    from_file = interface.process_file(path)
    whole, _ = audiofile.read(path, always_2d=True)
    from_signal = interface.process_signal(whole, 44100)
    # chunks are resampled one by one: equal up to the resampler's edges
    np.testing.assert_allclose(from_file.values, from_signal.values, atol=1e-4)


def test_inputs_up_to_chunk_length_are_whole(model_root, speech, tmp_path):
    signal = np.tile(speech, 5)[:, : 20 * 16000]
    interface = audemo.Emotion(model_root)
    frame = interface.process_signal(signal, 16000)
    np.testing.assert_array_equal(frame.values[0], raw(model_root, signal))
    whole = audemo.Emotion(model_root, chunk_dur=None)
    longer = np.tile(speech, 8)
    assert longer.shape[1] > 20 * 16000
    np.testing.assert_array_equal(
        whole.process_signal(longer, 16000).values[0], raw(model_root, longer)
    )
    with pytest.raises(ValueError, match="chunk_dur"):
        audemo.Emotion(model_root, chunk_dur=0.01)


# ----- fault matrix ------------------------------------------------------


def write_wav(path, signal, sampling_rate=16000, subtype="PCM_16"):
    soundfile.write(path, np.asarray(signal).T, sampling_rate, subtype=subtype)
    return path


@pytest.fixture
def faulty(tmp_path, speech):
    r"""Broken inputs of every kind, with the error they must raise."""
    root = tmp_path
    files = {}
    files["missing.wav"] = (FileNotFoundError, "does not exist")
    write_wav(str(root / "empty.wav"), np.zeros((1, 0), np.float32))
    files["empty.wav"] = (ValueError, "0 samples")
    (root / "zero-bytes.wav").write_bytes(b"")
    files["zero-bytes.wav"] = (RuntimeError, "Cannot read audio file")
    write_wav(str(root / "short.wav"), speech[:, :399])
    files["short.wav"] = (ValueError, "399 samples.*at least 400")
    nan = speech.copy()
    nan[0, 1000] = np.nan
    write_wav(str(root / "nan.wav"), nan, subtype="FLOAT")
    files["nan.wav"] = (ValueError, "NaN or infinite")
    inf = speech.copy()
    inf[0, 5] = np.inf
    write_wav(str(root / "inf.wav"), inf, subtype="FLOAT")
    files["inf.wav"] = (ValueError, "NaN or infinite")
    good = write_wav(str(root / "good.wav"), speech)
    data = open(good, "rb").read()
    (root / "corrupt-header.wav").write_bytes(b"\x00" * 44 + data[44:])
    files["corrupt-header.wav"] = (RuntimeError, "Format not recognised")
    (root / "text.wav").write_text("this is not audio\n")
    files["text.wav"] = (RuntimeError, "Cannot read audio file")
    (root / "noise.flac").write_bytes(np.random.default_rng(0).bytes(5000))
    files["noise.flac"] = (RuntimeError, "Cannot read audio file")
    os.remove(good)
    return str(root), files


def test_fault_matrix_raise(model_root, faulty):
    root, files = faulty
    interface = audemo.Emotion(model_root)
    for name, (error, message) in files.items():
        path = os.path.join(root, name)
        with pytest.raises(error, match=message) as info:
            interface.process_file(path)
        assert path in str(info.value), name


def test_fault_matrix_coerce(model_root, faulty):
    root, files = faulty
    interface = audemo.Emotion(model_root, errors="coerce")
    for name in files:
        with pytest.warns(RuntimeWarning, match="1 of 1 file failed") as record:
            frame = interface.process_file(os.path.join(root, name))
        assert len(record) == 1
        assert name in str(record[0].message)
        assert frame.shape == (1, 3)
        assert frame.isna().all(axis=None)


def test_silence_truncated_and_formats(model_root, speech, tmp_path):
    interface = audemo.Emotion(model_root)
    silence = write_wav(str(tmp_path / "silence.wav"), np.zeros((1, 16000)))
    frame = interface.process_file(silence)
    np.testing.assert_array_equal(
        frame.values[0], raw(model_root, np.zeros((1, 16000)))
    )

    full = write_wav(str(tmp_path / "full.wav"), speech)
    data = open(full, "rb").read()
    truncated = tmp_path / "truncated.wav"
    truncated.write_bytes(data[: len(data) // 2])
    # the header promises more samples than there are: what is there is used
    present, _ = audiofile.read(str(truncated), always_2d=True)
    assert 0 < present.shape[1] < speech.shape[1]
    np.testing.assert_array_equal(
        interface.process_file(str(truncated)).values[0], raw(model_root, present)
    )

    reference = interface.process_file(full).values[0]
    cases = {
        "pcm8.wav": dict(subtype="PCM_U8"),
        "pcm24.wav": dict(subtype="PCM_24"),
        "speech.flac": dict(),
        "speech.ogg": dict(),
        "speech.mp3": dict(),
    }
    for name, options in cases.items():
        path = str(tmp_path / name)
        soundfile.write(path, speech.T, 16000, **options)
        signal, _ = audiofile.read(path, always_2d=True)
        values = interface.process_file(path).values[0]
        np.testing.assert_array_equal(values, raw(model_root, signal), err_msg=name)
        # lossy and coarse formats still land near the original
        assert np.abs(values - reference).max() < 0.05, name


@pytest.mark.parametrize("sampling_rate", [8000, 44100, 48000])
def test_sampling_rates(model_root, speech, tmp_path, sampling_rate):
    path = str(tmp_path / f"speech-{sampling_rate}.wav")
    audiofile.write(
        path, audresample.resample(speech, 16000, sampling_rate), sampling_rate
    )
    signal, _ = audiofile.read(path, always_2d=True)
    values = audemo.Emotion(model_root).process_file(path).values[0]
    expected = raw(model_root, audresample.resample(signal, sampling_rate, 16000))
    np.testing.assert_array_equal(values, expected)


def test_multichannel(model_root, speech, tmp_path):
    channels = np.concatenate([speech, 0.5 * speech, 0.1 * speech, speech[:, ::-1]])
    path = write_wav(str(tmp_path / "four.wav"), channels)
    signal, _ = audiofile.read(path, always_2d=True)
    default = audemo.Emotion(model_root).process_file(path).values[0]
    np.testing.assert_array_equal(default, raw(model_root, signal[:1]))
    third = audemo.Emotion(model_root, channels=2).process_file(path).values[0]
    np.testing.assert_array_equal(third, raw(model_root, signal[2:3]))
    mixed = audemo.Emotion(model_root, channels=[0, 1, 2, 3], mixdown=True)
    np.testing.assert_array_equal(
        mixed.process_file(path).values[0],
        raw(model_root, signal.mean(axis=0, keepdims=True)),
    )


@pytest.mark.slow
@pytest.mark.subprocess
def test_decoder_missing(model_root, speech, tmp_path):
    if shutil.which("ffmpeg") is None:
        pytest.fail("ffmpeg is needed for this test: apt-get install ffmpeg")
    flac = str(tmp_path / "speech.flac")
    audiofile.write(flac, speech, 16000)
    m4a = str(tmp_path / "speech.m4a")
    subprocess.run(["ffmpeg", "-loglevel", "error", "-i", flac, m4a], check=True)
    # with ffmpeg and mediainfo the file is read
    assert np.isfinite(audemo.Emotion(model_root).process_file(m4a).values).all()
    # without them (a PATH with neither): a message that says what to install;
    # the interpreter itself is run by its own path, since a link to a
    # virtual environment's python elsewhere would lose the environment
    bin_dir = audeer.mkdir(tmp_path / "bin")
    code = textwrap.dedent(
        f"""
        import audemo
        try:
            audemo.Emotion({model_root!r}).process_file({m4a!r})
        except Exception as ex:
            print(type(ex).__name__, ex)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PATH": bin_dir},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert m4a in result.stdout, result.stderr
    assert "apt-get install ffmpeg mediainfo" in result.stdout


# ----- errors="coerce" on a corpus -----------------------------------------


@pytest.mark.slow
def test_coerce_corpus(model_root, faulty, speech, tmp_path):
    root, broken = faulty
    assert len(broken) == 9
    (tmp_path / "folder.wav").mkdir()
    broken["folder.wav"] = None
    names = []
    for i in range(190):
        name = f"good-{i:03d}.wav"
        start = (i * 997) % (speech.shape[1] - 8000)
        write_wav(os.path.join(root, name), speech[:, start : start + 8000])
        names.append(name)
    names = names[:95] + list(broken) + names[95:]
    index = audformat.filewise_index(names)
    for kwargs in [{}, {"num_workers": 2, "multiprocessing": True}]:
        interface = audemo.Emotion(model_root, errors="coerce", **kwargs)
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            frame = interface.process_index(index, root=root, preserve_index=True)
        failures = [w for w in record if issubclass(w.category, RuntimeWarning)]
        assert len(failures) == 1
        message = str(failures[0].message)
        assert message.startswith("10 of 200 files failed")
        for name in broken:
            assert name in message
        assert frame.index.equals(index)
        assert frame.loc[list(broken)].isna().all(axis=None)
        good = frame.drop(index=list(broken))
        assert len(good) == 190 and np.isfinite(good.values).all()


def test_coerce_with_cache_retries_failures(model_root, faulty, speech, tmp_path):
    root, _ = faulty
    write_wav(os.path.join(root, "good.wav"), speech)
    index = audformat.filewise_index(["good.wav", "missing.wav"])
    cache = str(tmp_path / "cache")
    interface = audemo.Emotion(model_root, errors="coerce")
    with pytest.warns(RuntimeWarning, match="1 of 2 files failed"):
        first = interface.process_index(index, root=root, cache_root=cache)
    assert first.iloc[1].isna().all()
    # the missing file appears: it is processed, not served as NaN from the cache
    write_wav(os.path.join(root, "missing.wav"), speech[:, :16000])
    second = interface.process_index(index, root=root, cache_root=cache)
    assert np.isfinite(second.values).all()
    np.testing.assert_array_equal(second.values[0], first.values[0])


def test_coerce_signal(model_root):
    interface = audemo.Emotion(model_root, errors="coerce")
    with pytest.warns(RuntimeWarning, match="signal: Cannot process the signal"):
        frame = interface.process_signal(np.zeros(100, np.float32), 16000)
    assert frame.isna().all(axis=None)
    assert frame.index[0][1] == pd.Timedelta(seconds=100 / 16000)


# ----- resumable cache ------------------------------------------------------


@pytest.mark.slow
@pytest.mark.subprocess
def test_cache_survives_sigkill(model_root, speech, tmp_path):
    root = audeer.mkdir(tmp_path / "audio")
    names = []
    for i in range(120):
        name = f"f{i:03d}.wav"
        start = (i * 331) % (speech.shape[1] - 8000)
        write_wav(os.path.join(root, name), speech[:, start : start + 8000])
        names.append(name)
    cache = str(tmp_path / "cache")
    script = textwrap.dedent(
        f"""
        import time
        import audformat
        import audemo
        import audemo.core.cache

        audemo.core.cache.PART_SIZE = 10
        predict = audemo.Emotion._predict

        def slow_predict(self, *args, **kwargs):
            time.sleep(0.05)  # make the run long enough to be killed midway
            return predict(self, *args, **kwargs)

        audemo.Emotion._predict = slow_predict
        interface = audemo.Emotion({model_root!r})
        index = audformat.filewise_index({names!r})
        interface.process_index(index, root={root!r}, cache_root={cache!r})
        print("finished")
        """
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True
    )

    def parts():
        return [
            os.path.join(folder, name)
            for folder, _, names_ in os.walk(cache)
            for name in names_
            if name.endswith(".parquet")
        ]

    deadline = time.time() + 120
    while len(parts()) < 3 and time.time() < deadline:
        time.sleep(0.02)
    process.send_signal(signals.SIGKILL)
    process.wait()
    assert process.returncode == -signals.SIGKILL
    done = len(parts())
    assert 3 <= done < 12

    calls = []
    predict = audemo.Emotion._predict

    def counting_predict(self, *args, **kwargs):
        calls.append(1)
        return predict(self, *args, **kwargs)

    index = audformat.filewise_index(names)
    patch = pytest.MonkeyPatch()
    patch.setattr(cache_module, "PART_SIZE", 10)
    patch.setattr(audemo.Emotion, "_predict", counting_predict)
    try:
        resumed = audemo.Emotion(model_root).process_index(
            index, root=root, cache_root=cache
        )
    finally:
        patch.undo()
    assert len(calls) == 120 - 10 * done
    uninterrupted = audemo.Emotion(model_root).process_index(index, root=root)
    pd.testing.assert_frame_equal(resumed, uninterrupted)


# ----- emotion over time ------------------------------------------------------


@pytest.fixture(scope="module")
def two_speakers(tmp_path_factory):
    r"""30 s of two espeak-ng voices taking turns, with pauses."""
    from conftest import synthesize

    root = tmp_path_factory.mktemp("dialogue")
    turns = [
        ("en-us", "Did you hear the news about the project? We won the grant!"),
        ("en-gb+f3", "No way, that is fantastic. I can hardly believe it."),
        ("en-us", "Three years of work, and finally somebody noticed."),
        ("en-gb+f3", "Well, I am still worried about the deadline in March."),
        ("en-us", "Let us not think about that today. Let us celebrate."),
        ("en-gb+f3", "Fine, but tomorrow we start planning the next steps."),
    ]
    pieces = []
    for i, (voice, text) in enumerate(turns):
        path = synthesize(text, str(root / f"turn-{i}.wav"), voice=voice)
        signal, _ = audiofile.read(path, always_2d=True)
        pieces += [signal, np.zeros((1, 6400), np.float32)]
    signal = np.concatenate(pieces, axis=1)
    signal = np.pad(signal, ((0, 0), (0, max(0, 30 * 16000 - signal.shape[1]))))
    signal = signal[:, : 30 * 16000]
    path = str(root / "dialogue.wav")
    audiofile.write(path, signal, 16000)
    return path


def test_emotion_over_time(model_root, two_speakers):
    interface = audemo.Emotion(model_root, win_dur=2.0, hop_dur=1.0)
    frame = interface.process_file(two_speakers)
    assert len(frame) == 29
    starts = frame.index.get_level_values("start").total_seconds()
    ends = frame.index.get_level_values("end").total_seconds()
    np.testing.assert_array_equal(starts, np.arange(29.0))
    np.testing.assert_array_equal(ends, np.arange(29.0) + 2.0)
    assert (frame.index.get_level_values("file") == two_speakers).all()
    # the emotion changes over time
    assert frame["arousal"].std() > 1e-3
    signal, _ = audiofile.read(two_speakers, always_2d=True)
    np.testing.assert_array_equal(
        frame.values[5], raw(model_root, signal[:, 5 * 16000 : 7 * 16000])
    )


def test_signal_shorter_than_window(model_root, speech):
    interface = audemo.Emotion(model_root, win_dur=10.0)
    short = speech[:, : 3 * 16000]
    frame = interface.process_signal(short, 16000)
    # documented: one row for the whole signal
    assert len(frame) == 1
    assert frame.index[0] == (pd.Timedelta(0), pd.Timedelta(seconds=3))
    np.testing.assert_array_equal(frame.values[0], raw(model_root, short))
    tiny = audemo.Emotion(model_root, win_dur=1.0, errors="coerce")
    with pytest.warns(RuntimeWarning, match="at least 400"):
        frame = tiny.process_signal(speech[:, :100], 16000)
    assert frame.isna().all(axis=None)


# ----- a newcomer's first hour ---------------------------------------------


def test_coerce_counts_files_segments_and_windows(model_root, speech, tmp_path):
    good = write_wav(str(tmp_path / "good.wav"), speech)
    broken = str(tmp_path / "broken.wav")
    (tmp_path / "broken.wav").write_text("this is not audio\n")

    # segments: two of five rows, both of one of two files
    index = audformat.segmented_index(
        [broken, broken, good, good, good],
        [0.0, 1.0, 0.0, 0.5, 1.0],
        [1.0, 2.0, 0.5, 1.0, 2.0],
    )
    interface = audemo.Emotion(model_root, errors="coerce")
    with pytest.warns(RuntimeWarning) as record:
        frame = interface.process_index(index)
    message = str(record[0].message)
    assert message.startswith(
        "1 of 2 files failed (2 of 5 segments); their rows hold NaN values"
    ), message
    assert broken in message
    assert frame.loc[broken].isna().all(axis=None)

    # windows
    windowed = audemo.Emotion(model_root, errors="coerce", win_dur=1.0)
    with pytest.warns(RuntimeWarning) as record:
        frame = windowed.process_files([good, broken])
    rows = len(frame)
    assert rows > 2
    assert str(record[0].message).startswith(
        f"1 of 2 files failed (1 of {rows} windows); its row holds NaN values"
    )

    # one file: singular
    with pytest.warns(RuntimeWarning) as record:
        interface.process_files([broken])
    assert str(record[0].message).startswith(
        "1 of 1 file failed; its row holds NaN values (errors='coerce')"
    )


@pytest.fixture
def database(tmp_path, speech):
    r"""An audformat database with relative file paths, as db.files gives them."""
    root = audeer.mkdir(tmp_path / "db")
    files = []
    for i in range(3):
        file = f"audio/{i}.wav"
        audeer.mkdir(root, "audio")
        write_wav(os.path.join(root, file), speech[:, i * 4000 : i * 4000 + 16000])
        files.append(file)
    db = audformat.Database("newcomer")
    db["files"] = audformat.Table(audformat.filewise_index(files))
    db.save(root)
    return audformat.Database.load(root)


def test_db_files_without_root_hint(model_root, database, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    interface = audemo.Emotion(model_root)
    with pytest.raises(FileNotFoundError, match=r"audio/0\.wav.*root=db\.root"):
        interface.process_index(database.files)
    with pytest.raises(FileNotFoundError, match=r"root=db\.root"):
        interface.process_files(list(database.files))
    coerce = audemo.Emotion(model_root, errors="coerce")
    with pytest.warns(RuntimeWarning, match=r"(?s)3 of 3 files failed.*root=db\.root"):
        frame = coerce.process_index(database.files)
    assert frame.isna().all(axis=None)
    # with root all is fine, and no hint
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        frame = interface.process_index(database.files, root=database.root)
    assert np.isfinite(frame.values).all()


@pytest.mark.slow
@pytest.mark.subprocess
def test_multiprocessing_without_main_guard(model_root, speech_files, tmp_path):
    script = tmp_path / "unguarded.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import audemo

            interface = audemo.Emotion(
                {model_root!r}, num_workers=2, multiprocessing=True
            )
            print(interface.process_files({speech_files!r}))
            """
        )
    )
    # the interpreter itself, by its own path: a link to a virtual
    # environment's python elsewhere would lose the environment
    result = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=str(tmp_path),
    )
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("RuntimeError: A worker process of multiprocessing=True")
    assert 'if __name__ == "__main__":' in last
    # one short traceback: the workers that ran the script again are quiet
    assert result.stderr.count("Traceback") == 1, result.stderr
    assert "BrokenProcessPool" not in result.stderr

    # with the guard it works
    guarded = tmp_path / "guarded.py"
    guarded.write_text(
        textwrap.dedent(
            f"""
            import audemo

            if __name__ == "__main__":
                interface = audemo.Emotion(
                    {model_root!r}, num_workers=2, multiprocessing=True
                )
                print(len(interface.process_files({speech_files!r})))
            """
        )
    )
    result = subprocess.run(
        [sys.executable, str(guarded)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(len(speech_files))


def test_process_folder_without_wav_files(model_root, speech, database, tmp_path):
    interface = audemo.Emotion(model_root)
    folder = audeer.mkdir(tmp_path / "recordings")
    write_wav(os.path.join(folder, "a.WAV"), speech)
    write_wav(os.path.join(folder, "b.WAV"), speech)
    soundfile.write(os.path.join(folder, "c.flac"), speech.T, 16000)
    with pytest.warns(
        UserWarning, match=r"2 files \.WAV, 1 file \.flac.*filetype='WAV'"
    ):
        frame = interface.process_folder(folder)
    assert frame.empty
    frame = interface.process_folder(folder, filetype="WAV")
    assert len(frame) == 2 and np.isfinite(frame.values).all()

    # a database folder
    with pytest.warns(UserWarning, match=r"audformat database.*root=db\.root"):
        frame = interface.process_folder(database.root)
    assert frame.empty
    # audio only in sub-folders
    nested = audeer.mkdir(tmp_path / "nested", "day-1")
    write_wav(os.path.join(nested, "a.wav"), speech)
    with pytest.warns(UserWarning, match=r"1 file \.wav in sub-folders"):
        interface.process_folder(os.path.dirname(nested))
    # an empty folder is no mistake
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert interface.process_folder(audeer.mkdir(tmp_path / "empty")).empty


def test_segment_after_the_end_names_the_path(model_root, speech_files):
    # the model names the file as given, the error adds the path it read
    root, file = os.path.split(speech_files[0])
    index = audformat.segmented_index([file], [100.0], [101.0])
    expected = f"Cannot process audio file '{speech_files[0]}': Cannot process '{file}'"
    with pytest.raises(ValueError, match=re.escape(expected)):
        audemo.Emotion(model_root).process_index(index, root=root)
