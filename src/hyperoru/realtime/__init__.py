"""Real-time delivery: the server-wide event bus and the /ws WebSocket feed (contract §9)."""
