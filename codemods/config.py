"""`[tool.qsfix]` in the nearest pyproject.toml: `select`, `ignore`, `unsafe`, `exclude`, and
every option a pass declares (`PassInfo.options`: `all-views`, `keep-names`, ...; `all_views`
is accepted too).

Flags on the command line win over the file. `select`, `ignore` and `exclude` take a list of
strings or one comma-separated string (`select = "QS001,QS002"`), like the flags. Anything
else (an unknown key, a wrong type, an unknown code, `tool.qsfix` that is not a table) is a
`ConfigError` with one line naming the file, the key and what was expected.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field
from typing import Any, Optional

from .options import option_name


class ConfigError(Exception):
    pass


@dataclass
class Config:
    path: Optional[str] = None
    select: Optional[list[str]] = None
    ignore: list[str] = field(default_factory=list)
    unsafe: bool = False
    exclude: list[str] = field(default_factory=list)
    # the passes' options set in the file, by name: {"all-views": True}
    flags: dict[str, bool] = field(default_factory=dict)


# key in the file -> what it holds; any other key must name a pass option
LIST_KEYS = {"select": "codes", "ignore": "codes", "exclude": "globs"}
BOOL_KEYS = {"unsafe": "unsafe"}
CORE_KEYS = ("select", "ignore", "unsafe", "exclude")


def known_keys() -> tuple[str, ...]:
    from . import registry  # imported for a key that is not one of ours: rare

    names = dict.fromkeys(option.name for _, option in registry.pass_options())  # once each
    return (*CORE_KEYS, *names)


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


def type_name(value: Any) -> str:
    """What a TOML value is, in the file's words: `an integer (5)`, `a string ("yes")`."""
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, bool):  # before int: a bool is an int
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, str):
        return f'a string ("{value[:40]}")'
    names = {int: "an integer", float: "a float"}
    name = next((n for t, n in names.items() if isinstance(value, t)), f"a {type(value).__name__}")
    return f"{name} ({str(value)[:40]})"


def _strings(value: Any, key: str, what: str) -> list[str]:
    """A list of strings, or one comma-separated string; empty items are dropped."""
    expected = f"expected a list of {what} or a comma-separated string"
    if isinstance(value, str):
        value = value.split(",")
    elif not isinstance(value, list):
        raise ConfigError(f"{key}: {expected}, got {type_name(value)}")
    for item in value:
        if not isinstance(item, str):
            raise ConfigError(f"{key}: {expected}, got an array holding {type_name(item)}")
    return [item.strip() for item in value if item.strip()]


def _known_codes(codes: list[str], key: str) -> list[str]:
    from . import registry  # the codes only: the passes are not imported

    codes = [code.upper() for code in codes]
    unknown = [code for code in codes if not registry.known(code)]
    if unknown:
        known = ", ".join(sorted(registry.MODULES))
        raise ConfigError(f"{key}: unknown code(s) {', '.join(unknown)} (known: {known})")
    return codes


def _unknown_key(key: str) -> ConfigError:
    keys = known_keys()
    close = difflib.get_close_matches(key, keys, n=1)
    hint = f"did you mean `{close[0]}`? " if close else ""
    return ConfigError(f"{key}: unknown key ({hint}known keys: {', '.join(keys)})")


def _bool(key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{key}: expected true or false, got {type_name(value)}")
    return value


def _is_pass_option(key: str) -> bool:
    from . import registry

    return registry.pass_option(option_name(key)) is not None


def parse_section(section: dict) -> Config:
    """The settings of a `[tool.qsfix]` table; the error names the key, not yet the file."""
    config = Config()
    for key, value in section.items():
        if key in LIST_KEYS:
            items = _strings(value, key, LIST_KEYS[key])
            if key == "exclude":
                config.exclude = items
            else:
                setattr(config, key, _known_codes(items, key))
        elif key in BOOL_KEYS:
            setattr(config, BOOL_KEYS[key], _bool(key, value))
        elif _is_pass_option(key):
            config.flags[option_name(key)] = _bool(key, value)
        else:
            raise _unknown_key(key)
    return config


def shown_path(path: str) -> str:
    """The file as the user would type it: relative when it is under the current folder."""
    relative = os.path.relpath(path)
    return path if relative.startswith(os.pardir) else relative


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
    except (OSError, ValueError) as exc:  # ValueError: TOMLDecodeError, UnicodeDecodeError
        raise ConfigError(f"{shown_path(path)}: cannot read: {exc}") from None
    tool = data.get("tool")
    # `tool` is every tool's table; when it is not one, there is no [tool.qsfix] either
    if not isinstance(tool, dict) or "qsfix" not in tool:
        return Config()
    section = tool["qsfix"]
    if not isinstance(section, dict):  # `tool.qsfix = 5`
        raise ConfigError(
            f"{shown_path(path)}: tool.qsfix: expected a table (a `[tool.qsfix]` section of "
            f"`key = value` lines), got {type_name(section)}"
        )
    try:
        config = parse_section(section)
    except ConfigError as exc:
        raise ConfigError(f"{shown_path(path)}: [tool.qsfix] {exc}") from None
    config.path = path
    return config
