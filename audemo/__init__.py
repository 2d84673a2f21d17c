r"""Dimensional speech emotion recognition for audEERING's audio toolkit."""

import importlib


# Public names and the modules that define them.
# They are imported on first use (PEP 562 ``__getattr__``),
# so that ``import audemo`` and the ``audemo`` command
# do not pay for pandas, onnxruntime, onnx or matplotlib before they need them
_PUBLIC = {
    "plot": "audemo.plot",
    "testing": "audemo.testing",
    "Calibration": "audemo.core.calibration",
    "Categories": "audemo.core.categorical",
    "CategoryEvaluation": "audemo.core.categories_evaluation",
    "evaluate_categories": "audemo.core.categories_evaluation",
    "save_categories": "audemo.core.categories_export",
    "train_categories": "audemo.core.categories_training",
    "compare_precision": "audemo.core.compare",
    "normalize_per_speaker": "audemo.core.conversation",
    "process_turns": "audemo.core.conversation",
    "speaker_summary": "audemo.core.conversation",
    "to_database": "audemo.core.database",
    "Diarization": "audemo.core.diarization",
    "Emotion": "audemo.core.emotion",
    "METRICS": "audemo.core.evaluation",
    "Evaluation": "audemo.core.evaluation",
    "ScaleWarning": "audemo.core.evaluation",
    "evaluate": "audemo.core.evaluation",
    "MODELS": "audemo.core.model",
    "download_model": "audemo.core.model",
    "load_model": "audemo.core.model",
    "load_pipeline": "audemo.core.pipeline",
    "write_report": "audemo.core.report",
    "PERTURBATIONS": "audemo.core.robustness",
    "RobustnessResult": "audemo.core.robustness",
    "perturb": "audemo.core.robustness",
    "robustness": "audemo.core.robustness",
    "VoiceActivity": "audemo.core.segment",
    "Stream": "audemo.core.stream",
    "assign_speakers": "audemo.core.transcript",
    "process_transcript": "audemo.core.transcript",
    "read_transcript": "audemo.core.transcript",
    "Transcription": "audemo.core.transcription",
    "check_turns": "audemo.core.turns",
    "exclude_overlap": "audemo.core.turns",
    "overlap_mask": "audemo.core.turns",
    "read_rttm": "audemo.core.turns",
    "turns_from_annotation": "audemo.core.turns",
}


def __getattr__(name: str):
    r"""Import a public name on first use."""
    try:
        module = _PUBLIC[name]
    except KeyError:
        raise AttributeError(f"module 'audemo' has no attribute '{name}'") from None
    module = importlib.import_module(module)
    value = module if module.__name__ == f"audemo.{name}" else getattr(module, name)
    globals()[name] = value  # later look-ups are plain attribute reads
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))


__all__ = []


# from the core, so that core modules never import the package root
from audemo.core.utils import version as _version  # noqa: E402


__version__ = _version()
del _version
