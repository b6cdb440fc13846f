"""The HyperAI assistant: conversations, a model that streams and calls tools acting as the
user, the SSE chat and its polling fallback (docs/ASSISTANT.md)."""
