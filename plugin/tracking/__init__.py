"""The desk owning every ticket it receives (受理 → 调派 → 维护 → 跟踪 → 反馈): stale-ticket
escalation, the daily digest per group, known-outage notices, knowledge suggestions.
The settings are `config.py`'s; the pure parts are read by the `tracking` and
`knowledge` steps, the digest is a timer job."""
