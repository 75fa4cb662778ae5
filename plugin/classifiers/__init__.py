"""Step 900.3: classify a query onto the service catalog and start the right value stream.

Types shared by all (`items`: names, terms, catalog items, decisions) are imported by
`rules`, `catalog`, `value_stream`, `explain` and `step`, none of which imports another
for a type. `catalog` holds the schema and settings; `value_stream` the stream, priority
and major-event logic; `step.classify` combines rules and the learned model and
`explain` words the note. The model: `model` (file, holder), `views` + `select` +
`final` (fitted per data set), `fast` (one ticket), `training`/`commands` (train,
evaluate), `default_model` (the shipped model of the default catalog), `loader` (which
model a worker uses, hot reload), `retrain` + `versions` (learning on its own).
"""
