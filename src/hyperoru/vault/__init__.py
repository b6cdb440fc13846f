"""Secrets at rest: LLM API keys and exchange secrets, sealed with AES-256-GCM.

``keys`` loads the master keys, ``cipher`` seals and opens values bound to their row,
``store`` keeps them in the ``vault_secrets`` table, ``rotation`` re-encrypts them all.
"""
