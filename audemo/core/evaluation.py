r"""How well the predictions match gold labels: overall, per group, per speaker."""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
import dataclasses
import warnings

import numpy as np
import pandas as pd

import audformat

from audemo.core import metrics
from audemo.core.database import scheme_range
from audemo.core.define import DIMENSIONS
from audemo.core.results import calibration_marker
from audemo.core.utils import caller_stacklevel
from audemo.core.utils import count


METRICS = ("ccc", "pearson", "mae")
r"""Metrics of :func:`audemo.evaluate`, each with a confidence interval."""

_METRIC_FUNCTIONS = dict(zip(METRICS, (metrics.ccc, metrics.pearson, metrics.mae)))

# rows x resamples per batch of bootstrap indices: bounds memory to ~40 MB
_BOOTSTRAP_BATCH_ELEMENTS = 5_000_000


@dataclasses.dataclass
class Evaluation:
    r"""Result of :func:`audemo.evaluate`.

    All tables have one row per dimension
    (and per group or speaker)
    and hold the metrics of :data:`audemo.METRICS`
    with the bounds of their bootstrap confidence interval
    in the columns ``<metric>_low`` and ``<metric>_high``
    and the number of samples in ``n``.

    """

    overall: pd.DataFrame
    r"""The metrics over all samples, one row per dimension."""

    groups: pd.DataFrame | None
    r"""The metrics per group,
    with the index levels grouping (e.g. ``sex``), group (e.g. ``female``)
    and dimension;
    ``ccc_difference`` is the group's CCC minus the overall CCC
    (the paper's fairness measure).
    ``None`` without ``groups``"""

    speakers: pd.DataFrame | None
    r"""The spread of the CCC over speakers, one row per dimension,
    with the columns ``speakers`` (how many had at least ``min_samples``),
    ``min``, ``median``, ``max``.
    ``None`` without ``speakers``"""

    speaker_ccc: pd.DataFrame | None
    r"""The CCC of each speaker with at least ``min_samples`` samples,
    one row per speaker and one column per dimension"""

    data: pd.DataFrame
    r"""The aligned samples, with the columns ``truth-<dimension>``
    (after rescaling), ``prediction-<dimension>``,
    and the group and speaker columns"""

    settings: dict
    r"""Options the numbers depend on"""

    def __repr__(self) -> str:  # noqa: D105
        return f"Evaluation(n={len(self.data)})\n{self.overall.round(3)}"


class ScaleWarning(UserWarning):
    r"""Gold labels lie far outside the scale of the predictions.

    :func:`audemo.evaluate` warns with it
    when the gold labels of arousal, dominance or valence
    (after ``truth_range``)
    reach more than half the width of the predictions' scale
    beyond it:
    the model's 0..1,
    or the gold scale of calibrated predictions.
    CCC and MAE then compare two scales.

    Args:
        problems: one text per dimension,
            e.g. ``"valence 1..7 (the model's 0..1)"``
        fix: what to do

    """

    def __init__(self, problems: list[str] | str, fix: str = ""):
        if isinstance(problems, str):
            # made again from its text alone (as pytest.warns re-emits it)
            super().__init__(problems)
            self.problems = []
            self.fix = fix
            return
        self.problems = problems
        r"""Dimension, range of its gold labels and the predictions' scale"""
        self.fix = fix
        r"""What to do"""
        super().__init__(
            f"The gold labels lie far outside the scale of the predictions: "
            f"{', '.join(problems)}. CCC and MAE then compare two different "
            f"scales. {fix}"
        )


def evaluate(
    prediction: pd.DataFrame,
    truth: pd.DataFrame | pd.Series | audformat.Table | audformat.Column,
    *,
    dimensions: Sequence[str] | None = None,
    truth_range: tuple[float, float] | Mapping[str, tuple[float, float]] | None = None,
    groups: pd.Series | pd.DataFrame | None = None,
    speakers: pd.Series | None = None,
    min_samples: int = 10,
    num_bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Evaluation:
    r"""Compare predictions with gold labels as the paper does.

    For each dimension
    the concordance correlation coefficient (CCC, the paper's measure),
    Pearson's correlation
    and the mean absolute error (MAE)
    with bootstrap confidence intervals
    (``num_bootstrap`` resamples of the samples with replacement,
    percentile interval).

    With ``groups`` (e.g. the speakers' sex)
    the same metrics per group
    and each group's CCC minus the overall CCC:
    the paper calls a model fair to a grouping
    when these differences are small.
    With ``speakers``
    the CCC of each speaker with at least ``min_samples`` samples
    and its minimum, median and maximum:
    the paper found the model fair to sex groups
    but its CCC varies a lot between speakers.

    **Alignment.**
    ``prediction`` and ``truth`` are joined on their audformat index.
    Predictions with one row per file
    (as ``Emotion().process_index()`` gives them)
    match a filewise ``truth``.
    Several rows per file (windows, segments)
    are refused for a filewise ``truth``:
    average them first
    (``prediction.groupby(level="file").mean()``)
    or give segment-wise gold labels.
    Samples with a missing (NaN) gold label are left out of that dimension;
    samples without prediction or with a NaN prediction
    (a file that failed under ``errors="coerce"``)
    are left out with a warning that counts them.

    **Scale.**
    The model was trained on labels mapped to 0..1
    (MSP-Podcast: 1..7).
    CCC punishes a different offset or scale,
    so gold labels on another scale must be rescaled:
    ``truth_range=(1, 7)`` maps 1 to 0 and 7 to 1
    (per dimension with a dictionary).
    Pearson's correlation does not change,
    the MAE is then on the 0..1 scale.
    Given ``truth`` as an :class:`audformat.Table`
    or :class:`audformat.Column`,
    the range of each column whose scheme sets
    ``minimum`` and ``maximum``
    is taken from its scheme
    unless ``truth_range`` is given.
    Predictions calibrated to the gold scale
    (:class:`audemo.Calibration`,
    marked in ``prediction.attrs["calibration"]``)
    are compared with the gold labels as they are:
    ``truth_range`` must leave their dimensions out,
    and a scheme range must be the calibration's ``truth_range``.
    Gold labels far outside the predictions' scale
    (see :class:`~audemo.ScaleWarning`)
    give a warning that names the fix.

    Args:
        prediction: results of :class:`audemo.Emotion`
            with columns ``arousal``, ``dominance``, ``valence``
        truth: gold labels with the same column names,
            or a series named after its dimension,
            or a table or column of an audformat database
        dimensions: dimensions to evaluate,
            by default those in both ``prediction`` and ``truth``
        truth_range: lowest and highest value of the gold scale,
            mapped to 0 and 1
            (default: from the schemes of an audformat ``truth``)
        groups: group of each sample (a series),
            or several groupings (a frame, one column each),
            on the index of ``truth`` or a filewise index
        speakers: speaker of each sample,
            on the index of ``truth`` or a filewise index
        min_samples: fewest samples a group or speaker needs
            to be reported
        num_bootstrap: number of bootstrap resamples,
            0 for no confidence intervals
        confidence: coverage of the confidence intervals
        seed: seed of the bootstrap

    Returns:
        metrics overall, per group and per speaker

    Raises:
        ValueError: if no dimension is shared,
            the indices do not match,
            nothing is left to evaluate,
            an option is out of range,
            ``truth_range`` would rescale the gold labels
            of a calibrated dimension,
            or a scheme's range is not the one it was calibrated to

    Examples:
        >>> index = audformat.filewise_index(["a.wav", "b.wav", "c.wav", "d.wav"])
        >>> truth = pd.DataFrame({"valence": [2.0, 3.0, 5.0, 6.0]}, index=index)
        >>> prediction = pd.DataFrame(
        ...     {"arousal": [0.2, 0.4, 0.5, 0.7], "valence": [0.2, 0.4, 0.6, 0.9]},
        ...     index=index,
        ... )
        >>> result = evaluate(prediction, truth, truth_range=(1, 7), num_bootstrap=0)
        >>> result.overall[["ccc", "pearson", "mae", "n"]].round(3)
                     ccc  pearson    mae  n
        dimension
        valence    0.974    0.978  0.058  4

    """
    _check_options(confidence, num_bootstrap, min_samples)
    truth, schemes = _truth_and_schemes(truth)
    dimensions = _shared_dimensions(prediction, truth, dimensions)
    calibrated = _calibrated_scales(prediction, dimensions)
    truth_range = _truth_range(truth_range, schemes, calibrated)
    data = _align_prediction(
        prediction[dimensions], rescale(truth[dimensions], truth_range)
    )
    _warn_scale(data, dimensions, calibrated, truth_range)
    groupings = _add_groups(data, groups)
    if speakers is not None:
        data["speaker"] = _labels_for(speakers, data.index, "speakers")

    bootstrap = _Bootstrap(num_bootstrap, confidence, np.random.default_rng(seed))
    overall = _metric_table(data, dimensions, bootstrap)
    if overall.empty:
        raise ValueError(
            "Nothing to evaluate: fewer than 2 samples have both "
            "a gold label and a prediction."
        )
    group_table = _group_metrics(
        data, groupings, overall, dimensions, bootstrap, min_samples
    )
    speaker_table = speaker_ccc = None
    if speakers is not None:
        speaker_table, speaker_ccc = _speaker_metrics(data, dimensions, min_samples)

    return Evaluation(
        overall=overall,
        groups=group_table,
        speakers=speaker_table,
        speaker_ccc=speaker_ccc,
        data=data,
        settings={
            "dimensions": list(dimensions),
            "truth_range": truth_range,
            "min_samples": min_samples,
            "num_bootstrap": num_bootstrap,
            "confidence": confidence,
            "seed": seed,
        },
    )


def rescale(
    truth: pd.DataFrame,
    truth_range: tuple[float, float] | Mapping[str, tuple[float, float]] | None,
) -> pd.DataFrame:
    r"""Map gold labels from their scale to 0..1, as :func:`evaluate` does.

    Args:
        truth: gold labels, one column per dimension
        truth_range: lowest and highest value of the gold scale,
            for all dimensions or per dimension (a dictionary);
            dimensions without a range stay as they are

    Returns:
        gold labels as float, 0 for the lowest and 1 for the highest value

    Raises:
        ValueError: if a range does not go from low to high

    Examples:
        >>> truth = pd.DataFrame({"arousal": [1, 4, 7], "valence": [0.2, 0.5, 0.8]})
        >>> rescale(truth, {"arousal": (1, 7)})
           arousal  valence
        0      0.0      0.2
        1      0.5      0.5
        2      1.0      0.8

    """
    truth = truth.astype("float64")
    for dimension in truth.columns:
        low, high = _range(truth_range, dimension)
        truth[dimension] = (truth[dimension] - low) / (high - low)
    return truth


# ----- step 1: options and dimensions -------------------------------------


def _check_options(confidence: float, num_bootstrap: int, min_samples: int):
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie between 0 and 1, not {confidence}.")
    if num_bootstrap < 0:
        raise ValueError(f"num_bootstrap must not be negative, not {num_bootstrap}.")
    if min_samples < 2:
        raise ValueError(f"min_samples must be at least 2, not {min_samples}.")


def _shared_dimensions(
    prediction: pd.DataFrame,
    truth: pd.DataFrame,
    dimensions: Sequence[str] | None,
) -> list[str]:
    r"""The requested dimensions, or those in both, emotion dimensions first."""
    if dimensions is None:
        dimensions = [
            column
            for column in list(DIMENSIONS) + list(truth.columns)
            if column in truth.columns and column in prediction.columns
        ]
        dimensions = list(dict.fromkeys(dimensions))
    missing = [
        dimension
        for dimension in dimensions
        if dimension not in truth.columns or dimension not in prediction.columns
    ]
    if not dimensions or missing:
        raise ValueError(
            f"Prediction and truth share no column "
            f"{missing or list(DIMENSIONS)}: prediction has "
            f"{list(prediction.columns)}, truth has {list(truth.columns)}. "
            f"Rename the gold columns after the dimensions."
        )
    return dimensions


def _truth_and_schemes(
    truth: pd.DataFrame | pd.Series | audformat.Table | audformat.Column,
) -> tuple[pd.DataFrame, dict[str, tuple[float, float]]]:
    r"""Gold labels as a frame, and the ranges their schemes set."""
    schemes = {}
    if isinstance(truth, audformat.Column):
        scale = scheme_range(truth)
        truth = truth.get()
        if scale is not None:
            schemes[truth.name] = scale
    elif isinstance(truth, audformat.Table):
        for name, column in truth.columns.items():
            scale = scheme_range(column)
            if scale is not None:
                schemes[name] = scale
        truth = truth.get()
    if isinstance(truth, pd.Series):
        truth = truth.to_frame()
    return truth, schemes


def _calibrated_scales(
    prediction: pd.DataFrame, dimensions: Sequence[str]
) -> dict[str, tuple[float, float] | None]:
    r"""The gold scale of each calibrated dimension (``None``: not recorded)."""
    marker = calibration_marker(prediction)
    if marker is None:
        return {}
    return {
        dimension: marker["truth_range"]
        for dimension in dimensions
        if dimension in marker["dimensions"]
    }


def _truth_range(
    truth_range: tuple[float, float] | Mapping[str, tuple[float, float]] | None,
    schemes: dict[str, tuple[float, float]],
    calibrated: dict[str, tuple[float, float] | None],
) -> tuple[float, float] | Mapping[str, tuple[float, float]] | None:
    r"""The ranges that rescale gold labels: given, or from the schemes.

    Calibrated dimensions are compared on their gold scale,
    not rescaled.

    """
    if truth_range is not None:
        named = (
            [name for name in calibrated if name in truth_range]
            if isinstance(truth_range, Mapping)
            else list(calibrated)
        )
        if named:
            raise ValueError(
                f"The predictions of {', '.join(named)} are calibrated to the gold "
                f"scale (prediction.attrs['calibration']): compare them with the "
                f"gold labels as they are and leave them out of truth_range, "
                f"which maps the gold labels to the model's 0..1 scale."
            )
        return truth_range
    for name, scale in calibrated.items():
        if name in schemes and scale is not None and schemes[name] != tuple(scale):
            raise ValueError(
                f"The predictions of {name} are calibrated to the gold scale "
                f"{scale[0]:g}..{scale[1]:g}, but the scheme of the gold labels "
                f"runs from {schemes[name][0]:g} to {schemes[name][1]:g}: "
                f"compare them with gold labels on the scale of the calibration, "
                f"or fit a calibration on these gold labels."
            )
    ranges = {name: scale for name, scale in schemes.items() if name not in calibrated}
    return ranges or None


def _warn_scale(
    data: pd.DataFrame,
    dimensions: Sequence[str],
    calibrated: dict[str, tuple[float, float] | None],
    truth_range: tuple[float, float] | Mapping[str, tuple[float, float]] | None,
):
    r"""Warn once about gold labels far outside the predictions' scale."""
    found = {}  # fix: descriptions of the dimensions it fixes
    for dimension in dimensions:
        if dimension in calibrated:
            if calibrated[dimension] is None:
                continue  # the scale was not recorded
            low, high = calibrated[dimension]
            scale = f"calibrated to {low:g}..{high:g}"
            fix = (
                "Compare calibrated predictions with gold labels on the scale "
                "of the calibration, or fit a calibration on these gold labels."
            )
        elif dimension not in DIMENSIONS:
            continue  # a column of the user's: its scale is not known
        else:
            low, high = 0.0, 1.0
            scale = "the model's 0..1"
            if truth_range is not None and (
                not isinstance(truth_range, Mapping) or dimension in truth_range
            ):
                scale += " after truth_range"
                fix = (
                    "Give the lowest and highest value of the gold scale "
                    "as truth_range."
                )
            else:
                fix = (
                    "Give the gold scale as truth_range=(LOW, HIGH), which maps it "
                    "to 0..1, or the gold labels as an audformat table or column "
                    "whose scheme sets minimum and maximum."
                )
        labels = data[f"truth-{dimension}"].dropna()
        margin = (high - low) / 2
        if labels.empty or (
            labels.min() >= low - margin and labels.max() <= high + margin
        ):
            continue
        found.setdefault(fix, []).append(
            f"{dimension} {labels.min():g}..{labels.max():g} ({scale})"
        )
    for fix, problems in found.items():
        warnings.warn(ScaleWarning(problems, fix), stacklevel=caller_stacklevel())


# ----- step 2: alignment of prediction, truth, groups and speakers ---------


def _align_prediction(prediction: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    r"""Join gold labels and predictions as ``truth-*`` and ``prediction-*``."""
    prediction_type = audformat.index_type(prediction.index)
    truth_type = audformat.index_type(truth.index)
    if prediction_type != truth_type:
        if truth_type == audformat.define.IndexType.FILEWISE:
            prediction = _to_filewise(prediction, "prediction")
        else:
            truth = _to_filewise(truth, "truth")
    for name, frame in (("prediction", prediction), ("truth", truth)):
        if frame.index.has_duplicates:
            raise ValueError(
                f"The {name} holds the same index entry twice, "
                f"e.g. {frame.index[frame.index.duplicated()][0]}."
            )
    files = prediction.index.get_level_values("file")
    prediction = prediction.add_prefix("prediction-")
    truth = truth.add_prefix("truth-")
    data = truth.join(prediction, how="left")
    predicted = data[prediction.columns].notna().all(axis=1)
    if not predicted.all():
        lost = data.index[~predicted].get_level_values("file")
        warnings.warn(
            f"{len(lost)} of {count(len(data), 'gold sample')} "
            f"{'has' if len(lost) == 1 else 'have'} no prediction "
            f"(missing or failed, NaN) and {'is' if len(lost) == 1 else 'are'} "
            f"left out, e.g. '{lost[0]}'.",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )
        data = data[predicted]
    if data.empty:
        raise ValueError(
            "No gold sample has a prediction: the file paths of prediction "
            f"(e.g. '{files[0]}') and truth "
            f"(e.g. '{truth.index.get_level_values('file')[0]}') differ. "
            "Make both relative to the database root."
        )
    return data


def _to_filewise(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    files = frame.index.get_level_values("file")
    if files.has_duplicates:
        raise ValueError(
            f"The {name} has {len(frame)} rows for "
            f"{count(files.nunique(), 'file')} "
            f"(windows or segments) but the other side has one row per file: "
            f"average them per file first, "
            f"e.g. {name}.groupby(level='file').mean(), "
            f"or give both on a segmented index."
        )
    return frame.set_axis(audformat.filewise_index(files), axis=0)


def _add_groups(
    data: pd.DataFrame, groups: pd.Series | pd.DataFrame | None
) -> dict[str, str]:
    r"""Add a column ``group-<grouping>`` per grouping, return their names."""
    groupings = {}
    if groups is not None:
        frame = groups.to_frame() if isinstance(groups, pd.Series) else groups
        for name in frame.columns:
            data[f"group-{name}"] = _labels_for(frame[name], data.index, "groups")
            groupings[name] = f"group-{name}"
    return groupings


def _labels_for(labels: pd.Series, index: pd.Index, name: str) -> pd.Series:
    if audformat.index_type(labels.index) == audformat.index_type(index):
        aligned = labels.reindex(index)
    elif audformat.index_type(labels.index) == audformat.define.IndexType.FILEWISE:
        files = index.get_level_values("file")
        aligned = pd.Series(labels.reindex(files).to_numpy(), index=index)
    else:
        raise ValueError(
            f"{name} must be on the index of the truth or on a filewise index."
        )
    if aligned.isna().all():
        raise ValueError(
            f"No sample has a value in {name}: its index does not match the truth."
        )
    return aligned


# ----- step 3: rescaling ----------------------------------------------------


def _range(
    truth_range: tuple[float, float] | Mapping[str, tuple[float, float]] | None,
    dimension: str,
) -> tuple[float, float]:
    if truth_range is None:
        return 0.0, 1.0
    if isinstance(truth_range, Mapping):
        if dimension not in truth_range:
            return 0.0, 1.0
        truth_range = truth_range[dimension]
    low, high = truth_range
    if not high > low:
        raise ValueError(
            f"truth_range of {dimension} must go from low to high, not {low} to {high}."
        )
    return float(low), float(high)


# ----- step 4: metrics with confidence intervals (overall and groups) -------


@dataclasses.dataclass
class _Bootstrap:
    r"""Percentile intervals from resamples drawn with one generator.

    The generator is shared by all tables of an evaluation,
    in the order they are computed: overall, then the groups.

    """

    num_bootstrap: int
    confidence: float
    rng: np.random.Generator

    def intervals(self, truth: np.ndarray, prediction: np.ndarray) -> dict:
        r"""``<metric>_low`` and ``<metric>_high`` of each metric."""
        bounds = ((1 - self.confidence) / 2 * 100, (1 + self.confidence) / 2 * 100)
        row = {}
        for metric, values in self._resampled(truth, prediction).items():
            row[f"{metric}_low"], row[f"{metric}_high"] = (
                np.nanpercentile(values, bounds) if len(values) else (np.nan,) * 2
            )
        return row

    def _resampled(
        self, truth: np.ndarray, prediction: np.ndarray
    ) -> dict[str, np.ndarray]:
        r"""Each metric on ``num_bootstrap`` resamples, in batches."""
        num_samples = len(truth)
        results = {metric: [] for metric in METRICS}
        batch = max(1, _BOOTSTRAP_BATCH_ELEMENTS // num_samples)
        for start in range(0, self.num_bootstrap, batch):
            size = min(batch, self.num_bootstrap - start)
            indices = self.rng.integers(0, num_samples, size=(size, num_samples))
            resampled = truth[indices], prediction[indices]
            for metric, function in _METRIC_FUNCTIONS.items():
                results[metric].append(function(*resampled))
        return {
            metric: np.concatenate(values) if values else np.array([])
            for metric, values in results.items()
        }


def _metric_table(
    selected: pd.DataFrame, dimensions: Sequence[str], bootstrap: _Bootstrap
) -> pd.DataFrame:
    r"""Metrics and intervals per dimension with at least 2 samples."""
    rows = {}
    for dimension in dimensions:
        truth, prediction = _pair(selected, dimension)
        if len(truth) < 2:
            continue
        row = {
            metric: function(truth, prediction)
            for metric, function in _METRIC_FUNCTIONS.items()
        }
        row.update(bootstrap.intervals(truth, prediction))
        row["n"] = len(truth)
        rows[dimension] = row
    columns = [
        name
        for metric in METRICS
        for name in (metric, f"{metric}_low", f"{metric}_high")
    ] + ["n"]
    table = pd.DataFrame.from_dict(rows, orient="index", columns=columns)
    table.index.name = "dimension"
    return table.astype({"n": "int64"})


def _group_metrics(
    data: pd.DataFrame,
    groupings: Mapping[str, str],
    overall: pd.DataFrame,
    dimensions: Sequence[str],
    bootstrap: _Bootstrap,
    min_samples: int,
) -> pd.DataFrame | None:
    r"""Metrics of every group with ``min_samples``, and its CCC difference."""
    if not groupings:
        return None
    parts = {}
    for name, column in groupings.items():
        for group, selected in data.groupby(column, sort=True, observed=True):
            if len(selected) < min_samples:
                continue
            table = _metric_table(selected, dimensions, bootstrap)
            table["ccc_difference"] = table["ccc"] - overall.loc[table.index, "ccc"]
            parts[(name, group)] = table
    if not parts:
        warnings.warn(
            f"No group has {min_samples} samples (min_samples): no per-group metrics.",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )
        return None
    return pd.concat(parts, names=["grouping", "group"])


# ----- step 5: speakers -----------------------------------------------------


def _speaker_metrics(
    data: pd.DataFrame, dimensions: Sequence[str], min_samples: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    r"""Spread of the CCC over speakers, and the CCC of every speaker."""
    scores = {}
    for speaker, selected in data.groupby("speaker", sort=True, observed=True):
        if len(selected) < min_samples:
            continue
        scores[speaker] = {
            dimension: _ccc_or_nan(*_pair(selected, dimension))
            for dimension in dimensions
        }
    speaker_ccc = pd.DataFrame.from_dict(scores, orient="index", columns=dimensions)
    speaker_ccc.index.name = "speaker"
    spread = pd.DataFrame(
        {
            "speakers": speaker_ccc.notna().sum(),
            "min": speaker_ccc.min(),
            "median": speaker_ccc.median(),
            "max": speaker_ccc.max(),
        }
    )
    spread.index.name = "dimension"
    return spread, speaker_ccc


# ----- helpers ------------------------------------------------------------


def _pair(selected: pd.DataFrame, dimension: str) -> tuple[np.ndarray, np.ndarray]:
    r"""Gold labels and predictions of the samples with both."""
    pair = selected[[f"truth-{dimension}", f"prediction-{dimension}"]]
    truth, prediction = pair.dropna().to_numpy().T
    return truth, prediction


def _ccc_or_nan(truth: np.ndarray, prediction: np.ndarray) -> float:
    if len(truth) < 2:
        return float("nan")
    return metrics.ccc(truth, prediction)
