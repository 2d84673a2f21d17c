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
    "Categories": "audemo.core.categories.categorical",
    "CategoryEvaluation": "audemo.core.categories.evaluation",
    "evaluate_categories": "audemo.core.categories.evaluation",
    "save_categories": "audemo.core.categories.export",
    "train_categories": "audemo.core.categories.training",
    "compare_precision": "audemo.core.compare",
    "normalize_per_speaker": "audemo.core.conversation.speakers",
    "process_turns": "audemo.core.conversation.speakers",
    "speaker_summary": "audemo.core.conversation.speakers",
    "to_database": "audemo.core.database",
    "Diarization": "audemo.core.conversation.diarization",
    "Emotion": "audemo.core.emotion",
    "METRICS": "audemo.core.evaluation",
    "Evaluation": "audemo.core.evaluation",
    "ScaleWarning": "audemo.core.evaluation",
    "evaluate": "audemo.core.evaluation",
    "MODELS": "audemo.core.model.api",
    "download_model": "audemo.core.model.api",
    "load_model": "audemo.core.model.api",
    "load_pipeline": "audemo.core.pipeline",
    "write_report": "audemo.core.report",
    "PERTURBATIONS": "audemo.core.robustness",
    "RobustnessResult": "audemo.core.robustness",
    "perturb": "audemo.core.robustness",
    "robustness": "audemo.core.robustness",
    "VoiceActivity": "audemo.core.segment",
    "Stream": "audemo.core.live.stream",
    "assign_speakers": "audemo.core.conversation.transcript",
    "process_transcript": "audemo.core.conversation.transcript",
    "read_transcript": "audemo.core.conversation.transcript",
    "Transcription": "audemo.core.conversation.transcription",
    "check_turns": "audemo.core.conversation.turns",
    "exclude_overlap": "audemo.core.conversation.turns",
    "overlap_mask": "audemo.core.conversation.turns",
    "read_rttm": "audemo.core.conversation.turns",
    "turns_from_annotation": "audemo.core.conversation.turns",
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
