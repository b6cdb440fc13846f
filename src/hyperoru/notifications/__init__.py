"""Telegram and Discord notifications: bot configs, preferences, chat bindings, the outbox
written in the transaction of the event it tells about, and its delivery worker."""
