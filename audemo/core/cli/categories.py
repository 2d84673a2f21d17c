r"""``audemo categories``: train a classifier of emotion categories on the embedding.

Trains a classifier
(:func:`audemo.train_categories`)
with the labels of an audformat database,
prints its leave-one-speaker-out evaluation
(:func:`audemo.evaluate_categories`),
and saves it as a head for ``audemo predict --head``
(:func:`audemo.save_categories`).

"""

from __future__ import annotations

import argparse
import os
import sys

import pandas as pd

import audeer
import audformat

from audemo.core.categories.categorical import Categories
from audemo.core.categories.evaluation import CategoryEvaluation
from audemo.core.categories.evaluation import evaluate_categories
from audemo.core.categories.export import check_head_root
from audemo.core.categories.export import save_categories
from audemo.core.categories.training import train_categories
from audemo.core.cli import COMMANDS
from audemo.core.cli.common import DATABASE_SAFETY_POINTER
from audemo.core.cli.common import add_model_cache_root
from audemo.core.cli.common import add_model_option
from audemo.core.cli.common import check_output
from audemo.core.cli.common import picture_formats
from audemo.core.cli.common import require_packages
from audemo.core.cli.common import show_progress
from audemo.core.database import find_column
from audemo.core.database import load_table
from audemo.core.define import DEFAULT_MODEL
from audemo.core.emotion import Emotion
from audemo.core.model.api import cache_folder
from audemo.core.model.api import is_download
from audemo.core.plot import confusion
from audemo.core.plot import save_figure
from audemo.core.utils import available_cores


def add_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    r"""Add the command ``categories``.

    Args:
        commands: sub-parsers of the ``audemo`` parser

    Returns:
        parser of the command

    """
    command = commands.add_parser(
        "categories",
        help=COMMANDS["categories"],
        description=(
            "Train a classifier of categories (e.g. angry, happy, neutral, "
            "sad) on the model's embedding, with the labels of an audformat "
            "database. Prints its leave-one-speaker-out unweighted average "
            "recall (UAR) and confusion matrix, trains it on all speakers, "
            "and saves it as an ONNX folder for `audemo predict --head`. "
            + DATABASE_SAFETY_POINTER
        ),
    )
    _add_data_options(command)
    _add_classifier_options(command)
    add_model_option(command)
    command.add_argument(
        "--cache-root",
        default=None,
        metavar="DIR",
        help="cache the embeddings in this folder (default: no results cache)",
    )
    add_model_cache_root(command, legacy=False)
    return command


def _add_data_options(command: argparse.ArgumentParser):
    r"""Labels, speakers, and the folder of the head."""
    command.add_argument(
        "labels",
        metavar="DB:TABLE:COLUMN",
        help="database folder, table ID and column of the category labels",
    )
    command.add_argument(
        "--speaker",
        required=True,
        metavar="COLUMN",
        help=(
            "column holding the speaker (in the labels' table or another "
            "table of the database), for leave-one-speaker-out evaluation"
        ),
    )
    command.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="FOLDER",
        help=(
            "folder of the head: new, empty, or holding a head to replace "
            "(anything else needs --overwrite; never the model's folder)"
        ),
    )
    command.add_argument(
        "--overwrite",
        action="store_true",
        help="write the head into a folder that holds other files",
    )


def _add_classifier_options(command: argparse.ArgumentParser):
    r"""Classifier, its regularization, and the confusion picture."""
    command.add_argument(
        "--classifier",
        choices=["logistic", "svc"],
        default="logistic",
        help=(
            "logistic: logistic regression, gives probabilities (default); "
            "svc: linear support vector machine, gives scores"
        ),
    )
    command.add_argument(
        "--C",
        type=float,
        default=1.0,
        dest="c",
        help="inverse regularization strength (default: 1.0)",
    )
    command.add_argument(
        "--confusion",
        default=None,
        metavar="PICTURE",
        help="draw the confusion matrix into this picture, e.g. confusion.png",
    )


def run(args: argparse.Namespace) -> int:
    r"""Evaluate, train and save the head, and print its folder.

    Args:
        args: parsed arguments

    Returns:
        exit code 0

    Raises:
        ValueError: if an output cannot be written
            (checked first),
            or the labels are not found

    """
    require_packages({"sklearn": "audemo categories"})
    root, table_id, column = split_labels(args.labels)
    # outputs first: nothing is loaded or computed for an output that fails
    _check_outputs(args)
    db, labels, speakers = _load_labels(root, table_id, column, args.speaker)
    interface = Emotion(
        args.model,
        outputs="hidden_states",
        num_workers=available_cores(),
        verbose=show_progress(),
        model_cache_root=args.model_cache_root,
    )
    # before the expensive part, and never into the model in use
    check_head_root(
        args.output,
        overwrite=args.overwrite,
        model_root=interface.model_root,
        names=("-o", "--overwrite"),
    )
    embeddings = interface.process_index(
        labels.dropna().index, root=db.root, cache_root=args.cache_root
    )
    options = {"classifier": args.classifier, "C": args.c}
    evaluation = evaluate_categories(embeddings, labels, speakers, **options)
    _print_evaluation(evaluation)
    if args.confusion:
        ax = confusion(evaluation.confusion)
        save_figure(ax.figure, args.confusion, dpi=120, bbox_inches="tight")
    classifier = train_categories(embeddings, labels, **options)
    head = save_categories(classifier, args.output, overwrite=True)  # checked above
    # checks that the head runs with the model that made the embeddings
    Categories(head, model=args.model, model_cache_root=args.model_cache_root)
    print(head)
    return 0


def _check_outputs(args: argparse.Namespace):
    r"""Refuse a head folder or confusion picture that cannot be written."""
    check_head_root(
        args.output,
        overwrite=args.overwrite,
        model_root=_model_folder(args.model, args.model_cache_root),
        names=("-o", "--overwrite"),
    )
    if args.confusion:
        # a picture is replaced like the head (no --overwrite needed)
        check_output(
            args.confusion, picture_formats(), overwrite=True, what="--confusion"
        )


def _load_labels(
    root: str, table_id: str, column: str, speaker: str
) -> tuple[audformat.Database, pd.Series, pd.Series]:
    r"""The database, its labels, and the speaker of each file."""
    db = load_table(root, table_id)
    if column not in db[table_id].columns:
        raise ValueError(
            f"Table '{table_id}' has no column '{column}': "
            f"it has {list(db[table_id].columns)}."
        )
    labels = db[table_id][column].get()
    return db, labels, find_column(db, table_id, speaker)


def split_labels(spec: str) -> tuple[str, str, str]:
    r"""Database folder, table ID and column of ``DB:TABLE:COLUMN``.

    Args:
        spec: e.g. ``"data/emodb:emotion:emotion"``

    Returns:
        database folder, table ID, column ID

    Raises:
        ValueError: if a part is missing

    Examples:
        >>> split_labels("C:/data/emodb:emotion.test:emotion")
        ('C:/data/emodb', 'emotion.test', 'emotion')

    """
    parts = spec.rsplit(":", 2)
    if len(parts) != 3 or not all(parts):
        raise ValueError(f"Labels must be DB_FOLDER:TABLE:COLUMN, not '{spec}'.")
    return parts[0], parts[1], parts[2]


def _model_folder(model: str | None, model_cache_root: str | None) -> str | None:
    r"""Folder of the model if it is there already, without downloading it."""
    if not model or is_download(model):
        folder = cache_folder(model or DEFAULT_MODEL, cache_root=model_cache_root)
    else:
        folder = audeer.path(model)
    return folder if os.path.isdir(folder) else None


def _print_evaluation(evaluation: CategoryEvaluation):
    r"""UAR, accuracy and confusion matrix, to stderr."""
    speakers = evaluation.predictions["speaker"].nunique()
    print(
        f"leave-one-speaker-out over {speakers} speakers: "
        f"UAR {evaluation.uar:.3f}, accuracy {evaluation.accuracy:.3f} "
        f"(guessing: UAR {1 / len(evaluation.confusion):.3f})",
        file=sys.stderr,
    )
    print(evaluation.confusion.to_string(), file=sys.stderr)
