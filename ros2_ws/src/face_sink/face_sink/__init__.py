"""Face event store and the sink node that fills it."""
