"""Offline laptops that sync with the team server (issue 11): the laptop side (outbox, client) and the server side."""
