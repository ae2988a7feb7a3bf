"""Shared face records and image helpers for the storefront face-analytics graph."""
