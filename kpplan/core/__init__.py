"""The shared kernel: what every feature needs and no feature owns.

``core`` imports no feature package; every feature may import it. It holds the
declarative base and column helpers (``db``), the unbound extensions, domain errors, the
form and request helpers, the memo of heavy figures, the Process's clock, kept files,
spreadsheets and passwords.
"""
