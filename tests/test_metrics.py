import numpy as np
import pytest

import audmetric

from audemo.core import metrics


@pytest.fixture(scope="module")
def resamples():
    rng = np.random.default_rng(5)
    truth = rng.uniform(size=(20, 30))
    prediction = truth + rng.normal(scale=0.3, size=(20, 30))
    return truth, prediction


def test_single_vectors_match_audmetric_and_numpy(resamples):
    truth, prediction = resamples[0][0], resamples[1][0]
    ccc = metrics.ccc(truth, prediction)
    assert isinstance(ccc, float)
    assert ccc == pytest.approx(audmetric.concordance_cc(truth, prediction))
    assert metrics.pearson(truth, prediction) == pytest.approx(
        np.corrcoef(truth, prediction)[0, 1]
    )
    assert metrics.mae(truth, prediction) == pytest.approx(
        audmetric.mean_absolute_error(truth, prediction)
    )
    # lists work as well as arrays
    assert metrics.ccc(list(truth), list(prediction)) == ccc


@pytest.mark.parametrize("name", ["ccc", "pearson", "mae"])
def test_rows_are_vectors(resamples, name):
    # the bootstrap computes all resamples at once: row by row the same
    function = getattr(metrics, name)
    truth, prediction = resamples
    rows = function(truth, prediction)
    assert rows.shape == (20,)
    assert rows.tolist() == [function(t, p) for t, p in zip(truth, prediction)]


def test_constant_values():
    ones = np.ones(4)
    assert np.isnan(metrics.ccc(ones, ones))
    assert metrics.ccc(ones, 2 * ones) == 0.0  # constant but apart
    assert np.isnan(metrics.pearson(ones, np.arange(4.0)))
    assert metrics.mae(ones, ones) == 0.0


def test_shapes_must_match():
    with pytest.raises(ValueError, match=r"same shape, not \(3,\) and \(2,\)"):
        metrics.ccc([1.0, 2.0, 3.0], [1.0, 2.0])


def test_ccc_of_two_vectors():
    # moved from test_precision.py (compare.concordance was ccc under another name)
    x = np.array([0.1, 0.4, 0.5, 0.9])
    assert metrics.ccc(x, x) == pytest.approx(1.0)
    y = x + 0.1
    expected = 2 * np.cov(x, y, bias=True)[0, 1] / (x.var() + y.var() + 0.01)
    assert metrics.ccc(x, y) == pytest.approx(expected)
    assert np.isnan(metrics.ccc(np.ones(3), np.ones(3)))
