"""Refuse functions longer than a reader can hold: code lines, docstring not counted.

Usage: python .ci/function_lines.py [--max N] FILE...
Counts the lines of each function that hold code: its signature and body,
not blank lines, comments or docstrings (of the function and of attributes).
"""

import argparse
import ast
import io
import sys
import tokenize


def code_lines(source: str) -> set[int]:
    """Line numbers that hold code tokens (comments and blank lines excluded)."""
    lines = set()
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT}
    skip |= {tokenize.DEDENT, tokenize.ENDMARKER}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in skip:
            lines.update(range(token.start[0], token.end[0] + 1))
    return lines


def long_functions(path: str, maximum: int) -> list[str]:
    with open(path, encoding="utf-8") as file:
        source = file.read()
    code = code_lines(source)
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        lines = set(range(node.lineno, node.end_lineno + 1)) & code
        # docstrings are not code: the function's and its attributes'
        for statement in ast.walk(node):
            if (
                isinstance(statement, ast.Expr)
                and isinstance(statement.value, ast.Constant)
                and isinstance(statement.value.value, str)
            ):
                lines -= set(range(statement.lineno, statement.end_lineno + 1))
        if len(lines) > maximum:
            name = f"{path}:{node.lineno}: {node.name}"
            found.append(f"{name} has {len(lines)} code lines")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max", type=int, default=80)
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()
    found = [line for path in args.files for line in long_functions(path, args.max)]
    for line in found:
        print(f"{line} (at most {args.max}: split it)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
