"""The program sandbox. ``policy``, ``program_api`` and ``runner`` run inside the child
process and use the standard library only; ``launcher`` is the server's side."""
