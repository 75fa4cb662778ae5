"""desk-enricher: a webhook service that verifies, classifies, informs and measures
helpdesk tickets and writes the results back into Zammad or Jira Service Management."""

__version__ = "0.1.0"
