"""The imperative shell around :mod:`matcher`: the HTTP API (``api.main``, ``api.routes``), the
web console (``api.web``) and the ``volmatch`` command (``api.cli``), over the running service
(``api.service.Live``)."""
