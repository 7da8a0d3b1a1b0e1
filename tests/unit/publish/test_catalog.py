"""The catalogue behind the index and the feeds, and what a published release is made of
(functions/domain/publish/model.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from functions.domain.publish.model import (
    ELLIPSIS,
    OPENING_MAX,
    CatalogEntry,
    PublishedRelease,
    entry_for,
    first_sentence,
    insert,
    opening_sentence,
    remove,
    shorten,
)
from tests.unit.publish.samples import (
    ORG_NAME,
    PUBLISHED,
    RELEASE_ID,
    SITE,
    SUBMITTED,
    document,
    entry,
    published,
)


def ids(entries: list[CatalogEntry]) -> list[str]:
    return [e.release_id for e in entries]


# ---------------------------------------------------------------------------------------------
# insert / remove
# ---------------------------------------------------------------------------------------------


def test_entries_are_kept_newest_first_whatever_the_arrival_order() -> None:
    # Given releases published at 1, 2 and 3 o'clock arriving out of order
    catalogue = insert([], entry(2), limit=10)
    catalogue = insert(catalogue, entry(3), limit=10)
    catalogue = insert(catalogue, entry(1), limit=10)

    # Then the newest is first
    assert ids(catalogue) == ids([entry(3), entry(2), entry(1)])


def test_inserting_the_same_release_again_changes_nothing() -> None:
    catalogue = insert(insert([], entry(1), limit=10), entry(2), limit=10)
    again = insert(catalogue, entry(2), limit=10)
    assert again == catalogue


def test_a_revised_release_replaces_its_entry() -> None:
    # Given a release in the catalogue, then republished later with a new headline
    catalogue = insert(insert([], entry(1), limit=10), entry(2), limit=10)
    revised = replace(entry(1), headline="A revised headline", published_at=PUBLISHED + timedelta(hours=5))
    catalogue = insert(catalogue, revised, limit=10)

    # Then it appears once, with its new headline, at its new place
    assert ids(catalogue) == ids([revised, entry(2)])
    assert catalogue[0].headline == "A revised headline"


def test_the_catalogue_is_bounded_and_drops_the_oldest() -> None:
    catalogue: list[CatalogEntry] = []
    for number in range(1, 31):
        catalogue = insert(catalogue, entry(number), limit=20)
    assert len(catalogue) == 20
    assert ids(catalogue) == ids([entry(n) for n in range(30, 10, -1)])


def test_an_entry_older_than_a_full_catalogue_does_not_get_in() -> None:
    full = [entry(n) for n in range(12, 2, -1)]
    assert insert(full, entry(1), limit=10) == full


def test_a_limit_of_zero_keeps_nothing() -> None:
    assert insert([entry(1)], entry(2), limit=0) == []
    with pytest.raises(ValueError, match="limit"):
        insert([], entry(1), limit=-1)


def test_ties_are_ordered_by_release_id_whatever_the_insertion_order() -> None:
    same_time = PUBLISHED + timedelta(days=1)
    a, b = entry(1, published_at=same_time), entry(2, published_at=same_time)
    assert insert(insert([], a, limit=5), b, limit=5) == insert(insert([], b, limit=5), a, limit=5)


def test_removal() -> None:
    catalogue = [entry(3), entry(2), entry(1)]
    assert ids(remove(catalogue, entry(2).release_id)) == ids([entry(3), entry(1)])
    assert remove(catalogue, "not-there") == catalogue
    assert catalogue == [entry(3), entry(2), entry(1)]  # the input is not changed


def test_entries_survive_storage_as_json() -> None:
    tokyo = entry(1, published_at=datetime(2026, 3, 3, 8, 30, tzinfo=UTC) + timedelta(hours=9))
    for item in (entry(1), entry(2, dateline=None), tokyo):
        assert type(item).from_json(item.to_json()) == item
    assert entry(1).to_json()["published_at"] == (PUBLISHED + timedelta(hours=1)).isoformat()


# ---------------------------------------------------------------------------------------------
# PublishedRelease and its catalogue entry
# ---------------------------------------------------------------------------------------------


def test_a_release_from_its_stored_document() -> None:
    release = published("personnel", version=2)

    assert release.release_id == RELEASE_ID
    assert release.version == 2
    assert release.org_name == ORG_NAME
    assert release.page_url == f"{SITE}releases/{RELEASE_ID}.html"
    assert release.json_url == f"{SITE}releases/{RELEASE_ID}.json"
    assert release.version_created == SUBMITTED
    assert release.published_at == PUBLISHED
    assert release.canceled is False
    assert release.body_html.startswith("<p>")


def test_site_url_and_times_are_checked() -> None:
    with pytest.raises(ValueError, match="site_url"):
        PublishedRelease.from_document(
            document(), first_created=PUBLISHED, published_at=PUBLISHED, site_url="https://x.example"
        )
    with pytest.raises(ValueError, match="timezone-aware"):
        PublishedRelease.from_document(
            document(), first_created=PUBLISHED, published_at=datetime(2026, 3, 2, 12, 0), site_url=SITE
        )


def test_the_entry_of_a_release() -> None:
    release = published("event", language="de")
    item = entry_for(release)

    assert item.release_id == RELEASE_ID
    assert item.headline == "Acme opens its doors for a summer open day"
    assert item.dateline == "ST PETERSBURG, Florida"
    assert item.opening == "Acme said on Monday that it had reached a milestone."
    assert item.category == "event"
    assert item.language == "de"
    assert item.published_at == PUBLISHED
    assert item.url == release.page_url
    assert item.org_name == ORG_NAME


def test_without_a_summary_the_opening_is_the_bodys_first_sentence() -> None:
    body = "## Overview\n\nDr. Jane Doe of Acme Inc. joins the U.S. board today. She starts in May."
    release = published("personnel", summary=None, body=body, body_format="markdown")
    assert entry_for(release).opening == "Dr. Jane Doe of Acme Inc. joins the U.S. board today."


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("One. Two.", "One."),
        ("Is it? Yes.", "Is it?"),
        ("Mr. Smith met Ms. Jones. Then left.", "Mr. Smith met Ms. Jones."),
        ("Revenue rose 3.5 per cent. Costs fell.", "Revenue rose 3.5 per cent."),
        ("J. R. Doe spoke. More.", "J. R. Doe spoke."),
        ('He said "we won." Then he left.', 'He said "we won."'),
        ("e.g. this is lower case. Next.", "e.g. this is lower case."),
        ("No sentence end at all", "No sentence end at all"),
        ("会社は発表した。次に", "会社は発表した。"),
    ],
)
def test_first_sentence(text: str, expected: str) -> None:
    assert first_sentence(text) == expected


def test_a_long_opening_is_cut_on_a_word_boundary() -> None:
    # Given a summary whose first sentence is far longer than an opening may be
    words = " ".join(f"word{n}" for n in range(200)) + "."
    opening = opening_sentence(words, "")

    # Then it is cut short of the limit, after a whole word, and says so
    assert len(opening) <= OPENING_MAX
    assert opening.endswith(ELLIPSIS)
    assert words.startswith(opening.removesuffix(ELLIPSIS) + " ")


def test_shorten_leaves_short_text_alone_and_cuts_a_single_long_word() -> None:
    assert shorten("Short enough.") == "Short enough."
    cut = shorten("x" * 1000)
    assert len(cut) == OPENING_MAX
    assert cut.endswith(ELLIPSIS)


def test_an_empty_body_and_no_summary_give_an_empty_opening() -> None:
    assert opening_sentence(None, "") == ""
    assert opening_sentence("   ", "<p>From the body. Yes.</p>") == "From the body."
    # a body without paragraphs: its first line of text that is not a heading
    assert opening_sentence(None, "<h2>Title</h2><ul><li>First item. Two.</li></ul>") == "First item."


def test_a_release_time_is_read_back_aware() -> None:
    release_at = SUBMITTED + timedelta(days=3)
    release = published("personnel", release_at=release_at.isoformat())
    assert release.release_at == release_at
    assert published("personnel").release_at is None
