import os
import shutil

from databases import speech_database
import numpy as np
import pandas as pd
import pytest
import yaml

import audeer
import audformat

import audemo
from audemo.core.cli import main
from audemo.core.database import find_column
from audemo.core.database import load_database
from audemo.core.database import load_table
from audemo.core.database import scheme_ranges


@pytest.fixture
def database(speech_files, tmp_path):
    return speech_database(speech_files, tmp_path / "db")


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


def test_cli_database_output(model_root, database, tmp_path, capsys):
    assert main(["predict", database, "--model", model_root, "-o", database]) == 0
    db = audformat.Database.load(database)
    assert db["predictions"].type == "filewise"
    assert sorted(db["predictions"].files) == sorted(db.files)
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


def test_cli_default_table_leaves_gold_labels(model_root, database, capsys):
    r"""README's commands: predictions into my-db/, gold labels in my-db:emotion."""
    db = audformat.Database.load(database)
    db["emotion"] = audformat.Table(db["files"].index)
    db["emotion"]["arousal"] = audformat.Column()
    db["emotion"]["arousal"].set(np.linspace(0, 1, len(db.files)))
    db.save(database)
    gold = db["emotion"].get()
    assert main(["predict", database, "--model", model_root, "-o", database]) == 0
    db = audformat.Database.load(database)
    pd.testing.assert_frame_equal(db["emotion"].get(), gold)
    assert list(db["predictions"].columns) == ["arousal", "dominance", "valence"]
    results = os.path.join(database, "results.csv")
    command = ["predict", database, "--model", model_root, "-o", results]
    assert main(command) == 0
    argv = ["report", results, "--truth", f"{database}:emotion", "--bootstrap", "0"]
    assert main(argv + ["-o", os.path.join(database, "report.md")]) == 0
    capsys.readouterr()


def test_database_output_from_other_folder(model_root, database, speech_root, capsys):
    code = main(["predict", speech_root, "--model", model_root, "-o", database])
    assert code == 1
    assert "not inside the database" in capsys.readouterr().err
    inside = os.path.join(database, "audio", "happy.wav")
    assert main(["predict", inside, "--model", model_root, "-o", database]) == 0
    assert list(audformat.Database.load(database)["predictions"].files) == [
        "audio/happy.wav"
    ]


BAD_TABLE_IDS = ["../outside", "a/b", "/tmp/absolute", "..", ".hidden", "a..b", ""]
BAD_TABLE_IDS += ["x" * 300, "with space", "back\\slash"]


@pytest.fixture
def results(model_root, database):
    db = audformat.Database.load(database)
    return db, audemo.Emotion(model_root).process_index(
        db.files, root=db.root, preserve_index=True
    )


@pytest.mark.parametrize("table_id", BAD_TABLE_IDS)
def test_table_id_is_checked_before_anything_is_written(
    model_root, database, results, table_id, tmp_path, capsys
):
    db, frame = results
    header = open(os.path.join(database, "db.yaml"), "rb").read()
    before = sorted(audeer.list_file_names(str(tmp_path), recursive=True))
    with pytest.raises(ValueError, match="is not a valid table ID: use letters"):
        audemo.to_database(db, frame, table_id)
    assert table_id not in db.tables
    args = ["predict", database, "--model", model_root, "-o", database]
    assert main([*args, "--table", table_id]) == 1
    assert f"--table {table_id!r} is not a valid table ID" in (capsys.readouterr().err)
    # nothing written, the database loads as before
    assert open(os.path.join(database, "db.yaml"), "rb").read() == header
    assert sorted(audeer.list_file_names(str(tmp_path), recursive=True)) == before
    assert audformat.Database.load(database) == db


def test_valid_table_ids(model_root, database, results):
    db, frame = results
    for table_id in ["emotion.test", "Emotion_2-b"]:
        audemo.to_database(db, frame, table_id)
        args = ["predict", database, "--model", model_root, "-o", database]
        assert main([*args, "--table", table_id, "--overwrite"]) == 0
    assert {"emotion.test", "Emotion_2-b"} <= set(audformat.Database.load(database))


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


@pytest.mark.network
def test_to_database_model_references(model_root, server, archive, cache_root):
    # a URL is stored as it is, a model folder without a database root not at all
    server.files["/model.zip"] = archive
    url = server.url("/model.zip")
    index = audformat.filewise_index(["a.wav"])
    frame = pd.DataFrame({"arousal": [0.5]}, index=index)
    db = audformat.Database("unsaved")  # no root
    interface = audemo.Emotion(url, model_cache_root=cache_root)
    audemo.to_database(db, frame, "url", interface=interface)
    assert db["url"].meta["model"] == url
    assert yaml.safe_load(db["url"].meta["pipeline"])
    audemo.to_database(db, frame, "folder", interface=audemo.Emotion(model_root))
    assert db["folder"].meta["model"] is None
    assert os.path.isabs(model_root)
    # a column of a head gets the category scheme
    audemo.to_database(db, frame.rename(columns={"arousal": "happy"}), "head")
    assert db["head"]["happy"].scheme_id == "audemo-category"


def test_to_database_whole_files_need_readable_files(database):
    db = audformat.Database.load(database)
    whole = audformat.segmented_index(["audio/happy.wav"], [0], [1.0])
    frame = pd.DataFrame({"arousal": [0.5]}, index=whole)
    # without a root the file cannot be found: the segment stays a segment
    assert audemo.to_database(audformat.Database("x"), frame, "a").type == "segmented"
    # a file that cannot be read proves nothing either
    open(os.path.join(database, "audio", "happy.wav"), "w").write("not audio")
    assert audemo.to_database(db, frame, "b").type == "segmented"


def test_load_database_table_without_file(database):
    os.remove(os.path.join(database, "db.files.parquet"))
    with pytest.raises(FileNotFoundError, match="has no file db.files.parquet"):
        load_database(database)


def test_load_table(database, tmp_path):
    assert load_table(database, "files")["files"].files[0].startswith("audio/")
    with pytest.raises(ValueError, match="has no table 'gold': it has"):
        load_table(database, "gold")
    with pytest.raises(ValueError, match="holds no audformat database"):
        load_table(str(tmp_path), "files")


def test_find_column_and_scheme_ranges():
    db = audformat.Database("labels")
    index = audformat.filewise_index(["a.wav", "b.wav"])
    db.schemes["scale"] = audformat.Scheme("float", minimum=1, maximum=7)
    db.schemes["unit"] = audformat.Scheme("float", minimum=0, maximum=1)
    db.schemes["open"] = audformat.Scheme("float", minimum=1)
    db["gold"] = audformat.Table(index)
    for column, scheme_id in [("arousal", "scale"), ("valence", "unit")]:
        db["gold"][column] = audformat.Column(scheme_id=scheme_id)
    db["gold"]["dominance"] = audformat.Column(scheme_id="open")
    db["gold"]["speaker"] = audformat.Column()
    db["gold"]["speaker"].set(["s1", "s2"])
    db["files"] = audformat.Table(index)
    db["files"]["sex"] = audformat.Column()
    db["files"]["sex"].set(["f", "m"])
    # the labels' table first, then the others
    assert find_column(db, "gold", "speaker").tolist() == ["s1", "s2"]
    assert find_column(db, "gold", "sex").name == "sex"
    with pytest.raises(ValueError, match="has a column 'age'"):
        find_column(db, "gold", "age")
    ranges = scheme_ranges(db, "gold", ["arousal", "valence", "dominance", "speaker"])
    assert ranges == {"arousal": (1.0, 7.0)}
    assert scheme_ranges(db, "gold", ["valence"]) is None
