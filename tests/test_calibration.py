import os
import re
import warnings

import numpy as np
import pandas as pd
import pytest
import yaml

import audformat
import audiofile
import audobject

import audemo
from audemo.core.calibration import Calibration
from audemo.core.calibration import _splits


# espeak-ng voices stand in for speakers, grouped into two "corpora"
VOICES = {
    "en-us": "us",
    "en-us+f2": "us",
    "en-us+m3": "us",
    "en-gb": "gb",
    "en-gb+f4": "gb",
}
# stand-in ratings on a 1..5 scale, NOT emotions:
# "valence" from the sentence (conftest's happy, neutral and sad texts),
# "arousal" from the playback level of the synthesis
SENTENCES = {
    "happy": ("What a wonderful surprise, I am so happy to see you!", 5),
    "neutral": ("The train to Berlin leaves at ten past nine from platform two.", 3),
    "sad": ("I lost everything today, and nobody even noticed.", 1),
}
LEVELS = {0.1: 1, 0.3: 3, 0.9: 5}

# the test model's random scores fall with the stand-in ratings:
# test_negative_correlation checks that warning
pytestmark = pytest.mark.filterwarnings("ignore:The predictions of .* fall")


def hand_ccc(truth, prediction):
    truth, prediction = np.asarray(truth, float), np.asarray(prediction, float)
    covariance = np.mean((truth - truth.mean()) * (prediction - prediction.mean()))
    return (
        2
        * covariance
        / (truth.var() + prediction.var() + (truth.mean() - prediction.mean()) ** 2)
    )


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    r"""Audformat database of 45 espeak-ng files with stand-in 1..5 ratings."""
    from conftest import synthesize

    root = str(tmp_path_factory.mktemp("calibration-db"))
    os.makedirs(os.path.join(root, "audio"))
    rows = {}
    for speaker, (voice, corpus) in enumerate(VOICES.items()):
        for name, (text, valence) in SENTENCES.items():
            source = synthesize(text, os.path.join(root, f"{speaker}-{name}.wav"))
            signal, sampling_rate = audiofile.read(source)
            for gain, arousal in LEVELS.items():
                file = f"audio/{speaker}-{name}-{arousal}.wav"
                peak = np.abs(signal).max()
                audiofile.write(
                    os.path.join(root, file), gain * signal / peak, sampling_rate
                )
                rows[file] = {
                    "arousal": float(arousal),
                    "valence": float(valence),
                    "speaker": voice,
                    "corpus": corpus,
                }
            os.remove(source)
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index = audformat.filewise_index(list(rows))
    db = audformat.Database("calibration", source="espeak-ng", usage="unrestricted")
    db.schemes["rating"] = audformat.Scheme("float", minimum=1, maximum=5)
    db.schemes["str"] = audformat.Scheme("str")
    db["files"] = audformat.Table(frame.index)
    for column in ("speaker", "corpus"):
        db["files"][column] = audformat.Column(scheme_id="str")
        db["files"][column].set(frame[column])
    db["gold"] = audformat.Table(frame.index)
    for dimension in ("arousal", "valence"):
        db["gold"][dimension] = audformat.Column(scheme_id="rating")
        db["gold"][dimension].set(frame[dimension])
    db.save(root)
    return audformat.Database.load(root)


@pytest.fixture(scope="module")
def prediction(database, model_root):
    return audemo.Emotion(model_root).process_index(database.files, root=database.root)


@pytest.fixture(scope="module")
def truth(database):
    return database["gold"].get()


@pytest.fixture(scope="module")
def speakers(database):
    return database["files"]["speaker"].get()


@pytest.fixture(scope="module")
def corpus(database):
    return database["files"]["corpus"].get()


@pytest.fixture
def small():
    r"""Made-up predictions and labels of 20 files, for bad input."""
    index = audformat.filewise_index([f"{n:02}.wav" for n in range(20)])
    rng = np.random.default_rng(0)
    x = rng.uniform(0.3, 0.7, size=20)
    prediction = pd.DataFrame(
        {"arousal": x, "dominance": x[::-1], "valence": x**2}, index=index
    )
    truth = pd.DataFrame(
        {"arousal": np.round(1 + 4 * x + rng.normal(0, 0.3, size=20))}, index=index
    )
    return prediction, truth


def test_real_data(database, prediction, truth):
    # the stand-in database is what the other tests rely on
    assert len(prediction) == len(truth) == 45
    assert set(truth["arousal"]) == {1.0, 3.0, 5.0}
    # Emotion gives one segment per file, in float32
    assert audformat.index_type(prediction.index) == "segmented"
    for dimension in ("arousal", "valence"):
        assert prediction[dimension].nunique() > 40


@pytest.mark.parametrize("dimension", ["arousal", "valence"])
def test_linear_by_hand(prediction, truth, dimension):
    calibration = Calibration.fit(
        prediction, truth, truth_range=(1, 5), num_bootstrap=0
    )
    assert calibration.dimensions == ["arousal", "valence"]
    x = prediction[dimension].to_numpy(dtype="float64")
    y = truth[dimension].to_numpy()
    r = np.corrcoef(x, y)[0, 1]
    # match mean and standard deviation (with the sign of the correlation)
    slope = np.sign(r) * y.std() / x.std()
    intercept = y.mean() - slope * x.mean()
    mapping = calibration.mappings[dimension]["pooled"]
    assert mapping == {
        "method": "linear",
        "slope": pytest.approx(slope, rel=1e-12),
        "intercept": pytest.approx(intercept, rel=1e-12),
        "samples": 45,
    }
    calibrated = calibration(prediction)[dimension].to_numpy()
    np.testing.assert_allclose(calibrated, intercept + slope * x, rtol=1e-12)
    assert calibrated.mean() == pytest.approx(y.mean())
    assert calibrated.std() == pytest.approx(y.std())
    # the CCC-optimal map: |r|, the most an affine map can reach
    assert hand_ccc(y, calibrated) == pytest.approx(abs(r))
    # least squares shrinks the spread by |r| and lowers the CCC
    least_squares = np.polyval(np.polyfit(x, y, 1), x)
    assert least_squares.std() == pytest.approx(abs(r) * y.std())
    assert hand_ccc(y, least_squares) < hand_ccc(y, calibrated) - 1e-3
    # and so does any other slope
    for factor in (0.8, 1.25):
        other = y.mean() + factor * slope * (x - x.mean())
        assert hand_ccc(y, other) < hand_ccc(y, calibrated)


def test_isotonic_against_scikit_learn(prediction, truth):
    from sklearn.isotonic import IsotonicRegression

    calibration = Calibration.fit(
        prediction, truth, method="isotonic", truth_range=(1, 5), num_bootstrap=0
    )
    for dimension in ("arousal", "valence"):
        x = prediction[dimension].to_numpy(dtype="float64")
        y = truth[dimension].to_numpy()
        regression = IsotonicRegression(
            increasing=bool(np.corrcoef(x, y)[0, 1] >= 0), out_of_bounds="clip"
        ).fit(x, y)
        mapping = calibration.mappings[dimension]["pooled"]
        assert all(type(value) is float for value in mapping["x"] + mapping["y"])
        # beyond the fitted scores as well: clipped to the first and last value
        grid = np.linspace(x.min() - 0.5, x.max() + 0.5, 1001)
        frame = pd.DataFrame(
            {dimension: grid},
            index=audformat.filewise_index([str(n) for n in range(1001)]),
        )
        np.testing.assert_allclose(
            calibration(frame)[dimension], regression.predict(grid), rtol=1e-12
        )
        np.testing.assert_allclose(
            calibration(prediction)[dimension], regression.predict(x), rtol=1e-12
        )
        assert calibration(frame)[dimension].min() == min(mapping["y"])


def test_cross_validation_by_hand(prediction, truth, speakers):
    from sklearn.model_selection import GroupKFold

    calibration = Calibration.fit(
        prediction,
        truth,
        truth_range=(1, 5),
        speakers=speakers,
        folds=5,
        num_bootstrap=200,
    )
    report = calibration.report
    assert list(report.index) == ["arousal", "valence"]
    assert list(report.columns) == [
        "n",
        "ccc_before",
        "ccc_before_low",
        "ccc_before_high",
        "ccc_after",
        "ccc_after_low",
        "ccc_after_high",
    ]
    assert calibration.validation["split"] == "speaker"
    labels = speakers.reindex(truth.index).to_numpy()
    for dimension in report.index:
        x = prediction[dimension].to_numpy(dtype="float64")
        y = truth[dimension].to_numpy()
        held_out = np.empty(len(y))
        folds = list(GroupKFold(n_splits=5).split(x, groups=labels))
        for train, test in folds:
            # every speaker is tested on a calibration fitted without them
            assert not set(labels[train]) & set(labels[test])
            slope = np.sign(np.corrcoef(x[train], y[train])[0, 1]) * (
                y[train].std() / x[train].std()
            )
            held_out[test] = y[train].mean() + slope * (x[test] - x[train].mean())
        row = report.loc[dimension]
        assert row["n"] == 45
        assert row["ccc_before"] == pytest.approx(hand_ccc((y - 1) / 4, x))
        assert row["ccc_after"] == pytest.approx(hand_ccc(y, held_out))
        # the same bootstrap for both, intervals around the estimates
        assert row["ccc_before_low"] < row["ccc_before"] < row["ccc_before_high"]
        assert row["ccc_after_low"] < row["ccc_after"] < row["ccc_after_high"]
    # without speakers: shuffled k-fold of the samples
    unsplit = Calibration.fit(prediction, truth, truth_range=(1, 5), num_bootstrap=0)
    assert unsplit.validation["split"] == "sample"
    assert np.isnan(unsplit.report["ccc_after_low"]).all()


def test_folds_keep_speakers_apart(speakers):
    from sklearn import model_selection

    labels = pd.Series(np.repeat(list(VOICES), 9))
    for folds in (2, 3, 5):
        splits = _splits(model_selection, len(labels), labels, folds, 0)
        assert len(splits) == folds
        tested = np.concatenate([test for _, test in splits])
        assert sorted(tested) == list(range(len(labels)))
        for train, test in splits:
            assert not set(labels[train]) & set(labels[test])


def test_groups(prediction, truth, corpus):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        calibration = Calibration.fit(
            prediction, truth, groups=corpus, folds=3, num_bootstrap=0
        )
    for dimension in ("arousal", "valence"):
        mappings = calibration.mappings[dimension]
        assert set(mappings["groups"]) == {"us", "gb"}
        pooled = Calibration.fit(prediction, truth, num_bootstrap=0)
        assert mappings["pooled"] == pooled.mappings[dimension]["pooled"]
        for group in ("us", "gb"):
            selected = corpus.index[corpus == group]
            alone = Calibration.fit(
                prediction.loc[selected], truth.loc[selected], num_bootstrap=0
            )
            assert mappings["groups"][group] == alone.mappings[dimension]["pooled"]
            assert mappings["groups"][group]["samples"] == len(selected)
    # each sample by its group's mapping
    mapped = calibration(prediction, groups=corpus)
    for group in ("us", "gb"):
        selected = corpus.index[corpus == group]
        alone = Calibration.fit(
            prediction.loc[selected], truth.loc[selected], num_bootstrap=0
        )
        pd.testing.assert_frame_equal(
            mapped.loc[selected], alone(prediction.loc[selected])
        )
    # without groups: the pooled mapping for all
    pd.testing.assert_frame_equal(calibration(prediction), pooled(prediction))
    # a group not seen in fitting: pooled, with a warning
    other = corpus.replace({"gb": "au"})
    with pytest.warns(RuntimeWarning, match=r"(?s)1 group without own mapping.*'au'"):
        mapped = calibration(prediction, groups=other)
    selected = corpus.index[corpus == "gb"]
    pd.testing.assert_frame_equal(
        mapped.loc[selected], pooled(prediction.loc[selected])
    )


def test_groups_too_small(prediction, truth, corpus):
    # one stand-in speaker as a group of its own: 9 samples
    groups = corpus.copy()
    groups.iloc[:9] = "solo"
    with pytest.warns(RuntimeWarning) as record:
        calibration = Calibration.fit(prediction, truth, groups=groups, num_bootstrap=0)
    (warning,) = [item for item in record if item.category is RuntimeWarning]
    assert str(warning.message).startswith(
        "2 groups got no own mapping and take the pooled mapping:\n"
        "  arousal, group 'solo': 9 samples (min_samples=10)\n"
    )
    assert warning.filename == __file__
    assert set(calibration.mappings["arousal"]["groups"]) == {"gb", "us"}
    # and a group with constant labels
    single = truth.copy()
    single.loc[corpus.index[corpus == "gb"], "valence"] = 3.0
    with pytest.warns(RuntimeWarning, match="'gb': the gold labels of the group are"):
        calibration = Calibration.fit(
            prediction, single, groups=corpus, folds=2, num_bootstrap=0
        )
    assert set(calibration.mappings["valence"]["groups"]) == {"us"}
    assert set(calibration.mappings["arousal"]["groups"]) == {"gb", "us"}


def test_apply(prediction, truth, corpus):
    calibration = Calibration.fit(prediction, truth[["valence"]], num_bootstrap=0)
    frame = prediction.copy()
    frame["extra"] = "text"
    frame.iloc[0, frame.columns.get_loc("valence")] = np.nan
    mapped = calibration(frame)
    # only the calibrated dimension changes, NaN stays NaN
    pd.testing.assert_index_equal(mapped.index, frame.index)
    pd.testing.assert_frame_equal(
        mapped.drop(columns="valence"), frame.drop(columns="valence")
    )
    assert np.isnan(mapped["valence"].iloc[0])
    assert not mapped["valence"].iloc[1:].equals(frame["valence"].iloc[1:])
    assert frame["valence"].iloc[1:].equals(prediction["valence"].iloc[1:])
    # segments get the group of their file
    grouped = Calibration.fit(prediction, truth, groups=corpus, num_bootstrap=0)
    files = audformat.filewise_index(prediction.index.get_level_values("file"))
    filewise = prediction.set_axis(files)
    pd.testing.assert_frame_equal(
        grouped(prediction, groups=corpus).set_axis(files),
        grouped(filewise, groups=corpus),
    )
    with pytest.raises(ValueError, match="groups must be on the index of the frame"):
        grouped(filewise, groups=corpus.set_axis(prediction.index))
    with pytest.raises(ValueError, match="groups must be a series"):
        grouped(prediction, groups=corpus.to_frame())
    with pytest.raises(ValueError, match=r"no column the calibration maps \(\['ar"):
        grouped(prediction[["dominance"]])
    with pytest.raises(ValueError, match="maps a DataFrame .* not a Series"):
        grouped(prediction["arousal"])


def test_yaml_round_trip(tmp_path, prediction, truth, corpus, model_root):
    fingerprint = audemo.Emotion(model_root).fingerprint
    for method in ("linear", "isotonic"):
        calibration = Calibration.fit(
            prediction,
            truth,
            method=method,
            truth_range=(1, 5),
            groups=corpus,
            num_bootstrap=50,
            fingerprint=fingerprint,
        )
        path = str(tmp_path / f"{method}.yaml")
        calibration.to_yaml(path)
        with open(path) as fp:
            text = fp.read()
        # plain values only: readable by a safe YAML loader
        assert "!!" not in text
        (values,) = yaml.safe_load(text).values()
        assert values["method"] == method
        assert values["truth_range"] == [1.0, 5.0]
        assert values["samples"] == 45
        assert values["fingerprint"] == fingerprint
        assert values["mappings"]["valence"]["groups"]["us"]["samples"] == 27
        loaded = audobject.from_yaml(path)
        assert isinstance(loaded, Calibration)
        assert loaded.mappings == calibration.mappings
        pd.testing.assert_frame_equal(loaded.report, calibration.report)
        pd.testing.assert_frame_equal(
            loaded(prediction, groups=corpus), calibration(prediction, groups=corpus)
        )
        loaded.check_fingerprint(fingerprint)
        with pytest.raises(ValueError, match="fitted on the scores of the model"):
            loaded.check_fingerprint("0" * 64)
    # without fingerprint (a frame that carries none): every model
    plain = pd.DataFrame(prediction.to_numpy(), prediction.index, prediction.columns)
    Calibration.fit(plain, truth, num_bootstrap=0).check_fingerprint("0" * 64)


LINEAR = {"method": "linear", "slope": 2.0, "intercept": 1.0, "samples": 20}
ISOTONIC = {"method": "isotonic", "x": [0.1, 0.5], "y": [1.0, 4.0], "samples": 20}


def arguments(mapping=LINEAR, **changes):
    arguments = {
        "method": mapping["method"],
        "mappings": {"valence": {"pooled": dict(mapping), "groups": {}}},
        "truth_range": [1.0, 5.0],
        "samples": 20,
    }
    arguments.update(changes)
    return arguments


def with_pooled(mapping=LINEAR, **changes):
    return arguments(
        mapping, mappings={"valence": {"pooled": {**mapping, **changes}, "groups": {}}}
    )


@pytest.mark.parametrize(
    "kwargs, error",
    [
        (arguments(method="spline"), "method must be one of .* not 'spline'"),
        (arguments(mappings={}), "mappings must be a dictionary with one entry"),
        (
            arguments(mappings={"joy": {"pooled": LINEAR, "groups": {}}}),
            "unknown dimension 'joy': a calibration maps",
        ),
        (
            arguments(mappings={"valence": {"pooled": LINEAR}}),
            r"mappings\['valence'\] must hold 'pooled' and 'groups'",
        ),
        (
            arguments(mappings={"valence": {"pooled": LINEAR, "groups": []}}),
            r"\['groups'\] must be a dictionary",
        ),
        (
            arguments(
                mappings={"valence": {"pooled": LINEAR, "groups": {"$x": LINEAR}}}
            ),
            "has the group '\\$x': group names are strings",
        ),
        (
            arguments(mappings={"valence": {"pooled": LINEAR, "groups": {1: LINEAR}}}),
            "has the group 1",
        ),
        (
            arguments(mappings={"valence": {"pooled": [1, 2], "groups": {}}}),
            r"\['pooled'\] must be a dictionary, not \[1, 2\]",
        ),
        (with_pooled(method="isotonic"), "has the method 'isotonic', but the"),
        (with_pooled(offset=1.0), "must hold exactly"),
        (with_pooled(samples=0), r"\['samples'\] must be a positive integer"),
        (with_pooled(slope=float("nan")), r"\['slope'\] must be finite, not nan"),
        (with_pooled(intercept="1"), r"\['intercept'\] must be a number, not '1'"),
        (with_pooled(slope=True), r"\['slope'\] must be a number"),
        (with_pooled(slope=0.0), r"\['slope'\] is 0"),
        (with_pooled(ISOTONIC, y=[3.0, 2.0, 4.0], x=[0.1, 0.2, 0.3]), "not monotone"),
        (with_pooled(ISOTONIC, x=[0.1, 0.1]), r"\['x'\] must rise strictly"),
        (with_pooled(ISOTONIC, x=[0.1, 0.2, 0.3]), "3 values in 'x' but 2 in 'y'"),
        (with_pooled(ISOTONIC, y=[1.0]), r"\['y'\] must be a list of at least 2"),
        (with_pooled(ISOTONIC, x="0.1 0.5"), r"\['x'\] must be a list"),
        (with_pooled(ISOTONIC, y=[1.0, float("inf")]), r"\['y'\]\[1\] must be finite"),
        (arguments(truth_range=[5, 1]), "truth_range must go from low to high"),
        (arguments(truth_range=[1, float("nan")]), "truth_range must go from low"),
        (arguments(truth_range="1..5"), "truth_range must be the lowest and highest"),
        (arguments(samples=2.5), "samples must be a positive integer"),
        (arguments(fingerprint="abc"), "fingerprint must be the SHA256"),
        (arguments(validation=[1]), "validation must be None or a dictionary"),
        (arguments(validation={"folds": 5}), "with 'scores' per calibrated"),
        (
            arguments(validation={"scores": {"arousal": {}}}),
            "with 'scores' per calibrated",
        ),
    ],
)
def test_invalid(kwargs, error):
    with pytest.raises(ValueError, match=error):
        Calibration(**kwargs)


def test_invalid_yaml(tmp_path, small):
    # a hand-edited YAML is checked on loading
    prediction, truth = small
    calibration = Calibration.fit(prediction, truth, method="isotonic", num_bootstrap=0)
    assert calibration.report is not None
    path = str(tmp_path / "calibration.yaml")
    calibration.to_yaml(path)
    with open(path) as fp:
        text = fp.read()
    for old, new, error in [
        ("    arousal:", "    joy:", "unknown dimension 'joy'"),
        (
            re.search(r"        y:\n        - (\S+)", text).group(1),
            "9.0",
            r"\['pooled'\]\['y'\] is not monotone",
        ),
        (
            re.search(r"        x:\n        - (\S+)", text).group(1),
            ".nan",
            r"\['pooled'\]\['x'\]\[0\] must be finite, not nan",
        ),
    ]:
        edited = str(tmp_path / "edited.yaml")
        with open(edited, "w") as fp:
            fp.write(text.replace(old, new, 1))
        with pytest.raises(ValueError, match=error):
            audobject.from_yaml(edited)
    # constructed by hand: no report
    assert Calibration(**arguments()).report is None


def test_too_few_samples(small):
    prediction, truth = small
    with pytest.raises(
        ValueError,
        match=re.escape(
            "8 samples of arousal have both a gold label and a prediction: "
            "a calibration needs at least 10 (min_samples=10, folds=5). "
            "Label more samples."
        ),
    ):
        Calibration.fit(prediction, truth.iloc[:8])
    with pytest.raises(ValueError, match="needs at least 5 .*folds=5"):
        Calibration.fit(prediction, truth.iloc[:4], min_samples=2)
    with pytest.raises(ValueError, match="1 sample of arousal has"):
        labels = truth.assign(valence=truth["arousal"])
        labels.iloc[1:, 0] = np.nan
        Calibration.fit(prediction, labels)
    # no pair at all: evaluate()'s error
    with pytest.raises(ValueError, match="Nothing to evaluate: fewer than 2"):
        Calibration.fit(prediction, truth.iloc[:1])


def test_constant(small):
    prediction, truth = small
    with pytest.raises(ValueError, match="The gold labels of arousal are all 3"):
        Calibration.fit(prediction, truth.assign(arousal=3.0))
    with pytest.raises(ValueError, match="The predictions of arousal are all 0.5"):
        Calibration.fit(prediction.assign(arousal=0.5), truth)
    # constant within the training folds only
    labels = truth.assign(arousal=[1.0] * 19 + [5.0])
    with pytest.raises(ValueError, match="Fold .* of 5 cannot be calibrated: .*fewer"):
        Calibration.fit(prediction, labels)


def test_missing_values(small):
    prediction, truth = small
    missing = prediction.copy()
    missing.iloc[[2, 5], 0] = np.nan
    with warnings.catch_warnings(record=True) as expected:
        warnings.simplefilter("always")
        audemo.evaluate(missing, truth, num_bootstrap=0)
    with pytest.warns(UserWarning) as record:
        calibration = Calibration.fit(missing, truth, num_bootstrap=0)
    # the same warning as evaluate(), pointing at this call
    (warning,) = record
    assert str(warning.message) == str(expected[0].message)
    assert "2 of 20 gold samples have no prediction" in str(warning.message)
    assert warning.filename == __file__
    assert calibration.samples == 18
    assert calibration.report.loc["arousal", "n"] == 18
    # a missing gold label: left out of its dimension, as in evaluate()
    labels = truth.assign(valence=truth["arousal"])
    labels.iloc[[0, 1, 2], 1] = np.nan
    calibration = Calibration.fit(prediction, labels, num_bootstrap=0)
    assert calibration.report["n"].to_dict() == {"arousal": 20, "valence": 17}
    assert calibration.mappings["valence"]["pooled"]["samples"] == 17


def test_index_types(small):
    prediction, truth = small
    files = prediction.index
    starts = [pd.Timedelta(0)] * len(files)
    ends = [pd.Timedelta(1, "s")] * len(files)
    segmented = prediction.set_axis(audformat.segmented_index(files, starts, ends))
    # one segment per file: matched by file, as in evaluate()
    pd.testing.assert_frame_equal(
        Calibration.fit(segmented, truth, num_bootstrap=0).report,
        Calibration.fit(prediction, truth, num_bootstrap=0).report,
    )
    # several segments per file: the error of evaluate()
    windows = pd.concat(
        [
            segmented,
            segmented.set_axis(
                audformat.segmented_index(
                    files, ends, [pd.Timedelta(2, "s")] * len(files)
                )
            ),
        ]
    )
    with pytest.raises(ValueError) as expected:
        audemo.evaluate(windows, truth)
    with pytest.raises(ValueError, match="average them per file first") as raised:
        Calibration.fit(windows, truth)
    assert str(raised.value) == str(expected.value)


def test_negative_correlation(small):
    prediction, truth = small
    for method in ("linear", "isotonic"):
        with pytest.warns(UserWarning, match="predictions of arousal fall as its gold"):
            calibration = Calibration.fit(
                prediction.assign(arousal=-prediction["arousal"]),
                truth,
                method=method,
                num_bootstrap=0,
            )
        mapped = calibration(prediction.assign(arousal=-prediction["arousal"]))
        assert np.corrcoef(mapped["arousal"], truth["arousal"])[0, 1] > 0.5


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"method": "spline"}, "method must be one of"),
        ({"folds": 1}, "folds must be an integer of at least 2, not 1"),
        ({"folds": 2.0}, "folds must be an integer"),
        ({"min_samples": 1}, "min_samples must be at least 2"),
        ({"truth_range": (5, 1)}, "truth_range must go from low to high"),
        ({"dimensions": ["joy"]}, "share no column"),
    ],
)
def test_invalid_options(small, kwargs, error):
    prediction, truth = small
    with pytest.raises(ValueError, match=error):
        Calibration.fit(prediction, truth, **kwargs)


def test_invalid_groups_and_speakers(small):
    prediction, truth = small
    index = truth.index
    with pytest.raises(ValueError, match="groups must be a series"):
        Calibration.fit(prediction, truth, groups=pd.DataFrame({"a": [1] * 20}, index))
    speakers = pd.Series(["a", "b", "c", "d"] * 5, index=index)
    with pytest.raises(ValueError, match="4 speakers, fewer than folds=5: .*folds=4"):
        Calibration.fit(prediction, truth, speakers=speakers)
    Calibration.fit(prediction, truth, speakers=speakers, folds=4, num_bootstrap=0)
    speakers.iloc[3] = np.nan
    with pytest.raises(ValueError, match="no speaker for 1 sample, e.g. '03.wav'"):
        Calibration.fit(prediction, truth, speakers=speakers, folds=2)
    # a truth column that is not a dimension
    other = truth.rename(columns={"arousal": "joy"})
    with pytest.raises(ValueError, match=r"maps \['arousal', .*not \['joy'\]"):
        Calibration.fit(prediction.assign(joy=prediction["arousal"]), other)


# ----- audemo.Emotion(calibration=...) ---------------------------------------


@pytest.fixture(scope="module")
def fitted(prediction, truth, model_root):
    r"""Linear and isotonic calibrations of the test model, with fingerprint."""
    fingerprint = audemo.Emotion(model_root).fingerprint
    return {
        method: Calibration.fit(
            prediction,
            truth,
            method=method,
            truth_range=(1, 5),
            num_bootstrap=0,
            fingerprint=fingerprint,
        )
        for method in ("linear", "isotonic")
    }


@pytest.mark.slow
def test_emotion_calibrated(database, prediction, fitted, model_root):
    for calibration in fitted.values():
        interface = audemo.Emotion(model_root, calibration=calibration)
        result = interface.process_index(database.files, root=database.root)
        expected = calibration(prediction).astype("float32")
        pd.testing.assert_frame_equal(result, expected)
        # dominance is not calibrated: exactly the raw scores
        pd.testing.assert_series_equal(result["dominance"], prediction["dominance"])
        # on the 1..5 scale, no longer 0..1
        assert result["valence"].max() > 3
    # every way in: file, signal, a list of files, worker processes
    interface = audemo.Emotion(model_root, calibration=fitted["linear"])
    file = database.files[0]
    row = fitted["linear"](prediction.loc[[file]]).astype("float32")
    path = os.path.join(database.root, file)
    np.testing.assert_array_equal(interface.process_file(path).values, row.values)
    signal, sampling_rate = audiofile.read(path, always_2d=True)
    np.testing.assert_array_equal(
        interface.process_signal(signal, sampling_rate).values, row.values
    )
    np.testing.assert_array_equal(interface.process_files([path]).values, row.values)
    both = audemo.Emotion(
        model_root,
        outputs=["logits", "hidden_states"],
        calibration=fitted["linear"],
        num_workers=2,
        multiprocessing=True,
    ).process_index(database.files[:4], root=database.root)
    raw = audemo.Emotion(model_root, outputs=["logits", "hidden_states"])
    raw = raw.process_index(database.files[:4], root=database.root)
    embedding = [column for column in raw if column.startswith("hidden_states")]
    pd.testing.assert_frame_equal(both[embedding], raw[embedding])
    pd.testing.assert_frame_equal(
        both[["arousal", "valence"]],
        fitted["linear"](raw)[["arousal", "valence"]].astype("float32"),
    )


def test_emotion_yaml_round_trip(tmp_path, database, fitted, model_root):
    index = database.files[:6]
    for method, calibration in fitted.items():
        calibration_file = str(tmp_path / f"{method}-calibration.yaml")
        calibration.to_yaml(calibration_file)
        # a path is loaded safely; a standalone file loads as a pipeline too
        interface = audemo.Emotion(model_root, calibration=calibration_file)
        assert interface.calibration.mappings == calibration.mappings
        standalone = audemo.load_pipeline(calibration_file)
        assert isinstance(standalone, Calibration)
        assert standalone.mappings == calibration.mappings
        expected = audemo.Emotion(model_root, calibration=calibration).process_index(
            index, root=database.root
        )
        pd.testing.assert_frame_equal(
            interface.process_index(index, root=database.root), expected
        )
        # the calibration is written into the pipeline, nested
        path = str(tmp_path / f"{method}-pipeline.yaml")
        interface.to_yaml(path)
        with open(path) as fp:
            text = fp.read()
        assert "!!" not in text
        (values,) = yaml.safe_load(text).values()
        ((key, nested),) = values["calibration"].items()
        assert key.startswith("$audemo.core.calibration.Calibration")
        assert nested["mappings"] == calibration.mappings
        for loaded in (audemo.load_pipeline(path), audobject.from_yaml(path)):
            assert isinstance(loaded.calibration, Calibration)
            pd.testing.assert_frame_equal(
                loaded.process_index(index, root=database.root), expected
            )


def test_emotion_refuses_other_model(tmp_path, fitted, model_root):
    calibration = fitted["linear"]
    other = Calibration(
        **{
            **calibration.arguments,
            "fingerprint": "f" * 64,
        }
    )
    fingerprint = audemo.Emotion(model_root).fingerprint
    message = (
        f"fitted on the scores of the model ffffffffffff..., "
        f"not of this model {fingerprint[:12]}...: .* Fit it again"
    )
    with pytest.raises(ValueError, match=message):
        audemo.Emotion(model_root, calibration=other)
    path = str(tmp_path / "other.yaml")
    other.to_yaml(path)
    with pytest.raises(ValueError, match=message):
        audemo.Emotion(model_root, calibration=path)
    # a pipeline edited to hold another model's calibration
    pipeline = str(tmp_path / "pipeline.yaml")
    audemo.Emotion(model_root, calibration=calibration).to_yaml(pipeline)
    with open(pipeline) as fp:
        text = fp.read()
    assert text.count(fingerprint) == 2
    edited = str(tmp_path / "edited.yaml")
    with open(edited, "w") as fp:
        # the calibration's fingerprint comes after the model's
        head, tail = text.rsplit(fingerprint, 1)
        fp.write(head + "f" * 64 + tail)
    with pytest.raises(ValueError, match=message):
        audemo.load_pipeline(edited)
    # fitted without fingerprint: accepted for every model
    anonymous = Calibration(**{**calibration.arguments, "fingerprint": None})
    assert audemo.Emotion(model_root, calibration=anonymous).calibration is anonymous


def test_emotion_calibration_invalid(tmp_path, fitted, model_root):
    calibration = fitted["isotonic"]
    with pytest.raises(ValueError, match=r"outputs='hidden_states' has no 'logits'"):
        audemo.Emotion(model_root, outputs="hidden_states", calibration=calibration)
    with pytest.raises(ValueError, match="calibration must be None, an audemo.Cali"):
        audemo.Emotion(model_root, calibration={"method": "linear"})
    with pytest.raises(FileNotFoundError):
        audemo.Emotion(model_root, calibration=str(tmp_path / "missing.yaml"))
    # a pipeline is not a calibration: refused before anything is built
    pipeline = str(tmp_path / "pipeline.yaml")
    audemo.Emotion(model_root).to_yaml(pipeline)
    with pytest.raises(
        ValueError, match="describes 'audemo.core.emotion.Emotion', not a calibration"
    ):
        audemo.Emotion(model_root, calibration=pipeline)
    # a hand-edited table: the calibration's own error, on every way in
    path = str(tmp_path / "calibration.yaml")
    calibration.to_yaml(path)
    with open(path) as fp:
        text = fp.read()
    # the second breakpoint above all others: neither rising nor falling
    match = re.search(r"        y:\n        - \S+\n        - (\S+)\n", text)
    with open(path, "w") as fp:
        fp.write(text[: match.start(1)] + "99.0" + text[match.end(1) :])
    for load in (
        audemo.load_pipeline,
        lambda path: audemo.Emotion(model_root, calibration=path),
    ):
        with pytest.raises(ValueError, match=r"\['pooled'\]\['y'\] is not monotone"):
            load(path)
    # Categories give classes: no calibration
    with pytest.raises(TypeError, match="calibration"):
        audemo.Categories("head", calibration=calibration)


def test_emotion_cache_key(tmp_path, database, fitted, model_root):
    index = database.files[:6]
    cache_root = str(tmp_path / "cache")
    raw = audemo.Emotion(model_root)
    key = raw.cache_key()
    keys = {key}
    results = {}
    for method, calibration in fitted.items():
        interface = audemo.Emotion(model_root, calibration=calibration)
        keys.add(interface.cache_key())
        results[method] = interface.process_index(
            index, root=database.root, cache_root=cache_root
        )
        # read from the cache: the same numbers
        pd.testing.assert_frame_equal(
            interface.process_index(index, root=database.root, cache_root=cache_root),
            results[method],
        )
    assert len(keys) == 3
    # the cache of another calibration is never returned
    assert not np.allclose(results["linear"]["valence"], results["isotonic"]["valence"])
    cached = raw.process_index(index, root=database.root, cache_root=cache_root)
    pd.testing.assert_frame_equal(cached, raw.process_index(index, root=database.root))
    assert sorted(os.listdir(cache_root)) == sorted(keys)
    # a changed mapping is another key
    arguments = fitted["linear"].arguments
    mappings = {**arguments["mappings"]}
    mappings["arousal"] = {
        "pooled": {**mappings["arousal"]["pooled"], "intercept": 0.0},
        "groups": {},
    }
    changed = Calibration(**{**arguments, "mappings": mappings})
    assert audemo.Emotion(model_root, calibration=changed).cache_key() not in keys
    # keys without calibration are as before calibrations existed
    assert audemo.Emotion(model_root, calibration=None).cache_key() == key


# ----- audemo calibrate, predict --calibration, report --calibration ----------


def test_cli(
    tmp_path, capsys, database, prediction, truth, speakers, corpus, model_root
):
    from audemo.core.cli import main

    root = database.root
    results = str(tmp_path / "results.csv")
    assert main(["predict", root, "--model", model_root, "-o", results]) == 0
    output = str(tmp_path / "calibration.yaml")
    argv = [
        "calibrate",
        results,
        "--truth",
        f"{root}:gold",
        "--method",
        "isotonic",
        "--speaker",
        "speaker",
        "--group",
        "corpus",
        "--folds",
        "3",
        "--bootstrap",
        "50",
        "--model",
        model_root,
        "-o",
        output,
    ]
    capsys.readouterr()
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == output
    # before and after per dimension, with intervals
    lines = captured.err.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == ["arousal", "valence"]
    for line in lines:
        assert re.fullmatch(
            r"\w+: CCC -?\d\.\d{3} \[.*\] -> \d\.\d{3} \[.*\] "
            r"\(cross-validated\), n=45",
            line,
        ), line
    calibration = audemo.load_pipeline(output)
    expected = Calibration.fit(
        prediction,
        truth,
        method="isotonic",
        truth_range=(1, 5),  # from the columns' scheme
        groups=corpus,
        speakers=speakers,
        folds=3,
        num_bootstrap=50,
        fingerprint=audemo.Emotion(model_root).fingerprint,
    )
    assert calibration.fingerprint == expected.fingerprint
    assert calibration.truth_range == [1.0, 5.0]
    # fitted on the results read back from CSV (float32 as text):
    # the same maps up to where a breakpoint falls
    pd.testing.assert_frame_equal(
        calibration(prediction, groups=corpus),
        expected(prediction, groups=corpus),
        atol=1e-3,
    )
    pd.testing.assert_frame_equal(calibration.report, expected.report, atol=1e-3)
    assert set(calibration.mappings["valence"]["groups"]) == {"gb", "us"}
    # the output is checked before any work
    assert main(argv) == 1
    assert "pass --overwrite" in capsys.readouterr().err
    assert main([*argv, "--overwrite", "--truth-range", "0", "10"]) == 0
    assert audemo.load_pipeline(output).truth_range == [0.0, 10.0]
    assert main([*argv, "--overwrite"]) == 0
    capsys.readouterr()

    # predict with the calibration: calibrated scores
    calibrated = str(tmp_path / "calibrated.csv")
    argv = ["predict", root, "--model", model_root, "--calibration", output]
    assert main([*argv, "-o", calibrated]) == 0
    raw = audemo.core.results.read_results(results)
    mapped = audemo.core.results.read_results(calibrated)
    api = audemo.Emotion(model_root, calibration=calibration)
    api = api.process_index(database.files, root=root)
    np.testing.assert_allclose(mapped.to_numpy(), api.to_numpy(), rtol=1e-6)
    # dominance is not calibrated
    np.testing.assert_allclose(mapped["dominance"], raw["dominance"], rtol=1e-6)
    assert not np.allclose(mapped["valence"], raw["valence"])
    # another model's calibration is refused, naming both and the fix
    other = str(tmp_path / "other.yaml")
    Calibration(**{**calibration.arguments, "fingerprint": "f" * 64}).to_yaml(other)
    assert main(["predict", root, "--model", model_root, "--calibration", other]) == 1
    err = capsys.readouterr().err
    assert "model ffffffffffff..., not of this model" in err and "Fit it again" in err

    # report: calibrated figures next to the raw ones
    report = str(tmp_path / "report.md")
    argv = ["report", results, "--truth", f"{root}:gold", "--bootstrap", "20"]
    assert main([*argv, "-o", report, "--calibration", output]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert [line.split(" CCC")[0] for line in err] == [
        "arousal:",
        "valence:",
        "arousal: calibrated",
        "valence: calibrated",
    ]
    text = open(report).read()
    assert "**Calibration:** calibration.yaml" in text
    section = text.split("## Calibrated")[1]
    header = [line for line in section.splitlines() if line.startswith("|")][0]
    assert "| CCC raw | CCC calibrated |" in header
    # the raw CCC in the side-by-side table is the one of the overall table
    overall = text.split("## Overall")[1].split("## Calibrated")[0]
    for dimension in ("arousal", "valence"):
        (raw_row,) = [line for line in overall.splitlines() if dimension in line]
        (row,) = [line for line in section.splitlines() if dimension in line]
        assert row.split(" | ")[1] == raw_row.split(" | ")[1]


def test_calibrated_results_keep_their_scale(
    tmp_path, capsys, database, truth, model_root
):
    r"""Calibrated results say so in files and tables, and are compared as such."""
    import shutil

    from audemo.core.cli import main
    from audemo.core.results import read_results

    root = str(tmp_path / "db")
    shutil.copytree(database.root, root)
    raw = str(tmp_path / "raw.csv")
    assert main(["predict", root, "--model", model_root, "-o", raw]) == 0
    output = str(tmp_path / "calibration.yaml")
    argv = ["calibrate", raw, "--truth", f"{root}:gold", "--bootstrap", "0"]
    assert main([*argv, "-o", output]) == 0
    calibration = audemo.load_pipeline(output)
    marker = calibration.marker
    assert calibration.truth_range == [1.0, 5.0]  # the gold scheme's range
    predict = ["predict", root, "--model", model_root, "--calibration", output]
    csv, parquet = str(tmp_path / "calibrated.csv"), str(tmp_path / "cal.parquet")
    assert main([*predict, "-o", csv]) == 0
    assert main([*predict, "-o", parquet]) == 0
    assert main([*predict, "-o", root, "--table", "calibrated"]) == 0
    capsys.readouterr()

    # CSV and parquet files carry the marker, read back into attrs
    assert "calibration" not in read_results(raw).attrs
    for path in (csv, parquet):
        frame = read_results(path)
        assert list(frame.columns) == ["arousal", "dominance", "valence"]
        assert frame.attrs["calibration"] == marker
    assert open(csv).readline().strip().endswith(",calibration")
    # the database: a scheme of the calibration on its scale, 0..1 for dominance
    db = audformat.Database.load(root)
    table = db["calibrated"]
    scheme_id = f"audemo-calibrated-{marker['sha256'][:12]}"
    for dimension in ("arousal", "valence"):
        assert table.columns[dimension].scheme_id == scheme_id
        assert "gold scale 1..5" in table.columns[dimension].description
    assert table.columns["dominance"].scheme_id == "audemo-dimension"
    scheme = db.schemes[scheme_id]
    assert "calibrated to the gold scale 1..5" in scheme.description
    assert marker["sha256"][:12] in scheme.description
    assert scheme.meta["truth_range"] == [1.0, 5.0]
    assert table.meta["calibration"]["sha256"] == marker["sha256"]
    assert "arousal, valence calibrated to the gold scale 1..5" in table.description
    assert "0 (low) to 1 (high)" in db.schemes["audemo-dimension"].description

    # report: the gold labels as they are, not rescaled to 0..1
    report = str(tmp_path / "report.md")
    argv = ["report", csv, "--truth", f"{root}:gold", "--bootstrap", "0"]
    assert main([*argv, "-o", report]) == 0
    err = capsys.readouterr().err
    calibrated = read_results(csv)
    expected = audemo.evaluate(
        calibrated.set_axis(
            audemo.core.database.relative_index(calibrated.index, root)
        ),
        truth,
        num_bootstrap=0,
    )
    rescaled = audemo.evaluate(
        calibrated.set_axis(
            audemo.core.database.relative_index(calibrated.index, root)
        ),
        (truth - 1) / 4,
        num_bootstrap=0,
    )
    for dimension in ("arousal", "valence"):
        ccc = expected.overall.loc[dimension, "ccc"]
        assert f"{dimension}: CCC {ccc:.3f}" in err
        assert abs(ccc - rescaled.overall.loc[dimension, "ccc"]) > 0.1
    assert (
        "**Scale:** arousal, valence calibrated to the gold scale 1..5"
        in open(report).read()
    )
    # refused: calibrating twice, or another gold scale
    assert main([*argv, "-o", report, "--overwrite", "--calibration", output]) == 1
    assert "would calibrate them twice" in capsys.readouterr().err
    assert main([*argv, "-o", report, "--overwrite", "--truth-range", "1", "7"]) == 1
    err = capsys.readouterr().err
    assert "calibrated to the gold scale 1..5" in err and "from 1 to 7" in err
    again = str(tmp_path / "again.yaml")
    assert main(["calibrate", csv, "--truth", f"{root}:gold", "-o", again]) == 1
    assert "calibrating them again would map them twice" in capsys.readouterr().err

    # in Python, too
    with pytest.raises(ValueError, match="calibrated already"):
        Calibration.fit(calibrated, truth)
    with pytest.raises(ValueError, match="calibrated already"):
        calibration(calibrated)
    with pytest.raises(ValueError, match="leave them out of truth_range"):
        audemo.evaluate(calibrated, truth, truth_range=(1, 5))
    assert calibration(read_results(raw)).attrs["calibration"] == {
        **marker,
        "dimensions": ["arousal", "valence"],
    }


def test_cli_invalid(tmp_path, capsys, database, model_root, fitted):
    from audemo.core.cli import main

    root = database.root
    results = str(tmp_path / "results.csv")
    assert main(["predict", root, "--model", model_root, "-o", results]) == 0
    output = str(tmp_path / "calibration.yaml")
    argv = ["calibrate", results, "--truth", f"{root}:gold", "-o", output]
    capsys.readouterr()
    # not in the model cache: no fingerprint without a download
    assert main([*argv, "--model", "w2v2-L-robust-12"]) == 1
    err = capsys.readouterr().err
    assert "--model w2v2-L-robust-12 has no fingerprint" in err
    assert "audemo download w2v2-L-robust-12" in err
    assert not os.path.exists(output)
    # gold columns on different scales
    db = audformat.Database.load(root)
    db.schemes["wide"] = audformat.Scheme("float", minimum=0, maximum=10)
    db["gold"]["valence"].scheme_id = "wide"
    db.save(root)
    try:
        assert main(argv + ["--bootstrap", "0"]) == 1
        err = capsys.readouterr().err
        assert "different ranges (arousal 1..5, valence 0..10)" in err
        assert "--truth-range LOW HIGH" in err
        assert main(argv + ["--bootstrap", "0", "--truth-range", "1", "5"]) == 0
        # a gold table without scheme ranges: no range recorded
        db["gold"]["arousal"].scheme_id = None
        db["gold"]["valence"].scheme_id = None
        db.save(root)
        assert main(argv + ["--bootstrap", "0", "--overwrite"]) == 0
        assert audemo.load_pipeline(output).truth_range is None
        # without bootstrap: no intervals
        err = capsys.readouterr().err
        assert re.search(r"^arousal: CCC -?\d\.\d{3} -> \d\.\d{3} \(", err, re.M)
    finally:
        db["gold"]["arousal"].scheme_id = "rating"
        db["gold"]["valence"].scheme_id = "rating"
        db.save(root)
    # a calibration of dimensions the gold table does not have
    only_dominance = Calibration(
        method="linear",
        mappings={
            "dominance": {
                "pooled": {
                    "method": "linear",
                    "slope": 2.0,
                    "intercept": 1.0,
                    "samples": 20,
                },
                "groups": {},
            }
        },
        samples=20,
    )
    path = str(tmp_path / "dominance.yaml")
    only_dominance.to_yaml(path)
    report = ["report", results, "--truth", f"{root}:gold", "--calibration", path]
    assert main([*report, "-o", str(tmp_path / "r.md"), "--bootstrap", "0"]) == 1
    err = capsys.readouterr().err
    assert "--calibration maps ['dominance'], but table 'gold' has only" in err
    # a pipeline is not a calibration
    pipeline = str(tmp_path / "pipeline.yaml")
    audemo.Emotion(model_root).to_yaml(pipeline)
    report[-1] = pipeline
    assert main([*report, "-o", str(tmp_path / "r.md"), "--bootstrap", "0"]) == 1
    assert "not a calibration" in capsys.readouterr().err


def test_fingerprint_travels_with_results(prediction, truth, model_root):
    # results of an interface carry its model's fingerprint,
    # which fit() records when none is given
    fingerprint = audemo.Emotion(model_root).fingerprint
    assert prediction.attrs["fingerprint"] == fingerprint
    calibration = Calibration.fit(
        prediction, truth, truth_range=(1, 5), num_bootstrap=0
    )
    assert calibration.fingerprint == fingerprint
    # an explicit fingerprint wins, and plain frames carry none
    plain = pd.DataFrame(prediction.to_numpy(), prediction.index, prediction.columns)
    assert (
        Calibration.fit(plain, truth, truth_range=(1, 5), num_bootstrap=0).fingerprint
        is None
    )
