r"""Run attack code in a separate Python process with memory and time limits.

Attack tests (code execution, YAML bombs, header-driven work) must not take
the test session down when a defence fails: each runs its code here,
in a child process limited in address space and CPU time,
and reports what happened through a marker file and its output.

"""

import os
import resource
import subprocess
import sys
import textwrap


def run_limited(
    code: str,
    *,
    cwd: str,
    memory_mb: int = 4096,
    seconds: int = 120,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess:
    r"""Run Python ``code`` in a child process with limits.

    Args:
        code: Python source, dedented before it runs
        cwd: working folder of the child
        memory_mb: limit of the child's address space
        seconds: limit of the child's CPU time and of the wall-clock time
        env: further environment variables

    Returns:
        the finished process with ``stdout`` and ``stderr`` as text

    """

    def limit():  # runs in the child before Python starts
        memory = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds))

    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        preexec_fn=limit,
        capture_output=True,
        text=True,
        timeout=seconds + 30,
    )
