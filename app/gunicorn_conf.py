"""gunicorn settings of Tollgate as it runs in production: ``tollgate serve`` and the soak
(bench/soak/run.py) both start gunicorn with ``--config`` and this file's path; the command
line adds the address, the worker count and the logs."""

# Threads, not processes per connection: a long-lived server-sent-event stream (the alert
# bell) must not pin a whole worker.
worker_class = "gthread"
threads = 8

# Seconds an idle kept-alive connection stays open: longer than the gap between requests of
# a client that reuses its connection (the soak's users wait 0.5-2 s). At gunicorn's default
# of 2 s, a request sent just as the server closes the idle connection is reset unanswered -
# the keep-alive race, about 2 requests in 1,000 at a 2 s gap (bench/README.md, soak), and the
# cause of the rare PostgreSQL soak failure of session 4.
keepalive = 5

# gunicorn's control interface (gunicornc) is not used; its one default socket path in the
# home directory would be shared by every instance on the machine (tests, soak, make run).
control_socket_disable = True
