"""A small YAML file a person wrote (a countermeasure catalogue, a disruption scenario), read as plain data.

Safe YAML only (no tags beyond YAML's own), no aliases (``&a`` / ``*a``: a few lines of them expand to gigabytes),
at most a megabyte, UTF-8: anything else is the caller's error class with a message naming the file, never a
traceback. (The run's parameter files are read by :func:`soe_lib.run.parameters.read_yaml`, which says where in
the run's parameters a fault is.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

__all__ = ["read_yaml_file"]

MAX_BYTES = 1 << 20  # a catalogue or a scenario is a few kilobytes


def read_yaml_file(path: str | Path, what: str, error: type[Exception]) -> Any:
    """The data in ``path``, or ``error(f"{path}: ...")`` saying what is wrong (``what``: "countermeasure
    catalogue", "scenario": what the file was meant to be)."""
    path = Path(path)
    try:
        raw = path.read_bytes()[: MAX_BYTES + 1]
        text = raw.decode("utf-8-sig")
        if len(raw) > MAX_BYTES or "\x00" in text:
            raise error(f"{path}: not a {what} (a YAML file of a few kilobytes)")
        if any(isinstance(e, yaml.AliasEvent) for e in yaml.parse(text, Loader=yaml.SafeLoader)):
            raise error(f"{path}: YAML aliases (*name) are not accepted; write each value out")
        return yaml.safe_load(text)
    except error:
        raise
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        why = getattr(exc, "strerror", None) or (str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__)
        raise error(f"{path}: cannot read the {what} ({why})") from None
