r"""onnxruntime glue: session options, sessions, devices and CUDA checks."""

from __future__ import annotations

import re
import typing


if typing.TYPE_CHECKING:  # pragma: no cover - annotations only
    # imported where a session is made or a device checked:
    # `from audemo import Emotion` costs what `import audinterface` does
    import onnxruntime


CPU_ONLY_OPS = frozenset({"DynamicQuantizeLinear", "DynamicQuantizeMatMul"})
r"""Operators of onnxruntime's dynamic quantization: kernels for the CPU only."""

GPU_INSTALL = (
    "pip puts onnxruntime and onnxruntime-gpu into the same folder, "
    "where one overwrites the other: install the GPU build alone with "
    "'pip uninstall -y onnxruntime onnxruntime-gpu && pip install onnxruntime-gpu' "
    "and check that "
    "'python -c \"import onnxruntime; print(onnxruntime.get_available_providers())\"' "
    "lists CUDAExecutionProvider"
)
r"""How to install the GPU build of onnxruntime, for error messages."""

_DEVICE = re.compile(r"cpu|cuda(:[0-9]+)?")


def session_options(
    num_threads: int | None = None,
    *,
    optimize: bool = True,
    memory_pattern: bool = True,
) -> onnxruntime.SessionOptions:
    r"""Session options as audemo uses them.

    onnxruntime logs only errors:
    audemo reports failures itself, with the file name.

    Args:
        num_threads: threads of one operator
            (``intra_op_num_threads``,
            with one thread across operators);
            ``None`` lets onnxruntime decide
        optimize: apply onnxruntime's graph optimizations;
            ``False`` opens a model faster to read its interface
        memory_pattern: let onnxruntime plan memory for the shape it saw first;
            pays only if the input shape does not vary

    Returns:
        options

    Examples:
        >>> options = session_options(2, memory_pattern=False)
        >>> options.intra_op_num_threads, options.enable_mem_pattern
        (2, False)

    """
    import onnxruntime  # see the imports at the top

    options = onnxruntime.SessionOptions()
    if num_threads is not None:
        options.intra_op_num_threads = num_threads
        options.inter_op_num_threads = 1
    options.log_severity_level = 3
    options.enable_mem_pattern = memory_pattern
    if not optimize:
        options.graph_optimization_level = (
            onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
        )
    return options


def cpu_session(
    model: str | bytes, options: onnxruntime.SessionOptions
) -> onnxruntime.InferenceSession:
    r"""Session that runs a model on the CPU.

    Args:
        model: path of an ONNX file, or its bytes
        options: see :func:`session_options`

    Returns:
        session

    Raises:
        Exception: onnxruntime's own exception types
            if the model cannot be opened

    Examples:
        >>> root = audemo.testing.create_model("model")
        >>> session = cpu_session("model/model.onnx", session_options())
        >>> session.get_providers()
        ['CPUExecutionProvider']

    """
    import onnxruntime  # see the imports at the top

    return onnxruntime.InferenceSession(
        model, sess_options=options, providers=["CPUExecutionProvider"]
    )


def small_session(model: str | bytes) -> onnxruntime.InferenceSession:
    r"""Session for a small model run on short inputs, with one thread.

    For models as small as the voice activity detector
    or a categories head,
    threads cost more than they save.

    Args:
        model: path of an ONNX file, or its bytes

    Returns:
        session on the CPU

    Examples:
        >>> root = audemo.testing.create_model("model")
        >>> small_session("model/model.onnx").get_session_options().intra_op_num_threads
        1

    """
    return cpu_session(model, session_options(1))


def check_device(device: str, precision: str = "fp32") -> str:
    r"""Check a device before a model is downloaded or opened.

    ``precision="int8"`` is refused with a GPU:
    the int8 model uses onnxruntime's dynamic quantization,
    whose operators
    (``DynamicQuantizeLinear``, ``MatMulInteger`` on 8-bit unsigned inputs)
    have kernels for the CPU only,
    so onnxruntime would run them on the CPU
    and copy the data between GPU and CPU in every layer.

    Args:
        device: ``"cpu"``, ``"cuda"`` or ``"cuda:<id>"``
        precision: precision of the model

    Returns:
        ``device``

    Raises:
        ValueError: if ``device`` is none of the above
            or ``precision`` is ``"int8"`` and ``device`` a GPU

    Examples:
        >>> check_device("cuda:0")
        'cuda:0'

    """
    if not isinstance(device, str) or not _DEVICE.fullmatch(device):
        raise ValueError(
            f"device must be 'cpu', 'cuda' or 'cuda:<id>' (e.g. 'cuda:0'), "
            f"not {device!r}."
        )
    if precision == "int8" and device != "cpu":
        raise ValueError(int8_on_gpu(device))
    return device


def int8_on_gpu(device: str) -> str:
    r"""Why the int8 model is refused on a GPU.

    Args:
        device: the GPU asked for

    Returns:
        error message

    Examples:
        >>> int8_on_gpu("cuda")[:44]
        "precision='int8' with device='cuda': refused"

    """
    return (
        f"precision='int8' with device='{device}': refused. "
        f"The int8 model uses onnxruntime's dynamic quantization "
        f"(DynamicQuantizeLinear, MatMulInteger), which runs on the CPU only: "
        f"onnxruntime would move these nodes to the CPU "
        f"and copy data between GPU and CPU in every layer. "
        f"Use precision='fp32' on a GPU, or precision='int8' with device='cpu'."
    )


def refuse_cpu_only_ops(path: str, device: str):
    r"""Refuse a dynamically quantized model on a GPU.

    Parses the ONNX file,
    which costs about a second for the full model:
    call it for a GPU only.
    A file that is not ONNX passes:
    onnxruntime reports it when it opens the file.

    Args:
        path: ONNX file
        device: the GPU asked for

    Raises:
        ValueError: if the model has operators of :data:`CPU_ONLY_OPS`

    Examples:
        >>> root = audemo.testing.create_model("model")
        >>> refuse_cpu_only_ops("model/model.onnx", "cuda")

    """
    # onnx takes 0.5 s to import (ml_dtypes): only where a file is parsed
    import onnx

    try:
        proto = onnx.load(path, load_external_data=False)
        ops = {node.op_type for node in proto.graph.node}
    except Exception:  # not ONNX: onnxruntime reports it
        ops = set()
    if ops & CPU_ONLY_OPS:
        raise ValueError(f"'{path}': {int8_on_gpu(device)}")


def require_cuda(device: str, root: str, active: list[str] | None = None):
    r"""Refuse to run on the CPU a model that should run on CUDA.

    onnxruntime falls back to the CPU with no more than a warning,
    both when its build has no CUDA
    and when CUDA or cuDNN libraries are missing.

    Args:
        device: the GPU asked for
        root: model folder, for error messages
        active: providers of the session;
            ``None`` checks the providers onnxruntime has
            before a session is made

    Raises:
        RuntimeError: if CUDA is not available, or not active

    Examples:
        >>> require_cuda("cuda", "model", ["CUDAExecutionProvider"])

    """
    import onnxruntime  # see the imports at the top

    available = onnxruntime.get_available_providers()
    if "CUDAExecutionProvider" in (available if active is None else active):
        return
    if active is None:
        problem = (
            f"the installed onnxruntime {onnxruntime.__version__} "
            f"has no CUDA support (providers: {available})"
        )
    else:
        problem = (
            f"onnxruntime {onnxruntime.__version__} could not start CUDA "
            f"for the model in '{root}' (it runs on {active}); "
            f"onnxruntime-gpu needs a visible GPU (nvidia-smi) "
            f"and the CUDA and cuDNN versions it was built for"
        )
    raise RuntimeError(
        f"device='{device}' asks for CUDA, but {problem}: "
        f"the model would run on the CPU. {GPU_INSTALL}, "
        f"or pass device='cpu'."
    )
