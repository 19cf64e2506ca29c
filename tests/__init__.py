"""kpplan's tests: tests/<feature>/ mirrors kpplan/<feature>/."""
