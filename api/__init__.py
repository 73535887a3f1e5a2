"""The imperative shell around :mod:`matcher`: the HTTP API (``api.main``, ``api.routes``), the
web console (``api.web``) and the ``volmatch`` command (``api.cli``), calling the use cases
(``api.usecases``) over the running service (``api.live.Live``)."""
