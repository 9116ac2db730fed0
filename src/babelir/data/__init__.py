"""Data: readers for user files (clear errors with file and line), streams, and packaged sources."""
