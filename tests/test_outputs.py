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
    err = capsys.readouterr().err
    assert "pass --overwrite to replace it" in err and "overwrite=True" not in err
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
    assert "exists: pass --overwrite" in capsys.readouterr().err
    args = ["plot", str(tmp_path / "nothing.csv"), "-o", picture, "--overwrite"]
    assert main(args) == 1
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


BAD_TABLE_IDS = ["../outside", "a/b", "/tmp/absolute", "..", ".hidden", "a..b", ""]
BAD_TABLE_IDS += ["x" * 300, "with space", "back\\slash"]


def test_table_id_is_checked_before_anything_is_written(
    model_root, database, tmp_path, capsys
):
    db = audformat.Database.load(database)
    frame = audemo.Emotion(model_root).process_index(
        db.files, root=db.root, preserve_index=True
    )
    header = open(os.path.join(database, "db.yaml"), "rb").read()
    before = sorted(audeer.list_file_names(str(tmp_path), recursive=True))
    for table_id in BAD_TABLE_IDS:
        with pytest.raises(ValueError, match="is not a valid table ID: use letters"):
            audemo.to_database(db, frame, table_id)
        assert table_id not in db.tables
        args = ["predict", database, "--model", model_root, "-o", database]
        assert main([*args, "--table", table_id]) == 1
        assert f"--table {table_id!r} is not a valid table ID" in (
            capsys.readouterr().err
        )
    # nothing written, the database loads as before
    assert open(os.path.join(database, "db.yaml"), "rb").read() == header
    assert sorted(audeer.list_file_names(str(tmp_path), recursive=True)) == before
    assert audformat.Database.load(database) == db

    for table_id in ["emotion.test", "Emotion_2-b"]:
        audemo.to_database(db, frame, table_id)
        args = ["predict", database, "--model", model_root, "-o", database]
        assert main([*args, "--table", table_id, "--overwrite"]) == 0
    assert {"emotion.test", "Emotion_2-b"} <= set(audformat.Database.load(database))


def test_report_escapes_labels(tmp_path):
    # labels and file names from a database are text, never markup
    attacks = [
        "<img src=x onerror=alert(1)>",
        "[click](https://evil.example)",
        "a|b\nc",
        "&lt;b&gt;",
    ]
    files = [f"{attacks[n % 4]}-{n}.wav" for n in range(24)]
    index = audformat.filewise_index(files)
    rng = np.random.default_rng(0)
    truth = pd.DataFrame({"arousal": rng.uniform(0, 1, 24)}, index=index)
    prediction = truth + rng.normal(0, 0.1, (24, 1))
    groups = pd.Series([attacks[n % 4] for n in range(24)], index=index, name="<u>g")
    evaluation = audemo.evaluate(
        prediction,
        truth,
        groups=groups,
        speakers=groups.rename("speaker"),
        min_samples=2,
        num_bootstrap=10,
    )
    details = {"Results": "<script>alert(1)</script>.csv"}
    markdown = open(
        audemo.write_report(str(tmp_path / "r.md"), evaluation, details=details)
    ).read()
    page = open(
        audemo.write_report(str(tmp_path / "r.html"), evaluation, details=details)
    ).read()
    for text in (markdown, page):
        assert "<img src=x" not in text and "<script" not in text
        assert "<u>" not in text
        assert "&lt;img src=x onerror=alert(1)&gt;" in text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;.csv" in text
        assert "&amp;lt;b&amp;gt;" in text  # shown as typed, not as <b>
    assert "[click](" not in markdown  # no link
    assert "\\[click\\](https://evil.example)" in markdown
    # each table row keeps its cells: the | and line break of a label are escaped
    for table in markdown.split("\n\n"):
        rows = [line for line in table.splitlines() if line.startswith("|")]
        cells = {line.replace("\\|", "").count("|") for line in rows}
        assert len(cells) <= 1, table
    assert "a\\|b c" in markdown


def test_to_database_whole_files_are_filewise(model_root, database):
    # what the README shows: process_index without preserve_index
    db = audformat.Database.load(database)
    interface = audemo.Emotion(model_root, errors="coerce")
    index = audformat.filewise_index(list(db.files) + ["audio/missing.wav"])
    with pytest.warns(RuntimeWarning, match="missing.wav"):
        frame = interface.process_index(index, root=db.root)
    assert audformat.index_type(frame.index) == "segmented"
    table = audemo.to_database(db, frame, "emotion", interface=interface)
    assert table.type == "filewise"  # as audemo predict -o DB writes it
    assert list(table.files) == list(index)
    np.testing.assert_allclose(table.get().to_numpy(float), frame.to_numpy(float))
    # a segment from 0 that ends before the file ends stays a segment
    files = list(db.files)
    segments = audformat.segmented_index(
        files, [0] * len(files), [pd.Timedelta(0.5, unit="s")] * len(files)
    )
    frame = interface.process_index(segments, root=db.root)
    assert audemo.to_database(db, frame, "part").type == "segmented"


def test_to_database_pipeline_is_portable(model_root, database, tmp_path):
    # the model folder next to the database: both move together
    model = os.path.join(tmp_path, "model")
    shutil.copytree(model_root, model)
    db = audformat.Database.load(database)
    interface = audemo.Emotion(model)
    frame = interface.process_index(db.files, root=db.root, preserve_index=True)
    audemo.to_database(db, frame, "emotion", interface=interface)
    meta = db["emotion"].meta
    assert meta["model"] == "../model"
    assert str(tmp_path) not in meta["pipeline"]
    db.save(database)
    moved = str(tmp_path / "moved")
    os.makedirs(moved)
    shutil.move(database, os.path.join(moved, "db"))
    shutil.move(model, os.path.join(moved, "model"))
    pipeline_file = os.path.join(moved, "db", "pipeline.yaml")
    db = audformat.Database.load(os.path.join(moved, "db"))
    open(pipeline_file, "w").write(db["emotion"].meta["pipeline"])
    pipeline = audemo.load_pipeline(pipeline_file)
    assert pipeline.fingerprint == interface.fingerprint
    assert pipeline.model_root == os.path.join(moved, "model")
