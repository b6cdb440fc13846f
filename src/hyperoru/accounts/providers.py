"""LLM providers the API knows by name, and their documented default base URLs."""

from __future__ import annotations

BUILTIN_PROVIDER = "builtin"  # served by the server itself: no base URL, no key

DEFAULT_BASE_URLS: dict[str, str] = {
    "openai": "https://api.openai.com/v1",
    "anthropic": "https://api.anthropic.com/v1",
    "google": "https://generativelanguage.googleapis.com/v1beta",
    "deepseek": "https://api.deepseek.com/v1",
    # Reachable only once the operator lists localhost:11434 in HYPERORU_LLM_ALLOWED_HOSTS.
    "ollama": "http://localhost:11434/v1",
}


def default_base_url(provider: str | None) -> str | None:
    return DEFAULT_BASE_URLS.get(provider) if provider else None
