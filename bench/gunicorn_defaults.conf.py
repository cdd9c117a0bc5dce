"""gunicorn settings of the benchmarks: none, gunicorn's own defaults (servers.py sets the rest).

Not the checkout's gunicorn.conf.py: its access log and long timeout are make run's, and rows
must compare across versions.
"""
