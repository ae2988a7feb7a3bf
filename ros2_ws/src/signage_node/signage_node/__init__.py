"""Signage: the offer for the person in front of a camera's screen, chosen by rules in a YAML file."""
