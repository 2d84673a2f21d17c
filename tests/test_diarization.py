r"""Built-in diarization: pyannote.audio is not installed where the tests run.

The error without pyannote.audio is real,
the conversion of a pipeline's output
uses real :class:`pyannote.core.Annotation` objects
from pipeline stand-ins (plain functions, no mocks of audemo).
"""

import os
import types

import pandas as pd
from pyannote.core import Annotation
from pyannote.core import Segment
import pytest

import audobject

import audemo
from audemo.core.conversation.diarization import PIPELINE


def annotation_of(tracks, uri="dialogue"):
    annotation = Annotation(uri=uri)
    for start, end, speaker in tracks:
        annotation[Segment(start, end)] = speaker
    return annotation


TRACKS = [(0.0, 1.2, "SPEAKER_00"), (1.0, 2.0, "SPEAKER_01"), (2.5, 3.0, "SPEAKER_00")]


def test_without_pyannote_audio(speech_files):
    pytest.importorskip("pyannote.core")
    try:
        import pyannote.audio  # noqa: F401
    except ImportError:
        pass
    else:  # pragma: no cover (pyannote.audio is not installed in CI)
        pytest.skip("pyannote.audio is installed")
    diarization = audemo.Diarization()
    with pytest.raises(ImportError) as error:
        diarization(speech_files[0])
    message = str(error.value)
    assert message.startswith("pyannote.audio is needed for speaker diarization")
    assert message.count("pip install 'audemo[diarization]'") == 1
    assert "HF_TOKEN" in message
    assert "local folder" in message
    assert PIPELINE in message


def test_pipeline_stand_in(speech_files):
    calls = []

    def pipeline(file, **options):
        calls.append((file, options))
        return annotation_of(TRACKS)

    diarization = audemo.Diarization(pipeline, num_speakers=2)
    turns = diarization(speech_files[0])
    assert calls == [(speech_files[0], {"num_speakers": 2})]
    expected = audemo.turns_from_annotation(annotation_of(TRACKS), speech_files[0])
    pd.testing.assert_series_equal(turns, expected)
    assert turns.tolist() == ["SPEAKER_00", "SPEAKER_01", "SPEAKER_00"]
    assert audemo.overlap_mask(turns).tolist() == [True, True, False]

    # relative files with root; min and max speakers
    root, name = os.path.split(speech_files[1])
    calls.clear()
    diarization = audemo.Diarization(pipeline, min_speakers=1, max_speakers=3)
    turns = diarization(name, root=root)
    assert calls == [(speech_files[1], {"min_speakers": 1, "max_speakers": 3})]
    assert set(turns.index.get_level_values("file")) == {name}

    # several files
    calls.clear()
    turns = audemo.Diarization(pipeline).process_files(speech_files[:2])
    assert [file for file, _ in calls] == speech_files[:2]
    assert calls[0][1] == {}
    assert list(dict.fromkeys(turns.index.get_level_values("file"))) == sorted(
        speech_files[:2]
    )
    assert len(audemo.Diarization(pipeline).process_files([])) == 0


def test_pyannote_4_output(speech_files):
    # pyannote.audio >= 4 wraps the annotation in an output object
    def pipeline(file, **options):
        return types.SimpleNamespace(
            speaker_diarization=annotation_of(TRACKS),
            exclusive_speaker_diarization=annotation_of(TRACKS[:1]),
        )

    turns = audemo.Diarization(pipeline)(speech_files[0])
    assert len(turns) == 3


def test_pipeline_errors(speech_files, tmp_path):
    with pytest.raises(FileNotFoundError, match="to diarize does not exist"):
        audemo.Diarization()(str(tmp_path / "missing.wav"))
    with pytest.raises(FileNotFoundError, match="Pass the folder"):
        audemo.Diarization()("missing.wav")
    with pytest.raises(TypeError, match="Expected a pyannote.core.Annotation"):
        audemo.Diarization(lambda file: "SPEAKER")(speech_files[0])
    # a turn after the end of the file: the turns belong to another file
    with pytest.raises(ValueError, match="after the end"):
        audemo.Diarization(lambda file: annotation_of([(99.0, 100.0, "A")]))(
            speech_files[0]
        )
    with pytest.raises(TypeError, match="pipeline must be"):
        audemo.Diarization(3)
    for name in ("num_speakers", "min_speakers", "max_speakers"):
        for value in (0, -1, 1.5, True, "2"):
            with pytest.raises(ValueError, match=f"{name} must be a positive"):
                audemo.Diarization(**{name: value})
    with pytest.raises(ValueError, match="not both"):
        audemo.Diarization(num_speakers=2, max_speakers=3)
    with pytest.raises(ValueError, match="must not be larger"):
        audemo.Diarization(min_speakers=3, max_speakers=2)


def test_yaml(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_secret")
    diarization = audemo.Diarization(num_speakers=2, device="cuda")
    path = str(tmp_path / "diarization.yaml")
    diarization.to_yaml(path)
    text = open(path).read()
    assert "hf_secret" not in text and "token" not in text
    assert "device" not in text
    loaded = audobject.from_yaml(path)
    assert isinstance(loaded, audemo.Diarization)
    assert loaded.pipeline == PIPELINE
    assert loaded.num_speakers == 2
    assert loaded.device == "cpu"
    assert audobject.from_yaml(path, override_args={"device": "cuda"}).device == "cuda"
    # a local folder round-trips as a path
    folder = tmp_path / "pipeline"
    folder.mkdir()
    local = audemo.Diarization(folder, min_speakers=2)
    assert local.pipeline == str(folder)
    assert audobject.from_yaml_s(local.to_yaml_s()).pipeline == str(folder)
    # a pipeline object cannot be written
    with pytest.raises(ValueError, match="cannot be serialized"):
        audemo.Diarization(lambda file: Annotation()).to_yaml_s()
