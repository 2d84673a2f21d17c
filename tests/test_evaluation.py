import os
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

import audformat
import audmetric

import audemo
from audemo.core.cli import main
from audemo.core.results import read_results


SPEAKERS = {  # espeak-ng voice: sex of the stand-in speaker
    "en-us": "male",
    "en-us+f3": "female",
    "en-gb": "male",
    "en-gb+f2": "female",
}
SENTENCES = [
    "Could you please pass me the salt.",
    "We will meet again next summer.",
    "That was the best concert of my life.",
    "I have told you this three times already.",
]
# espeak-ng speed (words per minute) stands in for arousal,
# pitch for valence, amplitude for dominance; gold scale 1..7
SPEEDS = [120, 160, 200, 240]
PITCHES = [20, 40, 60, 80]


# several tests compare the 0..1 predictions with the 1..7 labels as they are
# on purpose; test_scale_from_scheme_or_warning checks the warning
pytestmark = pytest.mark.filterwarnings("ignore::audemo.core.evaluation.ScaleWarning")


def hand_ccc(truth, prediction):
    truth, prediction = np.asarray(truth, float), np.asarray(prediction, float)
    covariance = np.mean((truth - truth.mean()) * (prediction - prediction.mean()))
    return (
        2
        * covariance
        / (truth.var() + prediction.var() + (truth.mean() - prediction.mean()) ** 2)
    )


@pytest.fixture(scope="session")
def labelled_database(tmp_path_factory):
    r"""Audformat database of 16 espeak files with stand-in gold labels."""
    root = str(tmp_path_factory.mktemp("labelled-db"))
    os.makedirs(os.path.join(root, "audio"))
    files, rows = [], []
    for speaker_number, (voice, sex) in enumerate(SPEAKERS.items()):
        for number, text in enumerate(SENTENCES):
            file = f"audio/{speaker_number}-{number}.wav"
            speed = SPEEDS[(number + speaker_number) % 4]
            pitch = PITCHES[(3 * number + speaker_number) % 4]
            raw = os.path.join(root, file + ".raw.wav")
            subprocess.run(
                ["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch)]
                + ["-a", str(40 + 20 * number), "-w", raw, text],
                check=True,
            )
            subprocess.run(
                ["sox", raw, "-r", "16000", "-b", "16", os.path.join(root, file)],
                check=True,
            )
            os.remove(raw)
            files.append(file)
            rows.append(
                {
                    "arousal": 1 + 6 * SPEEDS.index(speed) / 3,
                    "dominance": 1 + 2 * number,
                    "valence": 1 + 6 * PITCHES.index(pitch) / 3,
                    "speaker": voice,
                    "sex": sex,
                }
            )
    frame = pd.DataFrame(rows, index=audformat.filewise_index(files))
    db = audformat.Database("labelled", source="espeak-ng", usage="unrestricted")
    db.schemes["rating"] = audformat.Scheme("float", minimum=1, maximum=7)
    db.schemes["speaker"] = audformat.Scheme("str")
    db.schemes["sex"] = audformat.Scheme("str", labels=["female", "male"])
    db["files"] = audformat.Table(frame.index)
    db["files"]["speaker"] = audformat.Column(scheme_id="speaker")
    db["files"]["speaker"].set(frame["speaker"])
    db["files"]["sex"] = audformat.Column(scheme_id="sex")
    db["files"]["sex"].set(frame["sex"])
    db["gold"] = audformat.Table(frame.index)
    for dimension in audemo.core.define.DIMENSIONS:
        db["gold"][dimension] = audformat.Column(scheme_id="rating")
        db["gold"][dimension].set(frame[dimension])
    db.save(root)
    return root


@pytest.fixture(scope="session")
def predictions(labelled_database, model_root):
    db = audformat.Database.load(labelled_database)
    interface = audemo.Emotion(model_root)
    return interface.process_index(db.files, root=labelled_database)


def test_metrics_by_hand(labelled_database, predictions):
    db = audformat.Database.load(labelled_database)
    truth = db["gold"].get()
    result = audemo.evaluate(predictions, truth, truth_range=(1, 7), num_bootstrap=0)
    assert list(result.overall.index) == ["arousal", "dominance", "valence"]
    for dimension in result.overall.index:
        gold = (truth[dimension].to_numpy() - 1) / 6
        predicted = predictions[dimension].to_numpy()
        row = result.overall.loc[dimension]
        assert row["ccc"] == pytest.approx(hand_ccc(gold, predicted), abs=1e-12)
        assert row["pearson"] == pytest.approx(np.corrcoef(gold, predicted)[0, 1])
        assert row["mae"] == pytest.approx(np.abs(gold - predicted).mean())
        assert row["n"] == 16
        assert np.isnan(row["ccc_low"])
    # rescaling changes CCC and MAE, never Pearson
    raw = audemo.evaluate(predictions, truth, num_bootstrap=0)
    assert raw.overall["pearson"].to_numpy() == pytest.approx(
        result.overall["pearson"].to_numpy()
    )
    assert (raw.overall["mae"] > result.overall["mae"]).all()
    per_dimension = audemo.evaluate(
        predictions,
        truth,
        truth_range={"arousal": (1, 7)},
        num_bootstrap=0,
    )
    assert (
        per_dimension.overall.loc["arousal", "ccc"]
        == result.overall.loc["arousal", "ccc"]
    )
    assert (
        per_dimension.overall.loc["valence", "ccc"] == raw.overall.loc["valence", "ccc"]
    )


def test_without_audmetric(labelled_database, predictions, monkeypatch):
    # the metrics are audemo's own: evaluate() does not need audmetric
    db = audformat.Database.load(labelled_database)
    truth = db["gold"].get()
    expected = audemo.evaluate(predictions, truth, truth_range=(1, 7), num_bootstrap=0)
    monkeypatch.setitem(sys.modules, "audmetric", None)
    result = audemo.evaluate(predictions, truth, truth_range=(1, 7), num_bootstrap=0)
    pd.testing.assert_frame_equal(result.overall, expected.overall)


def test_bootstrap_interval_by_hand():
    rng = np.random.default_rng(1)
    truth = rng.uniform(size=50)
    prediction = truth + rng.normal(scale=0.2, size=50)
    index = audformat.filewise_index([f"{n}.wav" for n in range(50)])
    result = audemo.evaluate(
        pd.DataFrame({"valence": prediction}, index=index),
        pd.Series(truth, index=index, name="valence"),
        num_bootstrap=200,
        confidence=0.9,
        seed=7,
    )
    # the same resamples, computed one at a time with audmetric
    indices = np.random.default_rng(7).integers(0, 50, size=(200, 50))
    cccs = [audmetric.concordance_cc(truth[row], prediction[row]) for row in indices]
    maes = [np.abs(truth[row] - prediction[row]).mean() for row in indices]
    pearsons = [np.corrcoef(truth[row], prediction[row])[0, 1] for row in indices]
    row = result.overall.loc["valence"]
    assert [row["ccc_low"], row["ccc_high"]] == pytest.approx(
        np.percentile(cccs, [5, 95])
    )
    assert [row["mae_low"], row["mae_high"]] == pytest.approx(
        np.percentile(maes, [5, 95])
    )
    assert [row["pearson_low"], row["pearson_high"]] == pytest.approx(
        np.percentile(pearsons, [5, 95])
    )
    assert row["ccc_low"] < row["ccc"] < row["ccc_high"]
    again = audemo.evaluate(
        pd.DataFrame({"valence": prediction}, index=index),
        pd.Series(truth, index=index, name="valence"),
        num_bootstrap=200,
        confidence=0.9,
        seed=8,
    )
    assert again.overall.loc["valence", "ccc"] == row["ccc"]
    assert again.overall.loc["valence", "ccc_low"] != row["ccc_low"]


def test_groups_and_speakers(labelled_database, predictions):
    db = audformat.Database.load(labelled_database)
    truth = db["gold"].get()
    files = db["files"].get()
    result = audemo.evaluate(
        predictions,
        truth,
        truth_range=(1, 7),
        groups=files["sex"],
        speakers=files["speaker"],
        min_samples=4,
        num_bootstrap=100,
    )
    groups = result.groups
    assert sorted(set(groups.index.get_level_values("group"))) == ["female", "male"]
    for sex in ("female", "male"):
        selected = files.index[files["sex"] == sex]
        alone = audemo.evaluate(
            predictions.droplevel(["start", "end"]).loc[selected],
            truth.loc[selected],
            truth_range=(1, 7),
            num_bootstrap=0,
        )
        for dimension in ("arousal", "dominance", "valence"):
            row = groups.loc[("sex", sex, dimension)]
            assert row["ccc"] == pytest.approx(alone.overall.loc[dimension, "ccc"])
            assert row["n"] == 8
            assert row["ccc_difference"] == pytest.approx(
                row["ccc"] - result.overall.loc[dimension, "ccc"]
            )
    speaker_ccc = result.speaker_ccc
    assert sorted(speaker_ccc.index) == sorted(SPEAKERS)
    for voice in SPEAKERS:
        selected = files.index[files["speaker"] == voice]
        gold = (truth.loc[selected, "valence"].to_numpy() - 1) / 6
        predicted = predictions.droplevel(["start", "end"]).loc[selected, "valence"]
        assert speaker_ccc.loc[voice, "valence"] == pytest.approx(
            hand_ccc(gold, predicted.to_numpy())
        )
    summary = result.speakers.loc["valence"]
    assert summary["speakers"] == 4
    assert summary["min"] == speaker_ccc["valence"].min()
    assert summary["median"] == speaker_ccc["valence"].median()
    assert summary["max"] == speaker_ccc["valence"].max()
    assert "Evaluation(n=16)" in repr(result)

    # several groupings at once; too few samples per group: a warning
    both = audemo.evaluate(
        predictions,
        truth,
        groups=files[["sex", "speaker"]],
        num_bootstrap=0,
        min_samples=4,
    )
    assert set(both.groups.index.get_level_values("grouping")) == {"sex", "speaker"}
    with pytest.warns(UserWarning, match="No group has 9 samples"):
        none = audemo.evaluate(
            predictions, truth, groups=files["sex"], min_samples=9, num_bootstrap=0
        )
    assert none.groups is None


def test_speakers_with_few_samples(labelled_database, predictions):
    db = audformat.Database.load(labelled_database)
    truth = db["gold"].get()
    files = db["files"].get()
    speakers = files["speaker"].copy()
    speakers.iloc[0] = "alone"  # one sample: fewer than min_samples
    # one valence label left for a speaker: no valence CCC for it
    voice = "en-gb"
    rated = files.index[files["speaker"] == voice]
    gaps = truth.copy()
    gaps.loc[rated[1:], "valence"] = np.nan
    result = audemo.evaluate(
        predictions, gaps, speakers=speakers, min_samples=3, num_bootstrap=0
    )
    assert sorted(result.speaker_ccc.index) == sorted(SPEAKERS)
    assert np.isnan(result.speaker_ccc.loc[voice, "valence"])
    predicted = predictions.droplevel(["start", "end"]).loc[rated, "arousal"]
    assert result.speaker_ccc.loc[voice, "arousal"] == pytest.approx(
        hand_ccc(truth.loc[rated, "arousal"], predicted)
    )
    assert result.speakers["speakers"].to_dict() == {
        "arousal": 4,
        "dominance": 4,
        "valence": 3,
    }


def test_segmented_truth_with_filewise_groups(labelled_database, predictions):
    db = audformat.Database.load(labelled_database)
    truth = db["gold"].get()
    files = db["files"].get()
    # gold labels on the segments of the predictions, groups per file
    segmented = truth.reindex(predictions.index.get_level_values("file"))
    segmented = segmented.set_axis(predictions.index)
    result = audemo.evaluate(
        predictions,
        segmented,
        groups=files["sex"],
        speakers=files["speaker"],
        min_samples=4,
        num_bootstrap=0,
    )
    assert audformat.is_segmented_index(result.data.index)
    filewise = audemo.evaluate(
        predictions,
        truth,
        groups=files["sex"],
        speakers=files["speaker"],
        min_samples=4,
        num_bootstrap=0,
    )
    pd.testing.assert_frame_equal(result.groups, filewise.groups)
    pd.testing.assert_frame_equal(result.speaker_ccc, filewise.speaker_ccc)


def test_scale_from_scheme_or_warning(labelled_database, predictions):
    r"""Gold labels on 1..7 are not compared with 0..1 predictions silently."""
    from audemo.core.evaluation import ScaleWarning

    db = audformat.Database.load(labelled_database)
    expected = audemo.evaluate(
        predictions, db["gold"].get(), truth_range=(1, 7), num_bootstrap=0
    )
    # a table or column of the database: the range of its scheme (1..7)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = audemo.evaluate(predictions, db["gold"], num_bootstrap=0)
        column = audemo.evaluate(predictions, db["gold"]["valence"], num_bootstrap=0)
    pd.testing.assert_frame_equal(table.overall, expected.overall)
    pd.testing.assert_series_equal(
        column.overall.loc["valence"], expected.overall.loc["valence"]
    )
    assert table.settings["truth_range"] == {
        dimension: (1.0, 7.0) for dimension in ("arousal", "dominance", "valence")
    }
    # an explicit range wins over the scheme
    given = audemo.evaluate(
        predictions, db["gold"], truth_range=(0, 10), num_bootstrap=0
    )
    assert given.settings["truth_range"] == (0, 10)
    # plain labels far outside 0..1: a warning that names them and the fix
    with pytest.warns(ScaleWarning) as caught:
        raw = audemo.evaluate(predictions, db["gold"].get(), num_bootstrap=0)
    (warning,) = caught
    message = str(warning.message)
    assert "arousal 1..7 (the model's 0..1)" in message
    assert "truth_range=(LOW, HIGH)" in message
    assert warning.filename == __file__
    # made again from its text, as pytest.warns (8.0) and warnings filters do
    again = ScaleWarning(message)
    assert str(again) == message and again.problems == []
    assert raw.settings["truth_range"] is None
    # a range that does not fit the labels either
    with pytest.warns(ScaleWarning, match="after truth_range.*as truth_range"):
        audemo.evaluate(
            predictions, db["gold"].get(), truth_range=(0, 2), num_bootstrap=0
        )
    # labels on (about) the predictions' scale,
    # or a column of the user's (its scale unknown): no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        audemo.evaluate(
            predictions.assign(score=predictions["valence"]),
            db["gold"].get().assign(score=lambda gold: gold["valence"]),
            dimensions=["score"],
            num_bootstrap=0,
        )
        audemo.evaluate(predictions, (db["gold"].get() - 1) / 6 + 0.2, num_bootstrap=0)


def test_calibrated_predictions(labelled_database, predictions, tmp_path, capsys):
    r"""Calibrated predictions meet gold labels on their own scale."""
    import shutil

    from audemo.core.evaluation import ScaleWarning

    db = audformat.Database.load(labelled_database)
    gold = db["gold"].get()
    fitted = audemo.Calibration.fit(
        predictions, gold, truth_range=(1, 7), folds=2, num_bootstrap=0
    )
    calibrated = fitted(predictions)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = audemo.evaluate(calibrated, db["gold"], num_bootstrap=0)
        plain = audemo.evaluate(calibrated, gold, num_bootstrap=0)
    pd.testing.assert_frame_equal(result.overall, plain.overall)
    assert result.settings["truth_range"] is None
    # a calibration to another scale than the scheme's
    other = audemo.Calibration(**{**fitted.arguments, "truth_range": (1, 5)})
    with pytest.raises(ValueError, match="calibrated to the gold scale 1..5.*1 to 7"):
        audemo.evaluate(other(predictions), db["gold"], num_bootstrap=0)
    # a calibration that did not record its scale: no scale to check against
    unknown = audemo.Calibration(**{**fitted.arguments, "truth_range": None})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        audemo.evaluate(unknown(predictions) * 10, gold, num_bootstrap=0)
    # gold labels far from the calibrated scale
    with pytest.warns(ScaleWarning, match=r"calibrated to 1\.\.7.*scale of the cal"):
        audemo.evaluate(calibrated, gold * 10, num_bootstrap=0)

    # audemo report: gold columns without a scheme range warn in its words
    copy = str(tmp_path / "db")
    shutil.copytree(labelled_database, copy)
    db = audformat.Database.load(copy)
    db["plain"] = audformat.Table(gold.index)
    db["plain"]["valence"] = audformat.Column()
    db["plain"]["valence"].set(gold["valence"])
    db.save(copy)
    results = str(tmp_path / "results.csv")
    predictions.to_csv(results)
    argv = ["report", results, "--truth", f"{copy}:plain", "--bootstrap", "0"]
    with pytest.warns(ScaleWarning, match="valence 1..7.*--truth-range LOW HIGH"):
        assert main(argv + ["-o", str(tmp_path / "report.md")]) == 0
    capsys.readouterr()


def test_alignment(labelled_database, predictions, model_root):
    db = audformat.Database.load(labelled_database)
    truth = db["gold"].get()

    # windows: several rows per file cannot meet one gold label per file
    windows = audemo.Emotion(model_root, win_dur=1.0).process_index(
        db.files[:2], root=labelled_database
    )
    with pytest.raises(ValueError, match="groupby"):
        audemo.evaluate(windows, truth)
    averaged = windows.groupby(level="file").mean()
    with pytest.warns(UserWarning, match="14 of 16 gold samples"):
        result = audemo.evaluate(averaged, truth, num_bootstrap=0)
    assert result.overall["n"].tolist() == [2, 2, 2]

    # a failed file (NaN) and a file without prediction: left out, counted
    broken = predictions.copy()
    broken.iloc[0] = np.nan
    broken = broken.iloc[:-1]
    with pytest.warns(UserWarning, match="2 of 16 gold samples have no prediction"):
        result = audemo.evaluate(broken, truth, num_bootstrap=0)
    assert result.overall["n"].tolist() == [14, 14, 14]

    # a missing gold label counts only in its dimension
    gaps = truth.copy()
    gaps.loc[gaps.index[:3], "valence"] = np.nan
    result = audemo.evaluate(predictions, gaps, num_bootstrap=0)
    assert result.overall["n"].to_dict() == {
        "arousal": 16,
        "dominance": 16,
        "valence": 13,
    }

    # gold labels on segments meet predictions with one row per file
    segmented = truth.set_axis(
        audformat.segmented_index(truth.index, [0] * 16, [1] * 16)
    )
    filewise = predictions.droplevel(["start", "end"])
    result = audemo.evaluate(filewise, segmented, num_bootstrap=0)
    assert result.overall["n"].tolist() == [16, 16, 16]


def test_errors(predictions, labelled_database):
    truth = audformat.Database.load(labelled_database)["gold"].get()
    with pytest.raises(ValueError, match="share no column"):
        audemo.evaluate(predictions, truth.rename(columns=str.upper))
    with pytest.raises(ValueError, match="share no column"):
        audemo.evaluate(predictions, truth, dimensions=["joy"])
    with pytest.raises(ValueError, match="paths of prediction"):
        elsewhere = truth.set_axis(
            audformat.filewise_index(["/elsewhere/" + file for file in truth.index])
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            audemo.evaluate(predictions, elsewhere)
    with pytest.raises(ValueError, match="from low to high"):
        audemo.evaluate(predictions, truth, truth_range=(7, 1))
    with pytest.raises(ValueError, match="confidence"):
        audemo.evaluate(predictions, truth, confidence=95)
    with pytest.raises(ValueError, match="num_bootstrap"):
        audemo.evaluate(predictions, truth, num_bootstrap=-1)
    with pytest.raises(ValueError, match="min_samples"):
        audemo.evaluate(predictions, truth, min_samples=1)
    with pytest.raises(ValueError, match="twice"):
        filewise = predictions.droplevel(["start", "end"])
        audemo.evaluate(pd.concat([filewise, filewise]), truth)
    with pytest.raises(ValueError, match="fewer than 2 samples"):
        audemo.evaluate(predictions, truth.iloc[:1])
    with pytest.raises(ValueError, match="does not match the truth"):
        audemo.evaluate(
            predictions,
            truth,
            speakers=pd.Series(["x"], index=audformat.filewise_index(["other.wav"])),
        )
    with pytest.raises(ValueError, match="filewise index"):
        audemo.evaluate(
            predictions,
            truth,
            groups=pd.Series(
                ["x"], index=audformat.segmented_index(["a.wav"], [0], [1])
            ),
        )


@pytest.mark.slow
def test_report_cli(labelled_database, model_root, tmp_path, capsys):
    results = str(tmp_path / "results.csv")
    assert (
        main(["predict", labelled_database, "--model", model_root, "-o", results]) == 0
    )
    capsys.readouterr()
    report = str(tmp_path / "report.html")
    argv = ["report", results, "--truth", f"{labelled_database}:gold"]
    argv += ["--group", "sex", "--speaker", "speaker", "--min-samples", "4"]
    assert main(argv + ["-o", report, "--bootstrap", "50"]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == report
    # the scheme's range 1..7 rescales the gold labels, as in Python
    db = audformat.Database.load(labelled_database)
    expected = audemo.evaluate(
        read_results(results),
        db["gold"].get(),
        truth_range=(1, 7),
        num_bootstrap=50,
        groups=db["files"]["sex"].get(),
        speakers=db["files"]["speaker"].get(),
        min_samples=4,
    )
    ccc = expected.overall.loc["valence", "ccc"]
    assert f"valence: CCC {ccc:.3f}" in err
    count = len(expected.data)
    assert f"], n={count}\n" in err  # a count, not {count}.0
    text = open(report).read()
    assert text.count("<table") == 3  # overall, per sex, speakers
    assert text.count("data:image/png;base64,") == 3
    assert f"{ccc:.3f} [" in text
    assert "rescaled from arousal 1..7" in text
    assert "female" in text and "en-gb+f2" not in text  # speakers are summarised

    markdown = str(tmp_path / "report.md")
    argv = ["report", results, "--truth", f"{labelled_database}:gold", "-o", markdown]
    assert main(argv + ["--truth-range", "1", "7"]) == 0
    text = open(markdown).read()
    assert text.startswith("# Emotion recognition report")
    assert "| dimension | CCC | Pearson | MAE | n |" in text
    overall = [line for line in text.splitlines() if line.startswith("| valence |")]
    assert overall[0].endswith(f"| {count} |")
    assert "rescaled from 1..7 to 0..1" in text
    figure = tmp_path / "report-figures" / "figure-1.png"
    assert "![Prediction against truth](report-figures/figure-1.png)" in text
    assert figure.stat().st_size > 10_000


def test_report_cli_errors(labelled_database, model_root, tmp_path, capsys):
    results = str(tmp_path / "results.csv")
    main(["predict", labelled_database, "--model", model_root, "-o", results])
    capsys.readouterr()
    cases = [
        (["--truth", labelled_database], "DB_FOLDER:TABLE"),
        (["--truth", f"{tmp_path}:gold"], "holds no audformat database"),
        (["--truth", f"{labelled_database}:nope"], "has no table 'nope'"),
        (["--truth", f"{labelled_database}:files"], "has no column"),
        (
            ["--truth", f"{labelled_database}:gold", "--group", "age"],
            "has a column 'age'",
        ),
        (["--truth", f"{labelled_database}:gold", "-o", "r.pdf"], "must end in .md"),
    ]
    for argv, message in cases:
        assert main(["report", results] + argv) == 1
        assert message in capsys.readouterr().err


@pytest.mark.slow
def test_report_with_robustness(labelled_database, model_root, tmp_path, capsys):
    results = str(tmp_path / "results.csv")
    main(["predict", labelled_database, "--model", model_root, "-o", results])
    report = str(tmp_path / "report.md")
    argv = ["report", results, "--truth", f"{labelled_database}:gold", "-o", report]
    argv += ["--robustness", "--model", model_root, "--bootstrap", "0"]
    assert main(argv) == 0
    text = open(report).read()
    assert "## Robustness" in text
    header = next(line for line in text.splitlines() if "shift arousal" in line)
    assert "ccc_change valence" in header
    clean = next(line for line in text.splitlines() if line.startswith("| clean |"))
    assert "| 0.000 | 0.000 | 0.000 |" in clean
    names = [line.split(" | ")[0][2:] for line in text.splitlines()[1:]]
    assert set(audemo.PERTURBATIONS) <= set(names)
    assert (tmp_path / "report-figures" / "figure-2.png").stat().st_size > 10_000
