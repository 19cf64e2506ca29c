"""Looking for words in recommendations: full-text search over their code and text.

SQLite keeps an FTS5 table (``recommendations_fts``, its content read from
``recommendations``) in step by triggers; PostgreSQL a stored generated ``tsvector``
column (``recommendations.words``) with a GIN index. Both are created here for
``create_all`` (tests, the benchmark) and by the migrations ``0017_list_indexes`` and
``0027_search_words_column`` for installations; ``with_words`` chooses by dialect.

What people type is never handed to the search syntax: it is cut into words (letters and
digits), each looked for as a prefix, all of them required. Quotes, stars, brackets or
``AND``/``NEAR`` are read as text, so no query can fail.

The matches are listed most recently recorded first (by id, ``matches_order``): the order
the FTS5 index reads them in, so that a page of them reads its rows and stops (sorting by
meeting date would read every match first, thousands for a common word at scale).

The FTS5 table is changed by triggers only, in the statement that changes a
recommendation: no statement of ours names it, so its reads are recorded as reads of
``recommendations`` (``cache.kept_in_step_with``), whose counter moves in the same
transaction. PostgreSQL's generated column is computed in the statement that changes
the recommendation: a column of ``recommendations``, read under its counter too.
"""

from __future__ import annotations

import re

from sqlalchemy import DDL, Integer, Select, column, event, false, func, literal_column, table
from sqlalchemy.dialects.postgresql import TSVECTOR

from kpplan.core import cache
from kpplan.core.extensions import db
from kpplan.core.paging import Key
from kpplan.recommendations.models import Recommendation

FTS_TABLE = "recommendations_fts"
WORDS_INDEX = "ix_recommendations_words"
WORDS_COLUMN = "words"

# Codes read as words: "TM-2022-07/R3" is found by "R3" or "2022".
_PG_DOCUMENT = "to_tsvector('simple'::regconfig, translate(code, '-/.', '   ') || ' ' || text)"

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
SQLITE_DROP = ["DROP TABLE IF EXISTS recommendations_fts"]
# PostgreSQL: the words in a stored generated column (computed once per change, in the
# statement that changes the recommendation) and its GIN index: a prefix match is checked
# against the stored words, and the planner knows how common a word is (migration 0027).
POSTGRES_CREATE = [
    f"ALTER TABLE recommendations ADD COLUMN IF NOT EXISTS {WORDS_COLUMN} tsvector "
    f"GENERATED ALWAYS AS ({_PG_DOCUMENT}) STORED",
    f"CREATE INDEX IF NOT EXISTS {WORDS_INDEX} ON recommendations USING gin ({WORDS_COLUMN})",
]

_table = Recommendation.__table__
for statement in SQLITE_CREATE:
    event.listen(_table, "after_create", DDL(statement).execute_if(dialect="sqlite"))
for statement in SQLITE_DROP:
    event.listen(_table, "after_drop", DDL(statement).execute_if(dialect="sqlite"))
for statement in POSTGRES_CREATE:
    event.listen(_table, "after_create", DDL(statement).execute_if(dialect="postgresql"))


def described_by_models(name: str | None, type_: str, parent_names: object = None) -> bool:
    """Whether the schema object ``name`` is one the models describe: not the search's
    FTS5 tables, nor its generated column and GIN index on PostgreSQL, made here by hand
    (for Alembic's ``include_name``)."""
    if type_ == "table":
        return not (name or "").startswith(FTS_TABLE)
    if type_ == "index":
        return name != WORDS_INDEX
    if type_ == "column":
        table_name = parent_names.get("table_name") if isinstance(parent_names, dict) else None
        return not (name == WORDS_COLUMN and table_name == Recommendation.__tablename__)
    return True


def search_words(typed: str) -> list[str]:
    """The words of ``typed`` (letters and digits), at most ten, in the order typed."""
    return re.findall(r"[^\W_]+", typed)[:10]


#: The FTS5 table as SQLAlchemy sees it: its rowid (the recommendation's id) and the
#: column named after the table, which ``MATCH`` reads.
_fts = table(
    cache.kept_in_step_with(FTS_TABLE, Recommendation),
    column("rowid", Integer),
    column(FTS_TABLE),
)


#: PostgreSQL's generated column of words, which the models leave out (the database's
#: own): named with its table, a column of ``recommendations`` like the others.
_words = column(WORDS_COLUMN, TSVECTOR, _selectable=Recommendation.__table__)


def _on_postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def with_words(query: Select, typed: str) -> Select:
    """``query`` (of recommendations) narrowed to those whose code or text has every word
    of ``typed`` (each as the start of a word); nothing when ``typed`` has no word. Order
    it by ``matches_order()`` to read a page of matches without reading them all."""
    words = search_words(typed)
    if not words:
        return query.where(false())
    if _on_postgresql():
        terms = " & ".join(f"{word}:*" for word in words)
        return query.where(
            _words.op("@@", is_comparison=True)(
                func.to_tsquery(literal_column("'simple'::regconfig"), terms)
            )
        )
    # Each word quoted (a quote inside is doubled): FTS5 reads it as text, never syntax.
    terms = " ".join('"{}"*'.format(word.replace('"', '""')) for word in words)
    return query.join(_fts, _fts.c.rowid == Recommendation.id).where(_fts.c[FTS_TABLE].match(terms))


def matches_order() -> tuple[Key, ...]:
    """The order of the matches, most recently recorded first: on SQLite by the index's
    rowid (the recommendation's id), so that FTS5 seeks to a page's cursor and stops after
    it; on PostgreSQL by the id (a common word's page read along the primary key, a rare
    word's matches from the GIN index, as the planner finds cheaper)."""
    if _on_postgresql():
        return (Key(Recommendation.id, descending=True),)
    return (Key(_fts.c.rowid, descending=True, attribute="id"),)
