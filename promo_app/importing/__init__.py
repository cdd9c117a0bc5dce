"""Importing codes: the engine that writes them in batches, its report, and the files it reads."""
