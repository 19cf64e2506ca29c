"""The home page, the health check, error pages and the headers every response carries."""
