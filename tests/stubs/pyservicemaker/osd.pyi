# STAND-IN: see __init__.pyi (transcribed from NVIDIA's pyservicemaker osd module reference).
from enum import Enum

class FontFamily(Enum):
    Serif = 0
    Sans = 1
    Mono = 2

class Color:
    def __init__(self, red: float, green: float, blue: float, alpha: float) -> None: ...

class Font:
    name: FontFamily
    size: int
    color: Color

class Text:
    display_text: bytes
    x_offset: int
    y_offset: int
    font: Font
    set_bg_color: bool
    bg_color: Color
    def __init__(self) -> None: ...

class Line:  # DisplayMetadata.add_line's argument, as public pyservicemaker code uses it
    x1: int
    y1: int
    x2: int
    y2: int
    width: int
    color: Color
    def __init__(self) -> None: ...

class Rect:
    left: int
    top: int
    width: int
    height: int
    border_width: int
    border_color: Color
    has_bg_color: bool
    bg_color: Color
    def __init__(self) -> None: ...
