"""Chairmanships of the Process and their work plans."""
