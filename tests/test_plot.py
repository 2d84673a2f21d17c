import os

from databases import speech_database
import matplotlib.image
import pandas as pd
import pytest

import audformat
import audiofile

import audemo
from audemo.core.cli import main


def check_png(path, min_size=(300, 300)):
    assert os.path.getsize(path) > 5000
    image = matplotlib.image.imread(path)
    assert image.shape[0] >= min_size[0] and image.shape[1] >= min_size[1]
    # not an empty canvas
    assert image[..., :3].std() > 0.05


def test_plots(model_root, speech_files, tmp_path):
    import matplotlib.pyplot as plt

    interface = audemo.Emotion(model_root, win_dur=1.0, hop_dur=0.5)
    frame = interface.process_files(speech_files)
    ax = audemo.plot.timeline(frame, file=speech_files[1])
    assert ax.get_xlabel() == "Time / s"
    assert ax.get_ylabel().startswith("Score")
    assert ax.get_title() == speech_files[1]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "arousal",
        "dominance",
        "valence",
    ]
    path = str(tmp_path / "timeline.png")
    ax.figure.savefig(path)
    check_png(path)
    plt.close("all")

    files = audemo.Emotion(model_root).process_files(speech_files)
    ax = audemo.plot.circumplex(files)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("Valence", "Arousal")
    assert len(ax.collections[0].get_offsets()) == 3
    path = str(tmp_path / "circumplex.png")
    ax.figure.savefig(path)
    check_png(path)
    plt.close("all")

    with pytest.raises(ValueError, match="choose one"):
        audemo.plot.timeline(frame)
    with pytest.raises(ValueError, match="no file"):
        audemo.plot.timeline(frame, file="other.wav")
    with pytest.raises(ValueError, match="start and end"):
        audemo.plot.timeline(
            audemo.Emotion(model_root).process_index(
                audformat.filewise_index(speech_files), preserve_index=True
            )
        )
    with pytest.raises(ValueError, match="no column"):
        audemo.plot.timeline(frame[["arousal"]], file=speech_files[0])
    with pytest.raises(ValueError, match="valence"):
        audemo.plot.circumplex(files[["arousal"]])
    plt.close("all")


def test_cli_plot(model_root, speech_files, tmp_path, capsys):
    database = speech_database(speech_files, tmp_path / "db")
    results = str(tmp_path / "windows.csv")
    assert (
        main(
            [
                "predict",
                database,
                "--model",
                model_root,
                "--win-dur",
                "1",
                "-o",
                results,
            ]
        )
        == 0
    )
    picture = str(tmp_path / "timeline.png")
    file = "audio/happy.wav"
    code = main(["plot", results, "--kind", "timeline", "--file", file, "-o", picture])
    assert code == 0
    check_png(picture)
    picture = str(tmp_path / "circumplex.png")
    assert main(["plot", results, "-o", picture]) == 0
    check_png(picture)
    assert main(["plot", str(tmp_path / "nothing.csv"), "-o", picture]) == 1
    assert "exists: pass --overwrite" in capsys.readouterr().err
    args = ["plot", str(tmp_path / "nothing.csv"), "-o", picture, "--overwrite"]
    assert main(args) == 1
    assert "does not exist" in capsys.readouterr().err
    folder = str(tmp_path / "picture.png")
    os.mkdir(folder)
    assert main(["plot", results, "-o", folder, "--overwrite"]) == 1
    assert "is a folder, not a file" in capsys.readouterr().err


def test_confusion_class_without_rows_and_wrong_shape():
    import matplotlib.pyplot as plt

    # a class without true rows has no recall: its row stays blank, not 0
    matrix = pd.DataFrame(
        [[3, 1], [0, 0]], index=["happy", "sad"], columns=["happy", "sad"]
    )
    ax = audemo.plot.confusion(matrix)
    assert [text.get_text() for text in ax.texts] == ["0.75", "0.25"]
    assert ax.get_title() == "UAR 0.750"
    with pytest.raises(ValueError, match="same classes"):
        audemo.plot.confusion(matrix[["sad", "happy"]])
    plt.close("all")


def test_timeline_of_a_signal(model_root, speech_files):
    import matplotlib.pyplot as plt

    # results of a signal have start and end but no file: one timeline
    signal, sampling_rate = audiofile.read(speech_files[0])
    interface = audemo.Emotion(model_root, win_dur=1.0)
    frame = interface.process_signal(signal, sampling_rate)
    assert "file" not in frame.index.names
    ax = audemo.plot.timeline(frame)
    assert ax.get_title() == ""
    assert len(ax.collections) == 3  # one set of bars per dimension
    plt.close("all")
