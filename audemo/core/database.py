r"""audformat databases: loaded safely, and predictions stored as tables.

:func:`load_database` loads a database without running code from it,
:func:`load_table`, :func:`find_column` and :func:`scheme_ranges`
find gold labels and their scales in it,
:func:`to_database` stores predictions as a table.

"""

from __future__ import annotations

import copy
import os
import re
import stat

import pandas as pd
import yaml

import audeer
import audformat
import audiofile

from audemo.core.define import DIMENSIONS
from audemo.core.model.api import MODELS
from audemo.core.model.registry import is_url
from audemo.core.results import CALIBRATION
from audemo.core.results import calibration_marker
from audemo.core.results import describe_calibration
from audemo.core.safe_yaml import read_yaml_bytes
from audemo.core.safe_yaml import safe_load
from audemo.core.storage import atomic_path
from audemo.core.utils import count
from audemo.core.utils import version


DIMENSION_SCHEME = "audemo-dimension"
EMBEDDING_SCHEME = "audemo-embedding"
CATEGORY_SCHEME = "audemo-category"

CALIBRATED_SCHEME = "audemo-calibrated"
r"""Start of the scheme IDs of calibrated dimensions, see :func:`to_database`."""

SCHEME_DESCRIPTIONS = {
    DIMENSION_SCHEME: (
        "Emotion dimension predicted by audemo: "
        "approximately 0 (low) to 1 (high), not clipped."
    ),
    EMBEDDING_SCHEME: "Model embedding (mean-pooled hidden states) from audemo.",
    CATEGORY_SCHEME: (
        "Class probability (logistic head) or score (svc head) "
        "of an audemo categorical head."
    ),
}
r"""The float schemes of :func:`to_database` and their descriptions."""

SPEAKER_SCHEME = "speaker"
TURN_SCHEME = "audemo-turn"
TURN_TIME_SCHEME = "audemo-turn-time"
OVERLAP_SCHEME = "audemo-overlap"
PREDICTED_CATEGORY = "category"
r"""Column of the predicted class next to the classes of a head."""
PREDICTED_CATEGORY_SCHEME = (
    "audemo-predicted-category",
    "str",
    "Class of the largest probability or score of an audemo categorical head.",
)
CONVERSATION_SCHEMES = {
    "speaker": (SPEAKER_SCHEME, "str", "Speaker of the turn."),
    "turn": (
        TURN_SCHEME,
        "int",
        "Position of the speaker turn a row lies in (0, 1, ...), from audemo.",
    ),
    "turn_start": (
        TURN_TIME_SCHEME,
        "time",
        "Start or end of the speaker turn a row lies in, from audemo.",
    ),
    "turn_end": (
        TURN_TIME_SCHEME,
        "time",
        "Start or end of the speaker turn a row lies in, from audemo.",
    ),
    "overlap": (
        OVERLAP_SCHEME,
        "bool",
        "Whether the row overlaps a turn of another speaker, from audemo.",
    ),
}
r"""Scheme ID, dtype and description of the columns of a conversation frame.

``speaker`` uses the database's scheme ``speaker``
if it has one that takes the speakers,
else the string scheme ``audemo-speaker``.
"""

TEXT_SCHEME = "audemo-text"
r"""String scheme of the ``text`` column of a transcript's emotion."""

# a header of a large corpus lists thousands of scheme labels,
# far more than a pipeline: bounds of their own, still far from a YAML bomb
# (a header at these bounds is refused in seconds, not minutes)
MAX_HEADER_BYTES = 16 * 1024 * 1024
MAX_HEADER_NODES = 500_000

MAX_TABLE_BYTES = 1024**3
r"""Largest table file audemo reads from a database (1 GiB)."""

TABLE_ID_RULE = (
    "letters, digits, '-', '_' and '.' (not first, no '..'), at most 128 characters"
)
r"""Table IDs audemo writes: each becomes part of a file name ``db.<ID>.*``."""

_TABLE_ID = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}")


def check_table_id(table_id: str, *, what: str = "table_id"):
    r"""Refuse a table ID that is not a plain file name part.

    audformat accepts any string as a table ID
    and writes the table to ``<root>/db.<ID>.<format>``,
    so an ID with ``/`` or ``..`` writes outside the database folder,
    and one the file system refuses fails after ``db.yaml`` was written.
    audemo writes only IDs made of
    letters, digits, ``-``, ``_`` and ``.``,
    not starting with ``.`` and without ``..``,
    at most 128 characters long.

    Args:
        table_id: table ID
        what: how the caller names the ID in messages,
            e.g. ``"--table"``

    Raises:
        ValueError: if ``table_id`` breaks this rule

    Examples:
        >>> check_table_id("emotion.test")
        >>> check_table_id("../emotion")
        Traceback (most recent call last):
        ...
        ValueError: table_id '../emotion' is not a valid table ID: use letters, ...

    """
    if (
        not isinstance(table_id, str)
        or not _TABLE_ID.fullmatch(table_id)
        or ".." in table_id
    ):
        raise ValueError(
            f"{what} {table_id!r} is not a valid table ID: use {TABLE_ID_RULE}."
        )


def load_database(root: str) -> audformat.Database:
    r"""Load an audformat database without running code from its files.

    :meth:`audformat.Database.load` reads ``db.yaml``
    with PyYAML's full loader,
    which runs code through Python tags
    (``!!python/object/apply:...``),
    and reads a table from its pickle ``db.<table>.pkl``
    whenever that file exists,
    and unpickling runs code as well.
    This function reads ``db.yaml`` with a safe loader
    (Python tags are refused,
    at most 16 MiB and 500,000 values,
    read by audemo's safe YAML parser)
    and builds the header from it with audformat,
    then loads every table from its parquet or CSV file,
    never from a pickle:
    a pickle next to a parquet or CSV file
    (as ``audb.load()`` caches them) is ignored,
    a table stored only as a pickle is refused.
    Table files must be regular files
    (not FIFOs, devices or links to them)
    of at most 1 GiB (:data:`MAX_TABLE_BYTES`).
    Table IDs with path separators are refused,
    so that no table file is read from outside ``root``.

    This guarantees that loading runs no code from the database.
    It does not make the database's content trustworthy:
    its media paths may point outside ``root``
    (audio found there is read and processed),
    audio and tables are parsed
    by libsndfile, ffmpeg, pyarrow and pandas,
    and labels are shown as they are.

    Args:
        root: database folder holding ``db.yaml``

    Returns:
        database with all tables loaded

    Raises:
        FileNotFoundError: if ``root`` holds no ``db.yaml``
        ValueError: if ``db.yaml`` is not plain YAML
            (e.g. has Python tags) or not an audformat header,
            a table ID has a path separator,
            a table is stored only as a pickle,
            or a table file is not a regular file or larger than 1 GiB

    Examples:
        >>> db = audformat.Database("mydb")
        >>> db["files"] = audformat.Table(audformat.filewise_index(["a.wav"]))
        >>> db.save("mydb")
        >>> load_database("mydb")["files"].files.tolist()
        ['a.wav']

    """
    root = audeer.path(root, follow_symlink=True)
    path = os.path.join(root, "db.yaml")
    source = f"Database header '{path}'"
    text = read_yaml_bytes(path, what="Database header", max_bytes=MAX_HEADER_BYTES)
    header = safe_load(
        text, source=source, max_bytes=MAX_HEADER_BYTES, max_nodes=MAX_HEADER_NODES
    )
    try:
        db = audformat.Database.load_header_from_yaml(header)
    except Exception as ex:  # audformat raises whatever a bad header causes
        raise ValueError(f"{source} is not an audformat header: {ex!r}") from ex
    # what Database.load sets after reading the header
    db._name = "db"
    db._root = root
    # misc tables first, as Database.load does: schemes may take labels from them
    for table_id, table in [*db.misc_tables.items(), *db.tables.items()]:
        if any(sep and sep in str(table_id) for sep in ("/", "\\", "\0", os.altsep)):
            raise ValueError(
                f"Database '{root}' has a table ID with a path separator "
                f"({table_id!r}): refused, it would read a file outside the database."
            )
        base = os.path.join(root, f"db.{table_id}")
        # the branches of Table.load without its pickle branch: audformat
        # has no public way to load a table that skips an existing pickle
        if os.path.exists(base + ".parquet"):
            table._load_parquet(_table_file(base + ".parquet", table_id, root))
        elif os.path.exists(base + ".csv"):
            table._load_csv(_table_file(base + ".csv", table_id, root))
        elif os.path.exists(base + ".pkl"):
            raise ValueError(
                f"Table '{table_id}' of database '{root}' is stored only as a "
                f"pickle (db.{table_id}.pkl): audemo does not read pickles from "
                f"databases, since unpickling can run code. Save the table as "
                f"parquet or CSV with audformat where the database is trusted."
            )
        else:
            raise FileNotFoundError(
                f"Table '{table_id}' of database '{root}' has no file "
                f"db.{table_id}.parquet or db.{table_id}.csv."
            )
    return db


def _table_file(path: str, table_id: str, root: str) -> str:
    r"""A table file, if it is a regular file of at most :data:`MAX_TABLE_BYTES`."""
    info = os.stat(path)  # through links: a link to /dev/zero is a device
    if not stat.S_ISREG(info.st_mode):
        raise ValueError(
            f"Table '{table_id}' of database '{root}': '{path}' is not a regular "
            f"file (a FIFO, a device or a link to one): refused, "
            f"it could block or never end."
        )
    if info.st_size > MAX_TABLE_BYTES:
        raise ValueError(
            f"Table '{table_id}' of database '{root}': '{path}' is larger than "
            f"{MAX_TABLE_BYTES} bytes: refused. Split the table into smaller ones."
        )
    return path


def load_table(root: str, table_id: str) -> audformat.Database:
    r"""Load a database that must have a table, with :func:`load_database`.

    Args:
        root: database folder holding ``db.yaml``
        table_id: ID of the table the caller needs

    Returns:
        database with all tables loaded

    Raises:
        ValueError: if ``root`` holds no ``db.yaml``
            or the database has no table ``table_id``

    Examples:
        >>> db = audformat.Database("mydb")
        >>> db["gold"] = audformat.Table(audformat.filewise_index(["a.wav"]))
        >>> db.save("mydb")
        >>> load_table("mydb", "gold")["gold"].files.tolist()
        ['a.wav']
        >>> load_table("mydb", "test")
        Traceback (most recent call last):
        ...
        ValueError: Database 'mydb' has no table 'test': it has ['gold'].

    """
    if not os.path.exists(os.path.join(root, "db.yaml")):
        raise ValueError(f"Folder '{root}' holds no audformat database (db.yaml).")
    db = load_database(root)
    if table_id not in db.tables:
        raise ValueError(
            f"Database '{root}' has no table '{table_id}': it has {sorted(db.tables)}."
        )
    return db


def find_column(db: audformat.Database, table_id: str, name: str) -> pd.Series:
    r"""A column of a table, or of any other table of the database.

    Speaker or sex often live in a table of their own
    (e.g. ``files``),
    not in the table of the labels:
    the table ``table_id`` is searched first,
    then every other table in the order of their IDs.

    Args:
        db: database
        table_id: table searched first
        name: column ID

    Returns:
        the values of the column, named ``name``

    Raises:
        ValueError: if no table has a column ``name``

    Examples:
        >>> db = audformat.Database("mydb")
        >>> db["files"] = audformat.Table(audformat.filewise_index(["a.wav"]))
        >>> db["files"]["speaker"] = audformat.Column()
        >>> db["files"]["speaker"].set(["s1"])
        >>> db["gold"] = audformat.Table(audformat.filewise_index(["a.wav"]))
        >>> find_column(db, "gold", "speaker").tolist()
        ['s1']

    """
    for candidate in [table_id] + sorted(db.tables):
        if name in db[candidate].columns:
            return db[candidate][name].get().rename(name)
    columns = sorted(
        {column for table in db.tables.values() for column in table.columns}
    )
    raise ValueError(
        f"No table of database '{db.name}' has a column '{name}': {columns}."
    )


def scheme_ranges(
    db: audformat.Database, table_id: str, columns: list[str]
) -> dict[str, tuple[float, float]] | None:
    r"""The ranges of columns whose schemes set a minimum and maximum.

    Args:
        db: database
        table_id: table ID
        columns: column IDs

    Returns:
        minimum and maximum of each column whose scheme sets both,
        unless they are 0 and 1;
        ``None`` if no column has such a range

    Examples:
        >>> db = audformat.Database("mydb")
        >>> db.schemes["rating"] = audformat.Scheme("float", minimum=1, maximum=7)
        >>> db["gold"] = audformat.Table(audformat.filewise_index(["a.wav"]))
        >>> db["gold"]["arousal"] = audformat.Column(scheme_id="rating")
        >>> db["gold"]["valence"] = audformat.Column()
        >>> scheme_ranges(db, "gold", ["arousal", "valence"])
        {'arousal': (1.0, 7.0)}

    """
    ranges = {}
    for column in columns:
        scale = scheme_range(db[table_id].columns[column])
        if scale is not None:
            ranges[column] = scale
    return ranges or None


def scheme_range(column: audformat.Column) -> tuple[float, float] | None:
    r"""The range of a column whose scheme sets a minimum and maximum.

    Args:
        column: column of a table of a database

    Returns:
        minimum and maximum of its scheme,
        ``None`` if the scheme does not set both,
        or sets 0 and 1

    Examples:
        >>> db = audformat.Database("mydb")
        >>> db.schemes["rating"] = audformat.Scheme("float", minimum=1, maximum=7)
        >>> db["gold"] = audformat.Table(audformat.filewise_index(["a.wav"]))
        >>> db["gold"]["arousal"] = audformat.Column(scheme_id="rating")
        >>> scheme_range(db["gold"]["arousal"])
        (1.0, 7.0)

    """
    table = column.table
    db = table.db if table is not None else None
    scheme = None
    if db is not None and column.scheme_id:
        scheme = db.schemes.get(column.scheme_id)
    if (
        scheme is not None
        and scheme.minimum is not None
        and scheme.maximum is not None
        and (scheme.minimum, scheme.maximum) != (0, 1)
    ):
        return float(scheme.minimum), float(scheme.maximum)
    return None


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
    A conversation frame
    (:meth:`audemo.Emotion.process_turns`)
    becomes a segmented table
    whose ``speaker`` column uses the scheme ``speaker``
    (a string scheme, added if the database has none;
    ``audemo-speaker`` if the database's ``speaker`` scheme
    does not take these speakers),
    ``turn`` the integer scheme ``audemo-turn``,
    ``turn_start`` and ``turn_end`` the time scheme ``audemo-turn-time``
    and ``overlap`` the boolean scheme ``audemo-overlap``.
    A segmented index whose rows are exactly whole files
    (each file once, from 0 to its end or ``NaT``,
    as :meth:`audemo.Emotion.process_index` returns for a filewise index
    without windows or segmentation)
    becomes a filewise table,
    as ``audemo predict`` writes it:
    the table then joins with the database's other filewise tables.
    The end of a row is compared with the file's duration,
    so the files must be found below ``db.root``.
    File paths are made relative to ``db.root``
    when they are absolute paths below it;
    absolute paths elsewhere are refused.
    Arousal, dominance and valence use the float scheme
    ``audemo-dimension``
    (approximately 0..1, **not** clipped:
    values slightly outside can occur);
    calibrated dimensions
    (``frame.attrs["calibration"]``, see :attr:`audemo.Calibration.marker`,
    or the calibration of ``interface``)
    the float scheme ``audemo-calibrated-<12 hex digits>`` of their calibration,
    whose description, like those of the columns and the table,
    names the calibration and its gold scale
    (and its ``meta`` the ``truth_range``;
    no ``minimum`` and ``maximum``:
    calibrated scores are not clipped),
    and the table's ``meta`` holds the marker as ``calibration``;
    embedding columns the float scheme ``audemo-embedding``,
    class columns of :class:`audemo.Categories`
    the float scheme ``audemo-category``,
    and a column ``category`` of the predicted classes
    (``audemo predict --head``)
    the string scheme ``audemo-predicted-category``.
    If ``interface`` is given
    (the :class:`audemo.Emotion` that made ``frame``),
    the table's description names the model,
    and its ``meta`` holds the model name, fingerprint,
    audemo version and the interface as YAML,
    so that the numbers can be reproduced.
    A model folder is stored relative to ``db.root``
    (as :meth:`audobject.Object.to_yaml` writes it
    relative to the YAML file),
    registered names and URLs as they are,
    so the table stays valid when the database moves
    together with the model folder.
    Rows of inputs that failed (``errors="coerce"``) stay as NaN.

    Call ``db.save(root)`` afterwards to write the database.

    Args:
        db: database
        frame: result of :class:`audemo.Emotion`
        table_id: ID of the new table:
            letters, digits, ``-``, ``_`` and ``.``
            (``.`` not first, no ``..``),
            at most 128 characters,
            since it becomes part of the table's file name
        interface: the interface that made ``frame``
        overwrite: replace an existing table with the same ID

    Returns:
        the new table

    Raises:
        ValueError: if ``table_id`` is not a valid table ID,
            the table exists and ``overwrite`` is ``False``,
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
    # before anything changes: a bad ID fails in db.save() after db.yaml is written
    check_table_id(table_id)
    if table_id in db.tables and not overwrite:
        raise ValueError(
            f"Database '{db.name}' has a table '{table_id}' already: "
            f"pass overwrite=True to replace it or choose another table_id."
        )
    conversation = "speaker" in frame.columns
    # sentences and words of a transcript stay segments, too
    index = _table_index(
        frame, db.root, keep_segments=conversation or "text" in frame.columns
    )
    schemes = _column_schemes(frame.columns, conversation)
    if conversation:
        schemes.update(_conversation_schemes(db, frame))
        schemes = {column: schemes[column] for column in frame.columns}
    carrier = frame
    if getattr(interface, "calibration", None) is not None:
        # the interface made the frame: its calibration, if the attrs were lost
        carrier = pd.DataFrame()
        carrier.attrs = {CALIBRATION: interface.calibration.marker, **frame.attrs}
    marker = calibration_marker(carrier)
    calibrated = _add_calibrated_scheme(db, marker, schemes)
    _add_schemes(db, set(schemes.values()))
    description, meta = _table_description(interface, db.root)
    if marker is not None:
        description += f"; {', '.join(calibrated)} {describe_calibration(marker)}"
        truth_range = marker["truth_range"]
        meta["calibration"] = {
            **marker,
            "truth_range": None if truth_range is None else list(truth_range),
        }
    if table_id in db.tables:
        db.drop_tables(table_id)
    db[table_id] = audformat.Table(index, description=description, meta=meta)
    for column, scheme_id in schemes.items():
        db[table_id][column] = audformat.Column(
            scheme_id=scheme_id,
            description=_column_description(column, scheme_id, marker),
        )
        db[table_id][column].set(_column_values(frame[column], scheme_id))
    return db[table_id]


def _add_calibrated_scheme(
    db: audformat.Database, marker: dict | None, schemes: dict[str, str]
) -> list[str]:
    r"""Give calibrated dimensions a scheme of their calibration.

    The scheme ``audemo-calibrated-<sha256 of the calibration, 12 digits>``
    names the calibration and its scale in its description and ``meta``;
    it sets no minimum and maximum:
    calibrated scores are not clipped to the gold scale,
    and audformat refuses values outside them.

    Returns:
        the calibrated columns

    """
    if marker is None:
        return []
    calibrated = [
        column
        for column in marker["dimensions"]
        if schemes.get(column) == DIMENSION_SCHEME
    ]
    scheme_id = f"{CALIBRATED_SCHEME}-{marker['sha256'][:12]}"
    for column in calibrated:
        schemes[column] = scheme_id
    if calibrated and scheme_id not in db.schemes:
        truth_range = marker["truth_range"]
        db.schemes[scheme_id] = audformat.Scheme(
            "float",
            description=(
                f"Emotion dimension predicted by audemo, "
                f"{describe_calibration(marker)}, not clipped."
            ),
            meta={
                "calibration_sha256": marker["sha256"],
                "truth_range": None if truth_range is None else list(truth_range),
            },
        )
    return calibrated


def _column_description(column: str, scheme_id: str, marker: dict | None) -> str | None:
    r"""Description of a dimension column: its scale."""
    if scheme_id == DIMENSION_SCHEME:
        return f"{column.capitalize()} (approximately 0..1)"
    if scheme_id.startswith(CALIBRATED_SCHEME):
        return f"{column.capitalize()}, {describe_calibration(marker)}"
    return None


def save_table(db: audformat.Database, root: str, table_id: str):
    r"""Write one table of a database and then its header, safe against a kill.

    :meth:`audformat.Database.save` writes ``db.yaml`` first
    and then every table into its file in place:
    a process killed on the way leaves a header
    that describes tables their files do not hold,
    or an empty table file that fails the whole database.
    This writes only the table ``table_id``
    and replaces each file in one step
    (see :func:`audemo.core.storage.atomic_path`):

    1. ``db.yaml`` without the table, if the folder has a ``db.yaml``
       (the old table is no longer described)
    2. the table as ``db.<table_id>.parquet``;
       its CSV and pickle files of earlier saves are removed,
       as they hold the old rows
    3. ``db.yaml`` with the table

    Killed at any point,
    the folder holds a database that loads,
    with its other tables as they were
    and the table either as it was, missing, or new.

    Args:
        db: database
        root: database folder
        table_id: the table that changed

    Examples:
        >>> db = audformat.Database("mydb")
        >>> db["gold"] = audformat.Table(audformat.filewise_index(["a.wav"]))
        >>> save_table(db, "mydb", "gold")
        >>> sorted(os.listdir("mydb"))
        ['db.gold.parquet', 'db.yaml']

    """
    root = audeer.mkdir(audeer.path(root, follow_symlink=True))
    header = db.to_dict()
    if os.path.exists(os.path.join(root, "db.yaml")):
        without = copy.copy(header)
        without["tables"] = copy.copy(header["tables"])
        del without["tables"][table_id]
        _write_header(root, without)
    base = os.path.join(root, f"db.{table_id}")
    with atomic_path(f"{base}.parquet") as tmp:
        db[table_id].save(tmp[: -len(".parquet")], update_other_formats=False)
    for stale in (f"{base}.csv", f"{base}.pkl"):
        if os.path.lexists(stale):
            os.remove(stale)
    _write_header(root, header)


def _write_header(root: str, header: dict):
    r"""Replace ``db.yaml`` in one step, formatted as audformat writes it."""
    with atomic_path(os.path.join(root, "db.yaml")) as tmp:
        with open(tmp, "w", encoding="utf-8") as fp:
            yaml.dump(header, fp, default_flow_style=None, indent=2, allow_unicode=True)


def _column_values(values: pd.Series, scheme_id: str) -> object:
    r"""Values of a column in the dtype of its scheme."""
    if scheme_id in SCHEME_DESCRIPTIONS or scheme_id.startswith(CALIBRATED_SCHEME):
        return values.to_numpy(dtype="float64")
    return values.to_numpy()


def _conversation_schemes(db: audformat.Database, frame: pd.DataFrame) -> dict:
    r"""Schemes of the speaker, turn and overlap columns of a conversation frame."""
    schemes = {
        column: CONVERSATION_SCHEMES[column][0]
        for column in CONVERSATION_SCHEMES
        if column in frame.columns
    }
    existing = db.schemes.get(SPEAKER_SCHEME)
    if existing is not None:
        speakers = set(frame["speaker"].dropna())
        labels = existing.labels_as_list if existing.labels is not None else None
        takes = existing.dtype == audformat.define.DataType.STRING and (
            labels is None or speakers <= set(labels)
        )
        if not takes:
            schemes["speaker"] = "audemo-speaker"
    return schemes


def _table_index(
    frame: pd.DataFrame, root: str | None, *, keep_segments: bool = False
) -> pd.Index:
    r"""The index of results as the index of a table in ``root``.

    Paths below ``root`` relative to it,
    whole files filewise
    (see :func:`_whole_files_to_filewise`)
    unless ``keep_segments``
    (speaker turns stay turns, even if one lasts a whole file).

    """
    try:
        audformat.assert_index(frame.index)
        index = relative_index(frame.index, root)
    except (ValueError, TypeError) as ex:
        raise ValueError(
            f"The results cannot become a table: their index is not "
            f"an audformat filewise or segmented index ({ex})."
        ) from ex
    check_inside(index, root)
    if keep_segments:
        return index
    return _whole_files_to_filewise(index, root)


def _column_schemes(columns: pd.Index, conversation: bool = False) -> dict[str, str]:
    r"""The scheme of each column of results.

    Arousal, dominance and valence: ``audemo-dimension``,
    ``hidden_states-*``: ``audemo-embedding``,
    any other column (the classes of a head): ``audemo-category``;
    in a conversation frame the columns of its turns are left out
    (see :func:`_conversation_schemes`).

    """
    schemes = {}
    for column in columns:
        if conversation and column in CONVERSATION_SCHEMES:
            continue
        if column in DIMENSIONS:
            schemes[column] = DIMENSION_SCHEME
        elif column == PREDICTED_CATEGORY:
            schemes[column] = PREDICTED_CATEGORY_SCHEME[0]
        elif column == "text":
            schemes[column] = TEXT_SCHEME
        elif str(column).startswith("hidden_states-"):
            schemes[column] = EMBEDDING_SCHEME
        else:
            schemes[column] = CATEGORY_SCHEME
    return schemes


def _add_schemes(db: audformat.Database, scheme_ids: set[str]):
    r"""Add the schemes the database does not have yet."""
    for scheme_id, description in SCHEME_DESCRIPTIONS.items():
        if scheme_id in scheme_ids and scheme_id not in db.schemes:
            db.schemes[scheme_id] = audformat.Scheme("float", description=description)
    conversation = list(CONVERSATION_SCHEMES.values())
    conversation.append(("audemo-speaker", "str", "Speaker of the turn."))
    conversation.append(PREDICTED_CATEGORY_SCHEME)
    conversation.append((TEXT_SCHEME, "str", "What was said (a transcript)."))
    for scheme_id, dtype, description in conversation:
        if scheme_id in scheme_ids and scheme_id not in db.schemes:
            db.schemes[scheme_id] = audformat.Scheme(dtype, description=description)


def _table_description(interface: object | None, root: str | None) -> tuple[str, dict]:
    r"""Description and meta of a table, naming the model if known."""
    meta = {"audemo_version": version()}
    description = "Emotion predictions of audemo"
    if interface is not None:
        meta.update(
            model=_model_reference(interface.model, root),
            fingerprint=interface.fingerprint,
            pipeline=_pipeline_yaml(interface, root),
        )
        name = os.path.basename(str(interface.model).rstrip("/"))
        description += f" (model {name}, sha256 {interface.fingerprint[:12]})"
    return description, meta


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
            f"{count(len(outside), 'file')} {'is' if len(outside) == 1 else 'are'} "
            f"not inside the database "
            f"(root {root or 'not set'}), e.g. '{outside[0]}': a table can only "
            f"reference files below the database root."
        )


def relative_index(index: pd.Index, root: str | None) -> pd.Index:
    r"""Absolute paths below ``root`` relative to it.

    Args:
        index: filewise or segmented index
        root: database root, or ``None``

    Returns:
        the index with absolute paths below ``root`` made relative,
        other paths as they are

    Examples:
        >>> index = audformat.filewise_index(["/data/db/a.wav", "/data/b.wav"])
        >>> relative_index(index, "/data/db").tolist()
        ['a.wav', '/data/b.wav']

    """
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


def _model_reference(model: str, root: str | None) -> str | None:
    r"""The model as a pipeline YAML file next to ``db.yaml`` names it."""
    if model in MODELS or is_url(model):
        return model
    if root is None:
        # an absolute path without a database root to relate it to
        # means nothing on another machine
        return None if os.path.isabs(model) else model
    # as audemo.core.model.resolver.ModelResolver writes it into a YAML file in root
    return os.path.relpath(model, root)


def _pipeline_yaml(interface, root: str | None) -> str:
    r"""The interface as YAML, model folders relative to the database root.

    :meth:`audobject.Object.to_yaml_s` knows no folder
    and writes a model folder as an absolute path of this machine;
    this writes it as :meth:`audobject.Object.to_yaml` would
    into a file next to ``db.yaml``.

    """
    if root is None:
        return interface.to_yaml_s(include_version=True)
    return yaml.dump(interface.to_dict(include_version=True, root=root))


def _whole_files_to_filewise(index: pd.Index, root: str | None) -> pd.Index:
    r"""A segmented index of whole files as a filewise index, else as it is.

    :meth:`audemo.Emotion.process_index` returns a segmented index
    from 0 to the end of each file (``NaT`` for a failed file)
    for a filewise one;
    ``audemo predict`` stores such results as a filewise table,
    and so does :func:`to_database`.
    Only when every row is a whole file:
    a segment that starts at 0 and ends before the file ends is kept.

    """
    if audformat.index_type(index) != audformat.define.IndexType.SEGMENTED:
        return index
    files = index.get_level_values("file")
    starts = index.get_level_values("start")
    ends = index.get_level_values("end")
    if files.has_duplicates or (starts != pd.Timedelta(0)).any():
        return index
    for file, end in zip(files, ends):
        if pd.isna(end):
            continue  # NaT: to the end of the file
        if not os.path.isabs(file) and root is None:
            return index  # nowhere to find the file
        path = file if os.path.isabs(file) else os.path.join(root, file)
        try:
            duration = audiofile.duration(path)
        except Exception:  # a file that cannot be read proves nothing
            return index
        # the end is the number of samples over the sampling rate,
        # in nanoseconds: equal to the duration up to rounding
        if abs(end.total_seconds() - duration) > 1e-6:
            return index
    return audformat.filewise_index(list(files))
