"""Media on moto: POST /media's presigned upload, the S3 notification reaching the verification
queue, the verification function (the issue's hostile files), GET/DELETE /media, isolation, and
a release's ``media`` list."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import requests
from PIL import Image

from infra.apigateway.routes import api_routes
from infra.bootstrap import LocalStack
from infra.lambdas import LocalFunctions
from tests import media_fixtures as files
from tests.functional.conftest import receive_all, template
from tests.functional.media_support import Verifier, declare, upload, uploaded
from tests.helpers import ApiClient, ApiResponse, personnel_release


@pytest.fixture
def client(functions_env: LocalFunctions) -> Iterator[ApiClient]:
    from functions.handlers.api import lambda_handler

    return ApiClient(lambda_handler, api_routes(template()))


@pytest.fixture
def verifier(stack: LocalStack, functions_env: LocalFunctions) -> Verifier:
    return Verifier(stack, functions_env)


def test_the_uploads_bucket_notifies_the_verification_queue_of_new_uploads_only(stack: LocalStack) -> None:
    configuration = boto3.client("s3").get_bucket_notification_configuration(
        Bucket=stack.ref("MediaUploadsBucket")
    )

    (queue,) = configuration["QueueConfigurations"]
    assert queue["QueueArn"] == stack.attribute("MediaVerificationQueue", "Arn")
    assert queue["Events"] == ["s3:ObjectCreated:*"]
    assert queue["Filter"]["Key"]["FilterRules"] == [{"Name": "prefix", "Value": "uploads/"}]
    # S3's test event, sent when the notification was configured, is not left on the queue
    assert receive_all(boto3.client("sqs"), stack.ref("MediaVerificationQueue")) == []


# -- POST /media ------------------------------------------------------------------------------


def test_post_media_answers_a_presigned_post_for_exactly_that_key_type_and_size(
    client: ApiClient, stack: LocalStack
) -> None:
    response = client.post("/media", {"filename": "photo.jpg", "content_type": "image/jpeg", "bytes": 12345})

    assert response.status == 201, response.body
    body = response.json()
    assert body["status"] == "awaiting_upload"
    assert response.header("Location") == body["links"]["self"]
    fields = body["upload"]["fields"]
    assert fields["key"] == f"uploads/org-acme/{body['id']}"
    assert fields["Content-Type"] == "image/jpeg"
    policy = json.loads(__import__("base64").b64decode(fields["policy"]))
    assert {"Content-Type": "image/jpeg"} in policy["conditions"]
    assert ["content-length-range", 12345, 12345] in policy["conditions"]
    assert {"key": fields["key"]} in policy["conditions"]
    assert {"bucket": stack.ref("MediaUploadsBucket")} in policy["conditions"]
    from datetime import datetime

    expiry = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
    created = datetime.fromisoformat(body["created_at"].replace("Z", "+00:00"))
    assert 14 * 60 < (expiry - created).total_seconds() <= 15 * 60 + 1


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        (
            {"filename": "x.svg", "content_type": "image/svg+xml", "bytes": 10},
            "content_type",
            "literal_error",
        ),
        ({"filename": "x.gif", "content_type": "image/gif", "bytes": 10}, "content_type", "literal_error"),
        (
            {"filename": "big.jpg", "content_type": "image/jpeg", "bytes": 10 * 1024 * 1024 + 1},
            "bytes",
            "too_large",
        ),
        (
            {"filename": "big.pdf", "content_type": "application/pdf", "bytes": 20 * 1024 * 1024 + 1},
            "bytes",
            "less_than_equal",
        ),
        ({"filename": "../etc/passwd", "content_type": "image/png", "bytes": 10}, "filename", "value_error"),
        ({"filename": "x.png", "content_type": "image/png", "bytes": 0}, "bytes", "greater_than_equal"),
    ],
)
def test_post_media_refuses_other_types_and_sizes_with_422(
    client: ApiClient, body: dict[str, Any], field: str, code: str
) -> None:
    response = client.post("/media", body)

    assert response.status == 422, response.body
    assert response.content_type == "application/problem+json"
    assert any(e["field"] == field and e["code"] == code for e in response.json()["errors"]), response.body


# -- verification -----------------------------------------------------------------------------


def test_a_jpeg_with_gps_becomes_ready_with_renditions_that_carry_no_metadata(
    client: ApiClient, verifier: Verifier, stack: LocalStack
) -> None:
    data = files.jpeg_with_gps(2000, 1500, orientation=6)  # shot sideways: upright it is 1500 x 2000

    media = uploaded(client, verifier, data, "image/jpeg")

    assert media["status"] == "ready", media
    assert (media["width"], media["height"]) == (1500, 2000)
    assert media["sha256"] == __import__("hashlib").sha256(data).hexdigest()
    assert [(r["name"], r["width"]) for r in media["renditions"]] == [
        ("w320.webp", 320),
        ("w800.webp", 800),
        ("w1500.webp", 1500),
    ]
    s3 = boto3.client("s3")
    for rendition in media["renditions"]:
        key = f"renditions/org-acme/{media['id']}/{rendition['name']}"
        stored = s3.get_object(Bucket=stack.ref("MediaUploadsBucket"), Key=key)
        image = Image.open(io.BytesIO(stored["Body"].read()))
        assert image.format == "WEBP"
        assert image.size == (rendition["width"], rendition["height"])
        assert not image.getexif()
        assert "exif" not in image.info
        assert "xmp" not in image.info
        assert "icc_profile" not in image.info
    # upright: the blue block shot at the top left is now at the top right
    top_right = image.convert("RGB").getpixel((image.width - 5, 5))
    assert top_right[2] > 150
    assert top_right[0] < 100


@pytest.mark.parametrize(
    ("name", "data", "declared", "reason"),
    [
        ("png decompression bomb", files.png_bomb(), "image/png", "too_many_pixels"),
        ("html sent as image/jpeg", files.HTML_PAGE, "image/jpeg", "markup"),
        ("svg with script sent as image/png", files.SVG_WITH_SCRIPT, "image/png", "markup"),
        ("pdf with javascript", files.pdf(javascript="app.alert('hi')"), "application/pdf", "active_content"),
        ("pdf with an embedded file", files.pdf(attachment=True), "application/pdf", "active_content"),
        ("encrypted pdf", files.pdf(encrypt=True), "application/pdf", "encrypted"),
        ("png sent as image/jpeg", files.png(), "image/jpeg", "type_mismatch"),
        ("truncated jpeg", files.jpeg_with_gps()[:4000], "image/jpeg", "undecodable"),
        (
            "jpeg carrying a script",
            files.jpeg_with_gps() + b"<script>alert(1)</script>",
            "image/jpeg",
            "polyglot",
        ),
    ],
)
def test_hostile_files_are_rejected_with_a_reason_and_get_no_rendition(
    client: ApiClient,
    verifier: Verifier,
    stack: LocalStack,
    name: str,
    data: bytes,
    declared: str,
    reason: str,
) -> None:
    media = uploaded(client, verifier, data, declared)

    assert media["status"] == "rejected", (name, media)
    assert media["reason"] == reason, name
    assert media["reason_detail"]
    assert media["renditions"] == []
    listed = boto3.client("s3").list_objects_v2(
        Bucket=stack.ref("MediaUploadsBucket"), Prefix=f"renditions/org-acme/{media['id']}/"
    )
    assert listed.get("KeyCount", 0) == 0


def test_a_file_over_the_limit_uploaded_despite_the_policy_is_rejected_unread(
    client: ApiClient, verifier: Verifier
) -> None:
    # Given a declaration of a 1,000-byte PNG (the policy allows exactly 1,000 bytes)
    small = files.png(10, 10)
    created = declare(client, small, "image/png", size=1000)
    # When 11 MiB arrive anyway (moto does not enforce the policy's content-length-range)
    big = small + b"\0" * (11 * 1024 * 1024)
    upload(created, big)
    verifier.drain()

    media = client.get(f"/media/{created['id']}").json()
    assert (media["status"], media["reason"]) == ("rejected", "too_large")
    assert f"{len(big):,} bytes" in media["reason_detail"]


def test_a_file_of_another_size_than_declared_is_rejected(client: ApiClient, verifier: Verifier) -> None:
    data = files.png(50, 50)
    created = declare(client, data, "image/png", size=len(data) + 1)
    upload(created, data)
    verifier.drain()

    assert client.get(f"/media/{created['id']}").json()["reason"] == "size_mismatch"


def test_a_form_that_changes_the_content_type_is_rejected(client: ApiClient, verifier: Verifier) -> None:
    data = files.png(50, 50)
    created = declare(client, data, "image/png")
    upload(created, data, content_type="text/html")  # the policy forbids it; moto does not enforce it
    verifier.drain()

    media = client.get(f"/media/{created['id']}").json()
    assert media["reason"] == "type_mismatch"
    assert "text/html" in media["reason_detail"]


def test_a_pdf_becomes_ready_rewritten_without_its_metadata(
    client: ApiClient, verifier: Verifier, stack: LocalStack
) -> None:
    from pypdf import PdfReader

    media = uploaded(client, verifier, files.pdf(), "application/pdf")

    assert media["status"] == "ready", media
    assert media["pages"] == 1
    assert [r["name"] for r in media["renditions"]] == ["document.pdf"]
    stored = boto3.client("s3").get_object(
        Bucket=stack.ref("MediaUploadsBucket"), Key=f"renditions/org-acme/{media['id']}/document.pdf"
    )
    reader = PdfReader(io.BytesIO(stored["Body"].read()))
    assert "/Author" not in (reader.metadata or {})
    assert len(reader.pages) == 1


def test_a_redelivered_notification_changes_nothing(
    client: ApiClient, verifier: Verifier, stack: LocalStack
) -> None:
    # Given a verified upload
    data = files.png(900, 600)
    created = declare(client, data, "image/png")
    upload(created, data)
    sqs = boto3.client("sqs")
    notification = receive_all(sqs, verifier.queue_url)
    assert len(notification) == 1
    body = notification[0]["Body"]
    sqs.send_message(QueueUrl=verifier.queue_url, MessageBody=body)  # SQS delivers at least once
    sqs.send_message(QueueUrl=verifier.queue_url, MessageBody=body)
    verifier.drain()
    first = client.get(f"/media/{created['id']}").json()
    # When the same notification comes again
    sqs.send_message(QueueUrl=verifier.queue_url, MessageBody=body)
    verifier.drain()
    # Then the record is as it was, and the queue is empty (nothing failed)
    assert client.get(f"/media/{created['id']}").json() == first
    assert first["status"] == "ready"
    assert receive_all(sqs, verifier.queue_url) == []
    assert receive_all(sqs, stack.ref("MediaDeadLetterQueue")) == []


def test_a_verification_in_progress_elsewhere_is_retried_later_not_lost(
    client: ApiClient, verifier: Verifier
) -> None:
    from datetime import UTC, datetime, timedelta

    from functions.handlers.media_verify import service

    data = files.png(700, 500)
    created = declare(client, data, "image/png")
    # Given another delivery holds the claim (its lease still running)
    now = datetime.now(UTC)
    service()._repository.claim(created["id"], token="other", now=now, lease_until=now + timedelta(minutes=2))  # type: ignore[attr-defined]
    upload(created, data)

    verifier.poller.run_once()

    # Then the record failed alone and stays on the queue for a later try
    assert client.get(f"/media/{created['id']}").json()["status"] == "verifying"
    attributes = verifier.sqs.get_queue_attributes(
        QueueUrl=verifier.queue_url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "1"


def test_an_upload_to_a_key_no_media_owns_is_deleted_and_ignored(
    client: ApiClient, verifier: Verifier, stack: LocalStack
) -> None:
    # Given a declaration of org-acme's, and a form edited to write under another organisation
    data = files.png(50, 50)
    created = declare(client, data, "image/png")
    fields = dict(created["upload"]["fields"])
    fields["key"] = f"uploads/org-rovers/{created['id']}"
    requests.post(created["upload"]["url"], data=fields, files={"file": ("f", data)}, timeout=10)

    verifier.drain()

    assert client.get(f"/media/{created['id']}").json()["status"] == "awaiting_upload"
    listed = boto3.client("s3").list_objects_v2(
        Bucket=stack.ref("MediaUploadsBucket"), Prefix="uploads/org-rovers/"
    )
    assert listed.get("KeyCount", 0) == 0


# -- GET / DELETE, isolation ------------------------------------------------------------------


def _assert_not_found(response: ApiResponse) -> None:
    assert response.status == 404, response.body
    assert response.content_type == "application/problem+json"


def test_another_organisations_media_is_404_on_get_and_delete(client: ApiClient, verifier: Verifier) -> None:
    media = uploaded(client, verifier, files.png(800, 600), "image/png")
    other = client.as_org("org-rovers")

    _assert_not_found(other.get(f"/media/{media['id']}"))
    _assert_not_found(other.delete(f"/media/{media['id']}"))
    _assert_not_found(client.get("/media/not-a-uuid"))
    assert client.get(f"/media/{media['id']}").status == 200


def test_unused_media_can_be_deleted_with_its_upload_and_renditions(
    client: ApiClient, verifier: Verifier, stack: LocalStack
) -> None:
    media = uploaded(client, verifier, files.png(800, 600), "image/png")

    assert client.delete(f"/media/{media['id']}").status == 204

    _assert_not_found(client.get(f"/media/{media['id']}"))
    s3 = boto3.client("s3")
    for prefix in (f"uploads/org-acme/{media['id']}", f"renditions/org-acme/{media['id']}/"):
        listed = s3.list_objects_v2(Bucket=stack.ref("MediaUploadsBucket"), Prefix=prefix)
        assert listed.get("KeyCount", 0) == 0, prefix


# -- a release's media ------------------------------------------------------------------------


def test_a_release_with_ready_media_stores_its_attachments_and_the_media_cannot_be_deleted(
    client: ApiClient, verifier: Verifier, stack: LocalStack
) -> None:
    photo = uploaded(client, verifier, files.png(500, 400), "image/png")
    sheet = uploaded(client, verifier, files.pdf(), "application/pdf")
    release = personnel_release(
        media=[
            {"id": photo["id"], "role": "featured", "alt": "Jane Doe at her desk", "credit": "Acme"},
            {"id": sheet["id"], "role": "document"},
        ]
    )

    response = client.post("/releases", release)

    assert response.status == 202, response.body
    view = client.get(f"/releases/{response.json()['id']}").json()
    assert "small_image" in {f["code"] for f in view["prescreen_flags"]}
    state = boto3.client("dynamodb").get_item(
        TableName=stack.ref("ReleasesTable"), Key={"pk": {"S": f"release#{response.json()['id']}"}}
    )["Item"]
    document = json.loads(
        boto3.client("s3")
        .get_object(Bucket=stack.ref("ReleasesBucket"), Key=state["object_key"]["S"])["Body"]
        .read()
    )
    assert [(a["id"], a["role"], a["content_type"], a["width"]) for a in document["attachments"]] == [
        (photo["id"], "featured", "image/png", 500),
        (sheet["id"], "document", "application/pdf", None),
    ]
    conflict = client.delete(f"/media/{photo['id']}")
    assert conflict.status == 409, conflict.body


def test_another_organisations_media_in_a_release_is_422_at_its_path(
    client: ApiClient, verifier: Verifier
) -> None:
    theirs = uploaded(client.as_org("org-rovers"), verifier, files.png(800, 600), "image/png")
    mine = uploaded(client, verifier, files.png(800, 600), "image/png")
    release = personnel_release(
        media=[
            {"id": mine["id"], "role": "gallery", "alt": "Ours"},
            {"id": theirs["id"], "role": "gallery", "alt": "Theirs"},
        ]
    )

    response = client.post("/releases", release)

    assert response.status == 422, response.body
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [("media.1.id", "unknown_media")]


@pytest.mark.parametrize(
    ("entry", "field", "code"),
    [
        ({"role": "featured"}, "media.0.alt", "missing"),
        ({"role": "document", "alt": "A photo"}, "media.0.role", "wrong_role"),
    ],
)
def test_image_attachments_need_alt_text_and_an_image_role(
    client: ApiClient, verifier: Verifier, entry: dict[str, Any], field: str, code: str
) -> None:
    photo = uploaded(client, verifier, files.png(800, 600), "image/png")

    response = client.post("/releases", personnel_release(media=[{"id": photo["id"], **entry}]))

    assert response.status == 422, response.body
    assert (field, code) in [(e["field"], e["code"]) for e in response.json()["errors"]]


def test_media_not_yet_verified_or_rejected_is_422(client: ApiClient, verifier: Verifier) -> None:
    waiting = declare(client, files.png(800, 600), "image/png")
    rejected = uploaded(client, verifier, files.HTML_PAGE, "image/png")
    release = personnel_release(
        media=[
            {"id": waiting["id"], "role": "gallery", "alt": "Waiting"},
            {"id": rejected["id"], "role": "gallery", "alt": "Rejected"},
        ]
    )

    response = client.post("/releases", release)

    assert response.status == 422, response.body
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [
        ("media.0.id", "media_not_ready"),
        ("media.1.id", "media_not_ready"),
    ]


def test_a_revision_may_change_the_media(client: ApiClient, verifier: Verifier, stack: LocalStack) -> None:
    first = uploaded(client, verifier, files.png(800, 600), "image/png")
    second = uploaded(client, verifier, files.png(1000, 600), "image/png")
    release_id = client.post(
        "/releases", personnel_release(media=[{"id": first["id"], "role": "featured", "alt": "First"}])
    ).json()["id"]

    revised = client.put(
        f"/releases/{release_id}",
        personnel_release(media=[{"id": second["id"], "role": "featured", "alt": "Second"}]),
    )

    assert revised.status == 200, revised.body
    state = boto3.client("dynamodb").get_item(
        TableName=stack.ref("ReleasesTable"), Key={"pk": {"S": f"release#{release_id}"}}
    )["Item"]
    document = json.loads(
        boto3.client("s3")
        .get_object(Bucket=stack.ref("ReleasesBucket"), Key=state["object_key"]["S"])["Body"]
        .read()
    )
    assert [a["id"] for a in document["attachments"]] == [second["id"]]


# -- concurrency ------------------------------------------------------------------------------


def test_two_verifications_of_one_upload_at_once_make_one_verdict(
    client: ApiClient, verifier: Verifier
) -> None:
    import threading

    from functions.domain.media_service import VerificationBusy, VerifyOutcome
    from functions.handlers.media_verify import service

    data = files.png(1200, 800)
    created = declare(client, data, "image/png")
    upload(created, data)
    key = created["upload"]["fields"]["key"]
    outcomes: list[object] = []
    start = threading.Barrier(2)

    def verify() -> None:
        start.wait()
        try:
            outcomes.append(service().verify_upload(key))
        except VerificationBusy:
            outcomes.append("busy")

    threads = [threading.Thread(target=verify) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sorted(map(str, outcomes)) in (
        sorted([VerifyOutcome.READY.value, "busy"]),
        sorted([VerifyOutcome.READY.value, VerifyOutcome.ALREADY_FINAL.value]),
    )
    media = client.get(f"/media/{created['id']}").json()
    assert media["status"] == "ready"
    assert [r["width"] for r in media["renditions"]] == [320, 800, 1200]


def test_a_verification_whose_lease_ran_out_is_taken_over_by_the_next_delivery(
    client: ApiClient, verifier: Verifier
) -> None:
    from datetime import UTC, datetime, timedelta

    from functions.handlers.media_verify import service

    data = files.png(700, 500)
    created = declare(client, data, "image/png")
    # Given a verification that claimed the media and died (its lease ran out a second ago)
    past = datetime.now(UTC) - timedelta(minutes=5)
    service()._repository.claim(  # type: ignore[attr-defined]
        created["id"], token="crashed", now=past, lease_until=datetime.now(UTC) - timedelta(seconds=1)
    )
    upload(created, data)

    verifier.drain()

    assert client.get(f"/media/{created['id']}").json()["status"] == "ready"


def test_a_media_deleted_while_it_is_verified_leaves_no_rendition_behind(
    client: ApiClient, verifier: Verifier, stack: LocalStack
) -> None:
    from datetime import UTC, datetime

    from functions.adapters.dynamodb_media import DynamoMediaRepository
    from functions.adapters.s3_media import S3MediaObjects
    from functions.domain.media_service import MediaService, VerifyOutcome
    from functions.domain.verification import verify

    data = files.png(900, 600)
    created = declare(client, data, "image/png")
    upload(created, data)
    verifier.sqs.purge_queue(QueueUrl=verifier.queue_url)

    def verify_then_deleted(data: bytes, **declared: Any) -> Any:
        verdict = verify(data, **declared)
        # the submitter deletes the media while its verification runs (still unused: allowed)
        boto3.client("dynamodb").delete_item(
            TableName=stack.ref("MediaTable"), Key={"media_id": {"S": created["id"]}}
        )
        return verdict

    media = MediaService(
        repository=DynamoMediaRepository(boto3.client("dynamodb"), stack.ref("MediaTable")),
        objects=S3MediaObjects(boto3.client("s3"), stack.ref("MediaUploadsBucket")),
        clock=lambda: datetime.now(UTC),
        verify=verify_then_deleted,
    )

    assert media.verify_upload(created["upload"]["fields"]["key"]) is VerifyOutcome.IGNORED

    listed = boto3.client("s3").list_objects_v2(
        Bucket=stack.ref("MediaUploadsBucket"), Prefix=f"renditions/org-acme/{created['id']}/"
    )
    assert listed.get("KeyCount", 0) == 0


def test_an_upload_replaced_by_a_larger_one_after_its_size_was_read_is_never_read_whole(
    client: ApiClient, verifier: Verifier, stack: LocalStack
) -> None:
    from datetime import UTC, datetime

    from functions.adapters.dynamodb_media import DynamoMediaRepository
    from functions.adapters.s3_media import S3MediaObjects
    from functions.domain.media_service import MediaService, VerifyOutcome

    small = files.png(100, 100)
    created = declare(client, small, "image/png")
    upload(created, small)
    verifier.sqs.purge_queue(QueueUrl=verifier.queue_url)
    key = created["upload"]["fields"]["key"]
    reads: list[int] = []

    class Replaced(S3MediaObjects):
        """The object as it was when its size was read; replaced by 12 MiB right after."""

        def head(self, key: str) -> tuple[int, str] | None:
            found = super().head(key)
            boto3.client("s3").put_object(
                Bucket=stack.ref("MediaUploadsBucket"), Key=key, Body=small + b"\0" * (12 * 1024 * 1024)
            )
            return found

        def read(self, key: str, *, max_bytes: int) -> bytes:
            data = super().read(key, max_bytes=max_bytes)
            reads.append(len(data))
            return data

    media = MediaService(
        repository=DynamoMediaRepository(boto3.client("dynamodb"), stack.ref("MediaTable")),
        objects=Replaced(boto3.client("s3"), stack.ref("MediaUploadsBucket")),
        clock=lambda: datetime.now(UTC),
    )

    assert media.verify_upload(key) is VerifyOutcome.REJECTED

    assert reads == [10 * 1024 * 1024 + 1]
    assert client.get(f"/media/{created['id']}").json()["reason"] == "too_large"


def test_the_moderator_sees_each_attachment_with_what_verification_found(
    client: ApiClient, verifier: Verifier, local_info: Any
) -> None:
    from rich.console import Console

    from cli.moderate import open_session, render

    # Given a release with a verified photo (small: flagged) and a PDF, its alt text hostile
    photo = uploaded(client, verifier, files.png(500, 400), "image/png")
    sheet = uploaded(client, verifier, files.pdf(), "application/pdf")
    release = personnel_release(
        media=[
            {
                "id": photo["id"],
                "role": "featured",
                "alt": "Jane Doe [bold]at[/bold] her desk",
                "caption": "In the new office",
                "credit": "Acme",
            },
            {"id": sheet["id"], "role": "document"},
        ]
    )
    assert client.post("/releases", release).status == 202

    # When the moderator's console shows it
    session = open_session(None, "maria", hold=30)
    try:
        item = session.desk.next_item(wait=0)
        assert item is not None
        screen = Console(record=True, width=160)
        screen.print(render(item))
        shown = screen.export_text()
    finally:
        session.close()

    # Then each attachment is there with its role, verified type, dimensions and size, the alt
    # text (inert, as typed), caption and credit, and the small image is flagged
    assert "featured · image/png · 500x400 px" in shown
    assert "Jane Doe [bold]at[/bold] her desk" in shown
    assert "In the new office" in shown
    assert "Acme" in shown
    assert "document · application/pdf · 1 page · " in shown
    assert "small_image: 1 image(s) under 600 px wide" in shown
