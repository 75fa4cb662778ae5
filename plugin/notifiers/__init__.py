"""Everything that tells someone something: message templates and channels."""
