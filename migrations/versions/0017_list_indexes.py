"""Lists read from indexes: the meeting date kept on each recommendation, the lists'
order indexed, and full-text search over recommendations.

- ``recommendations.meeting_date``: its activity's start date (filled here; kept in step
  by the application when an activity's dates change), and the index
  ``ix_recommendations_list_order`` (meeting_date, activity_id, number) that the
  recommendation lists are sorted and paged by.
- Words: on SQLite an FTS5 table ``recommendations_fts`` whose content is read from
  ``recommendations``, kept in step by three triggers; on PostgreSQL a GIN index over a
  ``tsvector`` of the code and the text. The statements are those of
  ``kpplan/recommendations/search.py`` (copied: a migration stays as it was written).

SQLite rebuilds a table it alters in batch mode and drops its triggers with it: a later
migration that alters ``recommendations`` in batch mode must create the three triggers
again.

Revision ID: 0017_list_indexes
Revises: 0016_follow_up_tallies
Create Date: 2026-11-26 14:40:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0017_list_indexes"
down_revision = "0016_follow_up_tallies"
branch_labels = None
depends_on = None

SQLITE_CREATE = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS recommendations_fts USING fts5(code, text, "
    "content='recommendations', content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER IF NOT EXISTS recommendations_fts_ai AFTER INSERT ON recommendations "
    "BEGIN INSERT INTO recommendations_fts(rowid, code, text) "
    "VALUES (new.id, new.code, new.text); END",
    "CREATE TRIGGER IF NOT EXISTS recommendations_fts_ad AFTER DELETE ON recommendations "
    "BEGIN INSERT INTO recommendations_fts(recommendations_fts, rowid, code, text) "
    "VALUES ('delete', old.id, old.code, old.text); END",
    "CREATE TRIGGER IF NOT EXISTS recommendations_fts_au AFTER UPDATE OF code, text "
    "ON recommendations "
    "BEGIN INSERT INTO recommendations_fts(recommendations_fts, rowid, code, text) "
    "VALUES ('delete', old.id, old.code, old.text); "
    "INSERT INTO recommendations_fts(rowid, code, text) VALUES (new.id, new.code, new.text); "
    "END",
    "INSERT INTO recommendations_fts(recommendations_fts) VALUES ('rebuild')",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS recommendations_fts_ai",
    "DROP TRIGGER IF EXISTS recommendations_fts_ad",
    "DROP TRIGGER IF EXISTS recommendations_fts_au",
    "DROP TABLE IF EXISTS recommendations_fts",
]
POSTGRES_CREATE = [
    "CREATE INDEX IF NOT EXISTS ix_recommendations_words ON recommendations USING gin "
    "(to_tsvector('simple'::regconfig, translate(code, '-/.', '   ') || ' ' || text))",
]
POSTGRES_DROP = ["DROP INDEX IF EXISTS ix_recommendations_words"]


def _words(statements):
    for statement in statements:
        op.execute(statement)


def upgrade():
    with op.batch_alter_table('recommendations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('meeting_date', sa.Date(), nullable=True))

    op.execute(
        "UPDATE recommendations SET meeting_date = "
        "(SELECT activities.start_date FROM activities "
        "WHERE activities.id = recommendations.activity_id)"
    )

    with op.batch_alter_table('recommendations', schema=None) as batch_op:
        batch_op.alter_column('meeting_date', existing_type=sa.Date(), nullable=False)
        batch_op.create_index(
            'ix_recommendations_list_order',
            ['meeting_date', 'activity_id', 'number'],
            unique=False,
        )

    # After the batch operations: SQLite's rebuild of the table would drop the triggers.
    if op.get_bind().dialect.name == 'sqlite':
        _words(SQLITE_CREATE)
    elif op.get_bind().dialect.name == 'postgresql':
        _words(POSTGRES_CREATE)


def downgrade():
    if op.get_bind().dialect.name == 'sqlite':
        _words(SQLITE_DROP)
    elif op.get_bind().dialect.name == 'postgresql':
        _words(POSTGRES_DROP)

    with op.batch_alter_table('recommendations', schema=None) as batch_op:
        batch_op.drop_index('ix_recommendations_list_order')
        batch_op.drop_column('meeting_date')
