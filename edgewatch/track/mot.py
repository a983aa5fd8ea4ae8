"""MOT-format track files: ``frame,id,x,y,w,h,conf,-1,-1,-1`` rows (1-based frames), and ``seqinfo.ini``.

Public API: :class:`MotSequence` (tracks of one clip with its frame rate and frame size),
:func:`read_mot`, :func:`write_mot`.

The frame rate and frame size come from the ``seqinfo.ini`` beside the file (the MOTChallenge
layout: ``[Sequence] frameRate, imWidth, imHeight``) when there is one, else from the caller: frames
become seconds through the real frame rate, and the frame size says which boxes the frame edge cut.
"""

from __future__ import annotations

import configparser
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgewatch.errors import EdgewatchError

SEQINFO = "seqinfo.ini"


@dataclass(frozen=True)
class MotSequence:
    """``tracks``: id -> (frames [T] 1-based ints, boxes [T, 4] xyxy px), each in frame order."""

    tracks: dict[int, tuple[np.ndarray, np.ndarray]]
    frame_rate: float
    size: tuple[int, int] | None  # (width, height) of the frames, None when unknown

    def times(self, track_id: int) -> np.ndarray:
        """The track's time stamps in seconds (frame 1 is t = 0)."""
        return (self.tracks[track_id][0] - 1) / self.frame_rate

    def boxes(self, track_id: int) -> np.ndarray:
        """The track's boxes ``[T, 4]`` xyxy."""
        return self.tracks[track_id][1]


def _seqinfo(path: Path) -> tuple[float | None, tuple[int, int] | None]:
    info = path.parent / SEQINFO
    if not info.is_file():
        return None, None
    parser = configparser.ConfigParser()
    parser.read(info, encoding="utf-8")
    if "Sequence" not in parser:
        raise EdgewatchError(f"{info}: missing section [Sequence]")
    seq = parser["Sequence"]
    try:
        rate = float(seq["frameRate"]) if "frameRate" in seq else None
        size = (int(seq["imWidth"]), int(seq["imHeight"])) if "imWidth" in seq and "imHeight" in seq else None
    except ValueError as exc:
        raise EdgewatchError(f"{info}: [Sequence] frameRate/imWidth/imHeight must be numbers ({exc})") from None
    if rate is not None and rate <= 0:
        raise EdgewatchError(f"{info}: [Sequence] frameRate must be > 0")
    return rate, size


def read_mot(path: Path, frame_rate: float, size: tuple[int, int] | None = None) -> MotSequence:
    """Read MOT rows; ``frame_rate`` and ``size`` are used where no ``seqinfo.ini`` says otherwise."""
    path = Path(path)
    try:
        table = np.loadtxt(path, delimiter=",", ndmin=2)
    except ValueError as exc:
        raise EdgewatchError(f"{path}: not a MOT text file ({exc})") from None
    if table.size and table.shape[1] < 6:
        raise EdgewatchError(f"{path}: MOT rows need at least frame,id,x,y,w,h")
    info_rate, info_size = _seqinfo(path)
    tracks = {}
    for track_id in np.unique(table[:, 1]).astype(int) if table.size else []:
        track = table[table[:, 1] == track_id]
        track = track[np.argsort(track[:, 0], kind="stable")]
        boxes = np.concatenate([track[:, 2:4], track[:, 2:4] + track[:, 4:6]], axis=1)
        tracks[int(track_id)] = (track[:, 0].astype(np.int64), boxes)
    return MotSequence(tracks, info_rate or frame_rate, info_size or size)


def write_mot(path: Path, rows: list[tuple[int, int, np.ndarray, float]], frame_rate: float,
              size: tuple[int, int], name: str) -> Path:
    """Write ``(frame 1-based, track id, box xyxy, score)`` rows and the ``seqinfo.ini`` beside them."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"{f},{i},{b[0]:.1f},{b[1]:.1f},{b[2] - b[0]:.1f},{b[3] - b[1]:.1f},{s:.3f},-1,-1,-1"
             for f, i, b, s in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    frames = max((r[0] for r in rows), default=0)
    (path.parent / SEQINFO).write_text(
        f"[Sequence]\nname={name}\nframeRate={frame_rate:g}\nseqLength={frames}\n"
        f"imWidth={size[0]}\nimHeight={size[1]}\n", encoding="utf-8")
    return path
