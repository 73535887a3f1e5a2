"""The imperative shell around :mod:`matcher`: the command line now, the HTTP API next."""
