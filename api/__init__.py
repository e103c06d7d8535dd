"""The team server's HTTPS API: a thin face over services/, like cli/ (routing, device authentication, JSON)."""

DEFAULT_LISTEN = "127.0.0.1:8443"  # here, not in api.server: the command line's parser reads it at every start
