"""The business rules, and every commit.  A newcomer gets from a URL to its rule in two hops:
the route (``server/routes/<url>.py``), then the service it calls.

Rooms, named like the models:

    roster/       shops (commands; ``listing`` reads), members and codes, change requests,
                  contracts, collection companies, the import, reference data
    records/      purifier cleanings and handover slips (versioned evidence)
    enforcement/  inspections (一店三查), rectification orders, cases
    compliance/   the compliance engine (its front door is the package itself)
    photos/       photo evidence: upload, reuse detection, signed links, clean-up
    people/       accounts and logins, WeChat, invitations, staff lifecycle
    reports/      exports (ledgers and writers) and district statistics
    upkeep/       retention, demo data, health
    scope/        every "may this caller see it": ``get_<thing>_for(user, id)`` or 404
                  (``accounts`` for the staff lifecycle; callers import ``scope`` itself)
    audit.py      the audit trail (entries queued with the change, chained at commit)

The rule for writing: **public service commands commit; helpers only flush.**  A command
(``cleanings.log``, ``handovers.confirm`` ...) takes the caller and ids, loads through
``scope``, checks the caller's permission before the object's state, changes records, queues
an audit entry and commits once; what every commit then does is :mod:`server.commit_pipeline`.
A helper (``photos.attach``, ``rectifications.open_order``) works in its caller's transaction
and never commits.  Routes never touch models.
"""
