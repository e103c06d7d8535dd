"""The pages of the main window (référent and coordination); the administrator's pages live in ui/admin."""
