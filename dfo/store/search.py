"""Full-text search on memories: the only SQL that differs per dialect.

User text never reaches a full-text parser as syntax: it is cut into word tokens, each token is
quoted, and the query is bound as a parameter. (MariaDB's boolean mode raises error 1064 on
`C++` or `(bug`; SQLite FTS5 fails on `foo-bar`, `a:b`, `AND` or `*foo`.)
"""

from __future__ import annotations

import functools
import re

from sqlalchemy import TextClause, text

from dfo.store.conn import Connection

_WORD = re.compile(r"\w+", re.UNICODE)
MAX_TERMS = 32
# InnoDB never indexes tokens shorter than innodb_ft_min_token_size (3): they cannot match.
_MIN_LEN = {"mysql": 3, "sqlite": 1}
# InnoDB's default stopword list: MariaDB never matches these, so neither does SQLite, and a
# query ranks the same on both backends.
STOPWORDS = frozenset(
    [
        "a",
        "about",
        "an",
        "are",
        "as",
        "at",
        "be",
        "by",
        "com",
        "de",
        "en",
        "for",
        "from",
        "how",
        "i",
        "in",
        "is",
        "it",
        "la",
        "of",
        "on",
        "or",
        "that",
        "the",
        "this",
        "to",
        "was",
        "what",
        "when",
        "where",
        "who",
        "will",
        "with",
        "und",
        "www",
    ]
)

_MYSQL = """
SELECT m.id, MATCH(m.content, m.summary) AGAINST(:q IN BOOLEAN MODE) AS relevance
FROM memories m
WHERE MATCH(m.content, m.summary) AGAINST(:q IN BOOLEAN MODE) {scope}
ORDER BY relevance DESC, m.importance DESC, m.created_at DESC, m.id DESC
LIMIT :limit
"""

_SQLITE = """
SELECT m.id, -bm25(memories_fts) AS relevance
FROM memories_fts JOIN memories m ON m.id = memories_fts.rowid
WHERE memories_fts MATCH :q {scope}
ORDER BY relevance DESC, m.importance DESC, m.created_at DESC, m.id DESC
LIMIT :limit
"""

_SCOPE = "AND (m.project_id = :project_id OR m.project_id IS NULL)"


def terms(query: str, dialect: str, limit: int | None = MAX_TERMS) -> list[str]:
    """Distinct word tokens of `query`, lower-cased, in order, at most `limit`."""
    seen: dict[str, None] = {}
    min_len = _MIN_LEN.get(dialect, 1)
    for match in _WORD.finditer(query):
        token = match.group(0).lower().strip("_")
        if len(token) >= min_len and token not in STOPWORDS and token not in seen:
            seen[token] = None
            if len(seen) == limit:
                break
    return list(seen)


def match_expression(tokens: list[str], dialect: str) -> str:
    """The text handed to MATCH: every token quoted, any one of them may match."""
    quoted = [f'"{token}"' for token in tokens]
    return " ".join(quoted) if dialect == "mysql" else " OR ".join(quoted)


@functools.cache
def _statement(dialect: str, scoped: bool) -> TextClause:
    template = _MYSQL if dialect == "mysql" else _SQLITE
    return text(template.format(scope=_SCOPE if scoped else ""))


async def search_memory_ids(
    conn: Connection,
    dialect: str,
    query: str,
    *,
    project_id: int | None,
    limit: int,
) -> list[tuple[int, float]]:
    """(memory id, relevance) best first; with `project_id`, that project's and global ones."""
    tokens = terms(query, dialect)
    if not tokens:
        return []
    params: dict[str, object] = {"q": match_expression(tokens, dialect), "limit": limit}
    if project_id is not None:
        params["project_id"] = project_id
    rows = await conn.execute(_statement(dialect, project_id is not None), params)
    return [(int(row[0]), float(row[1] or 0.0)) for row in rows]
