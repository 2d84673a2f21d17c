r"""An evaluation written as a Markdown or HTML report with tables and plots."""

from __future__ import annotations

import base64
from collections.abc import Mapping
import html
import io
import os

import numpy as np
import pandas as pd

import audeer

from audemo.core.evaluation import METRICS
from audemo.core.evaluation import Evaluation
from audemo.core.plot import COLORS
from audemo.core.plot import plain_text
from audemo.core.utils import import_optional


def write_report(
    path: str,
    evaluation: Evaluation,
    *,
    robustness: pd.DataFrame | None = None,
    calibrated: Evaluation | None = None,
    title: str = "Emotion recognition report",
    details: Mapping[str, str] | None = None,
) -> str:
    r"""Write an evaluation as a report with tables and plots.

    The report shows
    the metrics per dimension with their confidence intervals
    and a scatter plot of prediction against truth;
    with groups, a table and bar chart per grouping
    with each group's difference to the overall CCC;
    with speakers, the spread of the CCC over speakers;
    with ``robustness``, its table
    and the change in prediction (and CCC) per perturbation;
    with ``calibrated``,
    the metrics of the calibrated predictions
    next to the raw ones.

    A ``.html`` report is one self-contained file
    (plots embedded).
    A ``.md`` report keeps its plots as PNG files
    in the folder ``<name>-figures`` next to it.
    Labels, file names and other text
    are escaped in both:
    they show as text,
    never as HTML, links, images or table cells of their own,
    and plots draw them as text, never as mathtext or LaTeX.

    Args:
        path: report file, ending in ``.md`` or ``.html``
        evaluation: result of :func:`audemo.evaluate`
        robustness: summary of :func:`audemo.robustness`
            (:attr:`audemo.RobustnessResult.summary`)
        calibrated: evaluation of the same predictions
            mapped by an :class:`audemo.Calibration`
            (on the gold scale, so without ``truth_range``)
        title: heading of the report
        details: lines shown under the title,
            e.g. model, fingerprint, data

    Returns:
        path of the report

    Raises:
        ImportError: if matplotlib is not installed
        ValueError: if ``path`` ends neither in ``.md`` nor ``.html``

    Examples:
        >>> index = audformat.filewise_index([f"{n}.wav" for n in range(20)])
        >>> truth = pd.DataFrame({"arousal": np.linspace(0, 1, 20)}, index=index)
        >>> prediction = truth + 0.1
        >>> evaluation = audemo.evaluate(prediction, truth, num_bootstrap=100)
        >>> path = write_report("report.html", evaluation)
        >>> "<table" in open(path).read()
        True
        >>> calibrated = audemo.evaluate(1 + 4 * prediction, 1 + 4 * truth)
        >>> path = write_report("report.md", evaluation, calibrated=calibrated)
        >>> section = open(path).read().split("## Calibrated")[1]
        >>> header = [line for line in section.splitlines() if line.startswith("|")][0]
        >>> header.split(" | ")[1:4]
        ['CCC raw', 'CCC calibrated', 'Pearson raw']

    """
    path = audeer.path(path)
    extension = audeer.file_extension(path).lower()
    if extension not in ("md", "html"):
        raise ValueError(f"Report '{path}' must end in .md or .html.")
    document = _Document(path, extension)
    document.heading(title, 1)
    document.items(_settings_lines(evaluation, details))
    # labels from the data are drawn as text, never as mathtext or LaTeX
    with plain_text():
        _overall_section(document, evaluation)
        if calibrated is not None:
            _calibrated_section(document, evaluation, calibrated)
        if evaluation.groups is not None:
            _groups_section(document, evaluation)
        if evaluation.speakers is not None:
            _speakers_section(document, evaluation)
        if robustness is not None:
            _robustness_section(document, robustness)
    return document.save()


def _settings_lines(
    evaluation: Evaluation, details: Mapping[str, str] | None
) -> dict[str, str]:
    r"""Lines under the title: the details, then what the numbers depend on."""
    settings = evaluation.settings
    lines = dict(details or {})
    lines["Samples"] = str(len(evaluation.data))
    lines["Gold scale"] = (
        f"rescaled from {_format_range(settings['truth_range'])} to 0..1"
        if settings["truth_range"]
        else "used as given (0..1 expected)"
    )
    lines["Confidence intervals"] = (
        f"{settings['confidence']:.0%}, bootstrap with "
        f"{settings['num_bootstrap']} resamples, seed {settings['seed']}"
        if settings["num_bootstrap"]
        else "none"
    )
    return lines


def _overall_section(document: _Document, evaluation: Evaluation):
    document.heading("Overall", 2)
    document.table(_with_intervals(evaluation.overall))
    document.figure(_scatter(evaluation), "Prediction against truth")


def _calibrated_section(
    document: _Document, evaluation: Evaluation, calibrated: Evaluation
):
    document.heading("Calibrated", 2)
    document.text(
        "The predictions mapped to the gold scale by the calibration, "
        "against the gold labels as they are, next to the raw predictions "
        "above (MAE of the raw ones on 0..1, of the calibrated ones "
        "in units of the gold scale). A calibration fitted on these "
        "gold labels scores better here than on new data: its own "
        "cross-validated figures are those of audemo calibrate."
    )
    raw = _with_intervals(evaluation.overall)
    mapped = _with_intervals(calibrated.overall)
    shown = pd.DataFrame(index=mapped.index)
    for column in raw.columns.drop("n"):
        shown[f"{column} raw"] = raw[column].reindex(mapped.index)
        shown[f"{column} calibrated"] = mapped[column]
    shown["n"] = mapped["n"]
    document.table(shown)


def _groups_section(document: _Document, evaluation: Evaluation):
    document.heading("Groups", 2)
    document.text(
        "Each group's metrics and its CCC minus the overall CCC "
        "(the paper's fairness measure: near 0 is fair). "
        f"Groups with fewer than {evaluation.settings['min_samples']} samples "
        "are left out."
    )
    for grouping, table in evaluation.groups.groupby(level="grouping"):
        document.heading(str(grouping), 3)
        table = table.droplevel("grouping")
        shown = _with_intervals(table)
        shown.insert(1, "CCC − overall", table["ccc_difference"].map(_number))
        document.table(shown)
        document.figure(_group_bars(table, grouping), f"CCC per {grouping}")


def _speakers_section(document: _Document, evaluation: Evaluation):
    document.heading("Speakers", 2)
    document.text(
        "CCC of each speaker with at least "
        f"{evaluation.settings['min_samples']} samples: "
        "a model can be fair to groups and still vary between speakers."
    )
    document.table(evaluation.speakers.map(_number))
    if len(evaluation.speaker_ccc):
        document.figure(_speaker_spread(evaluation), "CCC per speaker")


def _robustness_section(document: _Document, summary: pd.DataFrame):
    document.heading("Robustness", 2)
    document.text(
        "Mean absolute change of the predictions under each perturbation "
        "and, with gold labels, the CCC and its change against the clean "
        "input. See the robustness page of the documentation for how "
        "each perturbation is made."
    )
    document.table(_robustness_table(summary))
    document.figure(_robustness_figure(summary), "Change per perturbation")


class _Document:
    r"""The same report as Markdown or as HTML."""

    def __init__(self, path: str, extension: str):
        self.path = path
        self.markdown = extension == "md"
        self.parts: list[str] = []
        self.figures = 0
        if self.markdown:
            self.figure_root = os.path.splitext(path)[0] + "-figures"

    def heading(self, text: str, level: int):
        if self.markdown:
            self.parts.append(f"{'#' * level} {_markdown(text)}\n")
        else:
            self.parts.append(f"<h{level}>{html.escape(text)}</h{level}>")

    def text(self, text: str):
        self.parts.append(
            f"{_markdown(text)}\n" if self.markdown else f"<p>{html.escape(text)}</p>"
        )

    def items(self, lines: Mapping[str, str]):
        if self.markdown:
            self.parts.append(
                "".join(
                    f"- **{_markdown(key)}:** {_markdown(value)}\n"
                    for key, value in lines.items()
                )
            )
        else:
            rows = "".join(
                f"<li><b>{html.escape(key)}:</b> {html.escape(value)}</li>"
                for key, value in lines.items()
            )
            self.parts.append(f"<ul>{rows}</ul>")

    def table(self, frame: pd.DataFrame):
        frame = frame.reset_index()
        if self.markdown:
            header = "| " + " | ".join(_markdown(name) for name in frame.columns)
            header += " |"
            rule = "|" + "---|" * len(frame.columns)
            rows = [
                "| " + " | ".join(_markdown(value) for value in row) + " |"
                for row in frame.itertuples(index=False)
            ]
            self.parts.append("\n".join([header, rule, *rows]) + "\n")
        else:
            self.parts.append(frame.to_html(index=False, border=0, na_rep="–"))

    def figure(self, figure, caption: str):
        plt = import_optional("matplotlib.pyplot", purpose="plots")
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
        plt.close(figure)
        self.figures += 1
        if self.markdown:
            audeer.mkdir(self.figure_root)
            name = f"figure-{self.figures}.png"
            with open(os.path.join(self.figure_root, name), "wb") as file:
                file.write(buffer.getvalue())
            folder = os.path.basename(self.figure_root)
            self.parts.append(f"![{_markdown(caption)}]({folder}/{name})\n")
        else:
            data = base64.b64encode(buffer.getvalue()).decode("ascii")
            self.parts.append(
                f'<figure><img src="data:image/png;base64,{data}" '
                f'alt="{html.escape(caption)}"/>'
                f"<figcaption>{html.escape(caption)}</figcaption></figure>"
            )

    def save(self) -> str:
        if self.markdown:
            content = "\n".join(self.parts)
        else:
            content = (
                '<!DOCTYPE html>\n<html><head><meta charset="utf-8"/>'
                "<title>audemo report</title><style>"
                "body{font-family:sans-serif;max-width:60em;margin:auto}"
                "table{border-collapse:collapse}"
                "td,th{padding:0.2em 0.8em;text-align:right}"
                "tr:nth-child(even){background:#f3f3f3}"
                "img{max-width:100%}</style></head><body>\n"
                + "\n".join(self.parts)
                + "\n</body></html>\n"
            )
        with open(self.path, "w", encoding="utf-8") as file:
            file.write(content)
        return self.path


# labels and file names come from the data: in Markdown, raw HTML passes
# through, [text](url) makes links and images, | and line breaks split cells
_MARKDOWN_ESCAPES = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    "\\": "\\\\",
    "`": "\\`",
    "[": "\\[",
    "]": "\\]",
    "|": "\\|",
    "\n": " ",
    "\r": " ",
}


def _markdown(value: object) -> str:
    r"""Text shown as it is in Markdown: no HTML, links, images or new cells."""
    return "".join(_MARKDOWN_ESCAPES.get(char, char) for char in str(value))


def _with_intervals(table: pd.DataFrame) -> pd.DataFrame:
    shown = pd.DataFrame(index=table.index)
    for metric in METRICS:
        shown[metric.upper() if metric != "pearson" else "Pearson"] = [
            format_interval(value, low, high)
            for value, low, high in zip(
                table[metric], table[f"{metric}_low"], table[f"{metric}_high"]
            )
        ]
    # counts are whole numbers, however pandas stored them
    shown["n"] = table["n"].map(_whole_number)
    return shown


def format_interval(value: float, low: float, high: float) -> str:
    r"""A value with its confidence interval, as reports show it.

    Args:
        value: the value
        low: lower bound, NaN for none (no bootstrap)
        high: upper bound

    Returns:
        ``"value [low, high]"`` with 3 decimals, or the value alone

    Examples:
        >>> format_interval(0.5, 0.41234, 0.6), format_interval(0.5, np.nan, np.nan)
        ('0.500 [0.412, 0.600]', '0.500')

    """
    if np.isnan(low):
        return _number(value)
    return f"{_number(value)} [{_number(low)}, {_number(high)}]"


def _number(value) -> str:
    r"""A cell: numbers with 3 decimals, NaN as a dash, anything else as text.

    Examples:
        >>> _number(np.int64(3)), _number(0.12345), _number(float("nan"))
        ('3', '0.123', '–')
        >>> _number("n/a")
        'n/a'

    """
    if isinstance(value, (int, np.integer)):
        return str(value)
    if isinstance(value, float) and np.isnan(value):
        return "–"
    if isinstance(value, (float, np.floating)):
        return f"{value:.3f}"
    return str(value)


def _whole_number(value) -> str:
    r"""A count: without decimals, however pandas stored it.

    Examples:
        >>> _whole_number(16), _whole_number(16.0), _whole_number(2.5)
        ('16', '16', '2.500')
        >>> _whole_number(float("nan")), _whole_number(None)
        ('–', 'None')

    """
    if isinstance(value, (int, np.integer, float, np.floating)) and not np.isnan(value):
        return str(int(value)) if float(value).is_integer() else _number(value)
    return _number(value)


def _format_range(truth_range) -> str:
    if isinstance(truth_range, Mapping):
        return ", ".join(
            f"{dimension} {low:g}..{high:g}"
            for dimension, (low, high) in truth_range.items()
        )
    low, high = truth_range
    return f"{low:g}..{high:g}"


def _scatter(evaluation: Evaluation):
    plt = import_optional("matplotlib.pyplot", purpose="plots")
    dimensions = evaluation.settings["dimensions"]
    figure, axes = plt.subplots(
        1, len(dimensions), figsize=(4 * len(dimensions), 4), squeeze=False
    )
    for ax, dimension in zip(axes[0], dimensions):
        truth = evaluation.data[f"truth-{dimension}"]
        prediction = evaluation.data[f"prediction-{dimension}"]
        ax.scatter(
            truth,
            prediction,
            s=12,
            alpha=0.6,
            color=COLORS.get(dimension),
            edgecolors="none",
        )
        low = np.nanmin([truth.min(), prediction.min(), 0.0])
        high = np.nanmax([truth.max(), prediction.max(), 1.0])
        ax.plot([low, high], [low, high], color="grey", linestyle="--", linewidth=0.8)
        ccc = evaluation.overall.loc[dimension, "ccc"]
        ax.set_title(f"{dimension}: CCC {ccc:.3f}")
        ax.set_xlabel("Truth")
        ax.set_ylabel("Prediction")
        ax.grid(alpha=0.3)
    figure.tight_layout()
    return figure


def _group_bars(table: pd.DataFrame, grouping: str):
    plt = import_optional("matplotlib.pyplot", purpose="plots")
    groups = list(dict.fromkeys(table.index.get_level_values("group")))
    dimensions = list(dict.fromkeys(table.index.get_level_values("dimension")))
    figure, ax = plt.subplots(
        figsize=(1.5 + 1.2 * len(groups) * len(dimensions) / 3, 3.5)
    )
    width = 0.8 / len(dimensions)
    positions = np.arange(len(groups))
    for number, dimension in enumerate(dimensions):
        rows = table.xs(dimension, level="dimension").reindex(groups)
        errors = np.abs(
            np.vstack([rows["ccc"] - rows["ccc_low"], rows["ccc_high"] - rows["ccc"]])
        )
        ax.bar(
            positions + number * width,
            rows["ccc"],
            width,
            yerr=None if np.isnan(errors).all() else errors,
            capsize=3,
            label=dimension,
            color=COLORS.get(dimension),
        )
    ax.set_xticks(positions + width * (len(dimensions) - 1) / 2)
    ax.set_xticklabels([str(group) for group in groups])
    ax.set_xlabel(str(grouping))
    ax.set_ylabel("CCC")
    ax.axhline(0, color="black", linewidth=0.6)
    ax.legend(loc="upper left", bbox_to_anchor=(1, 1))
    ax.grid(alpha=0.3, axis="y")
    figure.tight_layout()
    return figure


def _speaker_spread(evaluation: Evaluation):
    plt = import_optional("matplotlib.pyplot", purpose="plots")
    speaker_ccc = evaluation.speaker_ccc
    figure, ax = plt.subplots(figsize=(1.5 + 1.5 * len(speaker_ccc.columns), 3.5))
    for number, dimension in enumerate(speaker_ccc.columns):
        values = speaker_ccc[dimension].dropna().to_numpy()
        # a little horizontal jitter keeps equal values apart
        offsets = np.linspace(-0.15, 0.15, len(values)) if len(values) > 1 else [0]
        ax.scatter(
            number + np.asarray(offsets),
            values,
            s=14,
            color=COLORS.get(dimension),
            alpha=0.7,
        )
        if len(values):
            ax.hlines(np.median(values), number - 0.25, number + 0.25, color="black")
    ax.set_xticks(range(len(speaker_ccc.columns)))
    ax.set_xticklabels(speaker_ccc.columns)
    ax.set_ylabel("CCC per speaker")
    ax.grid(alpha=0.3, axis="y")
    figure.tight_layout()
    return figure


def _robustness_table(summary: pd.DataFrame) -> pd.DataFrame:
    shown = summary.copy()
    shown.columns = [f"{metric} {dimension}" for metric, dimension in summary.columns]
    return shown.map(_number)


def _robustness_figure(summary: pd.DataFrame):
    r"""Noise curves over the SNR and the shift of every perturbation."""
    plt = import_optional("matplotlib.pyplot", purpose="plots")
    figure, (curves, bars) = plt.subplots(
        1, 2, figsize=(12, 4), gridspec_kw={"width_ratios": [1, 2]}
    )
    _noise_curves(curves, summary)
    _shift_bars(bars, summary)
    figure.tight_layout()
    return figure


def _noise_curves(ax, summary: pd.DataFrame):
    r"""CCC (with truth) or shift of the noise perturbations over the SNR."""
    metric = "ccc" if "ccc" in summary.columns.get_level_values("metric") else "shift"
    dimensions = list(summary[metric].columns)
    noises = {}
    for name in summary.index:
        family, _, level = name.rpartition("-")
        if level.endswith("db") and family in ("white-noise", "babble"):
            noises.setdefault(family, []).append((float(level[:-2]), name))
    for family, levels in noises.items():
        levels = sorted(levels, reverse=True)
        for dimension in dimensions:
            ax.plot(
                [snr for snr, _ in levels],
                [summary.loc[name, (metric, dimension)] for _, name in levels],
                marker="o",
                linestyle="-" if family == "white-noise" else "--",
                color=COLORS.get(dimension),
                label=f"{dimension}, {family}",
            )
    if noises:
        ax.invert_xaxis()
        ax.set_xlabel("SNR / dB")
        ax.legend(fontsize="small")
    ax.set_ylabel("CCC" if metric == "ccc" else "Mean absolute change")
    ax.set_title("Noise")
    ax.grid(alpha=0.3)


def _shift_bars(ax, summary: pd.DataFrame):
    r"""Shift of every perturbation, one bar per dimension."""
    shifts = summary["shift"].drop(index="clean", errors="ignore")
    width = 0.8 / len(shifts.columns)
    positions = np.arange(len(shifts))
    for number, dimension in enumerate(shifts.columns):
        ax.bar(
            positions + number * width,
            shifts[dimension],
            width,
            label=dimension,
            color=COLORS.get(dimension),
        )
    ax.set_xticks(positions + width * (len(shifts.columns) - 1) / 2)
    ax.set_xticklabels(shifts.index, rotation=45, ha="right")
    ax.set_ylabel("Mean absolute change")
    ax.set_title("All perturbations")
    ax.legend(loc="upper left", bbox_to_anchor=(1, 1))
    ax.grid(alpha=0.3, axis="y")
