"""ultralytics' own loop on a clip, timed: ``track`` (its ByteTrack) or ``predict``; one JSON line out.

Runs as a script inside the ultralytics environment (``.venv-train``: CUDA builds of torch and
torchvision, which run on the CPU too; see pyproject's ``bench`` extra), so it imports nothing from
edgewatch. The first frame carries ultralytics' set-up (model fuse, warm-up, writer creation) and is
left out of the rate, as edgewatch's run summary leaves model loading out of its fps.

ultralytics sets torch's thread count itself when it selects the CPU (to ``cpu_count - 1``: one thread
on a 2-core machine), so the thread budget asked for is set again once its set-up has run.
"""

from __future__ import annotations

import argparse
import json
import os
import time


def network_input(model: object, frame: object) -> list[int]:
    """The (h, w) a frame is letterboxed to before inference: ultralytics' own letterbox as its predictor
    sets it up for a ``.pt`` on video (minimal padding to a multiple of the stride: 384x288 for 4:3 at 384)."""
    from ultralytics.data.augment import LetterBox

    predictor = model.predictor  # type: ignore[attr-defined]
    letterbox = LetterBox(predictor.imgsz, auto=True, stride=predictor.model.stride)
    return list(letterbox(image=frame).shape[:2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", required=True)
    parser.add_argument("--source", required=True)
    parser.add_argument("--mode", choices=("track", "predict"), required=True)
    parser.add_argument("--frames", type=int, required=True)
    parser.add_argument("--threads", type=int, required=True, help="torch intra-op threads (0: ultralytics' own choice)")
    parser.add_argument("--imgsz", type=int, required=True)
    parser.add_argument("--conf", type=float, required=True)
    parser.add_argument("--iou", type=float, required=True)
    parser.add_argument("--max-det", type=int, required=True)
    parser.add_argument("--save", action="store_true", help="write the drawn video, as ultralytics' save=True")
    parser.add_argument("--out", required=True, help="ultralytics' project folder")
    args = parser.parse_args()

    import torch
    import ultralytics
    from ultralytics import YOLO

    if args.threads:
        torch.set_num_threads(args.threads)
    model = YOLO(args.weights)
    options = {"source": args.source, "stream": True, "imgsz": args.imgsz, "conf": args.conf, "iou": args.iou,
               "max_det": args.max_det, "device": "cpu", "verbose": False, "save": args.save,
               "project": args.out, "name": args.mode, "exist_ok": True}
    results = model.track(tracker="bytetrack.yaml", persist=True, **options) if args.mode == "track" else model.predict(**options)
    frames, first, now, chosen, input_hw = 0, 0.0, 0.0, 0, [0, 0]
    speed = {"preprocess": 0.0, "inference": 0.0, "postprocess": 0.0}
    for result in results:
        frames += 1
        now = time.perf_counter()
        if frames == 1:
            chosen = torch.get_num_threads()  # what ultralytics picked
            torch.set_num_threads(args.threads or chosen)
            input_hw = network_input(model, result.orig_img)
            first = time.perf_counter()
        else:
            for key in speed:
                speed[key] += result.speed.get(key) or 0.0
        if frames >= args.frames:
            break
    timed = frames - 1
    print(json.dumps({
        "mode": args.mode, "save": args.save, "frames": frames, "timed_frames": timed,
        "fps": round(timed / (now - first), 2) if timed else 0.0,
        "speed_ms": {k: round(v / max(timed, 1), 2) for k, v in speed.items()},
        "threads": torch.get_num_threads(), "ultralytics_default_threads": chosen, "torch": torch.__version__, "ultralytics": ultralytics.__version__,
        "cpu_count": os.cpu_count(), "input_hw": input_hw,
    }), flush=True)


if __name__ == "__main__":
    main()
