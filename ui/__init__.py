"""Qt only: windows, dialogs, table models, background operations. Never imports sqlalchemy or models."""
