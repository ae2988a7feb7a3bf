"""Anonymous, persistent face IDs: descriptor, gallery and the identity node."""
