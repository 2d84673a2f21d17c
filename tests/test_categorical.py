import hashlib
import importlib
import os
import re
import shutil
import subprocess
import sys

from external_data import sparse_external_initializer
import numpy as np
import onnx
import onnx.helper
import pandas as pd
import pytest

import audeer
import audformat
import audiofile
import audobject
import audonnx

import audemo
from audemo.core.categories.categorical import Categories
from audemo.core.categories.evaluation import CategoryEvaluation
from audemo.core.categories.evaluation import evaluate_categories
from audemo.core.categories.export import check_head_root
from audemo.core.categories.export import save_categories
from audemo.core.categories.head import head_session
from audemo.core.categories.training import train_categories
from audemo.core.plot import confusion


# espeak-ng voices stand in for speakers; pitch and speed for categories.
# The test model's embedding is not about emotion: this tests the machinery
VOICES = {"s1": "en-us", "s2": "en-gb+f3", "s3": "en-gb-scotland+m3", "s4": "en-029+f2"}
CATEGORIES = {
    "low": ["-p", "0", "-s", "120"],
    "mid": ["-p", "50", "-s", "175"],
    "high": ["-p", "99", "-s", "260"],
}
SENTENCES = ["The train leaves at nine.", "Please close the door behind you."]


def speak(text, path, *, voice, options):
    raw = path + ".raw.wav"
    subprocess.run(["espeak-ng", "-v", voice, *options, "-w", raw, text], check=True)
    subprocess.run(
        ["sox", "-V1", raw, "-r", "16000", "-b", "16", path],
        check=True,
    )
    os.remove(raw)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    r"""audformat database folder: 4 speakers x 3 categories x 2 sentences."""
    root = str(tmp_path_factory.mktemp("corpus"))
    audeer.mkdir(root, "audio")
    files, speakers, categories = [], [], []
    for speaker, voice in VOICES.items():
        for category, options in CATEGORIES.items():
            for i, text in enumerate(SENTENCES):
                file = f"audio/{speaker}-{category}-{i}.wav"
                speak(text, os.path.join(root, file), voice=voice, options=options)
                files.append(file)
                speakers.append(speaker)
                categories.append(category)
    db = audformat.Database("categories-test", source="espeak-ng", usage="unrestricted")
    db.schemes["speaker"] = audformat.Scheme("str")
    db.schemes["category"] = audformat.Scheme(labels=list(CATEGORIES))
    db["files"] = audformat.Table(audformat.filewise_index(files))
    db["files"]["speaker"] = audformat.Column(scheme_id="speaker")
    db["files"]["speaker"].set(speakers)
    db["files"]["category"] = audformat.Column(scheme_id="category")
    db["files"]["category"].set(categories)
    db.save(root)
    return root


@pytest.fixture(scope="module")
def db(corpus):
    return audformat.Database.load(corpus)


@pytest.fixture(scope="module")
def embeddings(db, model_root):
    interface = audemo.Emotion(model_root, outputs="hidden_states")
    return interface.process_index(db.files, root=db.root)


@pytest.fixture(scope="module")
def labels(db):
    return db["files"]["category"].get()


@pytest.fixture(scope="module")
def speakers(db):
    return db["files"]["speaker"].get()


@pytest.fixture(scope="module")
def head(embeddings, labels, tmp_path_factory):
    root = str(tmp_path_factory.mktemp("head"))
    return save_categories(train_categories(embeddings, labels), root)


@pytest.mark.slow
def test_workflow_with_audb(corpus, model_root, publish_and_load, tmp_path):
    db = publish_and_load(corpus)
    embeddings = audemo.Emotion(model_root, outputs="hidden_states").process_index(
        db.files, root=db.root
    )
    labels = db["files"]["category"].get()
    speakers = db["files"]["speaker"].get()
    assert labels.dtype == "category"

    evaluation = evaluate_categories(embeddings, labels, speakers)

    classes = ["high", "low", "mid"]
    predictions = evaluation.predictions
    assert list(predictions.columns) == ["speaker", "truth", "prediction"]
    assert predictions.index.equals(embeddings.index)
    files = predictions.index.get_level_values("file")
    assert predictions["truth"].tolist() == labels.loc[files].astype(str).tolist()
    assert predictions["speaker"].tolist() == speakers.loc[files].tolist()
    # UAR, accuracy and confusion matrix by hand from the fold predictions
    truth, predicted = predictions["truth"], predictions["prediction"]
    recalls = [(predicted[truth == name] == name).mean() for name in classes]
    assert evaluation.uar == pytest.approx(np.mean(recalls))
    assert evaluation.accuracy == pytest.approx((truth == predicted).mean())
    expected = pd.crosstab(truth, predicted).reindex(
        index=classes, columns=classes, fill_value=0
    )
    np.testing.assert_array_equal(evaluation.confusion.to_numpy(), expected)
    assert evaluation.confusion.index.name == "truth"
    assert evaluation.confusion.columns.name == "prediction"
    assert evaluation.uar == pytest.approx(
        np.mean(np.diag(expected) / expected.sum(axis=1))
    )
    assert evaluation.uar > 1 / len(classes)  # better than guessing
    # each fold's classifier has never seen the speaker it predicts
    held_out = (predictions["speaker"] == "s2").to_numpy()
    fold = train_categories(embeddings[~held_out], labels)
    assert fold.predict(embeddings[held_out]).tolist() == (predicted[held_out].tolist())
    assert repr(evaluation) == (
        f"CategoryEvaluation(uar={evaluation.uar:.3f}, "
        f"accuracy={evaluation.accuracy:.3f}, classes=3, speakers=4)"
    )

    # train on all speakers, save head and pipeline in a project folder
    project = audeer.mkdir(tmp_path / "project")
    model = shutil.copytree(model_root, os.path.join(project, "model"))
    classifier = train_categories(embeddings, labels)
    head = save_categories(classifier, os.path.join(project, "heads", "pitch"))
    interface = Categories(head, model=model)
    expected = interface.process_index(db.files, root=db.root)
    interface.to_yaml(os.path.join(project, "pipelines", "categories.yaml"))
    with open(os.path.join(project, "pipelines", "categories.yaml")) as fp:
        text = fp.read()
    assert "head: ../heads/pitch\n" in text
    assert f"head_fingerprint: {interface.head_fingerprint}" in text
    assert f"fingerprint: {interface.fingerprint}" in text
    assert project not in text

    moved = str(tmp_path / "moved")
    shutil.move(project, moved)
    path = os.path.join(moved, "pipelines", "categories.yaml")
    for loaded in [audemo.load_pipeline(path), audobject.from_yaml(path)]:
        assert isinstance(loaded, Categories)
        assert loaded.head == os.path.join(moved, "heads", "pitch")
        assert loaded.classes == classes
        result = loaded.process_index(db.files, root=db.root)
        pd.testing.assert_frame_equal(result, expected)
    np.testing.assert_allclose(
        result.to_numpy(), classifier.predict_proba(embeddings), atol=1e-5
    )
    assert result.idxmax(axis=1).tolist() == classifier.predict(embeddings).tolist()

    # probabilities as a table of the database, under their own scheme
    table = audemo.to_database(db, result.droplevel(["start", "end"]), "categories")
    assert [column.scheme_id for column in table.columns.values()] == [
        "audemo-category"
    ] * 3
    assert "probability" in db.schemes["audemo-category"].description


@pytest.mark.parametrize(
    "module, purpose",
    [
        ("sklearn.linear_model", "training categories"),
        ("sklearn.svm", "training categories"),
        ("sklearn.metrics", "evaluating categories"),
    ],
)
def test_without_scikit_learn(
    embeddings, labels, speakers, monkeypatch, module, purpose
):
    # the message of every optional import (utils.import_optional)
    for name in ["linear_model", "metrics", "pipeline", "preprocessing", "svm"]:
        importlib.import_module(f"sklearn.{name}")  # loaded before one is hidden
    monkeypatch.setitem(sys.modules, module, None)
    message = f"sklearn is needed for {purpose}: pip install 'audemo[evaluation]'"
    with pytest.raises(ImportError, match=re.escape(message)):
        evaluate_categories(embeddings, labels, speakers)


@pytest.mark.parametrize("classifier", ["logistic", "svc"])
@pytest.mark.parametrize("classes", [["low", "high"], ["low", "mid", "high"]])
def test_head_reproduces_sklearn(embeddings, labels, tmp_path, classifier, classes):
    labels = labels[labels.isin(classes)]
    fitted = train_categories(embeddings, labels, classifier=classifier, C=0.5)
    root = save_categories(fitted, str(tmp_path / "head"))
    assert sorted(os.listdir(root)) == ["model.onnx", "model.yaml"]

    head = audonnx.load(root)
    output = "probabilities" if classifier == "logistic" else "scores"
    assert list(head.outputs) == [output]
    assert head.outputs[output].labels == sorted(classes)
    assert list(head.inputs) == ["hidden_states"]
    rows = embeddings[embeddings.index.get_level_values("file").isin(labels.index)]
    values = head(rows.to_numpy(np.float32))
    if classifier == "logistic":
        expected = fitted.predict_proba(rows)
        np.testing.assert_allclose(values.sum(axis=1), 1, atol=1e-6)
    else:
        expected = fitted.decision_function(rows)
        if len(classes) == 2:
            expected = np.stack([-expected, expected], axis=1)
    np.testing.assert_allclose(values, expected, atol=1e-5, rtol=1e-5)
    predicted = np.array(sorted(classes))[values.argmax(axis=1)]
    assert predicted.tolist() == fitted.predict(rows).tolist()
    # one embedding at a time, as the emotion model gives it
    np.testing.assert_allclose(head(rows.to_numpy(np.float32)[0]), values[:1])
    # the graph is plain ONNX operators, no Python or pickled objects
    proto = onnx.load(os.path.join(root, "model.onnx"))
    operators = {node.op_type for node in proto.graph.node}
    assert operators <= {"Sub", "Div", "MatMul", "Add", "Softmax"}


def test_interface_methods(db, model_root, head, embeddings, labels, tmp_path):
    interface = Categories(head, model=model_root)
    assert interface.classes == ["high", "low", "mid"]
    assert interface.output == "probabilities"
    emotion = audemo.Emotion(model_root, outputs="hidden_states")
    classifier = train_categories(embeddings, labels)
    file = os.path.join(db.root, db.files[0])
    signal, sampling_rate = audiofile.read(file)

    def expected(frame):
        return pd.DataFrame(
            classifier.predict_proba(frame).astype(np.float32),
            index=frame.index,
            columns=interface.classes,
        )

    result = interface.process_signal(signal, sampling_rate)
    pd.testing.assert_frame_equal(
        result, expected(emotion.process_signal(signal, sampling_rate)), atol=1e-5
    )
    result = interface.process_file(file)
    pd.testing.assert_frame_equal(result, expected(emotion.process_file(file)))
    files = [os.path.join(db.root, name) for name in db.files[:3]]
    result = interface.process_files(files)
    pd.testing.assert_frame_equal(result, expected(emotion.process_files(files)))
    result = interface.process_index(db.files[:3], root=db.root, preserve_index=True)
    assert result.index.equals(db.files[:3])
    np.testing.assert_allclose(result.sum(axis=1), 1, atol=1e-6)
    values = interface(signal, sampling_rate)
    assert values.shape == (1, 3, 1)
    np.testing.assert_allclose(
        values[0, :, 0], interface.process_signal(signal, sampling_rate).iloc[0]
    )

    # windows: one row per window, each the head of that window's embedding
    windowed = Categories(head, model=model_root, win_dur=0.5)
    result = windowed.process_file(file)
    reference = audemo.Emotion(model_root, outputs="hidden_states", win_dur=0.5)
    assert len(result) > 2
    pd.testing.assert_frame_equal(
        result, expected(reference.process_file(file)), atol=1e-5
    )

    # a failing file gives NaN, the others are processed
    coerce = Categories(head, model=model_root, errors="coerce")
    with pytest.warns(RuntimeWarning, match="1 of 2 files failed"):
        result = coerce.process_files([file, str(tmp_path / "missing.wav")])
    assert result.iloc[0].notna().all()
    assert result.iloc[1].isna().all()

    # long inputs: the head sees the duration-weighted mean embedding
    chunked = Categories(head, model=model_root, chunk_dur=0.5)
    reference = audemo.Emotion(model_root, outputs="hidden_states", chunk_dur=0.5)
    pd.testing.assert_frame_equal(
        chunked.process_file(file), expected(reference.process_file(file)), atol=1e-5
    )


@pytest.mark.slow
def test_svc_head_and_workers(db, model_root, embeddings, labels, tmp_path):
    classifier = train_categories(embeddings, labels, classifier="svc")
    head = save_categories(classifier, str(tmp_path / "svc"))
    interface = Categories(head, model=model_root)
    assert interface.output == "scores"
    files = [os.path.join(db.root, name) for name in db.files[:4]]
    result = interface.process_files(files)
    emotion = audemo.Emotion(model_root, outputs="hidden_states")
    np.testing.assert_allclose(
        result.to_numpy(),
        classifier.decision_function(emotion.process_files(files)),
        atol=1e-5,
    )
    # worker processes load the head themselves: the object holds no session
    workers = Categories(head, model=model_root, num_workers=2, multiprocessing=True)
    pd.testing.assert_frame_equal(workers.process_files(files), result)


def test_cache(db, model_root, head, embeddings, labels, tmp_path):
    cache = str(tmp_path / "cache")
    interface = Categories(head, model=model_root)
    emotion = audemo.Emotion(model_root, outputs="hidden_states")
    other = save_categories(
        train_categories(embeddings, labels, C=0.01), str(tmp_path / "other")
    )
    keys = {
        interface.cache_key(),
        emotion.cache_key(),
        Categories(other, model=model_root).cache_key(),
    }
    assert len(keys) == 3
    index = db.files[:3]
    first = interface.process_index(index, root=db.root, cache_root=cache)
    again = interface.process_index(index, root=db.root, cache_root=cache)
    pd.testing.assert_frame_equal(first, again)
    assert list(emotion.process_index(index, root=db.root, cache_root=cache)) == [
        f"hidden_states-{i}" for i in range(32)
    ]


def test_changed_head_is_refused(model_root, embeddings, labels, tmp_path):
    head = save_categories(train_categories(embeddings, labels), str(tmp_path / "h"))
    interface = Categories(head, model=model_root)
    path = str(tmp_path / "categories.yaml")
    interface.to_yaml(path)
    signal = np.zeros((1, 16000), dtype=np.float32)
    before = interface.process_signal(signal, 16000)

    with pytest.raises(RuntimeError, match="head_fingerprint=None"):
        Categories(head, model=model_root, head_fingerprint="0" * 64)
    # another classifier written over the head
    save_categories(train_categories(embeddings, labels, C=0.01), head)
    for load in [audobject.from_yaml, audemo.load_pipeline]:
        with pytest.raises(RuntimeError, match="was changed or replaced"):
            load(path)
    # the object made before the change keeps running the head it checked;
    # a process that has not loaded it yet (a worker) refuses the new file
    pd.testing.assert_frame_equal(interface.process_signal(signal, 16000), before)
    head_session.cache_clear()
    with pytest.raises(RuntimeError, match="changed after the pipeline"):
        interface.process_signal(signal, 16000)
    # a different emotion model is refused as well
    other = audemo.testing.create_model(str(tmp_path / "model"), seed=5)
    with pytest.raises(RuntimeError, match="fingerprint"):
        audobject.from_yaml(path, override_args={"model": other})


def test_head_with_external_data_refused(head, model_root, tmp_path, monkeypatch):
    # the head's weights in a sparse initializer whose values live in w.bin:
    # onnxruntime reads a head given as bytes relative to the working folder,
    # so the same head gives other numbers in another folder
    root = shutil.copytree(head, str(tmp_path / "head"))
    path = os.path.join(root, "model.onnx")
    sparse_external_initializer(path, "weights")
    monkeypatch.chdir(root)
    with pytest.raises(RuntimeError, match=r"external data files \['w.bin'\]"):
        Categories(root, model=model_root)
    with open(path, "rb") as fp:
        digest = hashlib.sha256(fp.read()).hexdigest()
    with pytest.raises(RuntimeError, match=r"external data files \['w.bin'\]"):
        head_session(path, digest, os.getpid())


def test_alignment(embeddings, labels, speakers, db, model_root):
    reference = train_categories(embeddings, labels).predict(embeddings)
    files = embeddings.index.get_level_values("file")

    # filewise embeddings (preserve_index=True)
    filewise = embeddings.set_axis(audformat.filewise_index(files))
    assert train_categories(filewise, labels).predict(filewise).tolist() == (
        reference.tolist()
    )
    # labels as segments covering whole files (start 0, end NaT)
    whole = labels.set_axis(audformat.segmented_index(labels.index))
    assert train_categories(embeddings, whole).predict(embeddings).tolist() == (
        reference.tolist()
    )
    # labels with exactly the segments of the embeddings
    segmented = pd.Series(labels.loc[files].to_numpy(), index=embeddings.index)
    assert train_categories(embeddings, segmented).predict(embeddings).tolist() == (
        reference.tolist()
    )
    # further columns (both outputs) are ignored
    both = embeddings.assign(arousal=0.5)
    assert train_categories(both, labels).predict(embeddings).tolist() == (
        reference.tolist()
    )
    # NaN labels and rows without labels are left out, other labels ignored
    partial = labels.astype(object)
    partial.iloc[:3] = np.nan
    partial = pd.concat(
        [partial, pd.Series(["low"], index=audformat.filewise_index(["x.wav"]))]
    )
    fitted = train_categories(embeddings, partial)
    assert fitted.n_features_in_ == 32
    evaluation = evaluate_categories(embeddings, partial, speakers)
    assert len(evaluation.predictions) == len(embeddings) - 3
    assert int(evaluation.confusion.to_numpy().sum()) == len(embeddings) - 3

    # filewise labels, but several windows per file: ambiguous
    windows = audemo.Emotion(
        model_root, outputs="hidden_states", win_dur=0.5
    ).process_index(db.files[:2], root=db.root)
    with pytest.raises(ValueError, match="ambiguous"):
        train_categories(windows, labels)
    # proper segments cannot be matched to filewise embeddings
    with pytest.raises(ValueError, match="Cannot match labels"):
        train_categories(filewise, segmented)


def test_errors(embeddings, labels, speakers, tmp_path, model_root, head):
    with pytest.raises(TypeError, match="DataFrame"):
        train_categories(embeddings.to_numpy(), labels)
    with pytest.raises(TypeError, match="labels must be a pandas Series"):
        train_categories(embeddings, labels.tolist())
    with pytest.raises(ValueError, match="hidden_states-0, hidden_states-1"):
        train_categories(embeddings.iloc[:, 1:], labels)
    with pytest.raises(ValueError, match="hidden_states-0, hidden_states-1"):
        train_categories(embeddings.assign(arousal=1)[["arousal"]], labels)
    with pytest.raises(ValueError, match="classifier must be one of"):
        train_categories(embeddings, labels, classifier="forest")
    with pytest.raises(ValueError, match="C must be positive"):
        train_categories(embeddings, labels, C=0)
    with pytest.raises(ValueError, match="1 class .low.: a classifier needs"):
        train_categories(embeddings, labels[labels == "low"])
    elsewhere = labels.set_axis(
        audformat.filewise_index([f"/elsewhere/{f}" for f in labels.index])
    )
    with pytest.raises(ValueError, match="do the file paths match"):
        train_categories(embeddings, elsewhere)
    with pytest.raises(ValueError, match="several entries for 'x.wav'"):
        train_categories(
            embeddings,
            pd.Series(["a", "b"], index=pd.Index(["x.wav", "x.wav"], name="file")),
        )
    failed = embeddings.copy()
    failed.iloc[1] = np.nan
    with pytest.raises(ValueError, match="1 labelled row has NaN embeddings"):
        train_categories(failed, labels)

    with pytest.raises(ValueError, match="1 of 24 labelled rows has no speaker"):
        evaluate_categories(embeddings, labels, speakers.iloc[1:])
    with pytest.raises(ValueError, match="at least 2 speakers"):
        evaluate_categories(embeddings, labels, pd.Series("s1", index=speakers.index))
    # a class spoken by one speaker only leaves its fold with one class
    only = labels.astype(str).where(speakers == "s1", "low")
    with pytest.raises(ValueError, match="Without speaker 's1' the training rows"):
        evaluate_categories(embeddings, only, speakers)

    with pytest.raises(ValueError, match="Only a fitted classifier"):
        save_categories("classifier", str(tmp_path / "x"))
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    unfitted = make_pipeline(StandardScaler(), SVC())
    with pytest.raises(ValueError, match="Only a fitted classifier"):
        save_categories(unfitted, str(tmp_path / "x"))
    renamed = embeddings.set_axis([f"x{i}" for i in range(32)], axis=1)
    other = make_pipeline(StandardScaler(), train_categories(embeddings, labels)[-1])
    other[0].fit(renamed)
    with pytest.raises(ValueError, match="other columns"):
        save_categories(other, str(tmp_path / "x"))

    with pytest.raises(FileNotFoundError, match="save one with"):
        Categories(str(tmp_path / "nothing"), model=model_root)
    with pytest.raises(ValueError, match="is not a categories head"):
        Categories(model_root, model=model_root)
    broken = audeer.mkdir(tmp_path / "broken")
    with open(os.path.join(broken, "model.onnx"), "wb") as fp:
        fp.write(b"not onnx")
    with pytest.raises(ValueError, match="Cannot open the categories head"):
        Categories(broken, model=model_root)
    # class names that do not fit the output
    proto = onnx.load(os.path.join(head, "model.onnx"))
    onnx.helper.set_model_props(
        proto, {"audemo.classes": '["a", "b"]', "audemo.classifier": "logistic"}
    )
    onnx.save(proto, os.path.join(audeer.mkdir(tmp_path / "mislabelled"), "model.onnx"))
    with pytest.raises(ValueError, match="is not a categories head"):
        Categories(str(tmp_path / "mislabelled"), model=model_root)
    small = audemo.testing.create_model(str(tmp_path / "small"), hidden_size=16)
    with pytest.raises(ValueError, match="takes embeddings of size 32"):
        Categories(head, model=small)


def test_confusion_plot(embeddings, labels, speakers):
    import matplotlib.pyplot as plt

    evaluation = evaluate_categories(embeddings, labels, speakers)
    assert isinstance(evaluation, CategoryEvaluation)
    ax = confusion(evaluation.confusion)
    assert ax.get_title() == f"UAR {evaluation.uar:.3f}"
    texts = [text.get_text() for text in ax.texts]
    assert len(texts) == 9 and all("." in text for text in texts)
    ax = confusion(evaluation.confusion, normalize=False)
    counts = sorted(int(text.get_text()) for text in ax.texts)
    assert counts == sorted(evaluation.confusion.to_numpy().ravel().tolist())
    # a class without rows has no recall: blank row, not counted in the UAR
    matrix = evaluation.confusion.copy()
    matrix.iloc[0] = 0
    ax = confusion(matrix)
    assert len(ax.texts) == 6
    with pytest.raises(ValueError, match="same classes"):
        confusion(evaluation.confusion.iloc[:, ::-1])
    plt.close("all")


def test_pipeline_needs_head_fingerprint(model_root, embeddings, labels, tmp_path):
    head = save_categories(train_categories(embeddings, labels), str(tmp_path / "h"))
    path = str(tmp_path / "categories.yaml")
    Categories(head, model=model_root).to_yaml(path)
    text = open(path).read()
    for argument, what in [("head_fingerprint", "head"), ("fingerprint", "model")]:
        stripped = "\n".join(
            line
            for line in text.splitlines()
            if not line.strip().startswith(f"{argument}:")
        )
        edited = str(tmp_path / f"without-{argument}.yaml")
        with open(edited, "w") as file:
            file.write(stripped)
        with pytest.raises(ValueError, match=f"no {what} fingerprint"):
            audemo.load_pipeline(edited)


@pytest.mark.slow
def test_cli(corpus, model_root, embeddings, labels, speakers, tmp_path, capsys):
    from audemo.core.cli import main
    from audemo.core.results import read_results

    head = str(tmp_path / "head")
    picture = str(tmp_path / "confusion.png")
    argv = ["categories", f"{corpus}:files:category", "--speaker", "speaker"]
    argv += ["-o", head, "--model", model_root, "--confusion", picture]
    assert main(argv + ["--cache-root", str(tmp_path / "cache")]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == head
    expected = evaluate_categories(embeddings, labels, speakers)
    assert f"over 4 speakers: UAR {expected.uar:.3f}" in err
    assert expected.confusion.to_string() in err
    assert os.path.getsize(picture) > 10_000
    # the head on disk is the classifier trained on all speakers
    classifier = train_categories(embeddings, labels)
    results = str(tmp_path / "categories.csv")
    argv = ["predict", corpus, "--model", model_root, "--head", head, "-o", results]
    assert main(argv) == 0
    frame = read_results(results)
    assert list(frame.columns) == ["high", "low", "mid", "category"]
    np.testing.assert_allclose(
        frame[["high", "low", "mid"]].to_numpy(),
        classifier.predict_proba(embeddings),
        atol=1e-5,
    )
    assert frame["category"].tolist() == list(classifier.predict(embeddings))

    for argv, message in [
        (
            ["categories", f"{corpus}:files", "--speaker", "speaker", "-o", head],
            "DB_FOLDER:TABLE:COLUMN",
        ),
        (
            ["categories", f"{corpus}:files:mood", "--speaker", "speaker", "-o", head],
            "no column 'mood'",
        ),
        (
            ["predict", corpus, "--head", head, "--outputs", "hidden_states"],
            "leave out --outputs",
        ),
    ]:
        assert main(argv) == 1
        assert message in capsys.readouterr().err


@pytest.mark.slow
def test_head_folder_is_checked(
    corpus, model_root, embeddings, labels, tmp_path, capsys
):
    from audemo.core.cli import main

    def digest(folder):
        return {
            name: audeer.md5(os.path.join(folder, name))
            for name in sorted(os.listdir(folder))
        }

    classifier = train_categories(embeddings, labels)
    # a copy of the emotion model stands in for the one in use
    model = shutil.copytree(model_root, str(tmp_path / "model"))
    other = shutil.copytree(model_root, str(tmp_path / "other-model"))
    notes = audeer.mkdir(tmp_path / "notes")
    with open(os.path.join(notes, "notes.txt"), "w") as file:
        file.write("keep me")
    before = {folder: digest(folder) for folder in (model, other, notes)}

    with pytest.raises(ValueError, match="model.onnx that is not a categories head"):
        save_categories(classifier, other)
    with pytest.raises(ValueError, match=r"e.g. notes.txt\): .* overwrite=True"):
        save_categories(classifier, notes)
    with pytest.raises(ValueError, match="is a file"):
        save_categories(classifier, os.path.join(notes, "notes.txt"))

    argv = ["categories", f"{corpus}:files:category", "--speaker", "speaker"]
    argv += ["--model", model, "--cache-root", str(tmp_path / "cache")]
    for output, extra, message in [
        (model, [], "is the folder of the emotion model in use"),
        (model, ["--overwrite"], "is the folder of the emotion model in use"),
        (other, [], "not a categories head (an emotion model?): choose a new"),
        (notes, [], "or add --overwrite to write"),
    ]:
        assert main([*argv, "-o", output, *extra]) == 1
        assert f"-o '{output}' " in (err := capsys.readouterr().err), err
        assert message in err
    assert {folder: digest(folder) for folder in (model, other, notes)} == before

    # a previous head is replaced; --overwrite keeps the other files
    head = save_categories(classifier, str(tmp_path / "head"))
    assert main([*argv, "-o", head]) == 0
    assert main([*argv, "-o", notes, "--overwrite"]) == 0
    assert sorted(os.listdir(notes)) == ["model.onnx", "model.yaml", "notes.txt"]
    assert Categories(notes, model=model).classes == ["high", "low", "mid"]


def test_runtime_options_as_in_emotion(db, model_root, head, tmp_path):
    file = os.path.join(db.root, db.files[0])
    expected = Categories(head, model=model_root).process_file(file)
    # options are checked as in Emotion, before the head is read
    for kwargs, match in [
        ({"win_dur": 0}, "win_dur must be at least"),
        ({"hop_dur": 0.5}, "needs win_dur"),
        ({"num_workers": 0}, "num_workers must be a positive integer"),
        ({"num_threads": -1}, "num_threads must be a positive integer"),
        ({"chunk_dur": -1}, "chunk_dur must be at least"),
    ]:
        with pytest.raises(ValueError, match=match):
            Categories(head, model=model_root, errors="coerce", **kwargs)
    # model_cache_root, and cache_root with a warning
    models = str(tmp_path / "models")
    interface = Categories(head, model=model_root, model_cache_root=models)
    assert interface.model_cache_root == models
    with pytest.warns(
        FutureWarning, match=r"Categories\(cache_root=.*model_cache_root"
    ):
        old = Categories(head, model=model_root, cache_root=models)
    assert old.model_cache_root == models
    pd.testing.assert_frame_equal(old.process_file(file), expected)
    assert "cache_root" not in old.to_yaml_s()
    # num_workers=None: one worker per core
    workers = Categories(head, model=model_root, num_workers=None)
    assert workers.num_workers == len(os.sched_getaffinity(0))


def test_head_root_with_folder_named_model_onnx(tmp_path):
    # a model.onnx that is no file is no head to replace
    root = tmp_path / "head"
    audeer.mkdir(root / "model.onnx")
    with pytest.raises(ValueError, match="holds a model.onnx that is not a"):
        check_head_root(str(root))
