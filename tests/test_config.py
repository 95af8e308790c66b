"""Settings are validated at start-up and errors name the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from analytics_pipeline.config import ConfigError, load_settings

VARIABLES = (
    "DATABASE_URL",
    "REDIS_URL",
    "REDIS_STREAM",
    "REDIS_STREAM_MAXLEN",
    "SNAPSHOTS_DIR",
    "ENABLE_SNAPSHOTS",
    "SNAPSHOT_FORMAT",
    "SNAPSHOT_QUALITY",
    "LOG_LEVEL",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_defaults_keep_the_original_names(tmp_path: Path) -> None:
    settings = load_settings(None)
    assert settings.redis_stream == "analytics:events"
    assert settings.enable_snapshots is True
    assert settings.snapshot_format == "png"


def test_environment_values_are_typed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENABLE_SNAPSHOTS", "false")
    monkeypatch.setenv("REDIS_STREAM_MAXLEN", "500")
    monkeypatch.setenv("SNAPSHOTS_DIR", "/srv/snaps")
    settings = load_settings(None)
    assert settings.enable_snapshots is False
    assert settings.redis_stream_maxlen == 500
    assert settings.snapshots_dir == Path("/srv/snaps")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_URL", "mysql://localhost/x"),
        ("REDIS_URL", "http://localhost"),
        ("REDIS_STREAM_MAXLEN", "lots"),
        ("REDIS_STREAM_MAXLEN", "0"),
        ("ENABLE_SNAPSHOTS", "perhaps"),
        ("SNAPSHOT_FORMAT", "gif"),
        ("RETENTION_CAMERA_DAYS", '{"gate": 0}'),
        ("RETENTION_CAMERA_DAYS", "gate=3"),
        ("RETENTION_CRON", "daily"),
        ("RETENTION_CRON", "99 99 * * *"),
        ("REPORT_CRON", "0 25 * * *"),
        ("LOG_FORMAT", "xml"),
        ("DETECTOR_WEIGHTS", "yolov8n.pt"),
        ("OCR_ENGINE", "tesseract"),
    ],
)
def test_a_bad_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=name):
        load_settings(None)


def test_an_unknown_key_in_env_file_is_an_error(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("REDIS_STREAM=x\nSNAPSHOT_DIR=/typo\n")
    with pytest.raises(ConfigError, match="SNAPSHOT_DIR: unknown setting"):
        load_settings(env_file)


def test_env_example_documents_every_setting() -> None:
    example = (Path(__file__).parent.parent / ".env.example").read_text()
    documented = {line.split("=")[0].lstrip("# ") for line in example.splitlines() if "=" in line}
    assert set(VARIABLES) <= documented
    from analytics_pipeline.config import Settings

    assert {name.upper() for name in Settings.model_fields} <= documented


def test_api_keys_are_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_KEYS", " alpha, beta ,,")
    assert load_settings(None).api_key_set == {"alpha", "beta"}
    monkeypatch.delenv("API_KEYS")
    assert load_settings(None).api_key_set == frozenset()


def test_an_empty_variable_means_its_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SNAPSHOT_QUOTA_BYTES", "")
    monkeypatch.setenv("REDIS_STREAM", "")
    settings = load_settings(None)
    assert settings.snapshot_quota_bytes is None
    assert settings.redis_stream == "analytics:events"


def test_a_bare_model_name_is_refused_with_where_to_put_the_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DETECTOR_WEIGHTS", "yolov8n.pt")
    with pytest.raises(ConfigError, match="never downloads at run time") as raised:
        load_settings(None)
    assert "DETECTOR_WEIGHTS" in str(raised.value)


def test_weights_must_be_a_local_pt_or_onnx_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    weights = tmp_path / "model.txt"
    weights.write_text("not weights")
    monkeypatch.setenv("DETECTOR_WEIGHTS", str(weights))
    with pytest.raises(ConfigError, match=r"DETECTOR_WEIGHTS: .*not a \.pt or \.onnx"):
        load_settings(None)
    onnx = weights.rename(tmp_path / "model.onnx")
    monkeypatch.setenv("DETECTOR_WEIGHTS", str(onnx))
    assert load_settings(None).detector_weights == str(onnx)


def test_reading_the_settings_imports_no_pipeline_stage() -> None:
    import subprocess
    import sys

    code = (
        "import sys, analytics_pipeline.config; "
        "print(sorted(m for m in sys.modules if m.startswith('analytics_pipeline')))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert "analyzer" not in loaded and "snapshots" not in loaded
