"""Uploads of code files through the page, run as jobs that outlive their request."""
