"""Feed documents → sanitised, de-duplicated, language-tagged, extracted articles.

``parse_document`` turns bytes into entries (feedparser on bytes; any exception rejects the
document with a reason); ``store_entries`` writes the new ones once, groups near-duplicates,
detects the language, tags keywords, extracts mentions and tells the other domains.
"""

import calendar
import hashlib
import html
import random
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import nh3
from sqlalchemy import select

from app.core import signals
from app.core.time import now_utc
from app.extensions import db
from app.jobs.testing import crash_point
from app.textmining.models import Article, Feed, Mention

ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "caption",
    "cite",
    "code",
    "dd",
    "del",
    "dl",
    "dt",
    "em",
    "figcaption",
    "figure",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "ins",
    "kbd",
    "li",
    "ol",
    "p",
    "pre",
    "q",
    "s",
    "small",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "time",
    "tr",
    "u",
    "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "time": {"datetime"},
}
URL_SCHEMES = {"http", "https", "mailto"}
_BLOCK = {
    "p",
    "div",
    "br",
    "li",
    "tr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "pre",
    "table",
    "ul",
    "ol",
    "dd",
    "dt",
    "hr",
    "figure",
}
#: estimated Jaccard similarity of word bigrams above which two articles are one story
NEAR_DUPLICATE = 0.6
SIGNATURE_SIZE = 32
GROUP_WINDOW = timedelta(days=30)
MIN_SHINGLES = 8


class DocumentRejected(Exception):
    """The whole document is refused; ``reason`` is recorded."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class ParsedEntry:
    guid: str | None
    url: str | None
    title: str
    html: str
    text: str
    published_dt: datetime | None


@dataclass
class ParsedDocument:
    title: str
    link: str | None
    entries: list[ParsedEntry]
    #: RSS <ttl> in minutes, when the feed states one
    ttl_minutes: int | None = None
    #: what feedparser complained about while still recovering entries (bozo)
    warning: str | None = None
    skipped: list[str] = field(default_factory=list)


@dataclass
class StoreOutcome:
    new: list = field(default_factory=list)
    duplicates: int = 0


def sanitize_html(value: str) -> str:
    """Allow-list sanitising: no scripts, styles, event handlers or non-http(s) links."""
    return nh3.clean(
        value or "",
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


class _TextExtractor(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in _BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data):
        self.parts.append(data)


def html_to_text(value: str) -> str:
    """Plain text with paragraphs separated by blank lines."""
    parser = _TextExtractor()
    parser.feed(value or "")
    parser.close()
    raw = "".join(parser.parts)
    lines = [" ".join(line.split()) for line in raw.split("\n")]
    paragraphs, current = [], []
    for line in lines:
        if line:
            current.append(line)
        elif current:
            paragraphs.append(" ".join(current))
            current = []
    if current:
        paragraphs.append(" ".join(current))
    return "\n\n".join(paragraphs)


def _plain(value: str | None, limit: int) -> str:
    text = html_to_text(sanitize_html(value or ""))
    return " ".join(html.unescape(text).split())[:limit]


def _http_url(value) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip()
    if re.match(r"^https?://[^\s]+$", value, re.IGNORECASE) and len(value) <= 2000:
        return value
    return None


def _struct_to_dt(value) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    except (OverflowError, ValueError, OSError, TypeError):
        return None


def _entry_html(entry) -> str:
    contents = [c.get("value", "") for c in entry.get("content", []) or [] if isinstance(c, dict)]
    best = max(contents, key=len, default="")
    summary = entry.get("summary", "") or ""
    return best if len(best) >= len(summary) else summary


def parse_document(data: bytes, headers: dict | None = None) -> ParsedDocument:
    """Parse feed bytes; raise DocumentRejected naming why nothing usable came out."""
    import feedparser

    if not data or not data.strip():
        raise DocumentRejected("empty document")
    try:
        parsed = feedparser.parse(
            data, response_headers=headers or {}, sanitize_html=True, resolve_relative_uris=True
        )
    except Exception as exc:  # any parser failure rejects this one document  # noqa: BLE001
        raise DocumentRejected(f"parser error: {type(exc).__name__}: {exc}"[:500]) from exc
    warning = None
    if parsed.get("bozo"):
        exc = parsed.get("bozo_exception")
        warning = f"{type(exc).__name__}: {exc}"[:500] if exc else "malformed document"
    raw_entries = parsed.get("entries") or []
    if not raw_entries:
        if warning:
            raise DocumentRejected(f"not a usable feed ({warning})")
        raise DocumentRejected("the document has no entries")
    feed_meta = parsed.get("feed") or {}
    doc = ParsedDocument(
        title=_plain(feed_meta.get("title"), 200),
        link=_http_url(feed_meta.get("link")),
        entries=[],
        warning=warning,
    )
    ttl = feed_meta.get("ttl")
    if isinstance(ttl, str) and ttl.strip().isdigit():
        doc.ttl_minutes = int(ttl.strip())
    for position, entry in enumerate(raw_entries, start=1):
        try:
            safe_html = sanitize_html(_entry_html(entry))
            text = html_to_text(safe_html)
            title = _plain(entry.get("title"), 500)
            guid = entry.get("id") if isinstance(entry.get("id"), str) else None
            guid = (guid or "").strip()[:2000] or None
            url = _http_url(entry.get("link"))
            published = _struct_to_dt(entry.get("published_parsed") or entry.get("updated_parsed"))
        except Exception as exc:  # noqa: BLE001 - a broken entry must not sink its document
            doc.skipped.append(f"entry {position}: {type(exc).__name__}: {exc}"[:300])
            continue
        if not title and not text:
            doc.skipped.append(f"entry {position}: no title and no text")
            continue
        doc.entries.append(ParsedEntry(guid, url, title, safe_html, text, published))
    if not doc.entries:
        raise DocumentRejected("no entry has a title or text (" + "; ".join(doc.skipped[:3]) + ")")
    return doc


# -- identity, near-duplicates, language, keywords -------------------------------------


def content_hash(title: str, text: str) -> str:
    normalised = " ".join(f"{title} {text}".lower().split())
    return hashlib.sha256(normalised.encode()).hexdigest()


def identity_of(entry: ParsedEntry, chash: str) -> str:
    """GUID, else URL, else content hash: the key an article is stored under once."""
    if entry.guid:
        key = "guid:" + entry.guid
    elif entry.url:
        key = "url:" + entry.url
    else:
        key = "hash:" + chash
    return hashlib.sha256(key.encode()).hexdigest()


def _shingles(text: str) -> set[str]:
    words = re.findall(r"\w+", text.lower())
    return {" ".join(words[i : i + 2]) for i in range(max(0, len(words) - 1))}


# fixed masks (not secrets): the same text must give the same signature in every process
_MASKS = [random.Random(7919 + i).getrandbits(32) for i in range(SIGNATURE_SIZE)]  # noqa: S311


def minhash(text: str) -> list[int]:
    """MinHash signature over word bigrams ([] for texts too short to compare)."""
    shingles = _shingles(text)
    if len(shingles) < MIN_SHINGLES:
        return []
    hashes = [
        int.from_bytes(hashlib.blake2b(s.encode(), digest_size=4).digest(), "big") for s in shingles
    ]
    return [min(h ^ mask for h in hashes) for mask in _MASKS]


def similarity(a: list[int], b: list[int]) -> float:
    """Estimated Jaccard similarity of two signatures."""
    if not a or not b or len(a) != len(b):
        return 0.0
    return sum(x == y for x, y in zip(a, b, strict=True)) / len(a)


def detect_language(text: str) -> tuple[str | None, float | None]:
    """ISO 639-1 code and confidence (py3langid ships its model); None for tiny texts."""
    if len(text.strip()) < 20:
        return None, None
    import py3langid

    lang, score = py3langid.classify(text[:4000])
    return lang, float(score)


def matched_keywords(keywords, text: str) -> list[str]:
    lowered = text.lower()
    hits = []
    for keyword in keywords or []:
        kw = keyword.strip().lower()
        if kw and re.search(r"(?<!\w)" + re.escape(kw) + r"(?!\w)", lowered):
            hits.append(keyword.strip())
    return hits


def extraction_text(article) -> str:
    """The text mentions' offsets refer to: title, a blank line, the body."""
    return f"{article.title}\n\n{article.text}" if article.title else article.text


class Grouper:
    """Near-duplicate grouping against recent articles, loaded once per batch.

    Locality-sensitive hashing: the signature is cut into bands; two articles sharing a band
    are candidates, then compared on the whole signature. With 16 bands of 2 values a pair at
    similarity 0.6 becomes a candidate with probability 0.999; each lookup is O(bands).
    """

    ROWS = 2

    def __init__(self):
        since = now_utc() - GROUP_WINDOW
        rows = db.session.execute(
            select(Article.fingerprint, Article.group_id, Article.content_hash, Article.id).where(
                Article.created_dt >= since
            )
        ).all()
        self.buckets: dict[tuple, list] = {}
        self.by_hash = {r.content_hash: r.group_id or r.id for r in rows}
        for r in rows:
            if r.fingerprint:
                self._index(r.fingerprint, r.group_id or r.id)

    def _bands(self, signature):
        for band in range(0, len(signature), self.ROWS):
            yield (band, *signature[band : band + self.ROWS])

    def _index(self, signature, group):
        entry = (signature, group)
        for key in self._bands(signature):
            self.buckets.setdefault(key, []).append(entry)

    def group_for(self, chash: str, signature: list[int]) -> int | None:
        if chash in self.by_hash:
            return self.by_hash[chash]
        best, best_group = NEAR_DUPLICATE, None
        seen = set()
        for key in self._bands(signature):
            for other, group in self.buckets.get(key, ()):
                if id(other) in seen:
                    continue
                seen.add(id(other))
                score = similarity(signature, other)
                if score >= best:
                    best, best_group = score, group
        return best_group

    def add(self, article):
        self.by_hash.setdefault(article.content_hash, article.group_id)
        if article.fingerprint:
            self._index(article.fingerprint, article.group_id)


def store_entries(
    feed: Feed | None, entries: list[ParsedEntry], *, extractor=None, grouper=None
) -> StoreOutcome:
    """Store the entries not seen before; extract their mentions; send the signals.

    A bulk import passes one ``Grouper`` for all its documents (loaded once)."""
    from app.textmining import extraction

    outcome = StoreOutcome()
    if not entries:
        return outcome
    grouper = grouper or Grouper()
    seen: set[str] = set()
    for entry in entries:
        chash = content_hash(entry.title, entry.text)
        identity = identity_of(entry, chash)
        if identity in seen or db.session.scalar(
            select(Article.id).where(Article.identity == identity)
        ):
            outcome.duplicates += 1
            continue
        seen.add(identity)
        lang, score = detect_language(f"{entry.title}\n{entry.text}")
        article = Article(
            feed_id=feed.id if feed else None,
            identity=identity,
            guid=entry.guid,
            url=entry.url,
            title=entry.title,
            html=entry.html,
            text=entry.text,
            content_hash=chash,
            fingerprint=minhash(f"{entry.title} {entry.text}"),
            language=lang,
            language_score=score,
            published_dt=entry.published_dt,
            keywords=matched_keywords(
                feed.keywords if feed else [], f"{entry.title}\n{entry.text}"
            ),
        )
        db.session.add(article)
        db.session.flush()
        article.group_id = grouper.group_for(chash, article.fingerprint) or article.id
        grouper.add(article)
        outcome.new.append(article)
        # Crash tests stop the feed poll here: an article flushed, its feed not committed.
        crash_point("textmining.article", feed=article.feed_id, guid=article.guid)
    if outcome.new:
        extraction.extract_articles(outcome.new, extractor=extractor)
        for article in outcome.new:
            signals.search_index_requested.send(None, record_type="article", record_id=article.id)
            signals.article_stored.send(None, article=article, actor=None)
    return outcome


def mentions_of(article) -> list[Mention]:
    return list(article.mentions)
