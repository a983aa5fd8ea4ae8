"""``edgewatch nvdsanalytics``: write the sources' scenes as an nvdsanalytics config file."""

from __future__ import annotations

import argparse
from pathlib import Path

from edgewatch.errors import EdgewatchError


def nvdsanalytics_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-c", "--config", required=True, type=Path, help="app config whose [sourceN] scene= files to write")
    parser.add_argument("--out", required=True, type=Path, metavar="FILE.txt", help="the nvdsanalytics config to write")


def nvdsanalytics_main(args: argparse.Namespace) -> int:
    """Load the config (scenes validated as for a run), write the plugin's config, say where."""
    from edgewatch.config import load_config
    from edgewatch.detect.detector import detector_class_names
    from edgewatch.scene.nvdsanalytics import nvdsanalytics_config

    config = load_config(args.config)
    scenes = config.scenes
    if not scenes:
        raise EdgewatchError(f"{config.path}: no [sourceN] has a scene= file: nothing to write")
    width, height = config.streammux.width, config.streammux.height
    if not width:
        sizes = {s.frame_size for s in scenes.values()}
        only = sizes.pop() if len(sizes) == 1 else None
        if only is None:
            raise EdgewatchError(f"{config.path}: set [streammux] width and height (the scenes do not all give "
                                 "one frame-size): nvdsanalytics needs the frame size its coordinates refer to")
        width, height = only
    text = nvdsanalytics_config(scenes, width, height, detector_class_names(config.detector))
    out = args.out.resolve()
    inputs = {config.path.resolve(), *(Path(s.source).resolve() for s in scenes.values())}
    if out in inputs:
        raise EdgewatchError(f"{args.out}: is one of the inputs; choose another --out")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out} ({len(scenes)} stream(s), {width}x{height})")
    return 0
