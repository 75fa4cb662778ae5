"""Local stand-ins for the helpdesk platforms, for end-to-end tests, benchmarks and the demo."""
