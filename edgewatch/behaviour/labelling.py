"""Pictures of one track for a person to label by looking: its path on a frame and a strip of crops.

Public API: ``render_tracks(video, sequence, out_dir, track_ids=None, span=None, crops=16)`` writes
``track_<id>.png`` per track and returns the paths. The top panel is the video frame at the middle of
the track (or of ``span``) with the track's foot points joined in time order, coloured from blue
(oldest) to red (newest), a dot and the time in seconds every second, and the first and last box. Below,
``crops`` crops evenly spaced in time, each captioned with its MOT frame number and its time since
the track began; a crop whose box touches the frame edge is captioned ``cut``. Behaviour is per time
span (``track_id,start,end,label`` in frames), so the captions give the frames to write down.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from edgewatch.behaviour.features import cut_sides
from edgewatch.errors import EdgewatchError
from edgewatch.stages.replay import clip_frames
from edgewatch.track.mot import MotSequence

CROP_H, CROP_W = 160, 96  # crop cell, pixels
PANEL_W = 960
PER_ROW = 10
_FONT = cv2.FONT_HERSHEY_SIMPLEX


def _colour(fraction: float) -> tuple[int, int, int]:
    """Blue (0) to red (1), RGB."""
    return int(255 * fraction), 40, int(255 * (1 - fraction))


def _picks(frames: np.ndarray, span: tuple[int, int] | None, crops: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices into the track of the observations in ``span`` and of ``crops`` of them evenly spaced in time."""
    inside = np.flatnonzero((frames >= span[0]) & (frames <= span[1])) if span else np.arange(len(frames))
    if inside.size == 0:
        raise EdgewatchError(f"no observation of the track within frames {span[0]}..{span[1]}")
    wanted = np.linspace(frames[inside[0]], frames[inside[-1]], min(crops, inside.size))
    return inside, np.unique(inside[np.abs(frames[inside][None, :] - wanted[:, None]).argmin(axis=1)])


def _path_panel(image: np.ndarray, frames: np.ndarray, boxes: np.ndarray, fps: float, title: str) -> np.ndarray:
    panel = image.copy()
    foot = np.stack([(boxes[:, 0] + boxes[:, 2]) / 2, boxes[:, 3]], axis=1)
    span = max(int(frames[-1] - frames[0]), 1)
    for i in range(1, len(foot)):
        cv2.line(panel, tuple(int(v) for v in foot[i - 1]), tuple(int(v) for v in foot[i]),
                 _colour((frames[i] - frames[0]) / span), 2, cv2.LINE_AA)
    start = frames[0]
    for i in np.unique(np.searchsorted(frames, np.arange(start, frames[-1] + 1, fps))):
        if i < len(foot):
            point = tuple(int(v) for v in foot[i])
            cv2.circle(panel, point, 3, (255, 255, 255), -1)
            cv2.putText(panel, f"{(frames[i] - start) / fps:.0f}", (point[0] + 4, point[1] - 4), _FONT, 0.4,
                        (255, 255, 0), 1, cv2.LINE_AA)
    for box, colour in ((boxes[0], (0, 255, 0)), (boxes[-1], (255, 0, 0))):
        cv2.rectangle(panel, (int(box[0]), int(box[1])), (int(box[2]), int(box[3])), colour, 2)
    scale = PANEL_W / panel.shape[1]
    panel = cv2.resize(panel, (PANEL_W, int(panel.shape[0] * scale)), interpolation=cv2.INTER_AREA)
    cv2.rectangle(panel, (0, 0), (PANEL_W, 24), (0, 0, 0), -1)
    cv2.putText(panel, title, (6, 17), _FONT, 0.55, (255, 255, 255), 1, cv2.LINE_AA)
    return panel


def _crop(image: np.ndarray, box: np.ndarray, caption: str) -> np.ndarray:
    """The box with 30% context, fitted into one cell, caption below."""
    h, w = image.shape[:2]
    x1, y1, x2, y2 = box
    mx, my = 0.3 * (x2 - x1), 0.15 * (y2 - y1)
    x1, y1 = int(max(0, x1 - mx)), int(max(0, y1 - my))
    x2, y2 = int(min(w, x2 + mx)), int(min(h, y2 + my))
    cell = np.zeros((CROP_H + 18, CROP_W, 3), np.uint8)
    if x2 > x1 and y2 > y1:
        patch = image[y1:y2, x1:x2]
        scale = min(CROP_H / patch.shape[0], CROP_W / patch.shape[1])
        patch = cv2.resize(patch, (max(1, int(patch.shape[1] * scale)), max(1, int(patch.shape[0] * scale))))
        oy, ox = (CROP_H - patch.shape[0]) // 2, (CROP_W - patch.shape[1]) // 2
        cell[oy:oy + patch.shape[0], ox:ox + patch.shape[1]] = patch
    cv2.putText(cell, caption, (2, CROP_H + 13), _FONT, 0.33, (255, 255, 255), 1, cv2.LINE_AA)
    return cell


def _strip(cells: list[np.ndarray]) -> np.ndarray:
    rows = []
    for i in range(0, len(cells), PER_ROW):
        row = cells[i:i + PER_ROW]
        row += [np.zeros_like(cells[0])] * (PER_ROW - len(row))
        rows.append(np.concatenate(row, axis=1))
    strip = np.concatenate(rows, axis=0)
    pad = np.zeros((strip.shape[0], max(0, PANEL_W - strip.shape[1]), 3), np.uint8)
    return np.concatenate([strip, pad], axis=1)[:, :PANEL_W]


def render_tracks(video: Path, sequence: MotSequence, out_dir: Path, track_ids: Sequence[int] | None = None,
                  span: tuple[int, int] | None = None, crops: int = 20) -> list[Path]:
    """One PNG per track (all tracks when ``track_ids`` is None), in one pass over the video."""
    ids = sorted(sequence.tracks) if track_ids is None else list(track_ids)
    missing = [i for i in ids if i not in sequence.tracks]
    if missing:
        raise EdgewatchError(f"tracks {missing} are not in the track file")
    plans = {}
    for track_id in ids:
        frames, boxes = sequence.tracks[track_id]
        inside, picks = _picks(frames, span, crops)
        middle = int(frames[inside[len(inside) // 2]])
        plans[track_id] = (inside, picks, middle)
    needed = {int(sequence.tracks[t][0][i]) for t, (_, picks, _) in plans.items() for i in picks}
    needed |= {middle for _, _, middle in plans.values()}
    images: dict[int, np.ndarray] = {}
    for frame in clip_frames(video):
        if frame.frame_num + 1 in needed:
            assert frame.image is not None
            images[frame.frame_num + 1] = frame.image
        if len(images) == len(needed):
            break
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    fps = sequence.frame_rate
    for track_id, (inside, picks, middle) in plans.items():
        frames, boxes = sequence.tracks[track_id]
        cut = cut_sides(boxes, sequence.size).any(axis=1) if sequence.size else np.zeros(len(frames), bool)
        first = frames[inside[0]]
        title = (f"track {track_id}: frames {first}-{frames[inside[-1]]} "
                 f"({(frames[inside[-1]] - first) / fps:.1f} s at {fps:g} fps), path blue->red, dots every 1 s")
        panel = _path_panel(images[middle], frames[inside], boxes[inside], fps, title)
        cells = [_crop(images[int(frames[i])], boxes[i],
                       f"f{frames[i]} {(frames[i] - first) / fps:.1f}s{' cut' if cut[i] else ''}") for i in picks]
        picture = np.concatenate([panel, _strip(cells)], axis=0)
        path = out_dir / f"track_{track_id}.png"
        cv2.imwrite(str(path), cv2.cvtColor(picture, cv2.COLOR_RGB2BGR))
        paths.append(path)
    return paths
