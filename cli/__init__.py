"""The command-line verbs. Runs without importing Qt so scripts and CI stay fast."""
