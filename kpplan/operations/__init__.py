"""Running kpplan: backups and restores (the `flask --app wsgi kpplan backup/restore` commands)."""
