"""The use cases: what routes, console pages and the CLI ask of the service, one module each.
They are the only code that touches the store and the index (through :class:`api.live.Live`),
so the API, the console and the CLI answer alike.

- :mod:`~api.usecases.recommend`: recommendations both ways, postings near a place;
- :mod:`~api.usecases.records`: volunteers and activities, documents in and out, consent;
- :mod:`~api.usecases.places`: sign-ups, invitations, offers, check-in, rosters;
- :mod:`~api.usecases.hours`: approved hours, corrections, reported hours, the ledger;
- :mod:`~api.usecases.demand`: needs, gaps, suggested projects, open postings;
- :mod:`~api.usecases.allocations`: campaign and emergency plans;
- :mod:`~api.usecases.learning`: outcomes reported, models, the active model;
- :mod:`~api.usecases.accounts`: accounts and their language;
- :mod:`~api.usecases.audit`: the audit log, the store's counts;
- :mod:`~api.usecases.notifications`: a volunteer's inbox; :mod:`~api.usecases.dispatch`:
  sending the outbox through the configured channels (e-mail);
- :mod:`~api.usecases.setup`: documents and the demo city written to a store.
"""
