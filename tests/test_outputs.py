import os
import shutil

import matplotlib.image
import numpy as np
import pandas as pd
import pytest
import yaml

import audeer
import audformat

import audemo
from audemo.core.cli import main


@pytest.fixture
def database(speech_files, tmp_path):
    root = audeer.mkdir(tmp_path / "db")
    audeer.mkdir(root, "audio")
    files = []
    for file in speech_files:
        name = f"audio/{os.path.basename(file)}"
        shutil.copy(file, os.path.join(root, name))
        files.append(name)
    db = audformat.Database("outputs-test", source="espeak-ng", usage="unrestricted")
    db["files"] = audformat.Table(audformat.filewise_index(files))
    db.save(root)
    return root


def test_to_database_and_audb(model_root, database, publish_and_load):
    db = audformat.Database.load(database)
    interface = audemo.Emotion(model_root, outputs=["logits", "hidden_states"])
    frame = interface.process_index(db.files, root=db.root, preserve_index=True)
    table = audemo.to_database(db, frame, "emotion", interface=interface)
    assert table.type == "filewise"
    assert db.schemes["audemo-dimension"].dtype == "float"
    assert "not clipped" in db.schemes["audemo-dimension"].description
    assert db["emotion"].meta["fingerprint"] == interface.fingerprint
    pipeline = yaml.safe_load(db["emotion"].meta["pipeline"])
    assert list(pipeline)[0].startswith("$audemo.core.emotion.Emotion")
    assert interface.fingerprint[:12] in db["emotion"].description
    with pytest.raises(ValueError, match="overwrite=True"):
        audemo.to_database(db, frame, "emotion", interface=interface)
    db.save(database)

    loaded = publish_and_load(database)
    result = loaded["emotion"].get()
    assert list(result.columns) == list(frame.columns)
    np.testing.assert_allclose(
        result.loc[frame.index].to_numpy(float), frame.to_numpy(float), rtol=1e-6
    )
    assert loaded["emotion"].meta["fingerprint"] == interface.fingerprint


def test_to_database_segments_and_failures(model_root, database):
    db = audformat.Database.load(database)
    files = list(db.files) + ["audio/missing.wav"]
    interface = audemo.Emotion(model_root, win_dur=1.0, errors="coerce")
    with pytest.warns(RuntimeWarning, match="missing.wav"):
        frame = interface.process_index(audformat.filewise_index(files), root=db.root)
    audemo.to_database(db, frame, "emotion-over-time", interface=interface)
    table = db["emotion-over-time"]
    assert table.type == "segmented"
    values = table.get()
    assert len(values) == len(frame)
    assert values.loc["audio/missing.wav"].isna().all(axis=None)
    # absolute paths below the database root become relative
    absolute = frame.copy()
    absolute.index = audformat.utils.expand_file_path(frame.index, db.root)
    audemo.to_database(db, absolute, "emotion-over-time", overwrite=True)
    assert db["emotion-over-time"].files[0].startswith("audio/")
    with pytest.raises(ValueError, match="audformat"):
        audemo.to_database(db, pd.DataFrame({"arousal": [0.5]}), "broken")


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


def test_cli_database_output_and_plot(model_root, database, tmp_path, capsys):
    assert main(["predict", database, "--model", model_root, "-o", database]) == 0
    db = audformat.Database.load(database)
    assert db["emotion"].type == "filewise"
    assert sorted(db["emotion"].files) == sorted(db.files)
    assert main(["predict", database, "--model", model_root, "-o", database]) == 1
    assert "overwrite=True" in capsys.readouterr().err
    assert (
        main(
            [
                "predict",
                database,
                "--model",
                model_root,
                "--vad",
                "-o",
                database,
                "--table",
                "emotion-vad",
            ]
        )
        == 0
    )
    assert audformat.Database.load(database)["emotion-vad"].type == "segmented"
    not_a_db = audeer.mkdir(tmp_path / "plain-folder")
    assert main(["predict", database, "--model", model_root, "-o", not_a_db]) == 1
    assert "holds no audformat database" in capsys.readouterr().err

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
    assert "does not exist" in capsys.readouterr().err


def test_read_results_formats(model_root, speech_files, tmp_path):
    from audemo.core.cli import read_results

    parquet = str(tmp_path / "results.parquet")
    assert main(["predict", *speech_files, "--model", model_root, "-o", parquet]) == 0
    frame = read_results(parquet)
    assert frame.index.names == ["file", "start", "end"]
    filewise = tmp_path / "filewise.csv"
    filewise.write_text("file,arousal,valence\na.wav,0.5,0.4\n")
    assert read_results(str(filewise)).index.name == "file"
    broken = tmp_path / "broken.csv"
    broken.write_text("x,y\n1,2\n")
    with pytest.raises(ValueError, match="no 'file' column"):
        read_results(str(broken))


def test_database_output_from_other_folder(model_root, database, speech_root, capsys):
    code = main(["predict", speech_root, "--model", model_root, "-o", database])
    assert code == 1
    assert "not inside the database" in capsys.readouterr().err
    inside = os.path.join(database, "audio", "happy.wav")
    assert main(["predict", inside, "--model", model_root, "-o", database]) == 0
    assert list(audformat.Database.load(database)["emotion"].files) == [
        "audio/happy.wav"
    ]
