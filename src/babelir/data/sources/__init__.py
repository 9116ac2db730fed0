"""Real text read at run time from installed packages (never copied into the repository)."""
