r"""Agreement of two series of scores: CCC, Pearson's correlation and MAE.

The one implementation of each metric in audemo,
used by :func:`audemo.evaluate` (overall, per group, per speaker
and for every bootstrap resample),
:func:`audemo.robustness` and :func:`audemo.compare_precision`.

Each function compares ``truth`` and ``prediction`` along their last axis:
two vectors give one number (a :class:`float`),
two matrices give one number per row (an array),
so that all bootstrap resamples are computed at once.
Missing values must be removed before:
a NaN in a row makes its result NaN.

"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def ccc(truth: npt.ArrayLike, prediction: npt.ArrayLike) -> float | np.ndarray:
    r"""Concordance correlation coefficient.

    .. math::

        \rho_c = \frac{2 \operatorname{cov}(t, p)}
                      {\sigma_t^2 + \sigma_p^2 + (\mu_t - \mu_p)^2}

    with population (co)variances.
    Unlike Pearson's correlation
    it punishes a different offset or scale of the prediction.

    Args:
        truth: gold values
        prediction: predicted values, of the same shape

    Returns:
        CCC of each row,
        NaN where both are constant and equal

    Examples:
        >>> ccc([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
        1.0
        >>> round(ccc([1.0, 2.0, 3.0], [2.0, 3.0, 4.0]), 3)
        0.571
        >>> ccc([[1.0, 2.0], [1.0, 1.0]], [[1.0, 2.0], [1.0, 1.0]])
        array([ 1., nan])

    """
    truth, prediction = _arrays(truth, prediction)
    mean_truth = truth.mean(axis=-1, keepdims=True)
    mean_prediction = prediction.mean(axis=-1, keepdims=True)
    covariance = ((truth - mean_truth) * (prediction - mean_prediction)).mean(axis=-1)
    denominator = (
        truth.var(axis=-1)
        + prediction.var(axis=-1)
        + (mean_truth - mean_prediction)[..., 0] ** 2
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        return _result(np.where(denominator > 0, 2 * covariance / denominator, np.nan))


def pearson(truth: npt.ArrayLike, prediction: npt.ArrayLike) -> float | np.ndarray:
    r"""Pearson's correlation coefficient.

    Args:
        truth: gold values
        prediction: predicted values, of the same shape

    Returns:
        correlation of each row,
        NaN where one of them is constant

    Examples:
        >>> round(pearson([1.0, 2.0, 3.0], [2.0, 3.0, 5.0]), 3)
        0.982
        >>> pearson([[1.0, 2.0], [1.0, 1.0]], [[2.0, 1.0], [1.0, 2.0]])
        array([-1., nan])

    """
    truth, prediction = _arrays(truth, prediction)
    truth = truth - truth.mean(axis=-1, keepdims=True)
    prediction = prediction - prediction.mean(axis=-1, keepdims=True)
    denominator = np.sqrt((truth**2).sum(axis=-1) * (prediction**2).sum(axis=-1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return _result(
            np.where(
                denominator > 0, (truth * prediction).sum(axis=-1) / denominator, np.nan
            )
        )


def mae(truth: npt.ArrayLike, prediction: npt.ArrayLike) -> float | np.ndarray:
    r"""Mean absolute error.

    Args:
        truth: gold values
        prediction: predicted values, of the same shape

    Returns:
        mean absolute difference of each row

    Examples:
        >>> mae([0.0, 0.5, 1.0], [0.1, 0.5, 0.7])
        0.13333333333333333
        >>> mae([[0.0, 1.0], [0.0, 0.0]], [[0.0, 0.0], [1.0, 1.0]])
        array([0.5, 1. ])

    """
    truth, prediction = _arrays(truth, prediction)
    return _result(np.abs(truth - prediction).mean(axis=-1))


def _arrays(
    truth: npt.ArrayLike, prediction: npt.ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
    truth = np.asarray(truth, dtype=np.float64)
    prediction = np.asarray(prediction, dtype=np.float64)
    if truth.shape != prediction.shape:
        raise ValueError(
            f"truth and prediction must have the same shape, "
            f"not {truth.shape} and {prediction.shape}."
        )
    return truth, prediction


def _result(values: np.ndarray) -> float | np.ndarray:
    # vectors give a number, matrices one number per row
    return float(values) if values.ndim == 0 else values
