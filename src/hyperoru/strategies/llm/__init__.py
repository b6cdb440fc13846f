"""Language-model clients behind one Protocol: OpenAI-compatible HTTP and the offline
``builtin`` model."""
