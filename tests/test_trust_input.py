import os
import struct

import numpy as np
import pytest
from sandbox import run_limited

import audformat
import audiofile

import audemo


def broken_rate_wav(path: str, sampling_rate: int, *, seconds: float = 3.5) -> str:
    r"""A 16 kHz WAV file whose header claims ``sampling_rate``."""
    signal = np.random.default_rng(0).normal(0, 0.1, int(seconds * 16000))
    audiofile.write(path, signal.astype(np.float32), 16000, bit_depth=16)
    with open(path, "r+b") as fp:
        assert fp.read(4) == b"RIFF"
        fp.seek(24)  # fmt chunk: sample rate, then byte rate
        fp.write(struct.pack("<II", sampling_rate, sampling_rate * 2))
    return path


def test_header_sampling_rate_refused(tmp_path, model_root):
    path = broken_rate_wav(str(tmp_path / "one-hertz.wav"), 1)
    assert audiofile.sampling_rate(path) == 1  # the attack: 56000 s of audio
    interface = audemo.Emotion(model_root)
    with pytest.raises(ValueError, match="sampling rate of 1 Hz is outside"):
        interface.process_file(path)
    coerce = audemo.Emotion(model_root, errors="coerce", win_dur=1.0)
    with pytest.warns(RuntimeWarning, match="1 of 1 file failed"):
        frame = coerce.process_file(path)
    assert frame.isna().all().all()


def test_signal_sampling_rate_refused(model_root):
    interface = audemo.Emotion(model_root)
    with pytest.raises(ValueError, match="sampling rate of 2 Hz"):
        interface.process_signal(np.zeros((1, 16000), np.float32), 2)
    # the edges of the accepted range work
    low, high = audemo.core.process.SAMPLING_RATE_RANGE
    for rate in (low, high):
        frame = interface.process_signal(np.zeros((1, rate), np.float32), rate)
        assert frame.notna().all().all()


@pytest.mark.slow
@pytest.mark.subprocess
@pytest.mark.parametrize("options", [{}, {"win_dur": 1.0}, {"vad": True}])
def test_header_attack_bounded(tmp_path, model_root, options):
    # before the fix, win_dur made audemo read and resample 15.7 hours
    # (7 GB, a segfault under a memory limit): now it fails in the header
    path = broken_rate_wav(str(tmp_path / "one-hertz.wav"), 1, seconds=3.5)
    vad = options.pop("vad", False)
    result = run_limited(
        f"""
        import audemo
        segment = audemo.VoiceActivity() if {vad} else None
        interface = audemo.Emotion(
            {model_root!r}, errors="coerce", segment=segment, **{options!r}
        )
        import warnings
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            frame = interface.process_file({path!r})
        print(len(frame), int(frame.isna().all(axis=1).sum()))
        print(" ".join(str(w.message) for w in caught))
        """,
        cwd=str(tmp_path),
        memory_mb=1500,
        seconds=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "sampling rate of 1 Hz" in result.stdout
    assert os.path.exists(path)


def test_transposed_signal(model_root, speech_files):
    import soundfile

    signal, rate = soundfile.read(speech_files[0], always_2d=True)
    stereo = np.concatenate([signal, signal], axis=1)  # (samples, 2)
    interface = audemo.Emotion(model_root)
    with pytest.raises(ValueError, match=r"looks like \(samples, channels\)"):
        interface.process_signal(stereo, rate)
    coerce = audemo.Emotion(model_root, errors="coerce")
    with pytest.warns(RuntimeWarning, match="Pass signal.T"):
        assert coerce.process_signal(stereo, rate).isna().all().all()
    expected = interface.process_signal(stereo.T, rate)
    assert expected.notna().all().all()


@pytest.mark.parametrize("win_dur", [None, 1.0])
def test_short_segment_coerce_message(model_root, speech_files, win_dur):
    # a segment shorter than the model's 25 ms: under coerce the warning
    # says so, as errors="raise" does, with and without windows
    index = audformat.segmented_index([speech_files[0]], [1.0], [1.01])
    interface = audemo.Emotion(model_root, errors="coerce", win_dur=win_dur)
    with pytest.warns(RuntimeWarning, match="it has 160 samples"):
        frame = interface.process_index(index)
    assert frame.isna().all().all()
    assert list(frame.index) == list(index)
