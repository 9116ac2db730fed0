"""Small shared helpers with no project logic: atomic writes, cache folders, the error family every package
raises (``errors``), how much a process prints (``verbosity``: ``-q``/``--verbose``), optional extras and
sub-command wiring."""
