"""Shadow mode's tools before go-live: the backfill (history replayed through the
pipeline, each ticket as it arrived) and the what-if report (what the plugin decided
beside what agents finally did).

    reads.py      the backfill's REST clients: paced, 429 Retry-After honoured, one read per ticket
    listing.py    tickets created in a period, per platform, with a resumable cursor
    answers.py    what agents finally did, read from the same listing, kept in the ledger
    backfill.py   the run: position, progress, each ticket once
    report.py     the figures; render.py the HTML, JSON and CSV
    commands.py   `desk-enricher backfill` and `desk-enricher shadow-report`
"""
