"""A pass's page, as `qsfix explain` prints it, SARIF carries it and docs/rules/ holds it:
rendered from the pass's declaration only (ruff's rule pages are the model)."""

from __future__ import annotations


def explain_markdown(info) -> str:
    example = info.example
    refs = "\n".join(f"- {r}" for r in info.references)
    # a pass that only reports (no fix) has no "Use instead"
    instead = "" if example.after is None else f"## Use instead\n```python\n{example.after_code}```\n\n"
    return (
        f"# {info.code} {info.name}\n\n{info.summary}\n\n"
        f"## What it does\n{info.what}\n\n## Why is this bad?\n{info.why}\n\n"
        f"## Example\n```python\n{example.before_code}```\n\n"
        f"{instead}"
        f"## Fix safety\n{info.fix_safety}\n\n{_options_section(info)}## References\n{refs}\n"
    )


def _options_section(info) -> str:
    """Its own options (`PassInfo.options`), each as a flag and a `[tool.qsfix]` key."""
    if not info.options:
        return ""
    rows = "\n".join(
        f"- `--{o.name}` (`{o.name} = {str(not o.default).lower()}` in `[tool.qsfix]`): {o.help}"
        f" (default: {'on' if o.default else 'off'})"
        for o in info.options
    )
    return f"## Options\n{rows}\n\n"
