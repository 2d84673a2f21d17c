r"""Predictions as tables of an audformat database."""

from __future__ import annotations

import os

import pandas as pd

import audeer
import audformat

from audemo.core.define import DIMENSIONS


DIMENSION_SCHEME = "audemo-dimension"
EMBEDDING_SCHEME = "audemo-embedding"
CATEGORY_SCHEME = "audemo-category"


def to_database(
    db: audformat.Database,
    frame: pd.DataFrame,
    table_id: str,
    *,
    interface: object | None = None,
    overwrite: bool = False,
) -> audformat.Table:
    r"""Store predictions as a table of an audformat database.

    The table gets the index of ``frame``:
    filewise (``process_index(..., preserve_index=True)``)
    or segmented (windows, speech segments).
    File paths are made relative to ``db.root``
    when they are absolute paths below it;
    absolute paths elsewhere are refused.
    Arousal, dominance and valence use the float scheme
    ``audemo-dimension``
    (approximately 0..1, **not** clipped:
    values slightly outside can occur),
    embedding columns the float scheme ``audemo-embedding``,
    class columns of :class:`audemo.Categories`
    the float scheme ``audemo-category``.
    If ``interface`` is given
    (the :class:`audemo.Emotion` that made ``frame``),
    the table's description names the model,
    and its ``meta`` holds the model name, fingerprint,
    audemo version and the interface as YAML,
    so that the numbers can be reproduced.
    Rows of inputs that failed (``errors="coerce"``) stay as NaN.

    Call ``db.save(root)`` afterwards to write the database.

    Args:
        db: database
        frame: result of :class:`audemo.Emotion`
        table_id: ID of the new table
        interface: the interface that made ``frame``
        overwrite: replace an existing table with the same ID

    Returns:
        the new table

    Raises:
        ValueError: if the table exists and ``overwrite`` is ``False``,
            ``frame`` has no audformat index,
            or it names files outside the database root

    Examples:
        >>> db = audformat.Database("mydb")
        >>> frame = pd.DataFrame(
        ...     {"arousal": [0.6], "dominance": [0.5], "valence": [0.4]},
        ...     index=audformat.filewise_index(["a.wav"]),
        ... )
        >>> table = to_database(db, frame, "emotion")
        >>> db["emotion"]["arousal"].get().tolist()
        [0.6]
        >>> db.schemes["audemo-dimension"].dtype
        'float'

    """
    from audemo import __version__

    if table_id in db.tables and not overwrite:
        raise ValueError(
            f"Database '{db.name}' has a table '{table_id}' already: "
            f"pass overwrite=True to replace it or choose another table_id."
        )
    try:
        audformat.assert_index(frame.index)
        index = _relative_index(frame.index, db.root)
    except (ValueError, TypeError) as ex:
        raise ValueError(
            f"The results cannot become a table: their index is not "
            f"an audformat filewise or segmented index ({ex})."
        ) from ex
    check_inside(index, db.root)
    dimensions = [column for column in frame.columns if column in DIMENSIONS]
    embedding = [
        column for column in frame.columns if str(column).startswith("hidden_states-")
    ]
    categories = [
        column
        for column in frame.columns
        if column not in dimensions and column not in embedding
    ]
    if dimensions and DIMENSION_SCHEME not in db.schemes:
        db.schemes[DIMENSION_SCHEME] = audformat.Scheme(
            "float",
            description=(
                "Emotion dimension predicted by audemo: "
                "approximately 0 (low) to 1 (high), not clipped."
            ),
        )
    if embedding and EMBEDDING_SCHEME not in db.schemes:
        db.schemes[EMBEDDING_SCHEME] = audformat.Scheme(
            "float",
            description="Model embedding (mean-pooled hidden states) from audemo.",
        )
    if categories and CATEGORY_SCHEME not in db.schemes:
        db.schemes[CATEGORY_SCHEME] = audformat.Scheme(
            "float",
            description=(
                "Class probability (logistic head) or score (svc head) "
                "of an audemo categorical head."
            ),
        )

    meta = {"audemo_version": __version__}
    description = "Emotion predictions of audemo"
    if interface is not None:
        meta.update(
            model=interface.model if _portable(interface.model) else None,
            fingerprint=interface.fingerprint,
            pipeline=interface.to_yaml_s(include_version=True),
        )
        name = os.path.basename(str(interface.model).rstrip("/"))
        description += f" (model {name}, sha256 {interface.fingerprint[:12]})"
    if table_id in db.tables:
        db.drop_tables(table_id)
    db[table_id] = audformat.Table(index, description=description, meta=meta)
    for column in frame.columns:
        is_dimension = column in dimensions
        db[table_id][column] = audformat.Column(
            scheme_id=(
                DIMENSION_SCHEME
                if is_dimension
                else EMBEDDING_SCHEME
                if column in embedding
                else CATEGORY_SCHEME
            ),
            description=(
                f"{column.capitalize()} (approximately 0..1)" if is_dimension else None
            ),
        )
        db[table_id][column].set(frame[column].to_numpy(dtype="float64"))
    return db[table_id]


def check_inside(index: pd.Index, root: str | None):
    r"""Refuse absolute file paths outside a database root.

    Args:
        index: filewise or segmented index,
            with paths relative to ``root`` or absolute
        root: database root

    Raises:
        ValueError: if a file is not below ``root``

    """
    root = audeer.path(root) + os.sep if root else None
    outside = sorted(
        {
            file
            for file in index.get_level_values("file")
            if os.path.isabs(file) and not (root and file.startswith(root))
        }
    )
    if outside:
        raise ValueError(
            f"{len(outside)} files are not inside the database "
            f"(root {root or 'not set'}), e.g. '{outside[0]}': a table can only "
            f"reference files below the database root."
        )


def _relative_index(index: pd.Index, root: str | None) -> pd.Index:
    if root is None:
        return index
    root = audeer.path(root)

    def relative(file: str) -> str:
        if os.path.isabs(file) and audeer.path(file).startswith(root + os.sep):
            return os.path.relpath(file, root)
        return file

    if isinstance(index, pd.MultiIndex):
        files = [relative(file) for file in index.get_level_values("file")]
        return audformat.segmented_index(
            files,
            index.get_level_values("start"),
            index.get_level_values("end"),
        )
    return audformat.filewise_index([relative(file) for file in index])


def _portable(model: str) -> bool:
    # a registered name or URL means something on another machine, a path does not
    return not os.path.isabs(model)
