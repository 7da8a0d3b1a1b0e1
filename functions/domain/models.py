"""The submission contract: what an organisation sends as a press release.

Every limit a submitter can hit lives here, as a ``Field`` constraint, so that it is enforced
on input and documented in the OpenAPI document by the same line. What the API answers with
(status views) lives with the API, in ``functions/api/views.py``.
"""

import re
from datetime import date
from typing import Annotated, Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    HttpUrl,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from functions.domain.characters import (
    code_point,
    first_forbidden,
    first_invisible,
    is_plain,
    remove_invisible,
)
from functions.domain.media import ALT_MAX, MAX_MEDIA_PER_RELEASE, MiB, Role, is_media_id

# The one list of categories: each release class below takes one of these as its discriminator
# (tests/unit/test_models.py checks that they match), and everything else iterates CATEGORIES.
Category = Literal["business", "sports", "personnel", "community", "event"]
CATEGORIES: tuple[Category, ...] = get_args(Category)
BodyFormat = Literal["text", "markdown", "html"]

HEADLINE_MIN = 10
HEADLINE_MAX = 200
BODY_MAX_SANITISED = 50_000
# The raw body may be larger than the sanitised one (markup is stripped); the request limit
# (MAX_REQUEST_BYTES) bounds it in any case.
BODY_MAX_RAW = 200_000
MAX_REQUEST_BYTES = 256 * 1024
# Arrays and objects nested deeper than this are refused before parsing (a release needs 4).
MAX_JSON_DEPTH = 64
MAX_LINKS = 10
MAX_TAGS = 20
CORRECTION_NOTE_MAX = 500

# BCP 47 (RFC 5646) language tag, well-formed form: language, extlang, script, region,
# variants, extensions and private use; or a private-use-only tag. The primary language subtag
# is limited to the 2-3 letter ISO 639 codes: RFC 5646's 4-8 letter form is reserved and has
# no registered subtags, and allowing it would accept language names such as "english".
_BCP47 = re.compile(
    r"^(?:(?:[A-Za-z]{2,3}(?:-[A-Za-z]{3}){0,3})"
    r"(?:-[A-Za-z]{4})?"
    r"(?:-(?:[A-Za-z]{2}|[0-9]{3}))?"
    r"(?:-(?:[A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*"
    r"(?:-[0-9A-WY-Za-wy-z](?:-[A-Za-z0-9]{2,8})+)*"
    r"(?:-[Xx](?:-[A-Za-z0-9]{1,8})+)?"
    r"|[Xx](?:-[A-Za-z0-9]{1,8})+)$"
)


def bcp47_tag(value: str) -> str:
    if not _BCP47.match(value):
        raise ValueError("must be a BCP 47 language tag such as 'en', 'en-GB' or 'pt-BR'")
    return value


def _iana_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError("must be an IANA time zone such as 'Europe/London' or 'America/New_York'") from exc
    return value


# E-mail addresses are checked as pydantic's EmailStr checks them (email_validator, without a
# DNS lookup), with the same answers, but the common case is answered here: a plain ASCII
# address (a dot-atom local part of at most 64 characters, host-name labels of at most 63, a
# top-level label ending in a letter, not a reserved domain, at most 254 characters in all) is
# valid, and its normal form is the address with the domain lower-cased. Anything else
# (non-ASCII, "Name <address>", "--" in a label, a reserved or malformed domain) goes to
# email_validator, imported only then: importing it costs a cold start tens of milliseconds.
# tests/unit/test_models.py compares the two.
_ATEXT = r"A-Za-z0-9_!#$%&'*+\-/=?^`{|}~"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PLAIN_EMAIL = re.compile(rf"([{_ATEXT}]+(?:\.[{_ATEXT}]+)*)@((?:{_LABEL}\.)+{_LABEL})")
RESERVED_EMAIL_DOMAINS = frozenset({"arpa", "invalid", "local", "localhost", "onion", "test"})


def _email(value: str) -> str:
    plain = _PLAIN_EMAIL.fullmatch(value)
    if plain is not None and len(plain[1]) <= 64 and len(value) <= 254 and len(plain[2]) <= 253:
        domain = plain[2].lower()
        top = domain.rsplit(".", 1)[1]
        if "--" not in domain and top[-1].isalpha() and top not in RESERVED_EMAIL_DOMAINS:
            return f"{plain[1]}@{domain}"
    from pydantic.networks import validate_email

    return validate_email(value)[1]


FORBIDDEN_CHARACTER = "forbidden_character"


def _refuse_forbidden(value: Any) -> Any:
    if isinstance(value, str) and (char := first_forbidden(value)):
        raise PydanticCustomError(
            FORBIDDEN_CHARACTER,
            "must not contain {character}: control characters, non-characters and lone surrogates "
            "are not allowed in text",
            {"character": code_point(char)},
        )
    return value


def _single_line(value: Any) -> Any:
    if isinstance(value, str) and is_plain(value):
        return value  # nearly every value: one check for both rules
    value = _refuse_forbidden(value)
    if isinstance(value, str) and (char := first_invisible(value)):
        raise PydanticCustomError(
            FORBIDDEN_CHARACTER,
            "must not contain {character}: bidirectional controls and zero-width characters are "
            "not allowed in a single-line field (a zero-width joiner or non-joiner only between "
            "two visible characters)",
            {"character": code_point(char)},
        )
    return value


def _multi_line(value: Any) -> Any:
    if not isinstance(value, str) or is_plain(value):
        return value  # nothing to remove, nothing to refuse
    return _refuse_forbidden(remove_invisible(value))


# Every free-text field carries one of these after its Field(...) (README, "Limits"): a
# single-line field refuses forbidden and invisible characters; a multi-line field has its
# invisible characters removed and refuses forbidden ones. They run before pydantic's own
# string checks (which would refuse a lone surrogate without naming it, and trim a trailing
# control character as white space), so length limits count what is kept. Neither changes the
# JSON schema.
SINGLE_LINE = BeforeValidator(_single_line)
MULTI_LINE = BeforeValidator(_multi_line)
NO_FORBIDDEN = BeforeValidator(_refuse_forbidden)


class Strict(BaseModel):
    """Base for input models: unknown fields are refused, surrounding whitespace trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _text(max_length: int, description: str, min_length: int = 1) -> Any:
    return Field(min_length=min_length, max_length=max_length, description=description)


LanguageTag = Annotated[
    str,
    Field(max_length=35, description="BCP 47 language tag, e.g. 'en', 'en-GB', 'fr-CA'."),
    AfterValidator(bcp47_tag),
]
IanaTimeZone = Annotated[
    str,
    Field(max_length=64, description="IANA time zone, e.g. 'America/New_York'."),
    AfterValidator(_iana_zone),
]
Tag = Annotated[str, _text(50, "A free-form tag, 1-50 characters."), SINGLE_LINE]
Phone = Annotated[
    str,
    Field(
        min_length=5,
        max_length=30,
        pattern=r"^\+?[0-9][0-9 ().\-/]{3,28}[0-9]$",
        description="Telephone number, international format preferred (e.g. '+1 555 0100').",
    ),
]


class Contact(Strict):
    """Who journalists call about this release."""

    name: Annotated[str, _text(200, "Contact person or desk."), SINGLE_LINE]
    email: Annotated[
        str,
        Field(max_length=254, description="Contact e-mail address.", json_schema_extra={"format": "email"}),
        NO_FORBIDDEN,
        AfterValidator(_email),
    ]
    phone: Phone | None = None


class Link(Strict):
    url: Annotated[HttpUrl, Field(description="http or https URL, at most 2,048 characters."), NO_FORBIDDEN]
    title: Annotated[str | None, _text(200, "Link text."), SINGLE_LINE] = None

    @model_validator(mode="after")
    def _url_length(self) -> "Link":
        if len(str(self.url)) > 2048:
            raise ValueError("url must be at most 2,048 characters")
        return self


class Ticker(Strict):
    symbol: Annotated[
        str, Field(pattern=r"^[A-Za-z0-9.\-]{1,12}$", description="Ticker symbol, e.g. 'ACME'.")
    ]
    exchange: Annotated[
        str,
        Field(pattern=r"^[A-Za-z][A-Za-z0-9.\-]{1,11}$", description="Exchange code, e.g. 'NYSE', 'LSE'."),
    ]


class BusinessDetails(Strict):
    tickers: Annotated[list[Ticker], Field(max_length=10, description="Listed securities concerned.")] = []


class SportsDetails(Strict):
    sport: Annotated[str, _text(100, "The sport, e.g. 'football'."), SINGLE_LINE]
    teams: Annotated[
        list[Annotated[str, _text(200, "Team or athlete."), SINGLE_LINE]],
        Field(min_length=1, max_length=20, description="Teams or athletes involved."),
    ]
    result: Annotated[str | None, _text(200, "Result, e.g. '3-1'."), SINGLE_LINE] = None
    event_date: Annotated[date | None, Field(description="Date of the match or event.")] = None


class PersonnelDetails(Strict):
    person: Annotated[str, _text(200, "The person appointed or leaving."), SINGLE_LINE]
    role: Annotated[str, _text(200, "The new role."), SINGLE_LINE]
    effective_date: Annotated[date, Field(description="Date the change takes effect.")]
    previous_role: Annotated[str | None, _text(200, "The previous role, if any."), SINGLE_LINE] = None


class CommunityDetails(Strict):
    group: Annotated[str | None, _text(200, "Community group or club."), SINGLE_LINE] = None
    area: Annotated[str | None, _text(200, "Neighbourhood, town or region."), SINGLE_LINE] = None


class EventDetails(Strict):
    starts_at: Annotated[AwareDatetime, Field(description="Start, with time zone offset.")]
    ends_at: Annotated[AwareDatetime, Field(description="End, with time zone offset; after starts_at.")]
    venue: Annotated[str, _text(300, "Where it happens."), SINGLE_LINE]
    timezone: IanaTimeZone

    @model_validator(mode="after")
    def _ends_after_start(self) -> "EventDetails":
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


# ---------------------------------------------------------------------------------------------
# Media (README, "Media"): what a submitter declares before an upload, and a release's attachments
# ---------------------------------------------------------------------------------------------

MediaType = Literal["image/jpeg", "image/png", "image/webp", "application/pdf"]


class MediaUpload(Strict):
    """What a submitter declares before uploading a file (``POST /media``)."""

    model_config = ConfigDict(defer_build=True)  # built on first use: no submission needs it

    filename: Annotated[
        str,
        Field(
            min_length=1,
            max_length=255,
            description="The file's name without folders, 1-255 characters (informative: the bytes decide).",
        ),
        SINGLE_LINE,
    ]
    content_type: Annotated[
        MediaType,
        Field(
            description=(
                "`image/jpeg`, `image/png`, `image/webp` (at most 10 MiB, 40 megapixels) or "
                "`application/pdf` (at most 20 MiB)."
            )
        ),
    ]
    bytes: Annotated[
        int,
        Field(
            ge=1,
            le=20 * MiB,
            description="The file's exact size in bytes: the upload must be exactly this long.",
        ),
    ]

    @field_validator("filename")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        if "/" in value or "\\" in value or value in (".", ".."):
            raise ValueError("must be a file name without folders")
        return value


def _media_id(value: str) -> str:
    if not is_media_id(value):
        raise ValueError("must be a media id (a UUID) from POST /media")
    return value.lower()


class MediaRef(Strict):
    """One attachment of a release: a ``ready`` media of the same organisation, and its role."""

    id: Annotated[
        str,
        Field(max_length=36, description="A media id from `POST /media`, verified (`ready`)."),
        AfterValidator(_media_id),
    ]
    role: Annotated[
        Role,
        Field(description="`featured` (one image at most), `gallery` (an image) or `document` (a PDF)."),
    ]
    alt: Annotated[
        str | None,
        _text(
            ALT_MAX, f"Text alternative, 1-{ALT_MAX} characters: required for images (what the image shows)."
        ),
        SINGLE_LINE,
    ] = None
    caption: Annotated[str | None, _text(500, "Optional caption, at most 500 characters."), SINGLE_LINE] = (
        None
    )
    credit: Annotated[
        str | None, _text(200, "Optional credit (the photographer, the source)."), SINGLE_LINE
    ] = None


# Only the five releases below validate anything: their common base is never built (deferred),
# while they are built at import (their own config turns that back off), as the first
# submission needs all five.
_BUILT_AT_IMPORT = ConfigDict(defer_build=False)


class _SubmissionBase(Strict):
    model_config = ConfigDict(defer_build=True)

    headline: Annotated[
        str,
        Field(
            min_length=HEADLINE_MIN,
            max_length=HEADLINE_MAX,
            description=f"Headline, {HEADLINE_MIN}-{HEADLINE_MAX} characters.",
        ),
        SINGLE_LINE,
    ]
    subheadline: Annotated[str | None, _text(300, "Optional second headline."), SINGLE_LINE] = None
    summary: Annotated[str | None, _text(1000, "Optional one-paragraph summary."), MULTI_LINE] = None
    body: Annotated[
        str,
        Field(
            min_length=1,
            max_length=BODY_MAX_RAW,
            description=(
                "The release text in `body_format`. It is sanitised to HTML; the sanitised HTML may "
                f"be at most {BODY_MAX_SANITISED:,} characters."
            ),
        ),
        MULTI_LINE,
    ]
    body_format: Annotated[
        BodyFormat, Field(description="How `body` is written: plain text, Markdown or HTML.")
    ] = "text"
    dateline: Annotated[str | None, _text(100, "Place line, e.g. 'ST PETERSBURG, Florida'."), SINGLE_LINE] = (
        None
    )
    language: LanguageTag = "en"
    release_at: Annotated[
        AwareDatetime | None,
        Field(
            description=(
                "Publish no earlier than this time (with time zone offset); not in the past and at most "
                "one year ahead. Omit to publish on approval."
            )
        ),
    ] = None
    contact: Contact
    boilerplate: Annotated[str | None, _text(2000, "'About the organisation' paragraph."), MULTI_LINE] = None
    links: Annotated[list[Link], Field(max_length=MAX_LINKS, description="At most 10 related links.")] = []
    tags: Annotated[list[Tag], Field(max_length=MAX_TAGS, description="At most 20 tags.")] = []
    correction_note: Annotated[
        str | None,
        _text(
            CORRECTION_NOTE_MAX,
            "Only with `PUT` of a published release, and then required: what this correction changes "
            "(e.g. 'Corrects the effective date.'), shown to readers with the corrected release. "
            "A correction keeps the release's `category` and `release_at`.",
        ),
        MULTI_LINE,
    ] = None
    media: Annotated[
        list[MediaRef],
        Field(
            max_length=MAX_MEDIA_PER_RELEASE,
            description=(
                f"At most {MAX_MEDIA_PER_RELEASE} attachments: your verified (`ready`) media, each with its "
                "role; images need `alt`."
            ),
        ),
    ] = []

    def __repr__(self) -> str:
        # Short on purpose: frameworks log route arguments with repr() (Powertools does, even with
        # debug logging off), and a 50,000-character body has no place in a log line.
        return f"{type(self).__name__}(headline={self.headline!r}, body=<{len(self.body)} characters>)"


class BusinessRelease(_SubmissionBase):
    """Business news: results, products, deals."""

    model_config = _BUILT_AT_IMPORT

    category: Literal["business"]
    details: BusinessDetails = BusinessDetails()


class SportsRelease(_SubmissionBase):
    """Sports: results, fixtures, signings."""

    model_config = _BUILT_AT_IMPORT

    category: Literal["sports"]
    details: SportsDetails


class PersonnelRelease(_SubmissionBase):
    """Personnel: appointments, promotions, departures."""

    model_config = _BUILT_AT_IMPORT

    category: Literal["personnel"]
    details: PersonnelDetails


class CommunityRelease(_SubmissionBase):
    """Community news."""

    model_config = _BUILT_AT_IMPORT

    category: Literal["community"]
    details: CommunityDetails = CommunityDetails()


class EventRelease(_SubmissionBase):
    """Events: what, when and where."""

    model_config = _BUILT_AT_IMPORT

    category: Literal["event"]
    details: EventDetails


AnyRelease = BusinessRelease | SportsRelease | PersonnelRelease | CommunityRelease | EventRelease
ReleaseSubmission = Annotated[AnyRelease, Field(discriminator="category")]
