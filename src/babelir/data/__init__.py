"""Data: readers for user files (clear errors with file and line), BEIR and TREC formats, packaged sources."""
