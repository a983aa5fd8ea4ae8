"""Secrets out of every output: URL user info, credential-looking parameters, and any value a config
key declared secret, in text and in JSON-ready values (the summary, event records)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from edgewatch import config, redact
from edgewatch.config import setting
from edgewatch.errors import EdgewatchError


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("rtsp://admin:hunter2@10.0.0.5:554/live", "rtsp://***@10.0.0.5:554/live"),
        ("source0 (rtsps://cam@host/x): stream dropped", "source0 (rtsps://***@host/x): stream dropped"),
        ("http://u:p%40ss@h/a and rtsp://v:w@k/b", "http://***@h/a and rtsp://***@k/b"),
        ("rtsp://host/stream?user=admin&password=hunter2&ch=1", "rtsp://host/stream?user=admin&password=***&ch=1"),
        ("setting user-pw=abc; token: xyz", "setting user-pw=***; token: ***"),
        ("rtsp://10.0.0.5:554/live (no credentials)", "rtsp://10.0.0.5:554/live (no credentials)"),
        (
            "/data/clip.mp4: frame size changed from 320x240 to 160x120",
            "/data/clip.mp4: frame size changed from 320x240 to 160x120",
        ),
    ],
)
def test_user_info_and_credential_parameters_are_masked(text: str, shown: str) -> None:
    assert redact.redact(text) == shown


def test_remembered_secrets_are_masked_anywhere_also_percent_decoded() -> None:
    redact.remember_url("rtsp://viewer:s3cr%21t-pw@cam.local/1")
    assert redact.redact("auth failed for s3cr!t-pw and s3cr%21t-pw") == "auth failed for *** and ***"
    record = {"uri": "rtsp://viewer:s3cr%21t-pw@cam.local/1", "note": ["s3cr!t-pw"], "frame": 12, "score": 0.5}
    assert redact.redact(record) == {"uri": "rtsp://***@cam.local/1", "note": ["***"], "frame": 12, "score": 0.5}


def test_a_config_key_declared_secret_is_remembered_and_never_echoed(tmp_path: Path) -> None:
    """The way a future credential key is added: ``setting(..., secret=True)``."""

    @dataclass(frozen=True)
    class CameraLogin:
        password: str | None = setting(None, secret=True)
        retries: int = setting(1, ge=0)

    section = config._read_section(CameraLogin, {"password": "correct-horse"}, tmp_path, "camera", "app.txt: [camera]")
    assert section.password == "correct-horse"
    assert redact.redact("login with correct-horse failed") == "login with *** failed"
    with pytest.raises(EdgewatchError) as err:
        config._read_section(CameraLogin, {"password": "x", "retries": "-1"}, tmp_path, "camera", "app.txt: [camera]")
    assert "expected an int >= 0, got '-1'" in str(err.value)
