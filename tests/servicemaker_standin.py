"""STAND-IN for NVIDIA's pyservicemaker (DeepStream 9.x), shaped like its documented metadata API
(``frame_items`` / ``object_items`` iterators, ``acquire_display_meta``, ``osd.Rect`` / ``osd.Text``), so
the pyservicemaker adapter's translation runs on the CPU. Not DeepStream; not hardware verification."""

from __future__ import annotations

import types
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class FontFamily(Enum):
    Serif = 0
    Sans = 1
    Mono = 2


@dataclass
class Color:
    red: float
    green: float
    blue: float
    alpha: float


@dataclass
class Font:
    name: FontFamily = FontFamily.Sans
    size: int = 0
    color: Color | None = None


@dataclass
class Text:
    display_text: bytes = b""
    x_offset: int = 0
    y_offset: int = 0
    font: Font = field(default_factory=Font)
    set_bg_color: bool = False
    bg_color: Color | None = None


@dataclass
class Rect:
    left: int = 0
    top: int = 0
    width: int = 0
    height: int = 0
    border_width: int = 0
    border_color: Color | None = None
    has_bg_color: bool = False
    bg_color: Color | None = None


@dataclass
class Line:
    x1: int = 0
    y1: int = 0
    x2: int = 0
    y2: int = 0
    width: int = 0
    color: Color | None = None


osd = types.SimpleNamespace(FontFamily=FontFamily, Color=Color, Font=Font, Text=Text, Rect=Rect, Line=Line)


@dataclass
class RectParams:
    left: float = 0.0
    top: float = 0.0
    width: float = 0.0
    height: float = 0.0


@dataclass
class ObjectMetadata:
    object_id: int = 0xFFFFFFFFFFFFFFFF
    class_id: int = 0
    confidence: float = 0.0
    rect_params: RectParams = field(default_factory=RectParams)


@dataclass
class DisplayMetadata:
    rects: list[Rect] = field(default_factory=list)
    texts: list[Text] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)

    def add_rect(self, rect: Rect) -> None:
        self.rects.append(rect)

    def add_text(self, text: Text) -> None:
        self.texts.append(text)

    def add_line(self, line: Line) -> None:
        self.lines.append(line)


@dataclass
class FrameMetadata:
    pad_index: int = 0
    frame_number: int = 0
    buffer_pts: int = 0
    objects: list[ObjectMetadata] = field(default_factory=list)
    appended: list[Any] = field(default_factory=list)

    @property
    def object_items(self) -> Iterator[ObjectMetadata]:
        return iter(list(self.objects))

    @property
    def tensor_items(self) -> Iterator[Any]:
        return iter(())

    def append(self, meta: Any) -> None:
        self.appended.append(meta)


@dataclass
class BatchMetadata:
    frames: list[FrameMetadata] = field(default_factory=list)

    @property
    def frame_items(self) -> Iterator[FrameMetadata]:
        return iter(list(self.frames))

    def acquire_display_meta(self) -> DisplayMetadata:
        return DisplayMetadata()

    def acquire_object_meta(self) -> ObjectMetadata:
        return ObjectMetadata()


class BatchMetadataOperator:
    def __init__(self) -> None:
        pass


class Probe:
    def __init__(self, name: str, operator: BatchMetadataOperator) -> None:
        self.name, self.operator = name, operator


class Pipeline:
    def __init__(self, name: str) -> None:
        raise NotImplementedError("the stand-in builds no pipeline")
