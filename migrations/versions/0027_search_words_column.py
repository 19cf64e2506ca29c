"""PostgreSQL: the words of each recommendation kept in a generated column, ``words``.

The GIN index of 0017 was over an expression: every match of a prefix search (``word:*``,
which the index cannot decide alone) was checked again by computing the expression anew,
and the planner knew nothing of how common a word is, so a page of a common word read
every match first (21 ms for 3,879 matches at 100x). A stored generated column is
computed once per change, in the statement that changes the recommendation; its GIN
index replaces the expression's, and with its statistics the planner reads a common
word's page along the primary key and stops (0.1 ms).

SQLite keeps its FTS5 table (0017): nothing changes there. The column is the database's
own, not the models' (``kpplan/recommendations/search.py`` leaves it out of ``db check``).

Revision ID: 0027_search_words_column
Revises: 0026_activity_tallies
Create Date: 2026-11-27 05:10:00.000000

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0027_search_words_column"
down_revision = "0026_activity_tallies"
branch_labels = None
depends_on = None

_DOCUMENT = "to_tsvector('simple'::regconfig, translate(code, '-/.', '   ') || ' ' || text)"


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"ALTER TABLE recommendations ADD COLUMN words tsvector "
        f"GENERATED ALWAYS AS ({_DOCUMENT}) STORED"
    )
    op.execute("DROP INDEX IF EXISTS ix_recommendations_words")
    op.execute("CREATE INDEX ix_recommendations_words ON recommendations USING gin (words)")
    # The words' statistics, for the planner, at once rather than at autovacuum's next pass.
    op.execute("ANALYZE recommendations")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_recommendations_words")
    op.execute("ALTER TABLE recommendations DROP COLUMN words")
    op.execute(f"CREATE INDEX ix_recommendations_words ON recommendations USING gin ({_DOCUMENT})")
