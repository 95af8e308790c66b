"""onnxruntime session options shared by the analyzer's models (CenterNet, PP-OCR, YOLO
``.onnx`` weights)."""

from __future__ import annotations

import onnxruntime as ort


def quiet_session_options(threads: int) -> ort.SessionOptions:
    """Options for a session that shares a few cores with other work: ``threads`` intra-op
    threads that sleep when idle instead of spinning, every graph optimisation, errors only.

    Spinning pool threads burn the cores the analyzer's other threads need (decoding, motion,
    other cameras): it doubled the CPU of a CenterNet frame on a busy 2-core machine (76
    against 37 ms) and of a PP-OCR text detection (50 against 27 ms)."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    return options


def quiet_copy(session: ort.InferenceSession, threads: int) -> ort.InferenceSession:
    """``session``'s model loaded again with :func:`quiet_session_options` (its memory arena
    setting, its providers and their options kept): for sessions a library builds with
    onnxruntime's defaults (RapidOCR, ultralytics), whose spinning pool threads burn the
    cores other cameras need."""
    options = quiet_session_options(threads)
    options.enable_cpu_mem_arena = session.get_session_options().enable_cpu_mem_arena
    providers = session.get_providers()
    provider_options = session.get_provider_options()
    return ort.InferenceSession(
        session._model_path,  # both libraries (pinned) load from a file and keep no other handle
        sess_options=options,
        providers=providers,
        provider_options=[provider_options.get(name, {}) for name in providers],
    )
