import os
import signal
import struct
import subprocess
import sys
import time
import wave

import numpy as np
import pandas as pd
import pytest
import soundfile

import audiofile
import audresample

import audemo
from audemo.core.cli import main


# the command installed with this interpreter's environment,
# whether or not that environment is on PATH
AUDEMO = os.path.join(os.path.dirname(sys.executable), "audemo")


def speechlike(seconds, sampling_rate, seed=0, channels=1):
    rng = np.random.default_rng(seed)
    n = int(seconds * sampling_rate)
    t = np.arange(n) / sampling_rate
    tone = np.sin(2 * np.pi * (120 + 40 * np.sin(2 * np.pi * 0.7 * t)) * t)
    noise = rng.standard_normal((channels, n)) * 0.05
    return (0.3 * tone * (1 + np.sin(2 * np.pi * 3 * t)) + noise).astype("float32")


def push_all(stream, signal, sampling_rate, chunk):
    frames = []
    for begin in range(0, signal.shape[-1], chunk):
        frames.append(stream.push(signal[..., begin : begin + chunk], sampling_rate))
    frames.append(stream.close())
    return pd.concat(frames)


@pytest.mark.parametrize(
    "chunk, seconds, win_dur, hop_dur, windows",
    [
        # sample by sample: short, to be quick
        pytest.param(1, 0.8, 0.5, 0.1, 4, marks=pytest.mark.slow),
        (333, 4.3, 2.0, 0.5, 5),
        (16000, 4.3, 2.0, 0.5, 5),
        (None, 4.3, 2.0, 0.5, 5),
        (7919, 10.0, 2.0, 0.3, 27),
    ],
)
def test_equal_to_offline(model_root, chunk, seconds, win_dur, hop_dur, windows):
    signal = speechlike(seconds, 16000)
    offline = audemo.Emotion(
        model_root, win_dur=win_dur, hop_dur=hop_dur
    ).process_signal(signal, 16000)
    stream = audemo.Stream(audemo.Emotion(model_root), win_dur=win_dur, hop_dur=hop_dur)
    rows = push_all(stream, signal, 16000, chunk or signal.shape[-1])
    assert len(rows) == windows
    pd.testing.assert_frame_equal(rows, offline, check_freq=False)


@pytest.mark.parametrize("sampling_rate", [44100, 48000, 22050, 8000])
@pytest.mark.parametrize("chunk", [333, 16000, None])
def test_resampled_close_to_offline(model_root, sampling_rate, chunk):
    # each window is resampled on its own with RESAMPLE_MARGIN around it
    # ends 4 ms after a window: the last window comes at close()
    signal = speechlike(4.004, sampling_rate, seed=1)
    offline = audemo.Emotion(model_root, win_dur=2.0, hop_dur=0.5).process_signal(
        signal, sampling_rate
    )
    stream = audemo.Stream(audemo.Emotion(model_root), win_dur=2.0, hop_dur=0.5)
    rows = push_all(stream, signal, sampling_rate, chunk or signal.shape[-1])
    pd.testing.assert_index_equal(rows.index, offline.index, check_exact=True)
    assert rows.index.equals(offline.index)
    np.testing.assert_allclose(rows.values, offline.values, atol=2e-4)


def test_channels_and_mixdown(model_root, tmp_path):
    signal = speechlike(3.0, 16000, channels=2)
    signal[1] *= 0.2
    interface = audemo.Emotion(model_root, mixdown=True, channels=[0, 1])
    offline = audemo.Emotion(
        model_root, mixdown=True, channels=[0, 1], win_dur=1.0, hop_dur=0.25
    ).process_signal(signal, 16000)
    stream = audemo.Stream(interface, win_dur=1.0, hop_dur=0.25)
    pd.testing.assert_frame_equal(
        push_all(stream, signal, 16000, 777), offline, check_freq=False
    )
    # second channel only
    stream = audemo.Stream(audemo.Emotion(model_root, channels=1), win_dur=1.0)
    offline = audemo.Emotion(
        model_root, channels=1, win_dur=1.0, hop_dur=0.5
    ).process_signal(signal, 16000)
    pd.testing.assert_frame_equal(
        push_all(stream, signal, 16000, 5000), offline, check_freq=False
    )


def test_hop_longer_than_window(model_root):
    signal = speechlike(5.0, 16000)
    offline = audemo.Emotion(model_root, win_dur=0.5, hop_dur=1.5).process_signal(
        signal, 16000
    )
    stream = audemo.Stream(audemo.Emotion(model_root), win_dur=0.5, hop_dur=1.5)
    rows = push_all(stream, signal, 16000, 1000)
    pd.testing.assert_frame_equal(rows, offline, check_freq=False)
    assert stream.buffer_size <= 8000 + 2


@pytest.mark.parametrize("sampling_rate", [16000, 48000])
def test_shorter_than_window(model_root, sampling_rate):
    signal = speechlike(0.7, sampling_rate)
    offline = audemo.Emotion(model_root, win_dur=2.0).process_signal(
        signal, sampling_rate
    )
    stream = audemo.Stream(audemo.Emotion(model_root), win_dur=2.0)
    rows = push_all(stream, signal, sampling_rate, 1000)
    pd.testing.assert_index_equal(rows.index, offline.index, check_exact=True)
    assert rows.index.equals(offline.index)
    np.testing.assert_allclose(rows.values, offline.values, atol=1e-6)


def test_empty_and_closed(model_root):
    stream = audemo.Stream(audemo.Emotion(model_root))
    rows = stream.close()
    assert rows.empty
    assert list(rows.columns) == ["arousal", "dominance", "valence"]
    assert stream.close().empty
    with pytest.raises(ValueError, match="closed: create a new Stream"):
        stream.push(np.zeros(10, "float32"), 16000)
    stream = audemo.Stream(audemo.Emotion(model_root))
    assert stream.push(np.zeros(0, "float32"), 16000).empty
    assert stream.buffer_size > 0


def test_too_short_for_the_model(model_root):
    stream = audemo.Stream(audemo.Emotion(model_root))
    stream.push(np.zeros(100, "float32"), 16000)
    with pytest.raises(ValueError, match="at least 400"):
        stream.close()


def test_long_stream_bounded_memory(model_root):
    # one hour in chunks of 10 s, a window every 30 s to keep it quick
    stream = audemo.Stream(audemo.Emotion(model_root), win_dur=2.0, hop_dur=30.0)
    chunk = speechlike(10.0, 16000)[0]
    sizes = set()
    rows = 0
    for _ in range(360):
        rows += len(stream.push(chunk, 16000))
        sizes.add(stream.buffer_size)
        assert stream._filled <= stream.buffer_size
    assert rows == 120
    assert len(sizes) == 1
    assert stream.buffer_size == 32000 + 2
    assert stream.samples == 3600 * 16000


@pytest.mark.slow
def test_long_stream_resampled_bounded(model_root):
    stream = audemo.Stream(audemo.Emotion(model_root), win_dur=2.0, hop_dur=0.5)
    chunk = speechlike(1.3, 44100)[0]
    sizes = set()
    for _ in range(100):
        stream.push(chunk, 44100)
        sizes.add(stream.buffer_size)
    assert len(sizes) == 1
    assert stream.buffer_size < 2.1 * 44100
    assert stream._filled <= stream.buffer_size


class SlowClock:
    r"""A clock on which each reading costs ``step`` seconds.

    Each window reads the clock once before it is computed,
    like a model that needs ``step`` seconds a window.

    """

    def __init__(self, step):
        self.step = step
        self.now = 1000.0

    def __call__(self):
        self.now += self.step
        return self.now


def test_realtime_keeps_up(model_root):
    signal = speechlike(6.0, 16000)
    offline = audemo.Emotion(model_root, win_dur=2.0, hop_dur=0.5).process_signal(
        signal, 16000
    )
    clock = SlowClock(0.0)  # a fast model: nothing is skipped
    stream = audemo.Stream(
        audemo.Emotion(model_root), win_dur=2.0, hop_dur=0.5, realtime=True, clock=clock
    )
    rows = push_all(stream, signal, 16000, 4000)
    assert (rows["skipped"] == 0).all()
    pd.testing.assert_frame_equal(
        rows.drop(columns="skipped"), offline, check_freq=False
    )


def test_realtime_skips_when_behind(model_root):
    # a model that takes 5 s a window, audio pushed 4 s at a time:
    # the stream computes the newest window of each push, skips the others
    signal = speechlike(20.0, 16000)
    clock = SlowClock(5.0)
    stream = audemo.Stream(
        audemo.Emotion(model_root), win_dur=2.0, hop_dur=0.5, realtime=True, clock=clock
    )
    frames = [
        stream.push(signal[:, i : i + 64000], 16000) for i in range(0, 320000, 64000)
    ]
    rows = pd.concat(frames)
    assert [len(frame) for frame in frames] == [1, 1, 1, 1, 1]
    assert rows["skipped"].tolist() == [4, 7, 7, 7, 7]
    assert stream.skipped == 32
    assert stream.emitted == 5
    starts = rows.index.get_level_values("start").total_seconds().tolist()
    assert starts == [2.0, 6.0, 10.0, 14.0, 18.0]
    # the rows that are computed equal offline rows
    offline = audemo.Emotion(model_root, win_dur=2.0, hop_dur=0.5).process_signal(
        signal, 16000
    )
    pd.testing.assert_frame_equal(
        rows.drop(columns="skipped"), offline.loc[rows.index], check_freq=False
    )
    assert stream.close().empty


def test_invalid_arguments(model_root):
    interface = audemo.Emotion(model_root)
    with pytest.raises(ValueError, match="win_dur must be a positive"):
        audemo.Stream(interface, win_dur=0)
    with pytest.raises(ValueError, match="hop_dur must be a positive"):
        audemo.Stream(interface, hop_dur=-1)
    with pytest.raises(ValueError, match="without win_dur and segment"):
        audemo.Stream(audemo.Emotion(model_root, win_dur=1.0))
    stream = audemo.Stream(interface)
    with pytest.raises(ValueError, match="positive integer"):
        stream.push(np.zeros(10), 16000.5)
    with pytest.raises(ValueError, match="shape"):
        stream.push(np.zeros((1, 1, 10)), 16000)
    stream.push(np.zeros(10), 16000)
    with pytest.raises(ValueError, match="started with 16000 Hz, a chunk has 8000"):
        stream.push(np.zeros(10), 8000)
    stream = audemo.Stream(audemo.Emotion(model_root, resample=False))
    with pytest.raises(ValueError, match="resample=True"):
        stream.push(np.zeros(10), 8000)
    stream = audemo.Stream(audemo.Emotion(model_root))
    stream.push(np.zeros((2, 10)), 16000)
    with pytest.raises(ValueError, match="started with 2 channels, a chunk has 1"):
        stream.push(np.zeros(10), 16000)


def test_real_speech_file(model_root, human_voice):
    path = human_voice[0] if isinstance(human_voice, list) else human_voice
    signal, sampling_rate = audiofile.read(path, always_2d=True)
    signal = audresample.remix(signal, 0)
    offline = audemo.Emotion(model_root, win_dur=0.5, hop_dur=0.25).process_signal(
        signal, sampling_rate
    )
    stream = audemo.Stream(audemo.Emotion(model_root), win_dur=0.5, hop_dur=0.25)
    rows = push_all(stream, signal, sampling_rate, 4800)
    pd.testing.assert_index_equal(rows.index, offline.index, check_exact=True)
    assert rows.index.equals(offline.index)
    np.testing.assert_allclose(rows.values, offline.values, atol=2e-4)


# ----- audemo live -------------------------------------------------------


def run_live(*args, stdin=None, timeout=120):
    return subprocess.run(
        [AUDEMO, "live", *args],
        input=stdin,
        capture_output=True,
        timeout=timeout,
    )


def offline_rows(model_root, signal, sampling_rate, win_dur=2.0, hop_dur=0.5):
    frame = audemo.Emotion(model_root, win_dur=win_dur, hop_dur=hop_dur).process_signal(
        signal, sampling_rate
    )
    frame = frame.reset_index()
    frame["start"] = frame["start"].dt.total_seconds()
    frame["end"] = frame["end"].dt.total_seconds()
    return frame


@pytest.mark.slow
@pytest.mark.subprocess
@pytest.mark.parametrize("fmt", ["f32le", "s16le"])
def test_live_stdin(model_root, tmp_path, fmt):
    signal = speechlike(5.0, 16000)[0]
    if fmt == "s16le":
        pcm = np.round(signal * 32767).astype("<i2")
        signal = (pcm.astype("float32") / 32768).reshape(1, -1)
    else:
        pcm = signal.astype("<f4")
    # an odd byte count: the rest of a sample is kept for the next read
    data = pcm.tobytes() + b"\x00"
    output = str(tmp_path / "rows.csv")
    result = run_live(
        "--input",
        "-",
        "--format",
        fmt,
        "--model",
        model_root,
        "-o",
        output,
        stdin=data,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.decode().splitlines()
    assert len(lines) == 7
    assert lines[0].split() == [
        "2.00",
        "s",
        "A",
        lines[0].split()[3],
        "D",
        lines[0].split()[5],
        "V",
        lines[0].split()[7],
    ]
    assert "done: 5.0 s of audio, 7 rows, written to" in result.stderr.decode()
    rows = pd.read_csv(output)
    expected = offline_rows(model_root, signal, 16000)
    assert list(rows.columns) == list(expected.columns)
    np.testing.assert_allclose(rows.values, expected.values, atol=1e-6)


@pytest.mark.slow
@pytest.mark.subprocess
def test_live_file(model_root, human_voice, tmp_path):
    output = str(tmp_path / "rows.csv")
    result = run_live(
        "--input",
        human_voice,
        "--model",
        model_root,
        "-o",
        output,
        "--win-dur",
        "0.5",
        "--hop-dur",
        "0.25",
    )
    assert result.returncode == 0, result.stderr
    signal, sampling_rate = audiofile.read(human_voice, always_2d=True)
    expected = offline_rows(model_root, signal, sampling_rate, 0.5, 0.25)
    rows = pd.read_csv(output)
    assert len(rows) == len(expected) > 3
    np.testing.assert_allclose(rows.values, expected.values, atol=2e-4)


@pytest.mark.slow
@pytest.mark.subprocess
def test_live_file_realtime(model_root, tmp_path):
    path = str(tmp_path / "speech.wav")
    audiofile.write(path, speechlike(1.5, 16000), 16000)
    output = str(tmp_path / "rows.csv")
    started = time.monotonic()
    result = run_live(
        "--input",
        path,
        "--realtime",
        "--model",
        model_root,
        "-o",
        output,
        "--win-dur",
        "0.5",
        "--hop-dur",
        "0.25",
    )
    took = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert took >= 1.4  # played at real speed
    rows = pd.read_csv(output)
    assert list(rows.columns) == [
        "start",
        "end",
        "arousal",
        "dominance",
        "valence",
        "skipped",
    ]
    assert len(rows) + rows["skipped"].sum() == 5


@pytest.mark.slow
@pytest.mark.subprocess
def test_live_sigint(model_root, tmp_path):
    output = str(tmp_path / "rows.csv")
    process = subprocess.Popen(
        [AUDEMO, "live", "--input", "-", "--model", model_root, "-o", output],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    process.stdin.write(speechlike(4.0, 16000)[0].astype("<f4").tobytes())
    process.stdin.flush()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if os.path.exists(output) and len(open(output).read().splitlines()) == 6:
            break
        time.sleep(0.1)
    time.sleep(0.5)  # waiting for more audio now
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=30)
    process.stdin.close()
    assert process.returncode == 0, stderr
    assert "audemo: stopped: 4.0 s of audio, 5 rows" in stderr.decode()
    assert len(stdout.decode().splitlines()) == 5
    rows = pd.read_csv(output)
    assert len(rows) == 5
    assert rows.notna().all().all()


@pytest.mark.slow
@pytest.mark.subprocess
def test_live_no_microphone(model_root):
    result = run_live("--input", "mic", "--model", model_root)
    assert result.returncode == 1
    stderr = result.stderr.decode()
    assert "audemo: error: No microphone found. Audio devices:" in stderr
    assert "--device-index N" in stderr and "--input -" in stderr
    result = run_live("--device-index", "7", "--model", model_root)
    assert "No microphone --device-index 7 found" in result.stderr.decode()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--input", "missing.wav"], "--input 'missing.wav' is not a file"),
        (["--input", "notes.txt"], "Cannot read --input 'notes.txt'"),
        (["--input", "-", "--sampling-rate", "0"], "--sampling-rate must be positive"),
        (["--input", "-", "-o", "rows.txt"], "must end in .csv"),
    ],
)
def test_live_errors(model_root, tmp_path, monkeypatch, capsys, argv, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("not audio")
    assert main(["live", *argv, "--model", model_root]) == 1
    assert message in capsys.readouterr().err


def test_live_usage_errors(capsys):
    with pytest.raises(SystemExit):
        main(["live", "--win-dur", "abc"])
    assert "must be a positive number, not 'abc'" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.subprocess
def test_live_sigint_file_realtime(model_root, tmp_path):
    path = str(tmp_path / "long.wav")
    audiofile.write(path, speechlike(30.0, 16000), 16000)
    output = str(tmp_path / "rows.csv")
    process = subprocess.Popen(
        [AUDEMO, "live", "--input", path, "--realtime", "--model", model_root]
        + ["--win-dur", "0.5", "--hop-dur", "0.25", "-o", output],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if os.path.exists(output) and len(open(output).read().splitlines()) > 3:
            break
        time.sleep(0.1)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert "audemo: stopped:" in stderr.decode()
    rows = pd.read_csv(output)
    # every row printed is written, complete
    assert len(rows) == len(stdout.decode().splitlines()) >= 3
    assert rows.notna().all().all()
    assert rows["end"].max() < 10


# ----- integer PCM and sampling rates -------------------------------------


def read(path):
    with open(path, "rb") as fp:
        return fp.read()


def test_integer_pcm_scaled_as_audiofile_reads_it(model_root, speech_files, tmp_path):
    # the same 16-bit file as integers and as audiofile's floats
    interface = audemo.Emotion(model_root)
    pcm, sampling_rate = soundfile.read(speech_files[0], dtype="int16")
    signal, _ = audiofile.read(speech_files[0])
    expected = interface.process_signal(signal, sampling_rate)
    pd.testing.assert_frame_equal(
        interface.process_signal(pcm, sampling_rate), expected
    )
    windowed = audemo.Emotion(model_root, win_dur=1.0, hop_dur=0.5)
    pd.testing.assert_frame_equal(
        windowed.process_signal(pcm, sampling_rate),
        windowed.process_signal(signal, sampling_rate),
    )
    stream = audemo.Stream(interface, win_dur=1.0, hop_dur=0.5)
    floats = audemo.Stream(interface, win_dur=1.0, hop_dur=0.5)
    pd.testing.assert_frame_equal(
        push_all(stream, pcm, sampling_rate, 5000),
        push_all(floats, signal, sampling_rate, 5000),
    )
    # 8-bit (unsigned) and 32-bit PCM as libsndfile reads them
    for subtype, dtype in [("PCM_U8", "uint8"), ("PCM_32", "int32")]:
        # not next to the shared speech files, which other tests list
        path = str(tmp_path / f"speech.{subtype}.wav")
        soundfile.write(path, signal, sampling_rate, subtype=subtype)
        with wave.open(path) as fp:
            data = np.frombuffer(fp.readframes(fp.getnframes()), dtype=dtype)
        signal_read, _ = audiofile.read(path)
        np.testing.assert_array_equal(
            audemo.core.process.float_signal(data, "the signal"), signal_read
        )


@pytest.mark.parametrize(
    "signal, message",
    [
        (np.zeros(16000, "int64"), "its samples are int64, which has no full scale"),
        (np.zeros(16000, "uint16"), "its samples are uint16"),
        (np.full(16000, 3000.0), "its float samples reach 3000"),
    ],
)
def test_integer_pcm_refused(model_root, signal, message):
    interface = audemo.Emotion(model_root)
    with pytest.raises(ValueError, match=message):
        interface.process_signal(signal, 16000)
    with pytest.raises(ValueError, match=message):
        audemo.Stream(interface).push(signal, 16000)


@pytest.mark.slow
@pytest.mark.subprocess
@pytest.mark.parametrize("sampling_rate", [1, 2_000_000_000])
def test_stream_sampling_rate_bound(model_root, tmp_path, sampling_rate):
    stream = audemo.Stream(audemo.Emotion(model_root))
    with pytest.raises(ValueError, match=f"sampling rate of {sampling_rate} Hz"):
        stream.push(np.zeros(4000, "float32"), sampling_rate)
    # a WAV file whose header claims that rate
    path = str(tmp_path / "broken.wav")
    audiofile.write(path, np.zeros(3000, "float32"), 16000, bit_depth=16)
    with open(path, "r+b") as fp:
        fp.seek(24)
        fp.write(struct.pack("<II", sampling_rate, sampling_rate * 2 % 2**32))
    result = run_live("--input", path, "--model", model_root)
    assert result.returncode == 1
    stderr = result.stderr.decode()
    assert stderr.startswith(
        f"audemo: error: Cannot process --input '{path}': its sampling rate "
        f"of {sampling_rate} Hz is outside the range audemo accepts"
    )
    assert result.stdout == b""
    # the same header on stdin
    result = run_live(
        "--input", "-", "--model", model_root, stdin=open(path, "rb").read()
    )
    assert result.returncode == 1
    assert f"the WAV stream on stdin: its sampling rate of {sampling_rate} Hz" in (
        result.stderr.decode()
    )


@pytest.mark.slow
@pytest.mark.subprocess
def test_live_stdin_wav(model_root, speech_files, human_voice, tmp_path):
    # cat rec.wav | audemo live --input -: the rows of --input rec.wav
    for path in [speech_files[2], human_voice]:
        outputs = []
        for how in ("file", "stdin"):
            output = str(tmp_path / f"{how}.csv")
            args = ["--input", path if how == "file" else "-"]
            args += ["--model", model_root, "-o", output, "--overwrite"]
            stdin = read(path) if how == "stdin" else None
            result = run_live(*args, stdin=stdin)
            assert result.returncode == 0, result.stderr
            outputs.append(pd.read_csv(output))
        pd.testing.assert_frame_equal(outputs[0], outputs[1])
        # the sentence is longer than a window, the alsa recording shorter
        assert len(outputs[0]) == (4 if path == speech_files[2] else 1)


@pytest.mark.slow
@pytest.mark.subprocess
def test_live_stdin_other_files(model_root, speech_files, tmp_path):
    signal, sampling_rate = audiofile.read(speech_files[0])
    for extension, kind in [("flac", "a FLAC"), ("ogg", "an Ogg")]:
        path = str(tmp_path / f"speech.{extension}")
        audiofile.write(path, signal, sampling_rate)
        result = run_live(
            "--input", "-", "--model", model_root, stdin=open(path, "rb").read()
        )
        assert result.returncode == 1
        assert f"stdin holds {kind} file, but --input - reads raw PCM or WAV" in (
            result.stderr.decode()
        )
        assert "ffmpeg -i rec.mp3 -f f32le -ac 1 -ar 16000 -" in result.stderr.decode()
    path = str(tmp_path / "speech24.wav")
    audiofile.write(path, signal, sampling_rate, bit_depth=24)
    result = run_live(
        "--input", "-", "--model", model_root, stdin=open(path, "rb").read()
    )
    assert "stdin is a 24-bit WAV stream" in result.stderr.decode()
    result = run_live(
        "--input", "-", "--model", model_root, stdin=b"RIFF\x00\x00\x00\x00WAVE"
    )
    assert "stdin starts like a WAV file, but its header cannot be read" in (
        result.stderr.decode()
    )


@pytest.mark.slow
@pytest.mark.subprocess
def test_live_mp3_quiet(model_root, speech_files, tmp_path):
    # libmpg123's decoder notes are not the user's business
    path = str(tmp_path / "speech.mp3")
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-i", speech_files[0], path], check=True
    )
    result = run_live("--input", path, "--model", model_root)
    assert result.returncode == 0
    stderr = result.stderr.decode()
    assert "mpg123" not in stderr and "part2_3_length" not in stderr
    assert stderr.startswith("audemo: done: ")


@pytest.mark.slow
@pytest.mark.subprocess
def test_live_stdin_16_bit_as_float(model_root, speech_files):
    # raw 16-bit PCM without --format s16le: refused, not misread
    pcm, _ = soundfile.read(speech_files[0], dtype="int16")
    data = pcm.astype("<i2").tobytes()
    result = run_live("--input", "-", "--model", model_root, stdin=data)
    assert result.returncode == 1
    stderr = result.stderr.decode()
    assert stderr.startswith("audemo: error: Cannot process stdin: ")
    assert stderr.rstrip().endswith("For raw 16-bit PCM give --format s16le.")
