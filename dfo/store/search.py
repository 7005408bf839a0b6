"""Full-text search on memories: the only SQL that differs per dialect (the per-word match).

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

# One sub-select per query word: a memory's relevance is the number of them that find it.
_WORD_MYSQL = "SELECT id FROM memories WHERE MATCH(content, summary) AGAINST(:w{n} IN BOOLEAN MODE)"
_WORD_SQLITE = "SELECT rowid AS id FROM memories_fts WHERE memories_fts MATCH :w{n}"
_OWNED = "SELECT id FROM memories WHERE task_id = :task_id"


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


def word_match(token: str) -> str:
    """The text handed to MATCH for one token: quoted, so it is a word and never syntax."""
    return f'"{token}"'


_SCOPE = "WHERE (m.project_id = :project_id OR m.project_id IS NULL)"


@functools.cache
def _ranking(dialect: str, words: int, owned: bool, scoped: bool, capped: bool) -> TextClause:
    word = _WORD_MYSQL if dialect == "mysql" else _WORD_SQLITE
    parts = [word.format(n=n) for n in range(words)] + ([_OWNED] if owned else [])
    # Only fixed fragments and numbered placeholders are joined here; words are bound.
    union = " UNION ALL ".join(parts)
    cap = " LIMIT :cap" if capped else ""
    scope = _SCOPE if scoped else ""
    return text(
        "SELECT m.id, hit.n, hit.floor, hit.candidates FROM ("  # noqa: S608
        "SELECT id, n, MIN(n) OVER () AS floor, COUNT(*) OVER () AS candidates FROM ("
        f"SELECT id, COUNT(*) AS n FROM ({union}) AS found GROUP BY id ORDER BY n DESC{cap}"
        f") AS top) AS hit JOIN memories m ON m.id = hit.id {scope} "
        "ORDER BY hit.n DESC, m.importance DESC, m.created_at DESC, m.id DESC LIMIT :limit"
    )


async def rank(
    conn: Connection,
    dialect: str,
    tokens: list[str],
    *,
    project_id: int | None,
    task_id: int | None,
    limit: int,
    cap: int = 1000,
) -> list[tuple[int, int]]:
    """The best `limit` memories as (id, words matched): most words, then importance, then
    recency. With `task_id`, the task's own memories count as matching one more word (and
    are found even when no word matches them); with `project_id`, that project's and global
    memories only.

    Only the `cap` most-matching memories are ranked (a query whose words match thousands
    reads a few hundred rows), unless the cut falls inside the group deciding the last
    places: then all of them are."""
    params: dict[str, object] = {f"w{n}": word_match(t) for n, t in enumerate(tokens)}
    params.update(limit=limit, cap=cap)
    if task_id is not None:
        params["task_id"] = task_id
    if project_id is not None:
        params["project_id"] = project_id
    shape = (dialect, len(tokens), task_id is not None, project_id is not None)
    rows = (await conn.execute(_ranking(*shape, True), params)).all()
    # Each row carries the lowest count among the candidates and how many there were.
    if rows and rows[0][3] == cap and (len(rows) < limit or rows[-1][1] <= rows[0][2]):
        rows = (await conn.execute(_ranking(*shape, False), params)).all()
    return [(int(row[0]), int(row[1])) for row in rows]
