r"""Conversations: speaker turns, overlap and the summary per speaker.

Every test runs on a real recording of three speakers taking turns:
two espeak-ng voices and a human voice of alsa-utils,
with one overlap made by mixing two turns.
The turns' times are known because the test places the speech.
"""

import io
import os
import shutil
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

import audformat
import audiofile
import audresample

import audemo
from audemo.core.conversation.speakers import normalize_per_speaker
from audemo.core.conversation.speakers import speaker_summary
from audemo.core.conversation.turns import check_turns
from audemo.core.conversation.turns import exclude_overlap
from audemo.core.conversation.turns import overlap_mask
from audemo.core.conversation.turns import read_rttm
from audemo.core.conversation.turns import turns_from_annotation
from conftest import ALSA_SOUNDS
from conftest import synthesize


SR = 16000
# (speaker, start in s, what they say): the human speaker is an alsa prompt
SCRIPT = [
    ("us", 0.5, "Did you hear the news about the project? We won the grant!"),
    ("gb", None, "No way, that is fantastic. I can hardly believe it."),
    ("us", -0.8, "Three years of work, and finally somebody noticed."),
    ("human", None, "Front_Center.wav"),
    ("gb", None, "Fine, but tomorrow we start planning."),
]
VOICES = {"us": "en-us", "gb": "en-gb+f3"}
PAUSE = 0.4  # seconds between turns
# columns of a conversation frame without windows
TURN_COLUMNS = ["speaker", "arousal", "dominance", "valence", "overlap"]
# where the overlap of the second "us" turn is made: 0.8 s before "gb" ends


def clip(path: str) -> np.ndarray:
    r"""Mono 16 kHz signal cut to whole 10 ms, so that times have 2 decimals."""
    signal, sampling_rate = audiofile.read(path, always_2d=True)
    if sampling_rate != SR:
        signal = audresample.resample(signal, sampling_rate, SR)
    signal = signal[0]
    return signal[: len(signal) // 160 * 160]


@pytest.fixture(scope="module")
def conversation(tmp_path_factory):
    r"""Recording ``dialogue.wav`` and its turns ``[(speaker, start, end)]``."""
    root = tmp_path_factory.mktemp("conversation")
    pieces, turns = [], []
    end = 0.0
    for i, (speaker, offset, text) in enumerate(SCRIPT):
        if speaker == "human":
            signal = clip(os.path.join(ALSA_SOUNDS, text))
        else:
            path = synthesize(text, str(root / f"turn-{i}.wav"), voice=VOICES[speaker])
            signal = clip(path)
        if offset is None:
            start = round(end + PAUSE, 2)
        elif offset < 0:  # overlap with the end of the previous turn
            start = round(end + offset, 2)
        else:
            start = offset
        end = round(start + len(signal) / SR, 2)
        pieces.append((round(start * SR), signal))
        turns.append((speaker, start, end))
    total = max(position + len(signal) for position, signal in pieces)
    total += SR // 2
    mix = np.zeros(total, dtype=np.float32)
    for position, signal in pieces:
        mix[position : position + len(signal)] += signal
    mix = mix / np.abs(mix).max() * 0.9
    os.makedirs(root / "audio")
    path = str(root / "audio" / "dialogue.wav")
    audiofile.write(path, mix, SR)
    return str(root / "audio"), turns


def write_rttm(path, turns, file_id="dialogue"):
    r"""RTTM of the turns, scrambled, with lines that are not turns in between."""
    lines = [
        f"SPEAKER {file_id} 1 {start:.2f} {end - start:.2f} <NA> <NA> {speaker} "
        f"<NA> <NA>"
        for speaker, start, end in turns
    ]
    lines = lines[1::2] + ["", "# comment", f"SPKR-INFO {file_id} 1 <NA>"] + lines[::2]
    with open(path, "w") as fp:
        fp.write("\n".join(lines) + "\n")
    return path


def expected_turns(turns, file):
    turns = sorted(turns, key=lambda turn: turn[1])
    index = audformat.segmented_index(
        [file] * len(turns),
        pd.to_timedelta([start for _, start, _ in turns], unit="s"),
        pd.to_timedelta([end for _, _, end in turns], unit="s"),
    )
    return pd.Series(
        [speaker for speaker, _, _ in turns],
        index=index,
        name="speaker",
        dtype="string",
    )


def seconds(values):
    return pd.to_timedelta(values).total_seconds().tolist()


# ----- reading turns ----------------------------------------------------------


def test_read_rttm(conversation, tmp_path):
    root, turns = conversation
    rttm = write_rttm(str(tmp_path / "dialogue.rttm"), turns)
    result = read_rttm(rttm, root=root)
    expected = expected_turns(turns, os.path.join(root, "dialogue.wav"))
    pd.testing.assert_series_equal(result, expected)
    # the known times, one by one
    starts = seconds(result.index.get_level_values("start"))
    ends = seconds(result.index.get_level_values("end"))
    assert starts == pytest.approx([start for _, start, _ in turns], abs=1e-9)
    assert ends == pytest.approx([end for _, _, end in turns], abs=1e-9)
    assert result.tolist() == [speaker for speaker, _, _ in turns]


def test_read_rttm_without_root(conversation, tmp_path):
    _, turns = conversation
    rttm = write_rttm(str(tmp_path / "dialogue.rttm"), turns)
    # documented: <file-id>.wav, relative to the root given when processing
    pd.testing.assert_series_equal(
        read_rttm(rttm), expected_turns(turns, "dialogue.wav")
    )
    # a file-id with an audio extension is kept
    rttm = write_rttm(str(tmp_path / "named.rttm"), turns, "dialogue.flac")
    assert set(read_rttm(rttm).index.get_level_values("file")) == {"dialogue.flac"}


def test_read_rttm_file_id_with_extension(conversation, tmp_path):
    root, turns = conversation
    rttm = write_rttm(str(tmp_path / "dialogue.rttm"), turns, "dialogue.wav")
    result = read_rttm(rttm, root=root)
    assert set(result.index.get_level_values("file")) == {
        os.path.join(root, "dialogue.wav")
    }


def test_read_rttm_several_files(conversation, tmp_path):
    root, turns = conversation
    # a second recording, as FLAC in the same folder: the first two turns
    audio = str(tmp_path / "audio")
    os.makedirs(audio)
    signal, _ = audiofile.read(os.path.join(root, "dialogue.wav"))
    audiofile.write(os.path.join(audio, "b.flac"), signal[: 8 * SR], SR)
    audiofile.write(os.path.join(audio, "a.WAV"), signal, SR)
    first = write_rttm(str(tmp_path / "b.rttm"), turns[:2], "b")
    second = write_rttm(str(tmp_path / "a.rttm"), turns, "a")
    result = read_rttm([first, second], root=audio)
    expected = pd.concat(
        [
            expected_turns(turns, os.path.join(audio, "a.WAV")),
            expected_turns(turns[:2], os.path.join(audio, "b.flac")),
        ]
    )
    pd.testing.assert_series_equal(result, expected)
    # overlapping turns are kept as they are
    assert len(result) == len(turns) + 2


def test_audformat_table_equals_rttm(conversation, tmp_path):
    root, turns = conversation
    db = audformat.Database("conversation", source="espeak-ng", usage="unrestricted")
    db.schemes["speaker"] = audformat.Scheme("str")
    index = expected_turns(turns, "dialogue.wav").index
    db["turns"] = audformat.Table(index)
    db["turns"]["speaker"] = audformat.Column(scheme_id="speaker")
    db["turns"]["speaker"].set(expected_turns(turns, "dialogue.wav").tolist())
    db.save(root)
    db = audformat.Database.load(root)
    from_table = check_turns(db["turns"]["speaker"].get(), root=db.root)
    rttm = write_rttm(str(tmp_path / "dialogue.rttm"), turns)
    from_rttm = read_rttm(rttm, root=root)
    from_table.index = audformat.utils.expand_file_path(from_table.index, db.root)
    pd.testing.assert_series_equal(from_table, from_rttm)
    # without a root, relative files stay relative
    relative = check_turns(db["turns"]["speaker"].get())
    assert relative.tolist() == from_rttm.tolist()
    # the audio is checked on request
    checked = check_turns(db["turns"]["speaker"].get(), root=db.root, check_audio=True)
    pd.testing.assert_series_equal(checked, relative)


def test_audformat_filewise_table(conversation):
    root, _ = conversation
    index = audformat.filewise_index(["dialogue.wav"])
    with pytest.raises(ValueError, match="filewise index.*segmented table"):
        check_turns(pd.Series(["us"], index=index))


def test_annotation(conversation, tmp_path):
    from pyannote.core import Annotation
    from pyannote.core import Segment

    root, turns = conversation
    annotation = Annotation(uri="dialogue")
    for i, (speaker, start, end) in enumerate(turns):
        annotation[Segment(start, end), i] = speaker
    file = os.path.join(root, "dialogue.wav")
    result = turns_from_annotation(annotation, file)
    rttm = write_rttm(str(tmp_path / "dialogue.rttm"), turns)
    pd.testing.assert_series_equal(result, read_rttm(rttm, root=root))
    # relative to a root
    relative = turns_from_annotation(annotation, "dialogue.wav", root=root)
    assert set(relative.index.get_level_values("file")) == {"dialogue.wav"}
    # pyannote's own RTTM gives the same turns
    with open(tmp_path / "pyannote.rttm", "w") as fp:
        annotation.write_rttm(fp)
    pd.testing.assert_series_equal(
        read_rttm(str(tmp_path / "pyannote.rttm"), root=root), result
    )
    # labels that are not strings become strings
    numbered = Annotation(uri="dialogue")
    numbered[Segment(0.5, 1.0)] = 7
    assert turns_from_annotation(numbered, file).tolist() == ["7"]


def test_annotation_empty():
    from pyannote.core import Annotation

    result = turns_from_annotation(Annotation(uri="silence"), "silence.wav")
    assert result.empty
    assert result.name == "speaker"
    assert result.dtype == "string"
    assert audformat.index_type(result.index) == audformat.define.IndexType.SEGMENTED


def test_annotation_errors(conversation, monkeypatch):
    from pyannote.core import Annotation
    from pyannote.core import Segment

    root, _ = conversation
    with pytest.raises(TypeError, match="pyannote.core.Annotation.*read_rttm"):
        turns_from_annotation({"A": (0, 1)}, "dialogue.wav")
    annotation = Annotation()
    annotation[Segment(0.5, 1.0)] = "A"
    with pytest.raises(TypeError, match="path of the audio file"):
        turns_from_annotation(annotation, None)
    with pytest.raises(FileNotFoundError, match="missing.wav.*root"):
        turns_from_annotation(annotation, "missing.wav")
    with pytest.raises(FileNotFoundError, match="missing.wav' of the turns"):
        turns_from_annotation(annotation, "missing.wav", root=root)
    late = Annotation()
    late[Segment(100.0, 101.0)] = "A"
    with pytest.raises(ValueError, match="track .* 'A'.*after the end"):
        turns_from_annotation(late, "dialogue.wav", root=root)
    monkeypatch.setitem(sys.modules, "pyannote.core", None)
    with pytest.raises(ImportError, match="pyannote.*needed for pyannote annotations"):
        turns_from_annotation(annotation, "dialogue.wav")


# ----- bad input ----------------------------------------------------------------


@pytest.mark.parametrize(
    "line, error",
    [
        ("SPEAKER dialogue 1 0.50 1.00 <NA> <NA>", "line 2: a SPEAKER line needs at"),
        ("SPEAKER dialogue 1 zero 1.00 <NA> <NA> us", "line 2: the onset 'zero' is"),
        ("SPEAKER dialogue 1 0.50 1,5 <NA> <NA> us", "line 2: the duration '1,5' is"),
        ("SPEAKER dialogue 1 0.50 nan <NA> <NA> us", "line 2: the duration 'nan' is"),
        ("SPEAKER dialogue 1 0.50 -1.00 <NA> <NA> us", "line 2: the duration -1.00 is"),
        ("SPEAKER dialogue 1 -0.50 1.00 <NA> <NA> us", "line 2: the onset -0.50 is"),
        ("SPEEKER dialogue 1 0.50 1.00 <NA> <NA> us", "line 2: not an RTTM line"),
        ("SPEAKER nobody 1 0.50 1.00 <NA> <NA> us", "line 2: no audio file for"),
        ("SPEAKER dialogue 1 99.00 1.00 <NA> <NA> us", "line 2: the turn starts at 99"),
        (
            "SPEAKER dialogue 1 1e12 1.00 <NA> <NA> us",
            "line 2: the onset 1e12 is beyond",
        ),
        ("SPEAKER dialogue 1 0 1e300 <NA> <NA> us", "line 2: the duration 1e300 is be"),
    ],
)
def test_read_rttm_bad_lines(conversation, tmp_path, line, error):
    root, _ = conversation
    path = str(tmp_path / "bad.rttm")
    with open(path, "w") as fp:
        fp.write(f"SPEAKER dialogue 1 0.00 0.40 <NA> <NA> us <NA> <NA>\n{line}\n")
    with pytest.raises(ValueError, match=f"{path}, {error}"):
        read_rttm(path, root=root)


@pytest.mark.parametrize("file_id", ["../secret", "sub/../../secret", "/ABSOLUTE"])
def test_read_rttm_file_id_outside_root(conversation, tmp_path, file_id):
    # a recording beside the folder of the audio files is not one of them
    root, turns = conversation
    audio = shutil.copytree(root, str(tmp_path / "audio"))
    secret = shutil.copy(os.path.join(root, "dialogue.wav"), tmp_path / "secret.wav")
    file_id = file_id.replace("/ABSOLUTE", str(tmp_path / "secret"))
    path = str(tmp_path / "turns.rttm")
    with open(path, "w") as fp:
        fp.write(f"SPEAKER {file_id} 1 0.00 0.40 <NA> <NA> us <NA> <NA>\n")
    for options in ({"root": audio}, {}):
        with pytest.raises(ValueError, match=f"{path}, line 1: the file-id '") as error:
            read_rttm(path, **options)
        assert "is a path that can lead outside" in str(error.value)
    assert os.path.exists(secret)


def test_read_rttm_several_audio_files(conversation, tmp_path):
    root, turns = conversation
    audio = str(tmp_path / "audio")
    os.makedirs(audio)
    signal, _ = audiofile.read(os.path.join(root, "dialogue.wav"))
    for name in ("dialogue.wav", "dialogue.flac"):
        audiofile.write(os.path.join(audio, name), signal, SR)
    os.makedirs(os.path.join(audio, "dialogue.ogg"))  # a folder is no audio file
    rttm = write_rttm(str(tmp_path / "dialogue.rttm"), turns)
    with pytest.raises(ValueError, match="line 1: several audio files.*flac, dialo"):
        read_rttm(rttm, root=audio)


def test_read_rttm_missing(conversation, tmp_path):
    root, turns = conversation
    with pytest.raises(FileNotFoundError, match="RTTM file .*missing.rttm"):
        read_rttm(str(tmp_path / "missing.rttm"))
    rttm = write_rttm(str(tmp_path / "dialogue.rttm"), turns)
    with pytest.raises(FileNotFoundError, match="root of the audio files"):
        read_rttm(rttm, root=str(tmp_path / "nowhere"))
    # a file-id in a folder that does not exist
    rttm = write_rttm(str(tmp_path / "sub.rttm"), turns, "sub/dialogue")
    with pytest.raises(ValueError, match="no audio file for file-id 'sub/dialogue'"):
        read_rttm(rttm, root=root)


def test_read_rttm_clips_and_skips(conversation, tmp_path):
    root, turns = conversation
    duration = audiofile.duration(os.path.join(root, "dialogue.wav"))
    path = str(tmp_path / "long.rttm")
    with open(path, "w") as fp:
        fp.write(
            f"SPEAKER dialogue 1 {duration - 1:.4f} 5.00 <NA> <NA> us <NA> <NA>\n"
            "SPEAKER dialogue 1 1.000 0.000 <NA> <NA> gb <NA> <NA>\n"
        )
    with pytest.warns(RuntimeWarning) as record:
        result = read_rttm(path, root=root)
    messages = [str(warning.message) for warning in record]
    assert any(
        "Skipped 1 turn of duration zero" in m and "line 2" in m for m in messages
    )
    assert any("Clipped 1 turn to the end" in m and "line 1" in m for m in messages)
    assert len(result) == 1
    end = result.index.get_level_values("end")[0]
    assert end == pd.to_timedelta(round(duration * 1e9), unit="ns")
    # without a root the audio is not checked: nothing is clipped
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        unchecked = read_rttm(path)
    assert seconds(unchecked.index.get_level_values("end")) == [
        pytest.approx(duration + 4)
    ]


def test_check_turns_errors(conversation):
    root, _ = conversation
    index = audformat.segmented_index(["dialogue.wav"], [0.5], [1.0])
    frame = pd.DataFrame({"speaker": ["us"]}, index=index)
    with pytest.raises(TypeError, match=r'not DataFrame. Select the column: turns\["'):
        check_turns(frame)
    with pytest.raises(TypeError, match="not list"):
        check_turns(["us"])
    with pytest.raises(ValueError, match="segmented index.*levels \\[None\\]"):
        check_turns(pd.Series(["us"]))
    seconds_resolution = pd.MultiIndex.from_arrays(
        [["a.wav"], pd.to_timedelta([0], unit="s").as_unit("s"), [pd.Timedelta(1)]],
        names=["file", "start", "end"],
    )
    with pytest.raises(ValueError, match="start.*must contain values of type"):
        check_turns(pd.Series(["us"], index=seconds_resolution))
    nat = audformat.segmented_index(["dialogue.wav"], [0.5], [pd.NaT])
    with pytest.raises(ValueError, match="dialogue.wav.*no end.*allow_nat=False"):
        check_turns(pd.Series(["us"], index=nat))
    backwards = audformat.segmented_index(["dialogue.wav"] * 2, [0.5, 2.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="1 turn without a positive.*when it starts"):
        check_turns(pd.Series(["us", "gb"], index=backwards))
    negative = audformat.segmented_index(["dialogue.wav"], [-1.0], [1.0])
    with pytest.raises(ValueError, match="negative start"):
        check_turns(pd.Series(["us"], index=negative))
    with pytest.raises(ValueError, match="1 turn without a speaker.*dropna"):
        check_turns(pd.Series([None], index=index, dtype="string"))
    with pytest.raises(FileNotFoundError, match="dialogue.wav.*Pass the folder"):
        check_turns(pd.Series(["us"], index=index), check_audio=True)


# ----- overlap ------------------------------------------------------------------


def test_overlap_mask(conversation, tmp_path):
    root, turns = conversation
    result = overlap_mask(
        read_rttm(write_rttm(str(tmp_path / "d.rttm"), turns), root=root)
    )
    # by hand: the second "us" turn starts 0.8 s before the first "gb" turn ends
    assert result.name == "overlap"
    assert result.tolist() == [False, True, True, False, False]
    # turns that only touch do not overlap; the same speaker never overlaps
    index = audformat.segmented_index(
        ["a.wav", "a.wav", "a.wav", "a.wav", "b.wav"],
        [0.0, 1.0, 1.5, 3.0, 0.0],
        [1.0, 2.0, 3.0, 4.0, 5.0],
    )
    turns = pd.Series(["A", "B", "B", "A", "C"], index=index)
    assert overlap_mask(turns).tolist() == [False, False, False, False, False]
    # the result keeps the caller's order
    assert overlap_mask(turns.iloc[::-1]).index.equals(turns.index[::-1])


def test_overlap_mask_windows(conversation, tmp_path, model_root):
    root, turns = conversation
    turns = read_rttm(write_rttm(str(tmp_path / "d.rttm"), turns), root=root)
    frame = windows(model_root, turns)
    mask = overlap_mask(frame, reference=turns)
    # by hand: a window overlaps when it reaches into the other speaker's turn
    gb_start, gb_end = [t.total_seconds() for t in turns.index[1][1:]]
    us_start, us_end = [t.total_seconds() for t in turns.index[2][1:]]
    starts = seconds(frame.index.get_level_values("start"))
    ends = seconds(frame.index.get_level_values("end"))
    expected = []
    for speaker, start, end in zip(frame["speaker"], starts, ends):
        if speaker == "gb":
            expected.append(start < us_end and us_start < end)
        elif speaker == "us":
            expected.append(start < gb_end and gb_start < end)
        else:
            expected.append(False)
    assert mask.tolist() == expected
    assert 0 < mask.sum() < len(mask)
    with pytest.raises(ValueError, match="needs a 'speaker' column"):
        overlap_mask(frame.drop(columns="speaker"))


def test_exclude_overlap(conversation, tmp_path):
    root, turns = conversation
    result = exclude_overlap(
        read_rttm(write_rttm(str(tmp_path / "d.rttm"), turns), root=root)
    )
    # by hand: "gb" loses the 0.8 s at its end,
    # the second "us" turn the 0.8 s at its start
    (_, _, gb_end), (_, us_start, _) = turns[1], turns[2]
    expected = [
        turns[0],
        ("gb", turns[1][1], us_start),
        ("us", gb_end, turns[2][2]),
        turns[3],
        turns[4],
    ]
    file = os.path.join(root, "dialogue.wav")
    pd.testing.assert_series_equal(result, expected_turns(expected, file))
    assert not overlap_mask(result).any()


def test_exclude_overlap_pieces():
    index = audformat.segmented_index(
        ["a.wav"] * 5 + ["b.wav"],
        [0.0, 1.0, 2.5, 5.0, 5.0, 0.0],
        [4.0, 2.0, 3.0, 5.02, 6.0, 5.0],
    )
    turns = pd.Series(["A", "B", "B", "A", "C", "B"], index=index)
    result = exclude_overlap(turns)
    # by hand: A loses B's turns and falls into three pieces,
    # B's turns lie under A and disappear,
    # A's 20 ms at 5 s lie under C, C loses them to A,
    # b.wav has one speaker only
    assert result.tolist() == ["A", "A", "A", "C", "B"]
    files = result.index.get_level_values("file").tolist()
    assert files == ["a.wav"] * 4 + ["b.wav"]
    starts = seconds(result.index.get_level_values("start"))
    ends = seconds(result.index.get_level_values("end"))
    assert starts == pytest.approx([0.0, 2.0, 3.0, 5.02, 0.0])
    assert ends == pytest.approx([1.0, 2.5, 4.0, 6.0, 5.0])
    # pieces shorter than 25 ms are dropped: a 10 ms gap between two turns
    index = audformat.segmented_index(["a.wav"] * 3, [0.0, 0.0, 1.01], [2.0, 1.0, 2.0])
    result = exclude_overlap(pd.Series(["A", "B", "C"], index=index))
    assert result.tolist() == []
    result = exclude_overlap(
        pd.Series(["A", "B", "C"], index=index), min_duration=0.005
    )
    assert result.tolist() == ["A"]
    assert seconds(result.index.get_level_values("end")) == [1.01]
    with pytest.raises(ValueError, match="min_duration must be.*-1"):
        exclude_overlap(turns, min_duration=-1)


# ----- summary -------------------------------------------------------------------


def windows(model_root, turns):
    r"""Emotion of 1 s windows inside each turn, with speaker and turn id."""
    interface = audemo.Emotion(model_root, win_dur=1.0, hop_dur=0.5)
    frames = []
    for number, (key, speaker) in enumerate(turns.items()):
        frame = interface.process_index(turns.index[[number]])
        frame.insert(0, "speaker", speaker)
        frame["turn"] = number
        frames.append(frame)
    return pd.concat(frames)


def by_hand(values, weights, times):
    r"""Weighted mean, std and least-squares slope, written out."""
    mean = sum(w * v for w, v in zip(weights, values)) / sum(weights)
    var = sum(w * (v - mean) ** 2 for w, v in zip(weights, values)) / sum(weights)
    time = sum(w * t for w, t in zip(weights, times)) / sum(weights)
    covariance = sum(
        w * (t - time) * (v - mean) for w, t, v in zip(weights, times, values)
    )
    spread = sum(w * (t - time) ** 2 for w, t in zip(weights, times))
    return mean, var**0.5, covariance / spread if spread else np.nan


@pytest.fixture(scope="module")
def emotion_frame(conversation, model_root, tmp_path_factory):
    r"""Emotion of each turn from the test model (not emotions)."""
    root, turns = conversation
    rttm = write_rttm(str(tmp_path_factory.mktemp("rttm") / "d.rttm"), turns)
    turns = read_rttm(rttm, root=root)
    frame = audemo.Emotion(model_root).process_index(turns.index)
    frame.insert(0, "speaker", turns)
    frame["overlap"] = overlap_mask(turns)
    return frame


def test_speaker_summary(emotion_frame):
    frame = emotion_frame
    summary = speaker_summary(frame)
    file = frame.index.get_level_values("file")[0]
    assert summary.index.names == ["file", "speaker"]
    assert summary.index.tolist() == [(file, "gb"), (file, "human"), (file, "us")]
    assert list(summary.columns[:3]) == ["turns", "speaking_time", "share"]
    assert summary["turns"].tolist() == [2, 1, 2]
    total = 0.0
    for speaker in ("gb", "human", "us"):
        rows = frame[frame["speaker"] == speaker]
        starts = seconds(rows.index.get_level_values("start"))
        ends = seconds(rows.index.get_level_values("end"))
        durations = [end - start for start, end in zip(starts, ends)]
        centres = [(start + end) / 2 / 60 for start, end in zip(starts, ends)]
        row = summary.loc[(file, speaker)]
        assert row["speaking_time"] == pytest.approx(sum(durations))
        total += sum(durations)
        for dimension in ("arousal", "dominance", "valence"):
            values = rows[dimension].tolist()
            mean, std, trend = by_hand(values, durations, centres)
            assert row[f"{dimension}_mean"] == pytest.approx(mean)
            assert row[f"{dimension}_std"] == pytest.approx(std)
            if speaker == "human":  # one turn: no trend
                assert np.isnan(row[f"{dimension}_trend"])
            else:
                assert row[f"{dimension}_trend"] == pytest.approx(trend)
            assert row[f"{dimension}_min"] == min(values)
            assert row[f"{dimension}_max"] == max(values)
    shares = summary["speaking_time"] / total
    pd.testing.assert_series_equal(summary["share"], shares, check_names=False)
    assert summary["share"].sum() == pytest.approx(1.0)


def test_speaker_summary_windows(conversation, emotion_frame, model_root):
    frame = emotion_frame
    turns = frame["speaker"]
    framed = windows(model_root, turns)
    assert len(framed) > 2 * len(turns)
    # windows inside a turn count as one turn, with or without a turn column
    with_ids = speaker_summary(framed)
    without_ids = speaker_summary(framed.drop(columns="turn"))
    assert with_ids["turns"].tolist() == [2, 1, 2]
    pd.testing.assert_frame_equal(with_ids, without_ids)
    # speaking time is the time the windows cover, each second once
    for (_, speaker), row in with_ids.iterrows():
        rows = framed[framed["speaker"] == speaker]
        covered = set()
        for start, end in zip(
            rows.index.get_level_values("start"), rows.index.get_level_values("end")
        ):
            covered |= set(range(start.value // 10**7, end.value // 10**7))
        assert row["speaking_time"] == pytest.approx(len(covered) / 100)


def test_speaker_summary_overlap_and_missing(emotion_frame):
    frame = emotion_frame.copy()
    summary = speaker_summary(frame, overlap="exclude")
    full = speaker_summary(frame)
    pd.testing.assert_series_equal(summary["turns"], full["turns"])
    # "gb" keeps its second turn only: the statistics of one row
    file = frame.index.get_level_values("file")[0]
    gb = frame[(frame["speaker"] == "gb") & ~frame["overlap"]]
    assert len(gb) == 1
    assert summary.loc[(file, "gb"), "arousal_mean"] == pytest.approx(
        gb["arousal"].iloc[0]
    )
    assert summary.loc[(file, "gb"), "arousal_std"] == 0
    assert np.isnan(summary.loc[(file, "gb"), "arousal_trend"])
    # a missing score is left out, all missing gives NaN
    frame.loc[frame["speaker"] == "human", "valence"] = np.nan
    frame.iloc[0, frame.columns.get_loc("arousal")] = np.nan
    summary = speaker_summary(frame)
    us = frame[frame["speaker"] == "us"]
    assert summary.loc[(file, "us"), "arousal_mean"] == us["arousal"].iloc[1]
    assert summary.loc[(file, "human")].filter(like="valence").isna().all()
    assert summary.loc[(file, "human"), "speaking_time"] > 0
    # only the dimensions the frame has
    summary = speaker_summary(frame[["speaker", "valence"]])
    assert list(summary.columns) == ["turns", "speaking_time", "share"] + [
        f"valence_{statistic}" for statistic in ("mean", "std", "trend", "min", "max")
    ]


def test_speaker_summary_empty():
    frame = pd.DataFrame(
        {
            "speaker": pd.Series([], dtype="string"),
            "arousal": pd.Series([], dtype=float),
        },
        index=audformat.segmented_index(),
    )
    summary = speaker_summary(frame)
    assert summary.empty
    assert summary.index.names == ["file", "speaker"]
    assert "arousal_trend" in summary.columns


def test_normalize_per_speaker(emotion_frame, conversation, model_root):
    frame = emotion_frame
    normalized = normalize_per_speaker(frame)
    pd.testing.assert_frame_equal(
        normalized.drop(columns=["arousal", "dominance", "valence"]),
        frame.drop(columns=["arousal", "dominance", "valence"]),
    )
    summary = speaker_summary(frame)
    relative = speaker_summary(frame, normalize="speaker")
    for dimension in ("arousal", "dominance", "valence"):
        # each speaker's duration-weighted mean is 0, the spread unchanged
        np.testing.assert_allclose(relative[f"{dimension}_mean"], 0, atol=1e-12)
        for statistic in ("std", "trend"):
            column = f"{dimension}_{statistic}"
            pd.testing.assert_series_equal(relative[column], summary[column])
        pd.testing.assert_series_equal(
            relative[f"{dimension}_max"],
            summary[f"{dimension}_max"] - summary[f"{dimension}_mean"],
            check_names=False,
        )
    # with overlap left out of the means, scores are relative to the others
    excluded = normalize_per_speaker(frame, overlap="exclude")
    gb = frame["speaker"] == "gb"
    alone = gb & ~frame["overlap"]
    assert excluded.loc[alone, "arousal"].tolist() == [0.0]
    assert excluded.loc[gb, "arousal"].tolist() == pytest.approx(
        (frame.loc[gb, "arousal"] - frame.loc[alone, "arousal"].iloc[0]).tolist()
    )


def test_summary_errors(emotion_frame):
    frame = emotion_frame
    with pytest.raises(
        ValueError, match=r"normalize must be one of \[None, 'speaker'\]"
    ):
        speaker_summary(frame, normalize="file")
    with pytest.raises(ValueError, match="overlap must be one of"):
        speaker_summary(frame, overlap="drop")
    with pytest.raises(ValueError, match="needs an 'overlap' column.*overlap_mask"):
        speaker_summary(frame.drop(columns="overlap"), overlap="exclude")
    with pytest.raises(TypeError, match="process_turns.*not Series"):
        speaker_summary(frame["arousal"])
    with pytest.raises(ValueError, match="needs a 'speaker' column.*frame.insert"):
        normalize_per_speaker(frame.drop(columns="speaker"))
    filewise = frame.reset_index(level=["start", "end"], drop=True)
    with pytest.raises(ValueError, match="Conversation frames need start and end"):
        speaker_summary(filewise)


# ----- process_turns ----------------------------------------------------------


def test_process_turns_rttm(conversation, tmp_path, model_root):
    root, turns = conversation
    rttm = write_rttm(str(tmp_path / "dialogue.rttm"), turns)
    checked = read_rttm(rttm, root=root)
    interface = audemo.Emotion(model_root)
    frame = audemo.process_turns(interface, checked)
    expected = interface.process_index(checked.index)
    # the scores of process_index, row for row
    pd.testing.assert_frame_equal(frame[expected.columns], expected)
    assert list(frame.columns) == TURN_COLUMNS
    assert frame["speaker"].tolist() == [speaker for speaker, _, _ in turns]
    assert frame["speaker"].dtype == "string"
    # the second "us" turn starts 0.8 s before "gb" ends
    assert frame["overlap"].tolist() == [False, True, True, False, False]
    pd.testing.assert_series_equal(
        frame["overlap"], overlap_mask(checked), check_names=False
    )
    # the summary takes it as it is
    summary = speaker_summary(frame, overlap="exclude")
    assert summary.loc[(os.path.join(root, "dialogue.wav"), "us"), "turns"] == 2


def turns_table(turns, *, column="speaker"):
    r"""Database with the turns of ``dialogue.wav`` as the table ``turns``."""
    db = audformat.Database("dialogue")
    index = audformat.segmented_index(
        ["dialogue.wav"] * len(turns),
        [start for _, start, _ in turns],
        [end for _, _, end in turns],
    )
    db["turns"] = audformat.Table(index)
    db["turns"][column] = audformat.Column()
    db["turns"][column].set([speaker for speaker, _, _ in turns])
    return db


def test_process_turns_audformat(conversation, model_root):
    root, turns = conversation
    db = turns_table(turns)
    interface = audemo.Emotion(model_root)
    frame = audemo.process_turns(interface, db["turns"]["speaker"].get(), root=root)
    expected = interface.process_index(
        check_turns(db["turns"]["speaker"].get()).index, root=root
    )
    pd.testing.assert_frame_equal(frame[expected.columns], expected)
    assert set(frame.index.get_level_values("file")) == {"dialogue.wav"}


def test_process_turns_exclude_overlap(conversation, tmp_path, model_root):
    root, turns = conversation
    checked = read_rttm(write_rttm(str(tmp_path / "d.rttm"), turns), root=root)
    interface = audemo.Emotion(model_root)
    frame = audemo.process_turns(interface, checked, exclude_overlap=True)
    alone = exclude_overlap(checked)
    pd.testing.assert_index_equal(frame.index, alone.index)
    assert not frame["overlap"].any()
    expected = interface.process_index(alone.index)
    pd.testing.assert_frame_equal(frame[expected.columns], expected)
    # the overlapped end of "gb" and start of "us" are cut out
    gb_end = [end for speaker, _, end in turns if speaker == "gb"][0]
    ends = seconds(frame.index.get_level_values("end"))
    assert gb_end not in ends


def test_process_turns_windows(conversation, tmp_path, model_root):
    root, turns = conversation
    checked = read_rttm(write_rttm(str(tmp_path / "d.rttm"), turns), root=root)
    interface = audemo.Emotion(model_root, win_dur=1.0, hop_dur=0.5)
    frame = audemo.process_turns(interface, checked)
    assert list(frame.columns[:2]) == ["speaker", "turn"]
    # the windows of each turn, turn by turn, as process_index gives them
    for turn, ((file, start, end), speaker) in enumerate(checked.items()):
        rows = frame[frame["turn"] == turn]
        expected = interface.process_index(
            audformat.segmented_index([file], [start], [end])
        )
        pd.testing.assert_frame_equal(rows[expected.columns], expected)
        assert (rows["speaker"] == speaker).all()
        assert (rows.index.get_level_values("start") >= start).all()
        assert (rows.index.get_level_values("end") <= end).all()
    assert frame["turn"].is_monotonic_increasing
    # windows of the overlapping turns that lie in the overlap
    pd.testing.assert_series_equal(
        frame["overlap"],
        overlap_mask(frame, reference=checked),
        check_names=False,
    )
    assert frame["overlap"].any() and not frame["overlap"].all()
    # the turn column counts turns for the summary
    summary = speaker_summary(frame)
    assert summary["turns"].tolist() == [2, 1, 2]


def test_process_turns_nested_and_duplicate(conversation, model_root):
    root, _ = conversation
    file = os.path.join(root, "dialogue.wav")
    # a backchannel inside a long turn, and the same turn twice
    index = audformat.segmented_index(
        [file] * 4, [0.5, 2.0, 2.0, 6.0], [5.0, 3.0, 3.0, 8.0]
    )
    turns = pd.Series(["A", "B", "C", "A"], index=index)
    interface = audemo.Emotion(model_root, win_dur=1.0, hop_dur=0.5)
    frame = audemo.process_turns(interface, turns)
    counts = frame.groupby("turn").size().tolist()
    # 0.5-5.0: 8 windows; 2-3: 1; 2-3: 1; 6-8: 3
    assert counts == [8, 1, 1, 3]
    assert frame.groupby("turn")["speaker"].first().tolist() == ["A", "B", "C", "A"]
    b, c = frame[frame["turn"] == 1], frame[frame["turn"] == 2]
    np.testing.assert_array_equal(b[["arousal"]].to_numpy(), c[["arousal"]].to_numpy())
    # without windows: one row per turn, scores of process_index
    plain = audemo.Emotion(model_root)
    frame = audemo.process_turns(plain, turns)
    expected = plain.process_index(index)
    pd.testing.assert_frame_equal(frame[expected.columns], expected)
    assert frame["speaker"].tolist() == ["A", "B", "C", "A"]
    assert frame["overlap"].tolist() == [True, True, True, False]


def test_process_turns_short(conversation, model_root):
    root, _ = conversation
    file = os.path.join(root, "dialogue.wav")
    index = audformat.segmented_index([file] * 3, [0.5, 3.0, 3.01], [3.0, 3.01, 5.0])
    turns = pd.Series(["A", "B", "A"], index=index)
    with pytest.raises(ValueError, match=r"1 turn shorter than 25 ms: .*3-3\.01 s"):
        audemo.process_turns(audemo.Emotion(model_root), turns)
    interface = audemo.Emotion(model_root, errors="coerce")
    with pytest.warns(RuntimeWarning, match="1 turn shorter than 25 ms hold NaN"):
        frame = audemo.process_turns(interface, turns)
    assert frame["speaker"].tolist() == ["A", "B", "A"]
    assert frame.iloc[1][["arousal", "dominance", "valence"]].isna().all()
    assert frame.drop(index=frame.index[1])["arousal"].notna().all()
    expected = interface.process_index(index[[0, 2]])
    pd.testing.assert_frame_equal(frame.iloc[[0, 2]][expected.columns], expected)
    assert frame.dtypes["arousal"] == expected.dtypes["arousal"]
    # windows: the short turn keeps its turn id
    windows = audemo.Emotion(model_root, errors="coerce", win_dur=1.0)
    with pytest.warns(RuntimeWarning, match="shorter than 25 ms"):
        frame = audemo.process_turns(windows, turns)
    assert frame[frame["turn"] == 1]["arousal"].isna().all()
    assert len(frame[frame["turn"] == 1]) == 1


def test_process_turns_cache(conversation, tmp_path, model_root):
    root, turns = conversation
    checked = read_rttm(write_rttm(str(tmp_path / "d.rttm"), turns), root=root)
    interface = audemo.Emotion(model_root)
    cache = str(tmp_path / "cache")
    first = audemo.process_turns(interface, checked, cache_root=cache)
    assert os.listdir(cache)
    pd.testing.assert_frame_equal(
        audemo.process_turns(interface, checked, cache_root=cache), first
    )


def test_process_turns_errors(conversation, model_root):
    root, turns = conversation
    with pytest.raises(TypeError, match="audinterface.Feature such as audemo.Emotion"):
        audemo.process_turns("model", expected_turns(turns, "dialogue.wav"))
    with pytest.raises(TypeError, match="Select the column"):
        audemo.process_turns(
            audemo.Emotion(model_root),
            expected_turns(turns, "dialogue.wav").to_frame(),
        )
    rttm = write_rttm(os.path.join(root, "dialogue.rttm"), turns)
    with pytest.raises(TypeError, match=r"not str\. .*: audemo\.read_rttm\('.*'\)"):
        audemo.process_turns(audemo.Emotion(model_root), rttm)


def test_process_turns_all_short(conversation, model_root):
    root, _ = conversation
    file = os.path.join(root, "dialogue.wav")
    index = audformat.segmented_index([file] * 2, [1.0, 2.0], [1.01, 2.02])
    interface = audemo.Emotion(model_root, errors="coerce")
    with pytest.warns(RuntimeWarning, match="2 turns shorter than 25 ms"):
        frame = audemo.process_turns(interface, pd.Series(["A", "B"], index=index))
    assert list(frame.columns) == TURN_COLUMNS
    assert frame[["arousal", "dominance", "valence"]].isna().all().all()


# ----- command line -----------------------------------------------------------


def test_cli_summary_and_plot(conversation, tmp_path, model_root, capsys):
    from audemo.core.cli import main
    from audemo.core.results import read_results
    from audemo.core.results import write_results

    root, turns = conversation
    checked = read_rttm(write_rttm(str(tmp_path / "d.rttm"), turns), root=root)
    frame = audemo.process_turns(
        audemo.Emotion(model_root, win_dur=1.0, hop_dur=0.5), checked
    )
    results = str(tmp_path / "turns.csv")
    write_results(frame, results)
    pd.testing.assert_frame_equal(
        speaker_summary(read_results(results)), speaker_summary(frame)
    )
    output = str(tmp_path / "speakers.csv")
    assert main(["summary", results, "-o", output]) == 0
    printed = capsys.readouterr().out
    assert "speaking_time" in printed and "gb" in printed and "human" in printed
    written = pd.read_csv(output, index_col=[0, 1])
    expected = speaker_summary(frame)
    np.testing.assert_allclose(
        written.to_numpy(float), expected.to_numpy(float), rtol=1e-5
    )
    # an existing output needs --overwrite
    assert main(["summary", results, "-o", output]) == 1
    assert "exists" in capsys.readouterr().err
    assert main(["summary", results, "-o", output, "--overwrite"]) == 0
    assert (
        main(["summary", results, "--overlap", "exclude", "--normalize", "speaker"])
        == 0
    )
    relative = capsys.readouterr().out
    assert "arousal_mean" in relative
    # results without speakers
    plain = str(tmp_path / "plain.csv")
    write_results(frame.drop(columns="speaker"), plain)
    assert main(["summary", plain]) == 1
    assert "holds no speakers" in capsys.readouterr().err

    picture = str(tmp_path / "conversation.png")
    assert main(["plot", results, "--kind", "conversation", "-o", picture]) == 0
    assert os.path.getsize(picture) > 5000
    assert (
        main(["plot", results, "--kind", "timeline", "-o", str(tmp_path / "t.png")])
        == 0
    )
    assert (
        main(["plot", plain, "--kind", "conversation", "-o", str(tmp_path / "c.png")])
        == 1
    )
    assert "holds no speakers" in capsys.readouterr().err


# ----- audemo predict --speakers ------------------------------------------------


def turns_database(root, turns, folder, *, column="speaker"):
    r"""Database in ``folder`` with the recording and its turns as a table."""
    import shutil

    os.makedirs(folder)
    shutil.copy(os.path.join(root, "dialogue.wav"), folder)
    db = turns_table(turns, column=column)
    db["files"] = audformat.Table(audformat.filewise_index(["dialogue.wav"]))
    db["files"]["speaker"] = audformat.Column()
    db["files"]["speaker"].set(["several"])
    db.save(folder)
    return folder


def test_cli_speakers_rttm(conversation, tmp_path, model_root, capsys):
    from audemo.core.cli import main
    from audemo.core.results import read_results

    root, turns = conversation
    rttm = write_rttm(str(tmp_path / "dialogue.rttm"), turns)
    output = str(tmp_path / "turns.csv")
    command = ["predict", root, "--speakers", rttm, "--model", model_root]
    assert main(command + ["-o", output]) == 0
    duration = audiofile.duration(os.path.join(root, "dialogue.wav"))
    assert (
        f"audemo: 1 file (0 failed), {duration:.1f} s of audio, "
        f"5 turns (0 failed), 5 rows, " in capsys.readouterr().err
    )
    with open(output) as fp:
        header = fp.readline().strip()
    assert header == "file,start,end,speaker,arousal,dominance,valence,overlap"
    written = read_results(output)
    # the numbers of process_turns on the turns of the RTTM file
    expected = audemo.process_turns(
        audemo.Emotion(model_root), read_rttm(rttm, root=root)
    )
    assert written.index.get_level_values("file").unique().tolist() == ["dialogue.wav"]
    assert written["speaker"].tolist() == expected["speaker"].tolist()
    assert written["overlap"].tolist() == [False, True, True, False, False]
    np.testing.assert_allclose(
        written[["arousal", "dominance", "valence"]].to_numpy(),
        expected[["arousal", "dominance", "valence"]].to_numpy(),
        rtol=1e-6,
    )
    assert seconds(written.index.get_level_values("start")) == [
        start for _, start, _ in sorted(turns, key=lambda turn: turn[1])
    ]

    # windows inside each turn, and only the parts without overlap
    windows = str(tmp_path / "windows.parquet")
    assert main(command + ["--win-dur", "1", "-o", windows]) == 0
    frame = pd.read_parquet(windows)
    assert list(frame.columns)[:2] == ["speaker", "turn"]
    assert frame["turn"].max() == len(turns) - 1
    alone = str(tmp_path / "alone.csv")
    assert main(command + ["--exclude-overlap", "-o", alone]) == 0
    alone = read_results(alone)
    assert not alone["overlap"].any()
    assert len(alone) == len(turns)


def test_cli_speaking_time_from_turns(conversation, tmp_path, model_root, capsys):
    r"""Speaking time is that of the RTTM's turns, with or without windows.

    Windows of 2 or 4 s do not reach the end of a turn:
    summing the seconds the rows cover lost the end of every turn.
    """
    from audemo.core.cli import main
    from audemo.core.results import read_results

    root, turns = conversation
    rttm = write_rttm(str(tmp_path / "dialogue.rttm"), turns)
    expected = {}
    for speaker, start, end in turns:  # no speaker overlaps themselves
        expected[speaker] = expected.get(speaker, 0.0) + end - start
    expected_turns = {speaker: 0 for speaker in expected}
    for speaker, _, _ in turns:
        expected_turns[speaker] += 1
    folder = turns_database(root, turns, str(tmp_path / "db"))
    command = ["predict", root, "--speakers", rttm, "--model", model_root]
    for win_dur in (None, "2", "4"):
        windows = [] if win_dur is None else ["--win-dur", win_dur]
        name = f"turns-{win_dur}"
        csv = str(tmp_path / f"{name}.csv")
        parquet = str(tmp_path / f"{name}.parquet")
        assert main(command + windows + ["-o", csv]) == 0
        assert main(command + windows + ["-o", parquet]) == 0
        dialogue = os.path.join(folder, "dialogue.wav")
        assert (
            main(
                ["predict", dialogue, "--speakers", rttm, "--model", model_root]
                + windows
                + ["-o", folder, "--table", name]
            )
            == 0
        )
        capsys.readouterr()
        # read by plain pandas: turn_start and turn_end are seconds
        plain = pd.read_csv(csv)
        plain.index = audformat.segmented_index(
            plain.pop("file"), plain.pop("start"), plain.pop("end")
        )
        frames = [
            read_results(csv),
            read_results(parquet),
            audformat.Database.load(folder)[name].get(),
            plain,
        ]
        if win_dur == "2":
            # the windows end before the end of some turns
            # (with 4 s windows each turn is one row: all are shorter)
            rows = frames[0]
            assert (
                rows.groupby("turn")
                .apply(lambda group: group.index.get_level_values("end").max())
                .lt(rows.groupby("turn")["turn_end"].first())
                .any()
            )
        for frame in frames:
            summary = speaker_summary(frame).droplevel("file")
            for speaker, seconds_spoken in expected.items():
                assert summary.loc[speaker, "speaking_time"] == pytest.approx(
                    seconds_spoken, abs=1e-9
                )
                assert summary.loc[speaker, "turns"] == expected_turns[speaker]
            total = sum(expected.values())
            np.testing.assert_allclose(
                summary["share"], summary["speaking_time"] / total
            )
        # audemo summary on the CSV file prints the same
        assert main(["summary", csv]) == 0
        printed = capsys.readouterr().out
        line = next(
            line for line in printed.splitlines() if line.startswith("speaking_time")
        )
        speakers = sorted(expected)
        assert line.split()[1:] == [f"{expected[name]:.3f}" for name in speakers]
        line = next(line for line in printed.splitlines() if line.startswith("turns"))
        assert line.split()[1:] == [str(expected_turns[name]) for name in speakers]


def test_cli_summary_line_failed_turn(conversation, tmp_path, model_root, capsys):
    r"""A failed 10-ms turn is one failed turn, not a failed file without audio."""
    from audemo.core.cli import main

    root, turns = conversation
    short = [*turns, ("gb", 15.0, 15.01)]
    rttm = write_rttm(str(tmp_path / "dialogue.rttm"), short)
    duration = audiofile.duration(os.path.join(root, "dialogue.wav"))
    command = ["predict", root, "--speakers", rttm, "--model", model_root]
    command += ["--errors", "coerce"]
    for windows, rows in (([], 6), (["--win-dur", "2"], None)):
        with pytest.warns(RuntimeWarning, match="1 turn shorter than 25 ms"):
            assert main(command + windows) == 0
        captured = capsys.readouterr()
        frame = pd.read_csv(io.StringIO(captured.out))
        assert frame[["arousal", "dominance", "valence"]].isna().all(axis=1).sum() == 1
        rows = len(frame)
        line = captured.err.strip().splitlines()[-1]
        assert line.startswith(
            f"audemo: 1 file (0 failed), {duration:.1f} s of audio, "
            f"6 turns (1 failed), {rows} rows, "
        ), line
    assert rows > 6  # windows


def test_cli_speakers_rttm_inputs(conversation, tmp_path, model_root, capsys):
    from audemo.core.cli import main

    root, turns = conversation
    rttm = write_rttm(str(tmp_path / "dialogue.rttm"), turns)
    other = synthesize("Nobody talks to me.", str(tmp_path / "other.wav"))
    dialogue = os.path.join(root, "dialogue.wav")
    command = ["predict", dialogue, other, "--model", model_root]
    # an input without turns is left out with a warning, the others are processed
    with pytest.warns(RuntimeWarning, match="no turns for 1 input file"):
        assert main(command + ["--speakers", rttm]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == 1 + len(turns)
    assert all(line.startswith(dialogue) for line in printed[1:])
    # a file-id that names no input is an error naming the RTTM line
    lines = open(rttm).read() + "SPEAKER meeting 1 0.0 1.0 <NA> <NA> C <NA> <NA>\n"
    with open(rttm, "w") as fp:
        fp.write(lines)
    assert main(command + ["--speakers", rttm]) == 1
    error = capsys.readouterr().err
    assert (
        f"{rttm}, line 9: file-id 'meeting' names none of the input recordings" in error
    )
    # with --errors coerce a recording that cannot be read gets rows of NaN
    broken = str(tmp_path / "meeting.wav")
    with open(broken, "wb") as fp:
        fp.write(b"RIFF....WAVEfmt nothing else")
    with pytest.warns(RuntimeWarning):
        assert (
            main(
                [
                    *command[:3],
                    broken,
                    *command[3:],
                    "--speakers",
                    rttm,
                    "--errors",
                    "coerce",
                ]
            )
            == 0
        )
    frame = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert frame["file"].tolist()[-1] == broken
    assert frame.iloc[-1][["arousal", "dominance", "valence"]].isna().all()
    assert frame.iloc[:-1][["arousal", "dominance", "valence"]].notna().all().all()
    # and stops the command without it
    assert main([*command[:3], broken, *command[3:], "--speakers", rttm]) == 1
    assert "meeting.wav" in capsys.readouterr().err
    # two recordings of one file-id
    twin = os.path.join(str(tmp_path), "twin")
    os.makedirs(twin)
    import shutil

    shutil.copy(dialogue, twin)
    twin = os.path.join(twin, "dialogue.wav")
    assert main([*command[:3], twin, *command[3:], "--speakers", rttm]) == 1
    assert "names several input recordings" in capsys.readouterr().err
    # an RTTM file of none of the inputs
    none = str(tmp_path / "none.rttm")
    with open(none, "w") as fp:
        fp.write("# no turns\n")
    assert main(command + ["--speakers", none]) == 1
    assert "gives no turns for the input files" in capsys.readouterr().err


def test_cli_speakers_database(conversation, tmp_path, model_root, capsys):
    from audemo.core.cli import main

    root, turns = conversation
    folder = turns_database(root, turns, str(tmp_path / "db"))
    command = ["predict", folder, "--model", model_root, "--speakers"]
    assert main(command + [f"{folder}:turns", "-o", folder]) == 0
    capsys.readouterr()
    db = audformat.Database.load(folder)
    table = db["predictions"]
    assert audformat.index_type(table.index) == "segmented"
    assert table.columns["speaker"].scheme_id == "speaker"
    assert db.schemes["speaker"].dtype == "str"
    assert table.columns["overlap"].scheme_id == "audemo-overlap"
    frame = table.get()
    assert list(frame.columns) == TURN_COLUMNS
    expected = audemo.process_turns(
        audemo.Emotion(model_root), db["turns"]["speaker"].get(), root=folder
    )
    pd.testing.assert_index_equal(frame.index, expected.index)
    assert frame["speaker"].tolist() == expected["speaker"].tolist()
    assert frame["overlap"].tolist() == expected["overlap"].tolist()
    np.testing.assert_allclose(
        frame[["arousal", "dominance", "valence"]].to_numpy(float),
        expected[["arousal", "dominance", "valence"]].to_numpy(float),
        rtol=1e-6,
    )
    # windows: a turn column with an integer scheme; a speaker scheme that
    # does not take these speakers is left alone
    db.schemes["speaker"] = audformat.Scheme("str", labels=["somebody"])
    db.save(folder)
    assert (
        main(
            command
            + [f"{folder}:turns:speaker", "-o", folder, "--table", "windows"]
            + ["--win-dur", "1"]
        )
        == 0
    )
    db = audformat.Database.load(folder)
    assert db["windows"].columns["speaker"].scheme_id == "audemo-speaker"
    assert db["windows"].columns["turn"].scheme_id == "audemo-turn"
    assert db["windows"]["turn"].get().dtype == "Int64"


def test_cli_speakers_database_errors(conversation, tmp_path, model_root, capsys):
    from audemo.core.cli import main

    root, turns = conversation
    folder = turns_database(root, turns, str(tmp_path / "db"), column="who")
    command = ["predict", folder, "--model", model_root, "--speakers"]
    for source, error in [
        (f"{folder}:turns", "table 'turns' has no column 'speaker', it has ['who']"),
        (f"{folder}:talks", "has no table 'talks', it has ['files', 'turns']"),
        (f"{folder}:files", "got a filewise index"),
    ]:
        assert main(command + [source]) == 1
        assert error in capsys.readouterr().err
    assert main(command + [f"{folder}:turns:who"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 1 + len(turns)
    # neither an RTTM file nor a database: an argparse error, exit code 2
    with pytest.raises(SystemExit) as exit_code:
        main(command + [str(tmp_path / "nothing:turns")])
    assert exit_code.value.code == 2
    assert "neither an RTTM file" in capsys.readouterr().err


def test_cli_speakers_options(conversation, tmp_path, model_root, capsys):
    from audemo.core.cli import main

    root, turns = conversation
    rttm = write_rttm(str(tmp_path / "dialogue.rttm"), turns)
    command = ["predict", root, "--model", model_root]
    for options, error in [
        (["--exclude-overlap"], "--exclude-overlap needs --speakers"),
        (["--speakers", rttm, "--num-speakers", "2"], "need --speakers auto"),
        (["--diarization", str(tmp_path)], "need --speakers auto"),
        (["--speakers", "auto", "--num-speakers", "0"], "positive number"),
    ]:
        assert main(command + options) == 1
        assert error in capsys.readouterr().err
    try:
        import pyannote.audio  # noqa: F401
    except ImportError:
        pass
    else:  # pragma: no cover (pyannote.audio is not installed in CI)
        pytest.skip("pyannote.audio is installed")
    # before the model runs: what to install, where the token goes
    assert main(command + ["--speakers", "auto", "--num-speakers", "2"]) == 1
    error = capsys.readouterr().err
    assert "pyannote.audio is needed for speaker diarization" in error
    assert "--diarization FOLDER" in error
