r"""Transcripts: reading every format, and emotion per sentence and word.

Every test runs on a real recording whose words and times are known:
each word is spoken on its own by espeak-ng
(two voices, two speakers)
and placed with known pauses,
and one sentence is a human voice of alsa-utils.
The transcript files are written by the libraries that write them
(srt, webvtt-py, praatio, audformat);
whisper and whisperX JSON, which no library here writes,
are written by hand in their documented shape.
"""

import dataclasses
import datetime
import json
import os
import re
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

import audformat
import audiofile
import audobject
import audresample

import audemo
from audemo.core.cli import main
from audemo.core.results import read_results
from conftest import ALSA_SOUNDS
from conftest import synthesize


SR = 16000
# (speaker, words) of each sentence; the human one is an alsa prompt
SCRIPT = [
    ("A", ["Hello", "there,", "how", "are", "you", "today?"]),
    ("B", ["I", "am", "fine,", "thank", "you."]),
    ("human", "Front_Center.wav"),
    ("A", ["Good", "to", "hear."]),
]
VOICES = {"A": "en-us", "B": "en-gb+f3"}
WORD_PAUSE = 0.05
SENTENCE_PAUSE = 0.5
HUMAN_TEXT = "Front center."


def clip(signal: np.ndarray, sampling_rate: int) -> np.ndarray:
    r"""Mono 16 kHz, cut to whole 10 ms, so that times have 2 decimals."""
    if sampling_rate != SR:
        signal = audresample.resample(signal, sampling_rate, SR)
    signal = signal.reshape(-1)
    return signal[: len(signal) // 160 * 160]


@pytest.fixture(scope="module")
def call(tmp_path_factory):
    r"""Recording ``call.wav`` with its sentences and words.

    Returns the folder, the path,
    the sentences ``[(speaker, start, end, text)]``
    and the words ``[(sentence, start, end, word)]``.

    """
    root = tmp_path_factory.mktemp("call")
    pieces, sentences, words = [], [], []
    position = round(0.3 * SR)
    for i, (speaker, spoken) in enumerate(SCRIPT):
        start = position
        if speaker == "human":
            signal, sampling_rate = audiofile.read(os.path.join(ALSA_SOUNDS, spoken))
            signal = clip(signal, sampling_rate)
            pieces.append((position, signal))
            position += len(signal)
            text = HUMAN_TEXT
        else:
            for k, word in enumerate(spoken):
                path = synthesize(
                    word.strip(",.?"),
                    str(root / f"word-{i}-{k}.wav"),
                    voice=VOICES[speaker],
                )
                signal = clip(*audiofile.read(path))
                pieces.append((position, signal))
                words.append((i, position / SR, (position + len(signal)) / SR, word))
                position += len(signal) + round(WORD_PAUSE * SR)
            position -= round(WORD_PAUSE * SR)
            text = " ".join(spoken)
        sentences.append((speaker, start / SR, position / SR, text))
        position += round(SENTENCE_PAUSE * SR)
    mix = np.zeros(position, dtype=np.float32)
    for start, signal in pieces:
        mix[start : start + len(signal)] = signal
    mix = mix / np.abs(mix).max() * 0.9
    path = str(root / "call.wav")
    audiofile.write(path, mix, SR)
    return str(root), path, sentences, words


def expected(path, rows, *, speakers=True):
    r"""Transcript frame of ``(speaker, start, end, text)`` rows."""
    index = audformat.segmented_index(
        [path] * len(rows),
        pd.to_timedelta([round(row[1] * 1e9) for row in rows], unit="ns"),
        pd.to_timedelta([round(row[2] * 1e9) for row in rows], unit="ns"),
    )
    frame = pd.DataFrame({"text": pd.array([row[3] for row in rows], "string")})
    frame.index = index
    if speakers:
        frame.insert(0, "speaker", pd.array([row[0] for row in rows], "string"))
    return frame


def expected_words(call):
    _, path, sentences, words = call
    return expected(
        path, [(sentences[i][0], start, end, word) for i, start, end, word in words]
    )


def timedelta(seconds):
    return datetime.timedelta(microseconds=round(seconds * 1e6))


def write_srt(path, sentences, *, newline="\n", bom=False):
    import srt

    text = srt.compose(
        [
            srt.Subtitle(i + 1, timedelta(start), timedelta(end), words)
            for i, (_, start, end, words) in enumerate(sentences)
        ]
    )
    with open(path, "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as fp:
        fp.write(text.replace("\n", newline))
    return path


def vtt_time(seconds):
    milliseconds = round(seconds * 1000)
    hours, rest = divmod(milliseconds, 3600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


def write_vtt(path, sentences):
    import webvtt

    vtt = webvtt.WebVTT()
    for speaker, start, end, text in sentences:
        vtt.captions.append(
            webvtt.Caption(vtt_time(start), vtt_time(end), f"<v {speaker}>{text}")
        )
    vtt.save(path)
    return path


def write_textgrid(path, sentences, duration, *, format="long_textgrid"):
    from praatio import textgrid
    from praatio.utilities.constants import Interval

    grid = textgrid.Textgrid()
    for speaker in dict.fromkeys(row[0] for row in sentences):
        intervals = [
            Interval(start, end, text)
            for who, start, end, text in sentences
            if who == speaker
        ]
        grid.addTier(textgrid.IntervalTier(speaker, intervals, 0, duration))
    # a point tier (e.g. pitch marks) holds no speech and is ignored
    grid.addTier(textgrid.PointTier("marks", [(0.5, "peak")], 0, duration))
    grid.save(path, format=format, includeBlankSpaces=True)
    return path


def whisper_json(sentences, words, *, speakers=False):
    r"""JSON as openai-whisper (word_timestamps=True) or whisperX write it."""
    segments = []
    for i, (speaker, start, end, text) in enumerate(sentences):
        segment = {"id": i, "start": start, "end": end, "text": " " + text}
        segment["words"] = [
            {"word": " " + word, "start": s, "end": e, "probability": 0.9}
            for k, s, e, word in words
            if k == i
        ]
        if speakers:
            segment["speaker"] = speaker
            for word in segment["words"]:
                word["speaker"] = speaker
            if not segment["words"]:  # whisperX leaves some words unaligned
                segment["words"] = [{"word": text}]
        segments.append(segment)
    return {"text": " ".join(row[3] for row in sentences), "segments": segments}


def write_json(path, data):
    with open(path, "w", encoding="utf-8") as fp:
        json.dump(data, fp, indent=2)
    return path


# ----- reading ------------------------------------------------------------


def test_read_srt(call, tmp_path):
    root, path, sentences, _ = call
    srt_path = write_srt(str(tmp_path / "call.srt"), sentences)
    transcript = audemo.read_transcript(srt_path, file=path)
    pd.testing.assert_frame_equal(transcript, expected(path, sentences, speakers=False))
    # a byte order mark and Windows line ends read the same
    windows = write_srt(
        str(tmp_path / "windows.srt"), sentences, newline="\r\n", bom=True
    )
    pd.testing.assert_frame_equal(
        audemo.read_transcript(windows, file=path), transcript
    )


def test_read_srt_next_to_recording(call):
    root, path, sentences, _ = call
    write_srt(os.path.join(root, "call.srt"), sentences)
    transcript = audemo.read_transcript(os.path.join(root, "call.srt"))
    pd.testing.assert_frame_equal(transcript, expected(path, sentences, speakers=False))
    # relative to a root, the recording is named as found next to it
    relative = audemo.read_transcript(os.path.join(root, "call.srt"), root=root)
    assert relative.index.get_level_values("file").unique().tolist() == ["call.wav"]


def test_read_srt_markup_and_empty(call, tmp_path):
    _, path, _, _ = call
    with open(tmp_path / "markup.srt", "w") as fp:
        fp.write(
            "1\n00:00:00,300 --> 00:00:01,000\n<i>Hello</i>\n<b>there</b>\n\n"
            "2\n00:00:01,000 --> 00:00:01,500\n \n\n"
            "3\n00:00:02,000 --> 00:00:02,500\n<font color='red'>a < b</font>\n"
        )
    transcript = audemo.read_transcript(str(tmp_path / "markup.srt"), file=path)
    # the empty subtitle is dropped
    assert transcript["text"].tolist() == ["Hello there", "a < b"]


def test_read_vtt(call, tmp_path):
    _, path, sentences, _ = call
    vtt = write_vtt(str(tmp_path / "call.vtt"), sentences)
    transcript = audemo.read_transcript(vtt, file=path)
    pd.testing.assert_frame_equal(transcript, expected(path, sentences))


def test_read_vtt_without_voices(call, tmp_path):
    _, path, sentences, _ = call
    with open(tmp_path / "plain.vtt", "w") as fp:
        fp.write(f"WEBVTT\n\n{vtt_time(0.3)} --> {vtt_time(1.0)}\nHello there\n")
    transcript = audemo.read_transcript(str(tmp_path / "plain.vtt"), file=path)
    assert list(transcript.columns) == ["text"]


def test_read_textgrid(call, tmp_path):
    _, path, sentences, _ = call
    duration = audiofile.duration(path)
    for format in ("long_textgrid", "short_textgrid"):
        grid = write_textgrid(
            str(tmp_path / f"{format}.TextGrid"), sentences, duration, format=format
        )
        transcript = audemo.read_transcript(grid, file=path)
        pd.testing.assert_frame_equal(transcript, expected(path, sentences))
    # Praat writes non-ASCII text as UTF-16
    text = open(grid, encoding="utf-8").read().replace("Good to", "Göod to")
    with open(tmp_path / "utf16.TextGrid", "w", encoding="utf-16") as fp:
        fp.write(text)
    transcript = audemo.read_transcript(str(tmp_path / "utf16.TextGrid"), file=path)
    assert transcript["text"].iloc[-1] == "Göod to hear."


def test_read_whisper_json(call, tmp_path):
    _, path, sentences, words = call
    whisper = write_json(str(tmp_path / "call.json"), whisper_json(sentences, words))
    segments = audemo.read_transcript(whisper, file=path)
    pd.testing.assert_frame_equal(segments, expected(path, sentences, speakers=False))
    transcript = audemo.read_transcript(whisper, file=path, level="word")
    pd.testing.assert_frame_equal(
        transcript, expected_words(call).drop(columns="speaker")
    )


def test_read_whisperx_json(call, tmp_path):
    _, path, sentences, words = call
    data = whisper_json(sentences, words, speakers=True)
    whisperx = write_json(str(tmp_path / "call.json"), data)
    segments = audemo.read_transcript(whisperx, file=path)
    pd.testing.assert_frame_equal(segments, expected(path, sentences))
    with pytest.warns(RuntimeWarning, match=r"Left out 1 word without times"):
        transcript = audemo.read_transcript(whisperx, file=path, level="word")
    pd.testing.assert_frame_equal(transcript, expected_words(call))


def test_read_words_without_duration(call, tmp_path):
    _, path, sentences, words = call
    data = whisper_json(sentences, words)
    # whisper ends a segment with a word it cannot place in time
    data["segments"][0]["words"].append({"word": " again", "start": 2.5, "end": 2.5})
    whisper = write_json(str(tmp_path / "call.json"), data)
    with pytest.warns(RuntimeWarning, match=r"Left out 1 row without duration"):
        transcript = audemo.read_transcript(whisper, file=path, level="word")
    pd.testing.assert_frame_equal(
        transcript, expected_words(call).drop(columns="speaker")
    )


def test_read_audformat_table(call, tmp_path):
    root, path, sentences, _ = call
    db = audformat.Database("call")
    frame = expected("call.wav", sentences)
    db.schemes["text"] = audformat.Scheme("str")
    db.schemes["speaker"] = audformat.Scheme("str")
    db["transcript"] = audformat.Table(frame.index)
    db["transcript"]["speaker"] = audformat.Column(scheme_id="speaker")
    db["transcript"]["speaker"].set(frame["speaker"].astype(object))
    db["transcript"]["text"] = audformat.Column(scheme_id="text")
    db["transcript"]["text"].set(frame["text"].astype(object))
    db.save(root)
    db = audformat.Database.load(root)
    transcript = audemo.read_transcript(db["transcript"].get(), root=db.root)
    pd.testing.assert_frame_equal(transcript, frame)
    # a Series of text is a transcript without speakers
    series = audemo.read_transcript(db["transcript"]["text"].get(), root=db.root)
    pd.testing.assert_frame_equal(series, frame.drop(columns="speaker"))


def test_clip_to_recording(call, tmp_path):
    _, path, sentences, _ = call
    duration = audiofile.duration(path)
    late = sentences[:-1] + [sentences[-1][:2] + (duration + 0.5, "Good to hear.")]
    srt_path = write_srt(str(tmp_path / "late.srt"), late)
    with pytest.warns(RuntimeWarning, match=r"late.srt, line 14: .* -> "):
        transcript = audemo.read_transcript(srt_path, file=path)
    end = transcript.index.get_level_values("end")[-1]
    assert end.total_seconds() == pytest.approx(duration)


def write_text(path, text, encoding="utf-8"):
    with open(path, "w", encoding=encoding, newline="") as fp:
        fp.write(text)
    return str(path)


SRT_CUE = "1\n00:00:00,300 --> 00:00:01,000\nHello\n\n"


@pytest.mark.parametrize(
    "name, text, error",
    [
        (
            "bad.srt",
            SRT_CUE + "2\n00:00:01,500 --> 00:00:0x,000\nthere\n",
            r"bad.srt, line 6: bad timestamps",
        ),
        (
            "order.srt",
            SRT_CUE + "2\n00:00:02,500 --> 00:00:02,000\nthere\n",
            r"order.srt, line 6: ends at 2 s, before it starts \(2.5 s\)",
        ),
        (
            "late.srt",
            SRT_CUE + "2\n00:09:00,000 --> 00:09:01,000\nthere\n",
            r"late.srt, line 6: 540 s lies past the end of",
        ),
        (
            "junk.srt",
            SRT_CUE + "2\n00:00:01,500 -> 00:00:02,000\nthere\n",
            r"junk.srt, line 5: not a SubRip subtitle",
        ),
        (
            "header.vtt",
            "00:00:00.300 --> 00:00:01.000\nHello\n",
            r"header.vtt, line 1: not a WebVTT file",
        ),
        (
            "order.vtt",
            "WEBVTT\n\n00:00:00.300 --> 00:00:01.000\nHi\n\n"
            "00:00:01.000 --> 00:00:00.500\nthere\n",
            r"order.vtt, line 6: ends at 0.5 s, before it starts \(1 s\)",
        ),
        ("syntax.json", '{"segments": [\n  {"start": 0,}\n]}', r"syntax.json, line 2"),
        ("list.json", "[1, 2]", r"list.json: unknown JSON shape \(list\)"),
        (
            "keys.json",
            '{"segments": [{"start": 0, "end": 1}]}',
            r"keys.json, segments\[0\]: unknown JSON shape: a segment needs",
        ),
        (
            "time.json",
            '{"segments": [{"start": "soon", "end": 1, "text": "Hi"}]}',
            r"time.json, segments\[0\]: the start 'soon' is not a number",
        ),
        (
            "negative.json",
            '{"segments": [{"start": -1, "end": 1, "text": "Hi"}]}',
            r"negative.json, segments\[0\]: the start -1 is negative",
        ),
        (
            "text.json",
            '{"segments": [{"start": 0, "end": 1, "text": 5}]}',
            r"text.json, segments\[0\]: the text 5 is not a string",
        ),
        (
            "speaker.json",
            '{"segments": [{"start": 0, "end": 1, "text": "Hi", "speaker": [1]}]}',
            r"speaker.json, segments\[0\]: the speaker \[1\] is not a name",
        ),
        ("junk.TextGrid", "garbage\n", r"junk.TextGrid: not a Praat TextGrid"),
        ("call.txt", "Hello", r"'.*call.txt' is not a transcript file"),
    ],
)
def test_bad_files(call, tmp_path, name, text, error):
    _, path, _, _ = call
    transcript = write_text(tmp_path / name, text)
    with pytest.raises(ValueError, match=error):
        audemo.read_transcript(transcript, file=path)


def test_bad_textgrid_times(call, tmp_path):
    _, path, sentences, _ = call
    late = sentences[:1] + [("A", 50.0, 51.0, "Later.")]
    grid = write_textgrid(str(tmp_path / "call.TextGrid"), late, 60.0)
    with pytest.raises(ValueError, match=r"tier 'A', interval 4: 50 s lies past"):
        audemo.read_transcript(grid, file=path)


def test_wrong_encoding(call, tmp_path):
    _, path, _, _ = call
    transcript = write_text(
        tmp_path / "latin.srt",
        "1\n00:00:00,300 --> 00:00:01,000\nHello\n\n"
        "2\n00:00:01,500 --> 00:00:02,000\nGrüße\n",
        encoding="latin-1",
    )
    with pytest.raises(ValueError, match=r"latin.srt, line 7: not UTF-8 .*0xfc"):
        audemo.read_transcript(transcript, file=path)


def test_word_level_needs_word_times(call, tmp_path):
    _, path, sentences, words = call
    srt_path = write_srt(str(tmp_path / "call.srt"), sentences)
    with pytest.raises(ValueError, match=r"SubRip files have no word times"):
        audemo.read_transcript(srt_path, file=path, level="word")
    data = whisper_json(sentences, words)
    del data["segments"][1]["words"]
    whisper = write_json(str(tmp_path / "call.json"), data)
    with pytest.raises(ValueError, match=r"segments\[1\]: no 'words' list"):
        audemo.read_transcript(whisper, file=path, level="word")
    with pytest.raises(ValueError, match=r"level must be one of"):
        audemo.read_transcript(whisper, file=path, level="sentence")


def test_bad_arguments(call, tmp_path):
    root, path, sentences, _ = call
    srt_path = write_srt(str(tmp_path / "call.srt"), sentences)
    with pytest.raises(FileNotFoundError, match=r"Transcript file '.*none.srt'"):
        audemo.read_transcript(str(tmp_path / "none.srt"), file=path)
    with pytest.raises(ValueError, match=r"Found 0 recordings of '.*call.srt'"):
        audemo.read_transcript(srt_path)
    with pytest.raises(FileNotFoundError, match=r"Recording 'none.wav' .* root"):
        audemo.read_transcript(srt_path, file="none.wav")
    with pytest.raises(TypeError, match=r"file must be the path of the recording"):
        audemo.read_transcript(srt_path, file=1)
    with pytest.raises(TypeError, match=r"source must be a transcript file"):
        audemo.read_transcript(1)
    frame = expected(path, sentences)
    with pytest.raises(ValueError, match=r"needs a 'text' column"):
        audemo.read_transcript(frame.rename(columns={"text": "words"}))
    with pytest.raises(ValueError, match=r"A frame is read as it is"):
        audemo.read_transcript(frame, level="word")
    with pytest.raises(ValueError, match=r"need start and end times"):
        audemo.read_transcript(frame.reset_index(["start", "end"], drop=True))


def test_missing_extra(call, tmp_path, monkeypatch):
    _, path, sentences, _ = call
    srt_path = write_srt(str(tmp_path / "call.srt"), sentences)
    monkeypatch.setitem(sys.modules, "srt", None)  # as if not installed
    with pytest.raises(ImportError, match=r"pip install 'audemo\[transcripts\]'"):
        audemo.read_transcript(srt_path, file=path)


# ----- emotion ------------------------------------------------------------


@pytest.fixture(scope="module")
def interface(model_root):
    return audemo.Emotion(model_root)


def test_process_segments(call, interface, cache_root):
    _, path, sentences, _ = call
    transcript = expected(path, sentences)
    frame = audemo.process_transcript(interface, transcript)
    cached = audemo.process_transcript(
        interface, transcript, cache_root=cache_root, file_key="content"
    )
    pd.testing.assert_frame_equal(cached, frame)
    assert list(frame.columns) == [
        "speaker",
        "text",
        "arousal",
        "dominance",
        "valence",
        "overlap",
    ]
    pd.testing.assert_index_equal(frame.index, transcript.index)
    pd.testing.assert_series_equal(frame["text"], transcript["text"])
    pd.testing.assert_series_equal(frame["speaker"], transcript["speaker"])
    scores = interface.process_index(transcript.index)
    pd.testing.assert_frame_equal(frame[scores.columns], scores)
    assert not frame["overlap"].any()
    # the same rows as turns of process_turns
    turns = audemo.process_turns(interface, transcript["speaker"])
    pd.testing.assert_frame_equal(frame.drop(columns="text"), turns)
    # without speakers: no speaker, no overlap
    alone = audemo.process_transcript(interface, transcript.drop(columns="speaker"))
    assert list(alone.columns) == ["text", "arousal", "dominance", "valence"]
    pd.testing.assert_frame_equal(alone[scores.columns], scores)


def test_process_segments_windows(call, model_root):
    _, path, sentences, _ = call
    transcript = expected(path, sentences)
    windows = audemo.Emotion(model_root, win_dur=1.0, hop_dur=0.5)
    frame = audemo.process_transcript(windows, transcript)
    assert list(frame.columns[:3]) == ["speaker", "turn", "text"]
    texts = transcript["text"].to_numpy()[frame["turn"].to_numpy()]
    assert frame["text"].tolist() == list(texts)
    assert frame["text"].nunique() == len(sentences)


def test_process_words(call, interface):
    _, path, _, _ = call
    transcript = expected_words(call)
    frame = audemo.process_transcript(interface, transcript, level="word")
    pd.testing.assert_index_equal(frame.index, transcript.index)
    pd.testing.assert_frame_equal(frame[["speaker", "text"]], transcript)
    assert list(frame.columns) == [
        "speaker",
        "text",
        "arousal",
        "dominance",
        "valence",
        "overlap",
    ]
    # each word: the emotion of 2 s centred on it, clipped to the recording
    duration = audiofile.duration(path)
    starts = transcript.index.get_level_values("start").total_seconds()
    ends = transcript.index.get_level_values("end").total_seconds()
    centres = (starts + ends) / 2
    windows = audformat.segmented_index(
        [path] * len(transcript),
        np.clip(centres - 1.0, 0, None),
        np.minimum(centres + 1.0, duration),
    )
    scores = interface.process_index(windows)
    np.testing.assert_allclose(
        frame[scores.columns].to_numpy(), scores.to_numpy(), atol=1e-6
    )
    # the first word's window is clipped at the start of the recording
    assert centres[0] < 1.0
    # neighbouring words have different windows and scores
    assert frame["arousal"].nunique() == len(frame)


def test_process_words_shared_window(call, interface):
    _, path, _, _ = call
    transcript = expected_words(call).drop(columns="speaker")
    # a context longer than the recording: every word's window is the file
    frame = audemo.process_transcript(
        interface, transcript, level="word", context=600.0
    )
    whole = interface.process_index(
        audformat.segmented_index([path], [0], [audiofile.duration(path)])
    )
    for dimension in whole.columns:
        assert (frame[dimension] == whole[dimension].iloc[0]).all()


def test_process_short_segments(call, model_root, interface):
    _, path, sentences, _ = call
    short = sentences[:1] + [("B", 2.0, 2.01, "Uh")]
    transcript = expected(path, short)
    with pytest.raises(ValueError, match=r"1 turn shorter than 25 ms"):
        audemo.process_transcript(interface, transcript)
    coerce = audemo.Emotion(model_root, errors="coerce")
    with pytest.warns(RuntimeWarning, match=r"shorter than 25 ms"):
        frame = audemo.process_transcript(coerce, transcript)
    assert frame["text"].tolist() == ["Hello there, how are you today?", "Uh"]
    assert frame["arousal"].isna().tolist() == [False, True]


def test_process_errors(call, interface, model_root):
    _, path, sentences, _ = call
    transcript = expected(path, sentences)
    with pytest.raises(TypeError, match=r"audinterface.Feature"):
        audemo.process_transcript(None, transcript)
    with pytest.raises(ValueError, match=r"level must be one of"):
        audemo.process_transcript(interface, transcript, level="sentence")
    with pytest.raises(ValueError, match=r"use level='word'"):
        audemo.process_transcript(interface, transcript, context=2.0)
    with pytest.raises(ValueError, match=r"context must be a number"):
        audemo.process_transcript(interface, transcript, level="word", context=0.01)
    windows = audemo.Emotion(model_root, win_dur=1.0)
    with pytest.raises(ValueError, match=r"without win_dur and segment"):
        audemo.process_transcript(windows, transcript, level="word")
    with pytest.raises(ValueError, match=r"frame with a 'text' column"):
        audemo.process_transcript(interface, transcript["text"])
    partial = transcript.copy()
    partial.loc[partial.index[1], "speaker"] = pd.NA
    with pytest.raises(ValueError, match=r"1 row of the transcript without a"):
        audemo.process_transcript(interface, partial)


def test_assign_speakers(call, tmp_path):
    _, path, sentences, _ = call
    transcript = expected(path, sentences, speakers=False)
    # turns of a diarization: shifted a little, one gap without a turn
    turns = pd.Series(
        ["A", "B", "A"],
        index=audformat.segmented_index(
            [path] * 3,
            [sentences[0][1] + 0.1, sentences[1][1] - 0.2, sentences[3][1] + 0.3],
            [sentences[0][2] + 0.3, sentences[1][2] - 0.1, sentences[3][2]],
        ),
    )
    assigned = audemo.assign_speakers(transcript, turns)
    # the human sentence lies in no turn: the nearest turn, B's, ends before it
    assert assigned["speaker"].tolist() == ["A", "B", "B", "A"]
    assert list(assigned.columns) == ["speaker", "text"]
    other = turns.rename(lambda file: "other.wav", level="file")
    with pytest.raises(ValueError, match=r"no turns for 1 file"):
        audemo.assign_speakers(transcript, other)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = audemo.assign_speakers(assigned, turns)
    pd.testing.assert_frame_equal(again, assigned)


# ----- command line ---------------------------------------------------------


def cli(capsys, *args):
    r"""Run ``audemo`` in this process: exit code, stdout, stderr."""
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_words_and_summary(call, tmp_path, model_root, interface, capsys):
    _, path, sentences, words = call
    data = whisper_json(sentences, words, speakers=True)
    whisperx = write_json(str(tmp_path / "call.json"), data)
    output = str(tmp_path / "words.csv")
    with pytest.warns(RuntimeWarning, match=r"1 word without times"):
        code, _, err = cli(
            capsys,
            "predict", path, "--model", model_root, "--transcript", whisperx,
            "--level", "word", "--context", "1.5", "-o", output,
        )  # fmt: skip
    assert code == 0, err
    assert "14 rows" in err.splitlines()[-1]
    with open(output) as fp:
        header = fp.readline().strip()
    assert header == ("file,start,end,speaker,text,arousal,dominance,valence,overlap")
    frame = read_results(output)
    with pytest.warns(RuntimeWarning, match=r"1 word without times"):
        transcript = audemo.read_transcript(whisperx, file=path, level="word")
    expected_frame = audemo.process_transcript(
        interface, transcript, level="word", context=1.5
    )
    assert frame["text"].tolist() == expected_frame["text"].tolist()
    assert frame["speaker"].tolist() == expected_frame["speaker"].tolist()
    np.testing.assert_allclose(
        frame[["arousal", "dominance", "valence"]].to_numpy(),
        expected_frame[["arousal", "dominance", "valence"]].to_numpy(),
        rtol=1e-6,
    )
    # audemo summary sums the words up per speaker
    code, out, err = cli(capsys, "summary", output)
    assert code == 0, err
    assert out.split("\n")[1].split() == ["speaker", "A", "B"]
    # words apart by pauses count as turns of their own
    assert re.search(r"turns\s+9\s+5\n", out)
    # without speakers there is nothing to sum up per speaker
    plain = str(tmp_path / "plain.csv")
    read_results(output).drop(columns="speaker").to_csv(plain)
    code, _, err = cli(capsys, "summary", plain)
    assert code == 1
    assert "plain.csv' holds no speakers" in err
    assert "--speakers" in err and "--transcript" in err


def test_cli_segments_with_speakers(call, tmp_path, model_root, interface, capsys):
    _, path, sentences, _ = call
    srt_path = write_srt(str(tmp_path / "call.srt"), sentences)
    rttm = tmp_path / "call.rttm"
    with open(rttm, "w") as fp:
        for speaker, start, end, _ in sentences:
            who = "B" if speaker == "human" else speaker
            fp.write(
                f"SPEAKER call 1 {start:.2f} {end - start:.2f} <NA> <NA> {who} "
                f"<NA> <NA>\n"
            )
    output = str(tmp_path / "segments.parquet")
    code, _, err = cli(
        capsys,
        "predict", path, "--model", model_root, "--transcript", srt_path,
        "--speakers", str(rttm), "-o", output,
    )  # fmt: skip
    assert code == 0, err
    frame = read_results(output)
    assert list(frame.columns) == [
        "speaker", "text", "arousal", "dominance", "valence", "overlap"
    ]  # fmt: skip
    assert frame["speaker"].tolist() == ["A", "B", "B", "A"]
    assert frame["text"].tolist() == [row[3] for row in sentences]
    scores = interface.process_index(frame.index)
    np.testing.assert_allclose(
        frame[scores.columns].to_numpy(), scores.to_numpy(), rtol=1e-6
    )


def test_cli_database(call, tmp_path, model_root, interface, capsys):
    _, path, sentences, _ = call
    root = str(tmp_path / "db")
    os.makedirs(root)
    audiofile.write(os.path.join(root, "call.wav"), *audiofile.read(path))
    db = audformat.Database("call")
    frame = expected("call.wav", sentences)
    db.schemes["str"] = audformat.Scheme("str")
    db["transcript"] = audformat.Table(frame.index)
    for column in ("speaker", "words"):
        db["transcript"][column] = audformat.Column(scheme_id="str")
        db["transcript"][column].set(frame[column.replace("words", "text")])
    db.save(root)
    code, _, err = cli(
        capsys,
        "predict", root, "--model", model_root,
        "--transcript", f"{root}:transcript:words", "-o", root, "--table", "said",
    )  # fmt: skip
    assert code == 0, err
    table = audformat.Database.load(root)["said"].get()
    assert table["text"].tolist() == frame["text"].tolist()
    assert table["speaker"].tolist() == frame["speaker"].tolist()
    assert audformat.Database.load(root).schemes["audemo-text"].dtype == "str"
    scores = interface.process_index(frame.index, root=root)
    np.testing.assert_allclose(
        table[scores.columns].to_numpy(), scores.to_numpy(), rtol=1e-6
    )


def test_cli_errors(call, tmp_path, model_root, capsys):
    _, path, sentences, _ = call
    vtt = write_vtt(str(tmp_path / "call.vtt"), sentences)
    rttm = tmp_path / "call.rttm"
    rttm.write_text("SPEAKER call 1 0.3 1.0 <NA> <NA> A <NA> <NA>\n")
    db = audformat.Database("empty")
    db.schemes["str"] = audformat.Scheme("str")
    db["transcript"] = audformat.Table(
        audformat.segmented_index(["other.wav"], [0], [1])
    )
    db["transcript"]["text"] = audformat.Column(scheme_id="str")
    db.save(str(tmp_path / "db"))
    base = ["predict", path, "--model", model_root]
    for args, error in [
        (["--level", "word"], r"--level and --context need --transcript"),
        (["--transcript", vtt, "--context", "2"], r"add --level word"),
        (
            ["--transcript", vtt, "--level", "word", "--context", "0.01"],
            r"--context must be at least 0.025 seconds",
        ),
        (
            ["--transcript", vtt, "--level", "word", "--win-dur", "1"],
            r"leave out --win-dur and --vad",
        ),
        (
            ["--transcript", vtt, "--speakers", str(rttm), "--exclude-overlap"],
            r"--exclude-overlap cuts turns",
        ),
        (["--transcript", vtt, "--speakers", str(rttm)], r"names its speakers"),
        (
            ["--transcript", vtt, "--level", "word"],
            r"WebVTT files have no word times.*--level segment",
        ),
        (
            ["--transcript", f"{tmp_path / 'db'}:transcript"],
            r"--transcript .*db:transcript:text has no rows for the input",
        ),
        (
            ["--transcript", f"{tmp_path / 'db'}:transcript:words"],
            r"--transcript .*:transcript:words: table 'transcript' has no column",
        ),
    ]:
        code, _, err = cli(capsys, *base, *args)
        assert code == 1, args
        assert re.search(error, err), (args, err)
    other = str(tmp_path / "other.wav")
    audiofile.write(other, *audiofile.read(path))
    two = ["predict", path, other, "--model", model_root, "--transcript", vtt]
    code, _, err = cli(capsys, *two)
    assert code == 1
    assert "got 2 input files" in err
    with pytest.raises(SystemExit):
        main([*base, "--transcript", "call.txt"])
    assert "neither a transcript file" in capsys.readouterr().err


# ----- the page -------------------------------------------------------------


def open_page(page_path):
    r"""Lines of a transcript page as Chromium shows them."""
    playwright = pytest.importorskip("playwright.sync_api")
    if not os.path.exists("/usr/bin/chromium"):
        pytest.skip("needs Debian's chromium: apt-get install chromium")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium")
        page = browser.new_page()
        page.goto(f"file://{page_path}")
        shown = page.evaluate(
            """() => ({
                scripts: document.querySelectorAll('script').length,
                legend: document.querySelector('.legend').innerText,
                lines: [...document.querySelectorAll('.line')].map(line => ({
                    time: line.querySelector('.time').innerText,
                    speaker: line.querySelector('.speaker').innerText,
                    spans: [...line.querySelectorAll('.text span')].map(span => ({
                        text: span.innerText,
                        value: Number(span.dataset.value),
                        title: span.title,
                        background: getComputedStyle(span).backgroundColor,
                    })),
                })),
            })"""
        )
        browser.close()
    return shown


def test_page_segments(call, tmp_path, model_root, capsys):
    _, path, sentences, _ = call
    # text from elsewhere: markup must show as text, never run
    hostile = sentences[:-1] + [
        sentences[-1][:3] + ("<script>alert(1)</script> & <b>bold</b>",)
    ]
    data = whisper_json(hostile, [], speakers=True)
    whisperx = write_json(str(tmp_path / "call.json"), data)
    results = str(tmp_path / "call.csv")
    code, _, err = cli(
        capsys, "predict", path, "--model", model_root, "--transcript", whisperx,
        "-o", results,
    )  # fmt: skip
    assert code == 0, err
    page_path = str(tmp_path / "call.html")
    code, out, err = cli(
        capsys, "plot", results, "--kind", "transcript", "--dimension", "arousal",
        "-o", page_path,
    )  # fmt: skip
    assert code == 0, err
    assert out.strip() == page_path
    shown = open_page(page_path)
    assert shown["scripts"] == 0
    frame = read_results(results)
    lines = shown["lines"]
    assert len(lines) == len(sentences)
    assert [line["speaker"] for line in lines] == [row[0] for row in sentences]
    assert [line["time"] for line in lines] == [
        f"0:{row[1]:04.1f}" for row in sentences
    ]
    spans = [line["spans"][0] for line in lines]
    assert [span["text"] for span in spans] == frame["text"].tolist()
    assert spans[-1]["text"] == "<script>alert(1)</script> & <b>bold</b>"
    np.testing.assert_allclose(
        [span["value"] for span in spans], frame["arousal"], rtol=1e-5
    )
    for span, value in zip(spans, frame["arousal"]):
        assert span["title"].startswith(f"arousal {value:.3f}, ")
    # the lowest score is blue, the highest red
    low, high = frame["arousal"].argmin(), frame["arousal"].argmax()
    assert spans[low]["background"] == "rgba(44, 123, 182, 0.6)"
    assert spans[high]["background"] == "rgba(215, 25, 28, 0.6)"
    assert shown["legend"].split() == [
        "arousal",
        f"{frame['arousal'].min():.2f}",
        f"{frame['arousal'].max():.2f}",
    ]


def test_page_words(call, tmp_path, model_root, capsys):
    _, path, sentences, words = call
    data = whisper_json(sentences, words, speakers=True)
    whisperx = write_json(str(tmp_path / "call.json"), data)
    results = str(tmp_path / "words.parquet")
    with pytest.warns(RuntimeWarning, match=r"1 word without times"):
        code, _, err = cli(
            capsys, "predict", path, "--model", model_root,
            "--transcript", whisperx, "--level", "word", "-o", results,
        )  # fmt: skip
    assert code == 0, err
    page_path = str(tmp_path / "words.html")
    code, _, err = cli(capsys, "plot", results, "--kind", "transcript", "-o", page_path)
    assert code == 0, err
    lines = open_page(page_path)["lines"]
    # a line per sentence (the human one has no word times), a span per word
    assert [[span["text"] for span in line["spans"]] for line in lines] == [
        SCRIPT[0][1],
        SCRIPT[1][1],
        SCRIPT[3][1],
    ]
    frame = read_results(results)
    values = [span["value"] for line in lines for span in line["spans"]]
    np.testing.assert_allclose(values, frame["valence"], rtol=1e-5)


@pytest.mark.slow
def test_page_hour(tmp_path):
    r"""An hour of 10,000 words and a missing score: all on the page."""
    rng = np.random.default_rng(0)
    starts = np.arange(10_000) * 0.4
    frame = pd.DataFrame(
        {
            "speaker": np.where((np.arange(10_000) // 40) % 2, "B", "A"),
            "text": [f"word{i}" + ("." if i % 12 == 11 else "") for i in range(10_000)],
            "valence": rng.uniform(0.2, 0.8, 10_000),
        },
        index=audformat.segmented_index(["call.wav"] * 10_000, starts, starts + 0.3),
    )
    frame.loc[frame.index[5], "valence"] = np.nan
    page = audemo.plot.transcript(frame, vmin=0.0, vmax=1.0)
    page_path = tmp_path / "hour.html"
    page_path.write_text(page, encoding="utf-8")
    lines = open_page(str(page_path))["lines"]
    spans = [span for line in lines for span in line["spans"]]
    assert len(spans) == 10_000
    # the last line: the last 4 words, from 9996 * 0.4 s = 1:06:38.4
    assert lines[-1]["time"] == "1:06:38.4"
    assert len(lines[-1]["spans"]) == 4
    assert spans[5]["title"].startswith("valence: no score")
    assert [span["text"] for span in spans[:3]] == ["word0", "word1", "word2"]


def test_page_errors(call, tmp_path, capsys):
    index = audformat.segmented_index(["a.wav", "b.wav"], [0, 0], [1, 1])
    frame = pd.DataFrame({"text": ["Hi", "Yo"], "valence": [0.5, 0.5]}, index=index)
    with pytest.raises(ValueError, match=r"needs a 'text' column"):
        audemo.plot.transcript(frame.drop(columns="text"))
    with pytest.raises(ValueError, match=r"no column 'arousal'"):
        audemo.plot.transcript(frame, dimension="arousal")
    with pytest.raises(ValueError, match=r"hold 2 files"):
        audemo.plot.transcript(frame)
    with pytest.raises(ValueError, match=r"level must be"):
        audemo.plot.transcript(frame, file="a.wav", level="sentence")
    with pytest.raises(ValueError, match=r"vmin \(1\) must be below vmax \(0\)"):
        audemo.plot.transcript(frame, file="a.wav", vmin=1.0, vmax=0.0)
    # one score: the middle of the scale, no tint
    page = audemo.plot.transcript(frame, file="b.wav")
    assert "rgba(215,25,28,0.00)" in page
    frame.to_csv(tmp_path / "results.csv")
    code, _, err = cli(
        capsys, "plot", str(tmp_path / "results.csv"), "--dimension", "valence",
        "-o", str(tmp_path / "x.png"),
    )  # fmt: skip
    assert code == 1
    assert "--dimension tints a transcript" in err


# ----- speech recognition ---------------------------------------------------


def overlapping(heard, known):
    r"""Heard words that match a known word said at the same time."""
    matches = []
    for (file, start, end), text in heard["text"].items():
        for (_, known_start, known_end), known_text in known["text"].items():
            if (
                text.lower() == known_text.strip(",.?").lower()
                and start < known_end
                and known_start < end
            ):
                matches.append(text)
    return matches


@pytest.fixture(scope="module")
def heard(call):
    r"""Words and segments pocketsphinx hears in the call (it takes a while)."""
    _, path, _, _ = call
    transcription = audemo.Transcription(engine="pocketsphinx")
    return transcription(path, level="word"), transcription.process_files([path])


@pytest.mark.slow
def test_pocketsphinx(call, heard, interface):
    r"""Audio to transcript to emotion with a real (weak) recognizer."""
    _, path, sentences, _ = call
    words, segments = heard
    assert list(words.columns) == ["text"]
    # pocketsphinx gets some words right, and at the time they are said
    matches = overlapping(words, expected_words(call))
    assert len(matches) >= 4, matches
    # "center" of the human voice, inside its sentence
    _, human_start, human_end, _ = sentences[2]
    center = words[words["text"] == "center"].index
    assert len(center) == 1
    assert human_start <= center[0][1].total_seconds() < human_end
    # segments hold the words between pauses
    assert " ".join(segments["text"]) == " ".join(words["text"])
    assert len(segments) < len(words)
    frame = audemo.process_transcript(interface, segments)
    scores = interface.process_index(segments.index)
    pd.testing.assert_frame_equal(frame[scores.columns], scores)


class WhisperModel:
    r"""A faster-whisper model without weights: it returns given segments.

    The segments are faster-whisper's own objects,
    built from the words of the call and their known times.
    """

    def __init__(self, call):
        from faster_whisper.transcribe import Segment
        from faster_whisper.transcribe import Word

        _, _, sentences, words = call
        self.segments = []
        for i, (_, start, end, text) in enumerate(sentences):
            self.segments.append(
                Segment(
                    id=i,
                    seek=0,
                    start=start,
                    end=end,
                    text=" " + text,
                    tokens=[1, 2],
                    avg_logprob=-0.2,
                    compression_ratio=1.1,
                    no_speech_prob=0.01,
                    words=[
                        Word(start=s, end=e, word=" " + word, probability=0.9)
                        for k, s, e, word in words
                        if k == i
                    ],
                    temperature=0.0,
                )
            )
        self.calls = []

    def transcribe(self, audio, *, language=None, word_timestamps=False):
        self.calls.append((audio, language, word_timestamps))
        segments = []
        for segment in self.segments:
            words = segment.words if word_timestamps else None
            segments.append(dataclasses.replace(segment, words=words))
        return iter(segments), None


def test_faster_whisper_output(call):
    _, path, sentences, _ = call
    model = WhisperModel(call)
    transcription = audemo.Transcription(model, language="en")
    segments = transcription(path)
    pd.testing.assert_frame_equal(segments, expected(path, sentences, speakers=False))
    words = transcription(path, level="word")
    pd.testing.assert_frame_equal(words, expected_words(call).drop(columns="speaker"))
    assert model.calls == [(path, "en", False), (path, "en", True)]


def test_transcription_errors(call, monkeypatch, tmp_path):
    _, path, _, _ = call
    with pytest.raises(ValueError, match=r"engine must be one of"):
        audemo.Transcription(engine="siri")
    with pytest.raises(TypeError, match=r"model must be the size or folder"):
        audemo.Transcription(3)
    transcription = audemo.Transcription(engine="pocketsphinx")
    with pytest.raises(ValueError, match=r"level must be one of"):
        transcription(path, level="sentence")
    with pytest.raises(FileNotFoundError, match=r"'none.wav' does not exist"):
        transcription("none.wav")
    with pytest.raises(ValueError, match=r"non-empty list of audio files"):
        transcription.process_files(path)
    with pytest.raises(TypeError, match=r"needs the path of its recording"):
        audemo.read_transcript({"segments": []})
    # a model that cannot be loaded: no internet here, no such folder
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    missing = audemo.Transcription(tmp_path / "no-model")
    with pytest.raises(RuntimeError, match=r"could not load the model '.*no-model'"):
        missing(path)
    monkeypatch.setitem(sys.modules, "pocketsphinx", None)  # as if not installed
    with pytest.raises(ImportError, match=r"pip install 'audemo\[asr\]'"):
        transcription(path)


@pytest.mark.slow
def test_cli_auto(call, heard, tmp_path, model_root, capsys):
    _, path, sentences, _ = call
    rttm = tmp_path / "call.rttm"
    half = sentences[1][2]  # A until the end of B's first sentence, then B
    rest = round(audiofile.duration(path) - half, 3)
    rttm.write_text(
        f"SPEAKER call 1 0.0 {half} <NA> <NA> A <NA> <NA>\n"
        f"SPEAKER call 1 {half} {rest} <NA> <NA> B <NA> <NA>\n"
    )
    output = str(tmp_path / "auto.csv")
    code, _, err = cli(
        capsys, "predict", path, "--model", model_root, "--transcript", "auto",
        "--asr", "pocketsphinx", "--speakers", str(rttm), "-o", output,
    )  # fmt: skip
    assert code == 0, err
    frame = read_results(output)
    assert frame["text"].tolist() == heard[1]["text"].tolist()
    ends = frame.index.get_level_values("end").total_seconds()
    assert frame["speaker"].tolist() == ["A" if end <= half else "B" for end in ends]
    code, _, err = cli(
        capsys, "predict", path, "--model", model_root, "--asr", "pocketsphinx"
    )
    assert code == 1
    assert "--asr and --asr-model need --transcript auto" in err


def test_transcription_yaml(tmp_path):
    transcription = audemo.Transcription("large-v3", language="de", device="cuda")
    transcription.to_yaml(str(tmp_path / "asr.yaml"))
    text = (tmp_path / "asr.yaml").read_text()
    assert "cuda" not in text
    loaded = audobject.from_yaml(str(tmp_path / "asr.yaml"))
    assert (loaded.model, loaded.engine, loaded.language, loaded.device) == (
        "large-v3",
        "faster-whisper",
        "de",
        "cpu",
    )
