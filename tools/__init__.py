"""Developer tools (not installed with okenv)."""
