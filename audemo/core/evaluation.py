r"""How well the predictions match gold labels: overall, per group, per speaker."""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
import dataclasses
import warnings

import numpy as np
import pandas as pd

import audformat

from audemo.core.define import DIMENSIONS


METRICS = ("ccc", "pearson", "mae")
r"""Metrics of :func:`audemo.evaluate`, each with a confidence interval."""

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


def evaluate(
    prediction: pd.DataFrame,
    truth: pd.DataFrame | pd.Series,
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

    Args:
        prediction: results of :class:`audemo.Emotion`
            with columns ``arousal``, ``dominance``, ``valence``
        truth: gold labels with the same column names,
            or a series named after its dimension
        dimensions: dimensions to evaluate,
            by default those in both ``prediction`` and ``truth``
        truth_range: lowest and highest value of the gold scale,
            mapped to 0 and 1
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
        ImportError: if audmetric is not installed
        ValueError: if no dimension is shared,
            the indices do not match,
            nothing is left to evaluate,
            or an option is out of range

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
    import audmetric

    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie between 0 and 1, not {confidence}.")
    if num_bootstrap < 0:
        raise ValueError(f"num_bootstrap must not be negative, not {num_bootstrap}.")
    if min_samples < 2:
        raise ValueError(f"min_samples must be at least 2, not {min_samples}.")
    if isinstance(truth, pd.Series):
        truth = truth.to_frame()
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
    data = _align(prediction[dimensions], rescale(truth[dimensions], truth_range))

    groupings = {}
    if groups is not None:
        frame = groups.to_frame() if isinstance(groups, pd.Series) else groups
        for name in frame.columns:
            data[f"group-{name}"] = _labels_for(frame[name], data.index, "groups")
            groupings[name] = f"group-{name}"
    if speakers is not None:
        data["speaker"] = _labels_for(speakers, data.index, "speakers")

    rng = np.random.default_rng(seed)
    bounds = ((1 - confidence) / 2 * 100, (1 + confidence) / 2 * 100)

    def metrics(selected: pd.DataFrame) -> pd.DataFrame:
        rows = {}
        for dimension in dimensions:
            pair = selected[[f"truth-{dimension}", f"prediction-{dimension}"]]
            pair = pair.dropna().to_numpy().T
            if pair.shape[1] < 2:
                continue
            row = {
                "ccc": audmetric.concordance_cc(pair[0], pair[1]),
                "pearson": _pearson(pair[0][None], pair[1][None])[0],
                "mae": audmetric.mean_absolute_error(pair[0], pair[1]),
            }
            for metric, values in _bootstrap(pair, num_bootstrap, rng).items():
                row[f"{metric}_low"], row[f"{metric}_high"] = (
                    np.nanpercentile(values, bounds) if len(values) else (np.nan,) * 2
                )
            row["n"] = pair.shape[1]
            rows[dimension] = row
        columns = [
            name
            for metric in METRICS
            for name in (metric, f"{metric}_low", f"{metric}_high")
        ] + ["n"]
        table = pd.DataFrame.from_dict(rows, orient="index", columns=columns)
        table.index.name = "dimension"
        return table.astype({"n": "int64"})

    overall = metrics(data)
    if overall.empty:
        raise ValueError(
            "Nothing to evaluate: fewer than 2 samples have both "
            "a gold label and a prediction."
        )

    group_table = None
    if groupings:
        parts = {}
        for name, column in groupings.items():
            for group, selected in data.groupby(column, sort=True, observed=True):
                if len(selected) < min_samples:
                    continue
                table = metrics(selected)
                table["ccc_difference"] = table["ccc"] - overall.loc[table.index, "ccc"]
                parts[(name, group)] = table
        if parts:
            group_table = pd.concat(parts, names=["grouping", "group"])
        else:
            warnings.warn(
                f"No group has {min_samples} samples (min_samples): "
                f"no per-group metrics.",
                UserWarning,
                stacklevel=2,
            )

    speaker_table = speaker_ccc = None
    if speakers is not None:
        scores = {}
        for speaker, selected in data.groupby("speaker", sort=True, observed=True):
            if len(selected) < min_samples:
                continue
            scores[speaker] = {
                dimension: _ccc_or_nan(
                    selected[[f"truth-{dimension}", f"prediction-{dimension}"]]
                )
                for dimension in dimensions
            }
        speaker_ccc = pd.DataFrame.from_dict(scores, orient="index", columns=dimensions)
        speaker_ccc.index.name = "speaker"
        speaker_table = pd.DataFrame(
            {
                "speakers": speaker_ccc.notna().sum(),
                "min": speaker_ccc.min(),
                "median": speaker_ccc.median(),
                "max": speaker_ccc.max(),
            }
        )
        speaker_table.index.name = "dimension"

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
    r"""Map gold labels from their scale to 0..1, as :func:`evaluate` does."""
    truth = truth.astype("float64")
    for dimension in truth.columns:
        low, high = _range(truth_range, dimension)
        truth[dimension] = (truth[dimension] - low) / (high - low)
    return truth


def _align(prediction: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
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
            f"{len(lost)} of {len(data)} gold "
            f"{'sample' if len(data) == 1 else 'samples'} "
            f"{'has' if len(lost) == 1 else 'have'} no prediction "
            f"(missing or failed, NaN) and {'is' if len(lost) == 1 else 'are'} "
            f"left out, e.g. '{lost[0]}'.",
            UserWarning,
            stacklevel=3,
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
            f"The {name} has {len(frame)} rows for {files.nunique()} "
            f"{'file' if files.nunique() == 1 else 'files'} "
            f"(windows or segments) but the other side has one row per file: "
            f"average them per file first, "
            f"e.g. {name}.groupby(level='file').mean(), "
            f"or give both on a segmented index."
        )
    return frame.set_axis(audformat.filewise_index(files), axis=0)


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


def _bootstrap(
    pair: np.ndarray,
    num_bootstrap: int,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    num_samples = pair.shape[1]
    results = {metric: [] for metric in METRICS}
    batch = max(1, _BOOTSTRAP_BATCH_ELEMENTS // num_samples)
    for start in range(0, num_bootstrap, batch):
        size = min(batch, num_bootstrap - start)
        indices = rng.integers(0, num_samples, size=(size, num_samples))
        truth, prediction = pair[0][indices], pair[1][indices]
        results["ccc"].append(_ccc(truth, prediction))
        results["pearson"].append(_pearson(truth, prediction))
        results["mae"].append(np.abs(truth - prediction).mean(axis=1))
    return {
        metric: np.concatenate(values) if values else np.array([])
        for metric, values in results.items()
    }


def _ccc(truth: np.ndarray, prediction: np.ndarray) -> np.ndarray:
    # one CCC per row; a resample of identical values has no CCC (NaN)
    mean_truth = truth.mean(axis=1, keepdims=True)
    mean_prediction = prediction.mean(axis=1, keepdims=True)
    covariance = ((truth - mean_truth) * (prediction - mean_prediction)).mean(axis=1)
    denominator = (
        truth.var(axis=1)
        + prediction.var(axis=1)
        + (mean_truth - mean_prediction)[:, 0] ** 2
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, 2 * covariance / denominator, np.nan)


def _pearson(truth: np.ndarray, prediction: np.ndarray) -> np.ndarray:
    truth = truth - truth.mean(axis=1, keepdims=True)
    prediction = prediction - prediction.mean(axis=1, keepdims=True)
    denominator = np.sqrt((truth**2).sum(axis=1) * (prediction**2).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(
            denominator > 0, (truth * prediction).sum(axis=1) / denominator, np.nan
        )


def _ccc_or_nan(pair: pd.DataFrame) -> float:
    values = pair.dropna().to_numpy().T
    if values.shape[1] < 2:
        return float("nan")
    return float(_ccc(values[0][None], values[1][None])[0])
