"""Checks for parsed YAML documents (the behaviours file, scene files): each failure is one
:class:`EdgewatchError` line that names the file and the key, raised at load time.

Public API: :func:`require`, :func:`no_unknown`, :func:`string_list`, :func:`vector`, :func:`number`,
:func:`flag`.
``where`` is the location so far (``"scene.yaml: zones[2]"``); the checks append the key.
"""

from __future__ import annotations

from typing import Any

from edgewatch.errors import EdgewatchError


def require(data: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    """``data[key]``, which must exist and be of ``kind`` (a bool is never taken for a number)."""
    if key not in data:
        raise EdgewatchError(f"{where}: missing key '{key}'")
    value = data[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise EdgewatchError(f"{where}: key '{key}' must be {names}, got {type(value).__name__}")
    return value


def no_unknown(data: dict[str, Any], known: set[str], where: str) -> None:
    """Refuse keys outside ``known`` (a misspelt key must not be silently ignored)."""
    for key in data:
        if key not in known:
            raise EdgewatchError(f"{where}: unknown key '{key}'")


def string_list(value: Any, where: str) -> tuple[str, ...]:
    """A non-empty list of distinct strings."""
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise EdgewatchError(f"{where} must be a non-empty list of strings")
    if len(set(value)) != len(value):
        raise EdgewatchError(f"{where} has duplicates")
    return tuple(value)


def vector(value: Any, where: str, nonzero: bool = True) -> tuple[float, float]:
    """Two numbers ``[x, y]`` (a point, or with ``nonzero`` a direction)."""
    if (not isinstance(value, list) or len(value) != 2
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)):
        raise EdgewatchError(f"{where} must be a list of two numbers")
    if nonzero and value[0] == 0 and value[1] == 0:
        raise EdgewatchError(f"{where} must not be the zero vector")
    return float(value[0]), float(value[1])


def number(data: dict[str, Any], key: str, where: str, positive: bool = True) -> float | None:
    """The optional number ``data[key]`` (None when absent), > 0 when ``positive``."""
    if key not in data:
        return None
    value = float(require(data, key, (int, float), where))
    if positive and not value > 0:
        raise EdgewatchError(f"{where}: key '{key}' must be > 0, got {value:g}")
    return value


def flag(data: dict[str, Any], key: str, where: str, default: bool = False) -> bool:
    """The optional boolean ``data[key]`` (YAML ``true`` / ``false``)."""
    value = data.get(key, default)
    if not isinstance(value, bool):
        raise EdgewatchError(f"{where}: key '{key}' must be true or false, got {type(value).__name__}")
    return value
