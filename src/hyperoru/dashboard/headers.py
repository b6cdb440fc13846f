"""Response headers of the dashboard's pages and assets.

The policy allows scripts, styles and connections from this origin only: no inline
script, no ``eval``, no inline ``<style>`` or ``style=`` markup (style changes through the
DOM's CSSOM, which plotly uses, are not inline markup). ``connect-src 'self'`` covers the
same-origin ``ws:``/``wss:`` of ``/ws``."""

from __future__ import annotations

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; manifest-src 'self'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)

_SECURITY = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}

# Pages and our own files change with every release under the same names: revalidate.
PAGE_HEADERS = {**_SECURITY, "Cache-Control": "no-cache"}
# Third-party files are served under a versioned URL, so a browser may keep them.
VERSIONED_HEADERS = {**_SECURITY, "Cache-Control": "public, max-age=31536000, immutable"}
