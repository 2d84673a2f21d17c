import os

import pytest
from sandbox import run_limited

from audemo.core import safe_yaml


def test_read_yaml_bytes(tmp_path):
    path = tmp_path / "pipeline.yaml"
    path.write_text("a: 1\n")
    assert safe_yaml.read_yaml_bytes(str(path), what="Pipeline") == b"a: 1\n"
    with pytest.raises(FileNotFoundError, match="Pipeline '.*missing.yaml' does"):
        safe_yaml.read_yaml_bytes(str(tmp_path / "missing.yaml"), what="Pipeline")
    with pytest.raises(ValueError, match="is not a regular file"):
        safe_yaml.read_yaml_bytes(str(tmp_path), what="Pipeline")
    fifo = str(tmp_path / "fifo.yaml")
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match="is not a regular file"):
        safe_yaml.read_yaml_bytes(fifo, what="Pipeline")
    path.write_text("a: " + "x" * 100 + "\n")
    with pytest.raises(ValueError, match="larger than 50 bytes"):
        safe_yaml.read_yaml_bytes(str(path), what="Pipeline", max_bytes=50)


def test_safe_load_bounds():
    with pytest.raises(ValueError, match="Header is larger than 10 bytes"):
        safe_yaml.safe_load("a: " + "x" * 20, source="Header", max_bytes=10)
    # a bigger bound lets the caller read bigger files
    assert safe_yaml.safe_load("a: " + "x" * 20, source="Header", max_bytes=100)
    # plain values count one each, lists and mappings one more
    assert safe_yaml.safe_load("[1, 2, 3]", source="List", max_nodes=4) == [1, 2, 3]
    with pytest.raises(ValueError, match=r"^List has more than 3 values: refused\.$"):
        safe_yaml.safe_load("[1, 2, 3]", source="List", max_nodes=3)
    # a shared alias is counted once per use, without expanding it
    text = "a: &a [1, 2]\nb: [*a, *a, *a]\n"
    assert safe_yaml.safe_load(text, source="Aliases")["b"] == [[1, 2]] * 3
    with pytest.raises(ValueError, match="expands to more than 10 values through"):
        safe_yaml.safe_load(text, source="Aliases", max_nodes=10)
    assert safe_yaml.safe_load("", source="Empty") is None
    with pytest.raises(ValueError, match="alias inside its own value"):
        safe_yaml.safe_load("a: &a [*a]", source="Loop")
    # deeper than Python recurses, and deeper than libyaml parses
    for depth in (900, 5000):
        with pytest.raises(ValueError, match="Deep is nested too deeply"):
            safe_yaml.safe_load("[" * depth + "]" * depth, source="Deep")
    with pytest.raises(ValueError, match="Python tags are refused"):
        safe_yaml.safe_load("!!python/object/apply:os.system ['true']", source="Tag")


@pytest.mark.slow
@pytest.mark.subprocess
def test_yaml_bomb_bounded(tmp_path):
    # a billion laughs in a few hundred bytes: refused in a process that
    # would run out of memory if it expanded it
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, 9):
        name, previous = chr(97 + level), chr(96 + level)
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    bomb = "\n".join(lines) + "\n"
    assert len(bomb) < 600
    result = run_limited(
        f"""
        from audemo.core import safe_yaml
        try:
            safe_yaml.safe_load({bomb!r}, source="Bomb")
        except ValueError as ex:
            print(ex)
        """,
        cwd=str(tmp_path),
        memory_mb=1024,
        seconds=30,
    )
    assert "Bomb expands to more than 100000 values" in result.stdout, result.stderr


@pytest.mark.slow
@pytest.mark.subprocess
def test_large_yaml_counted_while_parsed(tmp_path):
    # 1 MiB without aliases: the count says what is wrong, not "aliases";
    # 4 MB of values is refused while it is parsed, in bounded time and memory
    for name, size in [("pipeline", safe_yaml.MAX_YAML_BYTES), ("header", 4_000_000)]:
        lines = ["labels:"]
        while len(lines) * 40 < size:
            i = len(lines)
            lines.append(f"  s{i:07d}: {{age: {i % 90:02d}, name: speaker {i:07d}}}")
        text = "\n".join(lines)[:size]
        assert len(text) == size
        (tmp_path / f"{name}.yaml").write_text(text)
    result = run_limited(
        """
        from audemo.core import safe_yaml
        from audemo.core.database import MAX_HEADER_BYTES
        for name, limits in [
            ("pipeline", {}),
            ("header", {"max_bytes": MAX_HEADER_BYTES, "max_nodes": 100_000}),
        ]:
            text = safe_yaml.read_yaml_bytes(f"{name}.yaml", what=name, **{
                key: value for key, value in limits.items() if key == "max_bytes"
            })
            try:
                safe_yaml.safe_load(text, source=name, **limits)
            except ValueError as ex:
                print(ex)
        """,
        cwd=str(tmp_path),
        memory_mb=1024,
        seconds=60,
    )
    assert result.stdout.splitlines() == [
        "pipeline has more than 100000 values: refused.",
        "header has more than 100000 values: refused.",
    ], result.stderr
