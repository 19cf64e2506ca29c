"""Statistics, the timeline and exports."""
