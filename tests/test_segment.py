import os

import numpy as np
import pandas as pd
import pytest

import audformat
import audiofile
import audobject
import audresample

import audemo
from audemo.core.segment import WINDOW
from audemo.core.segment import speech_segments
from conftest import synthesize


SENTENCES = [
    "The meeting has been moved to Thursday afternoon.",
    "Please bring the report and the new budget figures.",
    "See you there.",
]


@pytest.fixture(scope="module")
def speech_with_pauses(tmp_path_factory):
    r"""Three sentences separated by 1.5 s of silence, and where speech is."""
    root = tmp_path_factory.mktemp("pauses")
    pieces = [np.zeros(16000, np.float32)]
    truth = []
    position = 16000
    for i, text in enumerate(SENTENCES):
        path = synthesize(text, str(root / f"sentence-{i}.wav"))
        signal, _ = audiofile.read(path)
        voiced = np.flatnonzero(np.abs(signal) > 1e-3)
        truth.append(
            ((position + voiced[0]) / 16000, (position + voiced[-1] + 1) / 16000)
        )
        pieces += [signal, np.zeros(24000, np.float32)]
        position += len(signal) + 24000
    signal = np.concatenate(pieces)
    path = str(root / "meeting.wav")
    audiofile.write(path, signal, 16000)
    return path, truth


def test_segments_land_on_speech(speech_with_pauses):
    path, truth = speech_with_pauses
    vad = audemo.VoiceActivity()
    index = vad.process_file(path)
    starts = index.get_level_values("start").total_seconds()
    ends = index.get_level_values("end").total_seconds()
    assert len(index) >= len(truth)
    assert (index.get_level_values("file") == path).all()
    for start, end in zip(starts, ends):
        # every segment overlaps a sentence and leaves the long pauses alone
        overlaps = [min(end, t_end) - max(start, t_start) for t_start, t_end in truth]
        assert max(overlaps) > 0
        inside = [
            t_start - 0.2 <= start and end <= t_end + 0.2 for t_start, t_end in truth
        ]
        assert any(inside), (start, end)
    for t_start, t_end in truth:
        covered = sum(
            max(0.0, min(end, t_end) - max(start, t_start))
            for start, end in zip(starts, ends)
        )
        assert covered >= 0.8 * (t_end - t_start)


def test_silence_has_no_segments():
    vad = audemo.VoiceActivity()
    index = vad.process_signal(np.zeros(3 * 16000, np.float32), 16000)
    assert len(index) == 0


def test_resampled_input(speech_with_pauses, tmp_path):
    path, truth = speech_with_pauses
    import audresample

    signal, _ = audiofile.read(path, always_2d=True)
    stereo = np.concatenate([signal, signal])
    path48 = str(tmp_path / "meeting-48k.wav")
    audiofile.write(path48, audresample.resample(stereo, 16000, 48000), 48000)
    index = audemo.VoiceActivity().process_file(path48)
    reference = audemo.VoiceActivity().process_file(path)
    assert len(index) == len(reference)
    np.testing.assert_allclose(
        index.get_level_values("start").total_seconds(),
        reference.get_level_values("start").total_seconds(),
        atol=0.07,
    )


def test_speech_segments_rules():
    probability = np.zeros(100)
    probability[10:30] = 0.9  # 20 windows of speech
    probability[31:33] = 0.9  # a gap of one window does not end it
    probability[50:52] = 0.9  # too short: 2 windows = 64 ms
    segments = speech_segments(probability, 100 * WINDOW, speech_pad=0.0)
    assert segments == [(10 * WINDOW, 33 * WINDOW)]
    # a long minimum silence merges, padding merges neighbours
    probability[40:50] = 0.9
    assert len(speech_segments(probability, 100 * WINDOW, speech_pad=0.0)) == 2
    assert len(speech_segments(probability, 100 * WINDOW, speech_pad=0.2)) == 1
    # speech until the end of the signal
    probability[90:] = 0.9
    assert speech_segments(probability, 100 * WINDOW - 7, speech_pad=0.0)[-1] == (
        90 * WINDOW,
        100 * WINDOW - 7,
    )


def test_invalid_arguments():
    with pytest.raises(ValueError, match="threshold"):
        audemo.VoiceActivity(threshold=1.5)
    with pytest.raises(ValueError, match="min_silence_dur"):
        audemo.VoiceActivity(min_silence_dur=-1)
    with pytest.raises(ValueError, match="errors"):
        audemo.VoiceActivity(errors="ignore")


def test_emotion_per_segment(model_root, speech_with_pauses, tmp_path):
    path, _ = speech_with_pauses
    vad = audemo.VoiceActivity()
    interface = audemo.Emotion(model_root, segment=vad)
    frame = interface.process_file(path)
    segments = vad.process_file(path)
    assert frame.index.equals(segments)
    plain = audemo.Emotion(model_root)
    expected = plain.process_index(segments)
    pd.testing.assert_frame_equal(frame, expected)

    # the segmentation is part of the pipeline YAML and of the cache key
    yaml_path = str(tmp_path / "emotion.yaml")
    interface.to_yaml(yaml_path)
    loaded = audobject.from_yaml(yaml_path)
    assert isinstance(loaded.process.segment, audemo.VoiceActivity)
    pd.testing.assert_frame_equal(loaded.process_file(path), frame)
    other = audemo.Emotion(model_root, segment=audemo.VoiceActivity(threshold=0.8))
    assert other.cache_key() != interface.cache_key()
    index = audformat.filewise_index([path])
    cached = interface.process_index(index, cache_root=str(tmp_path / "cache"))
    pd.testing.assert_frame_equal(cached, frame)


def test_emotion_per_segment_broken_files(model_root, speech_with_pauses, tmp_path):
    path, _ = speech_with_pauses
    broken = str(tmp_path / "broken.wav")
    with open(broken, "w") as fp:
        fp.write("no audio")
    index = audformat.filewise_index([path, broken])
    with pytest.raises(RuntimeError, match="broken.wav"):
        audemo.Emotion(model_root, segment=audemo.VoiceActivity()).process_index(index)
    interface = audemo.Emotion(
        model_root, segment=audemo.VoiceActivity(), errors="coerce"
    )
    with pytest.warns(RuntimeWarning, match="broken.wav"):
        frame = interface.process_index(index)
    assert frame.loc[broken].isna().all(axis=None)
    assert np.isfinite(frame.loc[path].values).all()
    assert os.path.exists(path)


def test_file_without_speech_is_reported(model_root, speech_with_pauses, tmp_path):
    path, _ = speech_with_pauses
    silent = str(tmp_path / "silent.wav")
    audiofile.write(silent, np.zeros(32000, np.float32), 16000)
    interface = audemo.Emotion(model_root, segment=audemo.VoiceActivity())
    with pytest.warns(RuntimeWarning, match="1 of 2 files has no segments") as record:
        frame = interface.process_files([path, silent])
    assert silent in str(record[0].message)
    assert set(frame.index.get_level_values("file")) == {path}


@pytest.fixture(scope="module")
def conversation(tmp_path_factory):
    r"""Two espeak voices and a human voice taking turns, with short turns."""
    root = tmp_path_factory.mktemp("conversation")
    turns = [
        ("en-us", "Did you read the report I sent you this morning?"),
        ("en-gb+f3", "Yes."),
        ("en-us", "And what do you think about the new budget figures?"),
        ("en-gb+f3", "They look far too optimistic to me, honestly."),
    ]
    pieces = [np.zeros(8000, np.float32)]
    for i, (voice, text) in enumerate(turns):
        path = synthesize(text, str(root / f"turn-{i}.wav"), voice=voice)
        pieces += [audiofile.read(path)[0], np.zeros(12000, np.float32)]
    human, rate = audiofile.read("/usr/share/sounds/alsa/Front_Center.wav")
    pieces.append(audresample.resample(human, rate, 16000)[0])
    path = str(root / "conversation.wav")
    audiofile.write(path, np.concatenate(pieces), 16000)
    return path


@pytest.mark.parametrize("win_dur", [1.0, 4.0])
def test_windows_inside_speech_segments(model_root, conversation, win_dur):
    # windows inside speech segments, including segments shorter than a window
    # ("Yes."): one row per window, or one row for a shorter segment
    segments = audemo.VoiceActivity().process_file(conversation)
    durations = segments.get_level_values("end") - segments.get_level_values("start")
    assert (durations.total_seconds() < win_dur).any()
    interface = audemo.Emotion(
        model_root, win_dur=win_dur, segment=audemo.VoiceActivity()
    )
    frame = interface.process_file(conversation)
    assert frame.notna().all().all()
    signal, _ = audiofile.read(conversation)
    model = audemo.load_model(model_root)
    for file, start, end in frame.index:
        assert any(
            seg_start <= start and end <= seg_end for _, seg_start, seg_end in segments
        )
        begin, stop = (
            round(start.total_seconds() * 16000),
            round(end.total_seconds() * 16000),
        )
        expected = model(signal[None, begin:stop], 16000, outputs="logits")
        np.testing.assert_allclose(
            frame.loc[(file, start, end)], expected[0], atol=1e-5
        )
    short = segments[durations.total_seconds() < win_dur]
    assert set(short) <= set(frame.index)
    # the same with a segmented index and errors="coerce": no NaN rows
    coerce = audemo.Emotion(model_root, win_dur=win_dur, errors="coerce")
    by_index = coerce.process_index(segments)
    assert by_index.notna().all().all()
    pd.testing.assert_frame_equal(by_index, frame)


@pytest.mark.parametrize(
    "sampling_rate, samples",
    [
        # speech to the end of a 16 kHz file whose length in seconds
        # is no float: 18002 / 16000 s used to give 1.125124999 s
        (16000, 18002),
        (16000, 18006),
        # resampled to 16 kHz a sample longer than the file
        (22050, 26461),
        (44100, 50001),
    ],
)
def test_segment_bounds_whole_samples_inside_file(
    human_voice, tmp_path, sampling_rate, samples
):
    signal, rate = audiofile.read(human_voice, always_2d=True)
    signal = audresample.resample(signal, rate, sampling_rate)[:, :samples]
    path = str(tmp_path / "voice.wav")
    audiofile.write(path, signal, sampling_rate)
    duration_ns = samples * 10**9 / sampling_rate
    vad = audemo.VoiceActivity()
    for index in [
        vad.process_file(path),
        vad.process_signal(signal, sampling_rate),
        vad.process_index(audformat.filewise_index([path])),
    ]:
        assert len(index) > 0
        starts = index.get_level_values("start").asi8
        ends = index.get_level_values("end").asi8
        assert (ends <= duration_ns).all(), (ends, duration_ns)
        # whole samples at 16 kHz (62500 ns), or the end of the file
        assert (starts % 62500 == 0).all(), starts
        assert ((ends % 62500 == 0) | (ends == int(duration_ns))).all(), ends
    # speech runs to the end of the file: the last segment ends there
    assert duration_ns - ends[-1] < 62500


def test_invalid_num_workers():
    with pytest.raises(ValueError, match="num_workers must be a positive integer"):
        audemo.VoiceActivity(num_workers=0)


def test_caller_segment_unchanged(model_root):
    vad = audemo.VoiceActivity()
    interface = audemo.Emotion(model_root, segment=vad, errors="coerce")
    assert vad.errors == "raise"
    assert interface.process.segment.errors == "coerce"
    assert interface.process.segment.to_yaml_s() == vad.to_yaml_s()
