"""Memory search: words looked up in `memory_words`, the same SQL on both dialects.

A memory's words are cut from its content and summary by `words` when it is written; a query
is cut by `terms` the same way, so user text is only ever a bound parameter compared to whole
words (no full-text syntax to escape). Words are lower-cased with accents removed (`cafe` finds
`Café`), at most 64 characters, and the stopwords below are neither indexed nor searched.
"""

from __future__ import annotations

import functools
import re
import unicodedata

from sqlalchemy import (
    Select,
    bindparam,
    desc,
    func,
    or_,
    select,
    union_all,
)

from dfo.store.conn import Connection
from dfo.store.schema import memories, memory_words

_WORD = re.compile(r"\w+", re.UNICODE)
MAX_TERMS = 32
MAX_WORD_LEN = 64
# InnoDB's default full-text stopword list (what the search skipped when it used FULLTEXT).
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


def _fold(token: str) -> str:
    token = token.lower().strip("_")
    if token.isascii():
        return token[:MAX_WORD_LEN]
    decomposed = unicodedata.normalize("NFKD", token)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", plain)[:MAX_WORD_LEN]


def _cut(text: str, limit: int | None) -> list[str]:
    seen: dict[str, None] = {}
    for match in _WORD.finditer(text):
        token = _fold(match.group(0))
        if token and token not in STOPWORDS and token not in seen:
            seen[token] = None
            if len(seen) == limit:
                break
    return list(seen)


def terms(query: str, limit: int | None = MAX_TERMS) -> list[str]:
    """The distinct words of `query` searched for, in order, at most `limit`."""
    return _cut(query, limit)


def words(content: str, summary: str | None) -> list[str]:
    """The distinct words a memory is found by."""
    return _cut(f"{content}\n{summary or ''}", None)


@functools.cache
def _ranking(owned: bool, scoped: bool) -> Select[tuple[int, int]]:
    """(memory id, words matched) of the best `b_limit` memories, in order: one look-up of
    all the query's words, ranked from the index rows alone (they carry importance, recency
    and project), so exact however many memories match."""
    w = memory_words.c
    parts = [
        select(w.memory_id, w.project_id, w.importance, w.created_at).where(
            w.word.in_(bindparam("b_words", expanding=True))
        )
    ]
    if owned:  # the task's own memories: one more matching word
        m = memories.c
        parts.append(
            select(m.id, m.project_id, m.importance, m.created_at).where(
                m.task_id == bindparam("b_task_id")
            )
        )
    found = union_all(*parts).subquery("found")
    ranked = select(found.c.memory_id, func.count().label("n"))
    if scoped:
        in_project = found.c.project_id == bindparam("b_project_id")
        ranked = ranked.where(or_(in_project, found.c.project_id.is_(None)))
    # MAX: a task's own memory is found twice (a word and its task), one memory all the same.
    return (
        ranked.group_by(found.c.memory_id)
        .order_by(
            desc("n"),
            func.max(found.c.importance).desc(),
            func.max(found.c.created_at).desc(),
            found.c.memory_id.desc(),
        )
        .limit(bindparam("b_limit"))
    )


async def rank(
    conn: Connection,
    tokens: list[str],
    *,
    project_id: int | None,
    task_id: int | None,
    limit: int,
) -> list[tuple[int, int]]:
    """The best `limit` memories as (id, words matched): most words, then importance, then
    recency. With `task_id`, the task's own memories count as matching one more word (and
    are found even when no word matches them); with `project_id`, that project's and global
    memories only."""
    params: dict[str, object] = {"b_words": tokens, "b_limit": limit}
    if task_id is not None:
        params["b_task_id"] = task_id
    if project_id is not None:
        params["b_project_id"] = project_id
    rows = await conn.execute(_ranking(task_id is not None, project_id is not None), params)
    return [(int(mid), int(n)) for mid, n in rows]
