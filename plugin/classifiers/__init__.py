"""Step 900.3: classify a query onto the service catalog and start the right value stream.

`catalog` holds the catalog schema, rules and settings; `value_stream` the value
stream, priority and major-event logic; `step.classify` combines rules and the
learned model (`model`, trained by `training`, driven by `commands`).
"""
