r"""Scores on the user's own rating scale, fitted from their gold labels."""

from __future__ import annotations

from collections.abc import Sequence
import hashlib
import math
import numbers
import warnings

import numpy as np
import pandas as pd

import audformat
import audobject

from audemo.core.define import DIMENSIONS
from audemo.core.evaluation import ScaleWarning
from audemo.core.evaluation import evaluate
from audemo.core.model.fingerprint import is_fingerprint
from audemo.core.pipeline import CLASS_KEY_PREFIXES
from audemo.core.pipeline import is_class_key
from audemo.core.results import calibration_marker
from audemo.core.results import describe_calibration
from audemo.core.utils import argument_error
from audemo.core.utils import caller_stacklevel
from audemo.core.utils import check_choice
from audemo.core.utils import count
from audemo.core.utils import import_optional
from audemo.core.utils import warn_items


METHODS = ("linear", "isotonic")
r"""Methods of :meth:`Calibration.fit`."""

# keys of one mapping, per method
_KEYS = {
    "linear": ("method", "slope", "intercept", "samples"),
    "isotonic": ("method", "x", "y", "samples"),
}

_REPORT_COLUMNS = (
    "n",
    "ccc_before",
    "ccc_before_low",
    "ccc_before_high",
    "ccc_after",
    "ccc_after_low",
    "ccc_after_high",
)


class Calibration(audobject.Object):
    r"""Map the model's scores to the user's own rating scale.

    The model's arousal, dominance and valence
    lie roughly in 0..1,
    the scale its MSP-Podcast training labels (1..7) were mapped to.
    A calibration maps each of them to the scale
    and the habits of the user's annotators,
    one monotone function per dimension
    (and per group, e.g. corpus),
    fitted from gold labels with :meth:`Calibration.fit`.
    Calling the object maps the dimensions of a result
    of :class:`audemo.Emotion`.

    The object holds only plain values
    (strings, numbers, lists, dictionaries)
    and is stored as YAML with :meth:`audobject.Object.to_yaml`.
    Construct it with :meth:`Calibration.fit`;
    the arguments below are what the YAML holds,
    checked on construction
    so that a hand-edited file cannot hold an invalid mapping.

    Args:
        method: ``"linear"`` or ``"isotonic"``
        mappings: per dimension a dictionary
            with the mapping of all samples (``"pooled"``)
            and one mapping per group (``"groups"``, may be empty);
            a mapping holds ``method``, ``samples``
            (how many samples it was fitted on)
            and ``slope`` and ``intercept`` (linear)
            or the breakpoints ``x`` and ``y`` (isotonic)
        truth_range: lowest and highest value of the user's scale,
            ``None`` if not given
        samples: number of samples the calibration was fitted on
        fingerprint: SHA256 of the model whose scores were calibrated,
            ``None`` if not given
        validation: the cross-validated CCC before and after calibration
            (see :attr:`report`) and the settings of the cross-validation

    Raises:
        ValueError: if a value is missing, of the wrong type,
            not finite, a dimension unknown,
            or an isotonic table not monotone

    Examples:
        >>> calibration = Calibration(
        ...     method="linear",
        ...     mappings={
        ...         "valence": {
        ...             "pooled": {
        ...                 "method": "linear",
        ...                 "slope": 8.0,
        ...                 "intercept": -1.0,
        ...                 "samples": 20,
        ...             },
        ...             "groups": {},
        ...         }
        ...     },
        ...     truth_range=(1, 5),
        ...     samples=20,
        ... )
        >>> index = audformat.filewise_index(["a.wav", "b.wav"])
        >>> frame = pd.DataFrame(
        ...     {"arousal": [0.4, 0.6], "valence": [0.25, 0.5]}, index=index
        ... )
        >>> calibration(frame)
                 arousal  valence
        file
        a.wav        0.4      1.0
        b.wav        0.6      3.0

    """

    def __init__(
        self,
        *,
        method: str,
        mappings: dict,
        truth_range: Sequence[float] | None = None,
        samples: int,
        fingerprint: str | None = None,
        validation: dict | None = None,
    ):
        if method not in METHODS:
            raise ValueError(
                f"Calibration method must be one of {list(METHODS)}, not {method!r}."
            )
        self.method = method
        r"""``"linear"`` or ``"isotonic"``"""
        self.mappings = _check_mappings(mappings, method)
        r"""Per dimension the pooled mapping and one mapping per group"""
        self.truth_range = _check_range(truth_range)
        r"""Lowest and highest value of the user's scale, or ``None``"""
        if (
            isinstance(samples, bool)
            or not isinstance(samples, numbers.Integral)
            or samples < 1
        ):
            raise ValueError(
                f"Calibration samples must be a positive integer, not {samples!r}."
            )
        self.samples = int(samples)
        r"""Number of samples the calibration was fitted on"""
        if fingerprint is not None and not is_fingerprint(fingerprint):
            raise ValueError(
                f"Calibration fingerprint must be the SHA256 of the model "
                f"(64 hex digits, as audemo.Emotion().fingerprint), "
                f"not {fingerprint!r}."
            )
        self.fingerprint = fingerprint
        r"""SHA256 of the calibrated model, or ``None``"""
        if validation is not None and not (
            isinstance(validation, dict)
            and isinstance(validation.get("scores"), dict)
            and set(validation["scores"]) <= set(self.mappings)
        ):
            raise ValueError(
                f"Calibration validation must be None or a dictionary "
                f"with 'scores' per calibrated dimension, not {validation!r}."
            )
        self.validation = validation
        r"""Cross-validated CCC and the settings of the cross-validation"""

    @property
    def dimensions(self) -> list[str]:
        r"""Dimensions the calibration maps.

        Returns:
            names of the dimensions

        """
        return list(self.mappings)

    @property
    def marker(self) -> dict:
        r"""What calibrated results carry about their scale.

        :class:`audemo.Emotion` with a calibration
        puts it into ``frame.attrs["calibration"]``;
        ``audemo predict`` writes it
        into the column ``calibration`` of CSV files,
        the ``attrs`` of parquet files
        and the schemes and ``meta`` of database tables,
        and :func:`audemo.evaluate`,
        :meth:`Calibration.fit`,
        calling a calibration,
        ``audemo report`` and ``audemo calibrate``
        read it back:
        calibrated scores are compared with gold labels as they are,
        and never calibrated twice.

        Returns:
            plain dictionary with the calibrated ``dimensions``,
            the gold scale ``truth_range``
            (``None`` if the calibration has none),
            the ``method``,
            the number of ``samples``
            and the ``sha256`` of the calibration's YAML
            (``to_yaml_s(include_version=False)``),
            which names it

        Examples:
            >>> calibration = Calibration(
            ...     method="linear",
            ...     mappings={
            ...         "valence": {
            ...             "pooled": {
            ...                 "method": "linear",
            ...                 "slope": 8.0,
            ...                 "intercept": -1.0,
            ...                 "samples": 20,
            ...             },
            ...             "groups": {},
            ...         }
            ...     },
            ...     truth_range=(1, 5),
            ...     samples=20,
            ... )
            >>> marker = calibration.marker
            >>> marker["dimensions"], marker["truth_range"], len(marker["sha256"])
            (['valence'], [1.0, 5.0], 64)

        """
        text = self.to_yaml_s(include_version=False)
        return {
            "dimensions": self.dimensions,
            "truth_range": self.truth_range,
            "method": self.method,
            "samples": self.samples,
            "sha256": hashlib.sha256(text.encode()).hexdigest(),
        }

    @property
    def report(self) -> pd.DataFrame | None:
        r"""Cross-validated CCC before and after calibration.

        One row per dimension with the number of samples ``n``,
        ``ccc_before`` (the raw scores against the gold labels
        rescaled from ``truth_range`` to 0..1, as :func:`audemo.evaluate`)
        and ``ccc_after``
        (the calibrated scores of each fold's held-out samples,
        mapped with the calibration fitted on the other folds,
        against the gold labels),
        each with the bounds of its 95 % bootstrap confidence interval
        (``_low``, ``_high``; the same resamples for both).

        Returns:
            table, ``None`` if the calibration holds no validation

        """
        if self.validation is None:
            return None
        table = pd.DataFrame.from_dict(
            self.validation["scores"], orient="index", columns=list(_REPORT_COLUMNS)
        )
        table.index.name = "dimension"
        return table.astype({"n": "int64"})

    def __call__(
        self,
        frame: pd.DataFrame,
        *,
        groups: pd.Series | None = None,
    ) -> pd.DataFrame:
        r"""Map the dimensions of a result to the user's scale.

        Columns named after a calibrated dimension are mapped,
        all other columns stay as they are,
        as do the index and missing values (NaN).
        With ``groups``
        a sample of a group that has its own mapping
        is mapped with it,
        every other sample with the pooled mapping
        (with a warning naming groups without a mapping).
        Without ``groups``
        all samples are mapped with the pooled mapping.

        Args:
            frame: result of :class:`audemo.Emotion`
            groups: group of each sample,
                on the index of ``frame`` or a filewise index

        Returns:
            copy of ``frame`` with the calibrated dimensions mapped,
            marked as calibrated in ``attrs["calibration"]``
            (:attr:`marker`, with the dimensions mapped)

        Raises:
            ValueError: if ``frame`` has no calibrated dimension,
                is calibrated already (``attrs["calibration"]``),
                or ``groups`` is on another index

        """
        if not isinstance(frame, pd.DataFrame):
            raise ValueError(
                f"A calibration maps a DataFrame with the columns "
                f"{self.dimensions}, not a {type(frame).__name__}."
            )
        dimensions = [dimension for dimension in self.mappings if dimension in frame]
        if not dimensions:
            raise ValueError(
                f"The frame has no column the calibration maps "
                f"({self.dimensions}): it has {list(frame.columns)}."
            )
        _check_raw(frame, "frame", "map it")
        labels = None if groups is None else _group_labels(groups, frame.index)
        result = frame.copy()
        # the scale travels with the mapped scores (see marker)
        result.attrs["calibration"] = {**self.marker, "dimensions": dimensions}
        unseen = set()
        for dimension in dimensions:
            values = frame[dimension].to_numpy(dtype="float64")
            mappings = self.mappings[dimension]
            result[dimension] = _apply(values, labels, mappings)
            if labels is not None:
                unseen |= {
                    label
                    for label in labels
                    if label is not None and label not in mappings["groups"]
                }
        if unseen:
            warn_items(
                f"{count(len(unseen), 'group')} without own mapping "
                f"took the pooled mapping",
                [repr(label) for label in sorted(unseen)],
                "Fit the calibration with samples of these groups to map them apart.",
            )
        return result

    def check_fingerprint(self, fingerprint: str):
        r"""Refuse a model other than the calibrated one.

        A calibration without fingerprint accepts every model.

        Args:
            fingerprint: SHA256 of the model that is to be calibrated,
                e.g. ``audemo.Emotion().fingerprint``

        Raises:
            ValueError: if the calibration was fitted
                on the scores of another model

        """
        if self.fingerprint is not None and fingerprint != self.fingerprint:
            raise ValueError(
                f"The calibration was fitted on the scores of the model "
                f"{self.fingerprint[:12]}..., not of this model "
                f"{str(fingerprint)[:12]}...: its mapping does not fit. "
                f"Fit it again on this model's predictions."
            )

    @classmethod
    def fit(
        cls,
        prediction: pd.DataFrame,
        truth: pd.DataFrame | pd.Series,
        *,
        method: str = "linear",
        truth_range: Sequence[float] | None = None,
        dimensions: Sequence[str] | None = None,
        groups: pd.Series | None = None,
        speakers: pd.Series | None = None,
        folds: int = 5,
        min_samples: int = 10,
        num_bootstrap: int = 1000,
        seed: int = 0,
        fingerprint: str | None = None,
    ) -> Calibration:
        r"""Fit a calibration to gold labels.

        Predictions and gold labels are aligned
        on their audformat index
        as :func:`audemo.evaluate` does,
        with the same errors and warnings:
        predictions with several rows per file
        are refused for a filewise ``truth``,
        samples without prediction (or NaN)
        are left out with a warning,
        samples without gold label (NaN)
        are left out of that dimension.

        Per dimension
        ``"linear"`` fits the affine map
        with the highest CCC:
        it matches the mean and standard deviation of the gold labels,
        :math:`y = \mu_t + r/|r| \cdot (\sigma_t / \sigma_p) (x - \mu_p)`
        (with the sign of Pearson's :math:`r`).
        A least-squares line would shrink the spread
        by :math:`|r|` and lower the CCC.
        ``"isotonic"`` fits a monotone piecewise-linear map
        (scikit-learn's ``IsotonicRegression``)
        that also bends,
        e.g. where the model saturates;
        outside the fitted scores
        it stays at its first and last value.
        Both map rising scores to rising labels,
        unless the two correlate negatively
        (then with a warning: check that the scale runs the same way).

        With ``groups`` (e.g. the corpus)
        every group with at least ``min_samples`` samples
        gets its own mapping;
        the pooled mapping of all samples
        maps the other groups
        and samples of groups not seen here.

        The calibration is validated
        by ``folds``-fold cross-validation:
        each fold is mapped by a calibration
        fitted on the other folds;
        with ``speakers``
        no speaker is in two folds
        (scikit-learn's ``GroupKFold``),
        so that the numbers hold for new speakers.
        :attr:`Calibration.report` gives the CCC
        of all held-out samples before and after.

        Args:
            prediction: results of :class:`audemo.Emotion`
                with columns ``arousal``, ``dominance``, ``valence``
            truth: gold labels with the same column names,
                or a series named after its dimension
            method: ``"linear"`` or ``"isotonic"``
            truth_range: lowest and highest value of the gold scale,
                stored with the calibration;
                it rescales the gold labels to 0..1
                for the CCC before calibration
                (the raw scores are on 0..1).
                Calibrated scores are on the gold scale
                and not clipped to it
            dimensions: dimensions to calibrate,
                by default those in both ``prediction`` and ``truth``
            groups: group of each sample,
                on the index of ``truth`` or a filewise index
            speakers: speaker of each sample,
                on the index of ``truth`` or a filewise index,
                to keep speakers apart in the cross-validation
            folds: number of cross-validation folds
            min_samples: fewest samples of a dimension,
                and of a group for its own mapping
            num_bootstrap: number of bootstrap resamples
                of the confidence intervals,
                0 for none
            seed: seed of the folds and the bootstrap
            fingerprint: SHA256 of the model
                that made the predictions
                (``audemo.Emotion().fingerprint``),
                stored so that the calibration
                is not applied to another model;
                ``None`` takes it from ``prediction.attrs["fingerprint"]``,
                which results of :class:`audemo.Emotion` carry

        Returns:
            calibration

        Raises:
            ValueError: if ``prediction`` is calibrated already
                (``prediction.attrs["calibration"]``)
            ImportError: if scikit-learn is not installed
            ValueError: if predictions and gold labels do not align
                (see :func:`audemo.evaluate`),
                a dimension has fewer than ``min_samples`` samples
                or constant gold labels or predictions,
                a dimension is unknown,
                or an option is out of range

        Examples:
            >>> files = [f"{n}.wav" for n in range(12)]
            >>> index = audformat.filewise_index(files)
            >>> prediction = pd.DataFrame(
            ...     {"valence": [0.3, 0.35, 0.4, 0.42, 0.45, 0.5] * 2}, index=index
            ... )
            >>> truth = pd.Series(
            ...     [1, 2, 2, 3, 4, 5, 1, 1, 3, 3, 4, 5], index=index, name="valence"
            ... )
            >>> calibration = Calibration.fit(
            ...     prediction, truth, truth_range=(1, 5), folds=3, num_bootstrap=0
            ... )
            >>> calibration.report[["n", "ccc_before", "ccc_after"]].round(2)
                        n  ccc_before  ccc_after
            dimension
            valence    12        0.34       0.95
            >>> calibration(prediction).loc[["0.wav", "5.wav"]].round(2)
                   valence
            file
            0.wav     0.60
            5.wav     4.92

        """
        _check_fit_options(method, folds, min_samples, groups)
        _check_raw(prediction, "prediction", "fit a calibration")
        if fingerprint is None:
            fingerprint = prediction.attrs.get("fingerprint")
        truth_range = _check_range(truth_range)
        model_selection = import_optional(
            "sklearn.model_selection", purpose="calibration"
        )

        data = _aligned(prediction, truth, dimensions, groups, speakers)
        group_column = next(
            (column for column in data.columns if column.startswith("group-")), None
        )
        mappings, scores, skipped = {}, {}, []
        for dimension in _fitted_dimensions(data):
            selected, x, y = _dimension_samples(data, dimension, min_samples, folds)
            labels = (
                None if group_column is None else _label_strings(selected[group_column])
            )
            pooled, per_group, too_few = _fit_dimension(
                x, y, labels, method, min_samples
            )
            _warn_reversed(pooled, x, y, dimension)
            mappings[dimension] = {"pooled": pooled, "groups": per_group}
            skipped += [f"{dimension}, group {reason}" for reason in too_few]

            splits = _splits(
                model_selection,
                len(selected),
                None if speakers is None else selected["speaker"],
                folds,
                seed,
            )
            held_out = _cross_validated(
                x, y, labels, splits, dimension, method, min_samples
            )
            scores[dimension] = _scores(
                selected.index,
                dimension,
                x,
                y,
                held_out,
                truth_range,
                num_bootstrap,
                seed,
            )

        if skipped:
            warn_items(
                f"{count(len(skipped), 'group')} got no own mapping "
                f"and take the pooled mapping",
                skipped,
            )
        return cls(
            method=method,
            mappings=mappings,
            truth_range=truth_range,
            samples=len(data),
            fingerprint=fingerprint,
            validation={
                "folds": folds,
                "split": "sample" if speakers is None else "speaker",
                "num_bootstrap": num_bootstrap,
                "seed": seed,
                "scores": scores,
            },
        )


def _check_fit_options(method: str, folds: object, min_samples: int, groups: object):
    r"""Refuse options of :meth:`Calibration.fit` that fail for any data."""
    check_choice("method", METHODS, method)
    if isinstance(folds, bool) or not isinstance(folds, int) or folds < 2:
        raise argument_error(
            f"{{folds}} must be an integer of at least 2, not {folds!r}."
        )
    if min_samples < 2:
        raise argument_error(f"{{min_samples}} must be at least 2, not {min_samples}.")
    if groups is not None and not isinstance(groups, pd.Series):
        raise ValueError(
            f"groups must be a series with the group of each sample "
            f"(e.g. db['files']['corpus'].get()), not a {type(groups).__name__}."
        )


def _fitted_dimensions(data: pd.DataFrame) -> list[str]:
    r"""Dimensions with gold labels in the aligned data, all of them known."""
    dimensions = [
        column.removeprefix("truth-")
        for column in data.columns
        if column.startswith("truth-")
    ]
    unknown = [dimension for dimension in dimensions if dimension not in DIMENSIONS]
    if unknown:
        raise ValueError(
            f"A calibration maps {list(DIMENSIONS)}, not {unknown}: "
            f"rename the columns or select dimensions=."
        )
    return dimensions


def _dimension_samples(
    data: pd.DataFrame, dimension: str, min_samples: int, folds: int
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    r"""Samples with a gold label and a prediction of a dimension.

    Returns:
        the samples, their predictions ``x`` and gold labels ``y``,
        enough of them and with spread

    """
    selected = data.dropna(subset=[f"truth-{dimension}", f"prediction-{dimension}"])
    required = max(min_samples, folds)
    if len(selected) < required:
        raise argument_error(
            f"{count(len(selected), 'sample')} of {dimension} "
            f"{'has' if len(selected) == 1 else 'have'} "
            f"both a gold label and a prediction: a calibration needs "
            f"at least {required} ({{min_samples={min_samples}}}, "
            f"{{folds={folds}}}). Label more samples."
        )
    y = selected[f"truth-{dimension}"].to_numpy(dtype="float64")
    x = selected[f"prediction-{dimension}"].to_numpy(dtype="float64")
    _check_spread(x, y, dimension)
    return selected, x, y


def _warn_reversed(pooled: dict, x: np.ndarray, y: np.ndarray, dimension: str):
    r"""Warn if the pooled mapping turns rising scores into falling labels."""
    if pooled.get("slope", 1.0) < 0 or (
        pooled["method"] == "isotonic" and pooled["y"][-1] < pooled["y"][0]
    ):
        warnings.warn(
            f"The predictions of {dimension} fall "
            f"as its gold labels rise "
            f"(Pearson's r = {np.corrcoef(x, y)[0, 1]:.2f}): "
            f"the calibration reverses them. Check that the gold scale "
            f"runs from low to high {dimension}.",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )


def _cross_validated(
    x: np.ndarray,
    y: np.ndarray,
    labels: np.ndarray | None,
    splits: list,
    dimension: str,
    method: str,
    min_samples: int,
) -> np.ndarray:
    r"""Scores of each fold mapped by a calibration fitted on the other folds."""
    held_out = np.full(len(x), np.nan)
    for number, (train, test) in enumerate(splits):
        try:
            _check_spread(x[train], y[train], dimension)
        except ValueError as ex:
            raise ValueError(
                f"Fold {number + 1} of {len(splits)} cannot be calibrated: {ex} "
                f"Use fewer folds."
            ) from None
        fold_pooled, fold_groups, _ = _fit_dimension(
            x[train],
            y[train],
            None if labels is None else labels[train],
            method,
            min_samples,
        )
        held_out[test] = _apply(
            x[test],
            None if labels is None else labels[test],
            {"pooled": fold_pooled, "groups": fold_groups},
        )
    return held_out


def _check_raw(frame: pd.DataFrame, name: str, action: str):
    r"""Refuse scores that a calibration has mapped already."""
    marker = calibration_marker(frame)
    if marker is not None:
        raise ValueError(
            f"The {name} is calibrated already "
            f"({', '.join(marker['dimensions'])} {describe_calibration(marker)}, "
            f"{name}.attrs['calibration']): a calibration maps the model's raw "
            f"scores. To {action}, use the scores of audemo.Emotion "
            f"without a calibration."
        )


def _aligned(
    prediction: pd.DataFrame,
    truth: pd.DataFrame | pd.Series,
    dimensions: Sequence[str] | None,
    groups: pd.Series | None,
    speakers: pd.Series | None,
) -> pd.DataFrame:
    r"""Samples aligned by audemo.evaluate, with its warnings at the user's call."""
    # evaluate() points its warnings at its caller (this module):
    # catch them and issue them again at the user's call
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = evaluate(
            prediction,
            truth,
            dimensions=dimensions,
            groups=groups,
            speakers=speakers,
            min_samples=2,
            num_bootstrap=0,
        )
    for warning in caught:
        if issubclass(warning.category, ScaleWarning):
            # raw scores and gold labels lie on two scales: what is fitted here
            continue
        warnings.warn(warning.message, warning.category, stacklevel=caller_stacklevel())
    return result.data


def _check_spread(x: np.ndarray, y: np.ndarray, dimension: str):
    if np.all(y == y[0]):
        raise ValueError(
            f"The gold labels of {dimension} are all {y[0]:g}: "
            f"a calibration needs labels that differ. Label more varied samples."
        )
    if np.all(x == x[0]):
        raise ValueError(
            f"The predictions of {dimension} are all {x[0]:g}: "
            f"the model does not tell these samples apart, "
            f"and no calibration can. Check the predictions."
        )


def _fit_dimension(
    x: np.ndarray,
    y: np.ndarray,
    labels: np.ndarray | None,
    method: str,
    min_samples: int,
) -> tuple[dict, dict, list[str]]:
    r"""Pooled mapping, mappings of groups, and why other groups got none."""
    pooled = _fit(x, y, method)
    per_group = {}
    too_few = []
    if labels is not None:
        for label in sorted({label for label in labels if label is not None}):
            mask = labels == label
            if mask.sum() < min_samples:
                too_few.append(
                    f"{label!r}: {count(int(mask.sum()), 'sample')} "
                    f"(min_samples={min_samples})"
                )
                continue
            try:
                _check_spread(x[mask], y[mask], "the group")
            except ValueError as ex:
                too_few.append(f"{label!r}: {str(ex).split(':')[0].lower()}")
                continue
            per_group[label] = _fit(x[mask], y[mask], method)
    return pooled, per_group, too_few


def _fit(x: np.ndarray, y: np.ndarray, method: str) -> dict:
    r"""One mapping; x and y have spread."""
    # the direction follows the correlation: CCC is highest with its sign
    increasing = bool(np.corrcoef(x, y)[0, 1] >= 0)
    if method == "linear":
        # CCC-optimal: equal means and equal standard deviations
        slope = float(np.std(y) / np.std(x)) * (1.0 if increasing else -1.0)
        intercept = float(np.mean(y) - slope * np.mean(x))
        return {
            "method": method,
            "slope": slope,
            "intercept": intercept,
            "samples": len(x),
        }
    isotonic = import_optional("sklearn.isotonic", purpose="isotonic calibration")
    regression = isotonic.IsotonicRegression(
        increasing=increasing, out_of_bounds="clip"
    ).fit(x, y)
    # predict() interpolates linearly between these thresholds
    # and clips beyond them: np.interp() does the same
    return {
        "method": method,
        "x": [float(value) for value in regression.X_thresholds_],
        "y": [float(value) for value in regression.y_thresholds_],
        "samples": len(x),
    }


def _apply(values: np.ndarray, labels: np.ndarray | None, mappings: dict) -> np.ndarray:
    result = _map(values, mappings["pooled"])
    if labels is not None:
        for label, mapping in mappings["groups"].items():
            mask = labels == label
            result[mask] = _map(values[mask], mapping)
    return result


def _map(values: np.ndarray, mapping: dict) -> np.ndarray:
    if mapping["method"] == "linear":
        return mapping["intercept"] + mapping["slope"] * values
    return np.interp(values, mapping["x"], mapping["y"])


def _splits(
    model_selection,
    num_samples: int,
    speakers: pd.Series | None,
    folds: int,
    seed: int,
) -> list:
    positions = np.arange(num_samples)
    if speakers is None:
        splitter = model_selection.KFold(
            n_splits=folds, shuffle=True, random_state=seed
        )
        return list(splitter.split(positions))
    if speakers.isna().any():
        raise ValueError(
            f"speakers has no speaker for "
            f"{count(int(speakers.isna().sum()), 'sample')}, "
            f"e.g. '{speakers.index[speakers.isna()].get_level_values('file')[0]}': "
            f"give every labelled sample a speaker, or leave out speakers."
        )
    number = speakers.nunique()
    if number < folds:
        raise argument_error(
            f"{{speakers}} holds {count(number, 'speaker')}, "
            f"fewer than {{folds={folds}}}: "
            f"folds keep speakers apart, so use {{folds={number}}} or fewer "
            f"(at least 2)."
        )
    splitter = model_selection.GroupKFold(n_splits=folds)
    return list(splitter.split(positions, groups=speakers.astype(str).to_numpy()))


def _scores(
    index: pd.Index,
    dimension: str,
    x: np.ndarray,
    y: np.ndarray,
    held_out: np.ndarray,
    truth_range: list[float] | None,
    num_bootstrap: int,
    seed: int,
) -> dict:
    r"""CCC with intervals before and after, from audemo.evaluate."""
    truth = pd.DataFrame({dimension: y}, index=index)
    row = {"n": len(y)}
    for name, values, scale in (
        # raw scores are on 0..1: rescale the gold labels as evaluate() does
        ("before", x, truth_range),
        # calibrated scores are on the gold scale already
        ("after", held_out, None),
    ):
        with warnings.catch_warnings():
            # "before" is on two scales without truth_range, as documented;
            # "after" is on the gold scale, as it should be
            warnings.simplefilter("ignore", ScaleWarning)
            # the same seed and size give both the same bootstrap resamples
            overall = evaluate(
                pd.DataFrame({dimension: values}, index=index),
                truth,
                truth_range=None if scale is None else tuple(scale),
                num_bootstrap=num_bootstrap,
                seed=seed,
            ).overall.loc[dimension]
        for suffix in ("", "_low", "_high"):
            row[f"ccc_{name}{suffix}"] = float(overall[f"ccc{suffix}"])
    return row


def _label_strings(labels: pd.Series) -> np.ndarray:
    r"""Group labels as strings (YAML keys), None where missing."""
    return np.array(
        [None if pd.isna(label) else str(label) for label in labels], dtype=object
    )


def _group_labels(groups: pd.Series, index: pd.Index) -> np.ndarray:
    r"""Group of each row of a frame, as strings."""
    if not isinstance(groups, pd.Series):
        raise ValueError(
            f"groups must be a series with the group of each sample, "
            f"not a {type(groups).__name__}."
        )
    if audformat.index_type(groups.index) == audformat.index_type(index):
        aligned = groups.reindex(index)
    elif audformat.index_type(groups.index) == audformat.define.IndexType.FILEWISE:
        aligned = groups.reindex(index.get_level_values("file"))
    else:
        raise ValueError(
            "groups must be on the index of the frame or on a filewise index."
        )
    return _label_strings(aligned)


def _check_range(truth_range: Sequence[float] | None) -> list[float] | None:
    if truth_range is None:
        return None
    try:
        low, high = (float(value) for value in truth_range)
    except (TypeError, ValueError):
        raise ValueError(
            f"truth_range must be the lowest and highest value of the scale, "
            f"e.g. (1, 5), not {truth_range!r}."
        ) from None
    if not (math.isfinite(low) and math.isfinite(high) and high > low):
        raise argument_error(
            f"{{truth_range}} must go from low to high, not {low} to {high}."
        )
    return [low, high]


def _check_mappings(mappings: object, method: str) -> dict:
    r"""Checked copy of the mappings with plain Python values."""
    if not isinstance(mappings, dict) or not mappings:
        raise ValueError(
            f"Calibration mappings must be a dictionary with one entry per "
            f"dimension, not {mappings!r}."
        )
    checked = {}
    for dimension, entry in mappings.items():
        if dimension not in DIMENSIONS:
            raise ValueError(
                f"Calibration mappings name the unknown dimension {dimension!r}: "
                f"a calibration maps {list(DIMENSIONS)}. Remove or rename it."
            )
        where = f"mappings[{dimension!r}]"
        if not isinstance(entry, dict) or set(entry) != {"pooled", "groups"}:
            raise ValueError(
                f"Calibration {where} must hold 'pooled' and 'groups' "
                f"(a dictionary, may be empty), not {entry!r}."
            )
        if not isinstance(entry["groups"], dict):
            raise ValueError(
                f"Calibration {where}['groups'] must be a dictionary "
                f"of group names and mappings, not {entry['groups']!r}."
            )
        groups = {}
        for label, mapping in entry["groups"].items():
            # audobject (and audemo.load_pipeline) would read such a label as a
            # class: it would turn into code on loading
            if not isinstance(label, str) or is_class_key(label):
                raise ValueError(
                    f"Calibration {where}['groups'] has the group {label!r}: "
                    f"group names are strings that do not start with "
                    f"{list(CLASS_KEY_PREFIXES)}. Rename the group."
                )
            groups[label] = _check_mapping(
                mapping, method, f"{where}['groups'][{label!r}]"
            )
        checked[dimension] = {
            "pooled": _check_mapping(entry["pooled"], method, f"{where}['pooled']"),
            "groups": groups,
        }
    return checked


def _check_mapping(mapping: object, method: str, where: str) -> dict:
    if not isinstance(mapping, dict):
        raise ValueError(f"Calibration {where} must be a dictionary, not {mapping!r}.")
    if mapping.get("method") != method:
        raise ValueError(
            f"Calibration {where} has the method {mapping.get('method')!r}, "
            f"but the calibration is {method!r}: all mappings use one method."
        )
    keys = _KEYS[method]
    if set(mapping) != set(keys):
        raise ValueError(
            f"Calibration {where} must hold exactly {list(keys)}, not {list(mapping)}."
        )
    samples = mapping["samples"]
    if (
        isinstance(samples, bool)
        or not isinstance(samples, numbers.Integral)
        or samples < 1
    ):
        raise ValueError(
            f"Calibration {where}['samples'] must be a positive integer, "
            f"not {samples!r}."
        )
    checked = {"method": method}
    if method == "linear":
        checked.update(_check_linear(mapping, where))
    else:
        checked.update(_check_isotonic(mapping, where))
    checked["samples"] = int(samples)
    return checked


def _check_linear(mapping: dict, where: str) -> dict:
    r"""Slope and intercept of a linear mapping."""
    checked = {
        key: _finite(mapping[key], f"{where}[{key!r}]")
        for key in ("slope", "intercept")
    }
    if checked["slope"] == 0:
        raise ValueError(
            f"Calibration {where}['slope'] is 0: "
            f"it would map every score to the same value."
        )
    return checked


def _check_isotonic(mapping: dict, where: str) -> dict:
    r"""Breakpoints of an isotonic mapping: as many y as x, x rising, y monotone."""
    checked = {}
    for key in ("x", "y"):
        values = mapping[key]
        if not isinstance(values, list) or len(values) < 2:
            raise ValueError(
                f"Calibration {where}[{key!r}] must be a list of at least "
                f"2 breakpoints, not {values!r}."
            )
        checked[key] = [
            _finite(value, f"{where}[{key!r}][{n}]") for n, value in enumerate(values)
        ]
    x, y = np.array(checked["x"]), np.array(checked["y"])
    if len(x) != len(y):
        raise ValueError(
            f"Calibration {where} has {len(x)} values in 'x' "
            f"but {len(y)} in 'y': give one 'y' per 'x'."
        )
    if np.any(np.diff(x) <= 0):
        raise ValueError(
            f"Calibration {where}['x'] must rise strictly "
            f"(position {int(np.argmax(np.diff(x) <= 0)) + 1} does not)."
        )
    if not (np.all(np.diff(y) >= 0) or np.all(np.diff(y) <= 0)):
        raise ValueError(
            f"Calibration {where}['y'] is not monotone: "
            f"an isotonic mapping only rises or only falls."
        )
    return checked


def _finite(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"Calibration {where} must be a number, not {value!r}.")
    if not math.isfinite(value):
        raise ValueError(f"Calibration {where} must be finite, not {value}.")
    return float(value)
