"""The trace every change leaves: who, when, what before and after."""
