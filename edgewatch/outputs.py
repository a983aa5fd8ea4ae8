"""Output files: the name a run writes each one under while it runs, and the name it gets when the run ends.

Public API: :func:`partial_path`, :func:`leftovers`, :func:`settle`, :func:`same_file`.

The policy, the same for every backend and every writer (video sinks, events):

- While it runs, a run writes ``NAME.EXT`` as ``NAME.partial-PID.EXT`` in the same folder, so the
  final move is an atomic rename and an older ``NAME.EXT`` is never opened for writing. The mp4 is
  fragmented and the events are flushed line by line, so what a killed run leaves under the partial
  name is readable; the next run that writes the same target names such leftovers in its log.
- When it ends, an output of a run that succeeded (end of stream, ``max-frames``, Ctrl-C/SIGTERM
  after at least one frame) is moved onto ``NAME.EXT``, replacing an older file. An output of a
  failed run never replaces an existing file: it is kept beside it as ``NAME.failed.EXT`` (``NAME.failed-2.EXT``, ... when that is
  taken) and the log says so; with no older file it takes the target's name; a failed output that
  holds nothing is removed.
- No output may be another output or an input: :mod:`edgewatch.config` refuses it at load.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from edgewatch.errors import EdgewatchError


def partial_path(target: Path, pid: int | None = None) -> Path:
    """Where this process (or ``pid``) writes ``target`` until the run ends."""
    return target.with_name(f"{target.stem}.partial-{os.getpid() if pid is None else pid}{target.suffix}")


def leftovers(target: Path) -> list[Path]:
    """Partial files of ``target`` left by runs that are no longer alive (killed, or the machine went down)."""
    pattern = re.compile(rf"{re.escape(target.stem)}\.partial-(\d+){re.escape(target.suffix)}")
    if not target.parent.is_dir():
        return []
    found = []
    for path in sorted(target.parent.iterdir()):
        match = pattern.fullmatch(path.name)
        if match and int(match.group(1)) != os.getpid() and not _alive(int(match.group(1))):
            found.append(path)
    return found


def settle(target: Path, succeeded: bool) -> Path | None:
    """Give this run's partial file of ``target`` its final name (see the module docstring); returns
    that name, or None when the run wrote nothing there (or what a failed run wrote was empty)."""
    partial = partial_path(target)
    if not partial.exists():
        return None
    if not succeeded and partial.stat().st_size == 0:
        partial.unlink()
        return None
    final = target if succeeded or not target.exists() else _free_name(target, "failed")
    try:
        os.replace(partial, final)
    except OSError as exc:
        raise EdgewatchError(f"{partial}: cannot be renamed to {final} ({exc.strerror}); left as it is") from exc
    return final


def same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file: the same path after symlinks, or hard links to one inode."""
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return False


def _free_name(target: Path, tag: str) -> Path:
    """``NAME.tag.EXT``, or ``NAME.tag-N.EXT`` with the first N not taken."""
    candidate, n = target.with_name(f"{target.stem}.{tag}{target.suffix}"), 1
    while candidate.exists():
        n += 1
        candidate = target.with_name(f"{target.stem}.{tag}-{n}{target.suffix}")
    return candidate


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True
