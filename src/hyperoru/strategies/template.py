"""Prompt templates: literal placeholder substitution, never a format or template engine.

``{name}`` and ``{{name}}`` are both placeholders. Only exact names from the caller's
catalogue are replaced, and only those the template uses are computed. Anything else that
looks like a placeholder — ``{foo}``, ``{x.__class__}``, ``{{7*7}}`` — is left exactly as
written and reported, so user text can never reach attributes or expressions (the hole
``str.format`` and Jinja open on untrusted templates).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

# Placeholder-looking tokens: no braces, whitespace or quotes inside, so JSON examples in
# a prompt ({"operation": "long"}) are plain text, not unknown variables.
_PLACEHOLDER = re.compile(r"\{\{([^{}\s\"']{1,64})\}\}|\{([^{}\s\"']{1,64})\}")

VariableResolver = Callable[[], Awaitable[str]]


@dataclass(frozen=True, slots=True)
class RenderedPrompt:
    rendered: str
    variables_used: tuple[str, ...]
    unknown_variables: tuple[str, ...]


def placeholders(template: str) -> list[str]:
    """Every placeholder-looking token in order of first appearance."""
    seen: dict[str, None] = {}
    for match in _PLACEHOLDER.finditer(template):
        seen.setdefault(match.group(1) or match.group(2), None)
    return list(seen)


async def render(template: str, catalogue: Mapping[str, VariableResolver]) -> RenderedPrompt:
    """Substitute the catalogue's variables that ``template`` uses; each is computed once."""
    names = placeholders(template)
    used = [name for name in names if name in catalogue]
    unknown = tuple(name for name in names if name not in catalogue)
    values = {name: await catalogue[name]() for name in used}

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        return values[name] if name in values else match.group(0)

    return RenderedPrompt(
        rendered=_PLACEHOLDER.sub(substitute, template),
        variables_used=tuple(used),
        unknown_variables=unknown,
    )
