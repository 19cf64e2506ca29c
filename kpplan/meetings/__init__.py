"""Activities of the Process: planned, hosted, held and recorded."""
