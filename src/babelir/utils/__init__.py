"""Small shared helpers with no project logic: atomic writes, cache folders."""
