r"""Reading YAML that comes from elsewhere: no code, bounded size and aliases."""

from __future__ import annotations

import os
import stat

import yaml
import yaml.composer
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver


MAX_YAML_BYTES = 1024 * 1024
r"""Largest YAML file audemo reads from elsewhere (1 MiB).

Pipelines and ``model.yaml`` files are a few kilobytes;
a larger file is refused before it is parsed.
"""

MAX_YAML_NODES = 100_000
r"""Most values a YAML file from elsewhere may hold or expand to.

Values are counted while the file is parsed,
and parsing stops at the limit.
Aliases (``*name``) repeat a value without repeating its text,
and nested aliases expand exponentially
(a 525-byte file can expand to gigabytes):
the expanded size is counted on the parsed node graph,
without expanding it; a pipeline has a few hundred values.
"""


class _CountingComposer(yaml.composer.Composer):
    r"""PyYAML's composer, stopping once a document holds too many values."""

    max_nodes = MAX_YAML_NODES
    source = "YAML"

    def compose_node(self, parent, index):
        self.nodes = getattr(self, "nodes", 0) + 1
        if self.nodes > self.max_nodes:
            raise ValueError(
                f"{self.source} has more than {self.max_nodes} values: refused."
            )
        return super().compose_node(parent, index)


if yaml.__with_libyaml__:

    class _Loader(_CountingComposer, yaml.cyaml.CParser, SafeConstructor, Resolver):
        r"""Safe loader on libyaml's C parser that counts while it composes."""

        def __init__(self, stream):
            yaml.cyaml.CParser.__init__(self, stream)
            _CountingComposer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)

else:  # pragma: no cover - PyYAML's wheels ship libyaml

    class _Loader(yaml.SafeLoader, _CountingComposer):
        r"""Safe loader in pure Python that counts while it composes."""


def read_yaml_bytes(path: str, *, what: str, max_bytes: int = MAX_YAML_BYTES) -> bytes:
    r"""Read a YAML file once, refusing files beyond :data:`MAX_YAML_BYTES`.

    The bytes are read in one go and returned,
    so that the caller checks and builds from the same content
    (a file swapped or a FIFO between two reads cannot win).

    Args:
        path: file to read
        what: what the file is, for error messages, e.g. ``"Pipeline"``
        max_bytes: largest size accepted

    Returns:
        content of the file

    Raises:
        FileNotFoundError: if ``path`` does not exist
        ValueError: if ``path`` is not a regular file
            or larger than ``max_bytes``

    """
    if not os.path.exists(path):
        raise FileNotFoundError(f"{what} '{path}' does not exist.")
    if not os.path.isfile(path):
        raise ValueError(f"{what} '{path}' is not a regular file.")
    with open(path, "rb") as fp:
        # the path may have been swapped between the check and open
        if not _is_regular(fp):  # pragma: no cover - a race
            raise ValueError(f"{what} '{path}' is not a regular file.")
        data = fp.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ValueError(f"{what} '{path}' is larger than {max_bytes} bytes: refused.")
    return data


def safe_load(
    text: str | bytes,
    *,
    source: str,
    max_bytes: int = MAX_YAML_BYTES,
    max_nodes: int = MAX_YAML_NODES,
) -> object:
    r"""Parse YAML without Python tags and with few aliases.

    Args:
        text: YAML content
        source: what the content is, for error messages,
            e.g. ``"Pipeline '/data/emotion.yaml'"``
        max_bytes: largest size accepted
        max_nodes: most values the content may expand to

    Returns:
        the parsed data (dicts, lists, strings, numbers, booleans, ``None``)

    The content is parsed once,
    by libyaml's C parser where PyYAML has it,
    and the values are counted while it is parsed:
    parsing stops at ``max_nodes`` values
    before the rest is read.

    Raises:
        ValueError: if the content is larger than ``max_bytes``,
            holds more than ``max_nodes`` values,
            expands to more than ``max_nodes`` values
            through aliases,
            or is not plain YAML (e.g. has Python tags)

    Examples:
        >>> safe_load("a: [1, 2]", source="Example")
        {'a': [1, 2]}

    """
    if len(text) > max_bytes:
        raise ValueError(f"{source} is larger than {max_bytes} bytes: refused.")
    loader = _Loader(text)
    loader.source, loader.max_nodes = source, max_nodes
    try:
        # composing keeps an alias as a reference to the same node,
        # so the graph is as small as the text and is counted in linear time
        graph = loader.get_single_node()
        size = _expanded_size(graph, {}, set(), source, max_nodes)
        if size > max_nodes:
            raise ValueError(
                f"{source} expands to more than {max_nodes} values "
                f"through YAML aliases: refused "
                f"(nested aliases can expand to gigabytes)."
            )
        return None if graph is None else loader.construct_document(graph)
    except RecursionError as ex:
        # the composer and the size count recurse once per level of nesting
        raise ValueError(_too_deep(source)) from ex
    except yaml.YAMLError as ex:
        if "maximum nesting depth" in str(ex):  # libyaml stops at 1000 levels
            raise ValueError(_too_deep(source)) from ex
        raise ValueError(
            f"{source} is not plain YAML "
            f"(Python tags are refused): {' '.join(str(ex).split())}"
        ) from ex
    finally:
        loader.dispose()


def _too_deep(source: str) -> str:
    return (
        f"{source} is nested too deeply "
        f"(files audemo writes are a few levels deep): refused."
    )


def _expanded_size(
    node: yaml.Node | None, sizes: dict, visiting: set, source: str, limit: int
) -> int:
    r"""Number of values ``node`` expands to, each shared node counted once."""
    if node is None or isinstance(node, yaml.ScalarNode):
        return 1
    key = id(node)
    if key in sizes:
        return sizes[key]
    if key in visiting:
        raise ValueError(f"{source} has a YAML alias inside its own value: refused.")
    visiting.add(key)
    children = (
        [item for pair in node.value for item in pair]
        if isinstance(node, yaml.MappingNode)
        else node.value
    )
    size = 1
    for child in children:
        size += _expanded_size(child, sizes, visiting, source, limit)
        if size > limit:
            break
    visiting.discard(key)
    sizes[key] = size
    return size


def _is_regular(fp) -> bool:
    return stat.S_ISREG(os.fstat(fp.fileno()).st_mode)
