"""The team server's HTTPS API: a thin face over services/, like cli/ (routing, device authentication, JSON)."""
