"""`[tool.qsfix]` in the nearest pyproject.toml: `select`, `ignore`, `unsafe`, `exclude`.

Flags on the command line win over the file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Optional



class ConfigError(Exception):
    pass


@dataclass
class Config:
    path: Optional[str] = None
    select: Optional[list[str]] = None
    ignore: list[str] = field(default_factory=list)
    unsafe: bool = False
    exclude: list[str] = field(default_factory=list)
    all_views: bool = False
    keep_names: bool = False


def find_pyproject(start: str) -> Optional[str]:
    current = os.path.abspath(start)
    if os.path.isfile(current):
        current = os.path.dirname(current)
    while True:
        candidate = os.path.join(current, "pyproject.toml")
        if os.path.isfile(candidate):
            return candidate
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


def _codes(value, key: str, path: str) -> list[str]:
    if isinstance(value, str):
        value = [v for v in value.split(",") if v.strip()]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{path}: [tool.qsfix] {key} must be a list of codes")
    return [v.strip().upper() for v in value]


def load_config(start: str = ".") -> Config:
    path = find_pyproject(start)
    if path is None:
        return Config()
    try:  # imported when there is a pyproject.toml to read
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    section = data.get("tool", {}).get("qsfix")
    if section is None:
        return Config(path=None)
    unknown = set(section) - {"select", "ignore", "unsafe", "exclude", "all-views", "all_views", "keep-names", "keep_names"}
    if unknown:
        raise ConfigError(f"{path}: [tool.qsfix] unknown key(s): {', '.join(sorted(unknown))}")
    config = Config(path=path)
    if "select" in section:
        config.select = _codes(section["select"], "select", path)
    if "ignore" in section:
        config.ignore = _codes(section["ignore"], "ignore", path)
    if "unsafe" in section:
        if not isinstance(section["unsafe"], bool):
            raise ConfigError(f"{path}: [tool.qsfix] unsafe must be true or false")
        config.unsafe = section["unsafe"]
    for key, attr in (("all-views", "all_views"), ("all_views", "all_views"),
                      ("keep-names", "keep_names"), ("keep_names", "keep_names")):
        if key in section:
            if not isinstance(section[key], bool):
                raise ConfigError(f"{path}: [tool.qsfix] {key} must be true or false")
            setattr(config, attr, section[key])
    if "exclude" in section:
        exclude = section["exclude"]
        if isinstance(exclude, str):
            exclude = [exclude]
        if not isinstance(exclude, list) or not all(isinstance(v, str) for v in exclude):
            raise ConfigError(f"{path}: [tool.qsfix] exclude must be a list of globs")
        config.exclude = exclude
    return config
