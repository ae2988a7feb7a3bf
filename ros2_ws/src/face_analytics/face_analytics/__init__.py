"""Store report and offline processing over the face event store."""
