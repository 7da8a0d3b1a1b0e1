"""Media on the real local stack: the CLI uploads through the presigned POST (a real
multipart/form-data POST to moto's server), S3's notification reaches the verification queue,
the stack's poller runs the verification function, and a release names the verified image."""

from __future__ import annotations

import io
import json
from pathlib import Path

import lxml.html
from PIL import Image

from tests import media_fixtures as files
from tests.helpers import personnel_release
from tests.integration.conftest import RunningStack, wait_for


def test_the_cli_uploads_an_image_that_a_release_then_features(
    local_stack: RunningStack, tmp_path: Path
) -> None:
    photo = tmp_path / "jane-doe.jpg"
    photo.write_bytes(files.jpeg_with_gps(2400, 1600, orientation=1))

    result = local_stack.cli(
        "media",
        "upload",
        str(photo),
        "--alt",
        "Jane Doe at Acme's headquarters",
        "--role",
        "featured",
        "--credit",
        "Acme",
        "--json",
    )

    assert result.returncode == 0, result.stderr
    media = json.loads(result.stdout)
    assert media["status"] == "ready"
    assert (media["width"], media["height"]) == (2400, 1600)
    assert [r["width"] for r in media["renditions"]] == [320, 800, 1600]
    assert media["attachment"] == {
        "id": media["id"],
        "role": "featured",
        "alt": "Jane Doe at Acme's headquarters",
        "credit": "Acme",
    }
    # the original stays private: the site does not have it, nor does anything public
    s3 = local_stack.aws("s3")
    bucket = local_stack.info["resources"]["MediaBucketName"]
    assert (
        s3.head_object(Bucket=bucket, Key=f"uploads/demo/{media['id']}")["ContentLength"]
        == photo.stat().st_size
    )

    release = personnel_release(headline="Acme names Jane Doe chief of staff", media=[media["attachment"]])
    submitted = local_stack.request("POST", "/releases", json_body=release)
    assert submitted.status == 202, submitted.body
    release_id = submitted.json()["id"]
    approved = local_stack.cli(
        "moderate", "--once", "--decision", "approve", "--max", "50", "--json", "--wait", "1"
    )
    assert release_id in approved.stdout, approved.stderr

    # published: the page shows the featured image, served from the site with the rendition
    view = wait_for(
        lambda: (
            (v := local_stack.request("GET", f"/releases/{release_id}").json())["status"] == "published" and v
        )
    )
    page = lxml.html.fromstring(local_stack.request("GET", view["public_url"], key=None).body)
    image = page.find(".//article//figure/img")
    assert image.get("alt") == "Jane Doe at Acme's headquarters"
    assert image.get("src") == f"{local_stack.info['site_url']}media/{release_id}/{media['id']}/w1600.webp"
    rendition = local_stack.request("GET", image.get("src"), key=None)
    assert rendition.status == 200
    assert rendition.content_type == "image/webp"
    published = Image.open(io.BytesIO(rendition.body))
    assert published.size == (1600, 1067)
    assert not published.getexif()  # the upload's GPS position stayed behind


def test_the_cli_reports_a_rejection_with_its_reason_and_exit_1(
    local_stack: RunningStack, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(files.noisy_image(800, 600, "JPEG")[:5000])  # truncated

    result = local_stack.cli("media", "upload", str(broken), "--alt", "A broken photo")

    assert result.returncode == 1, result.stdout
    assert "undecodable" in result.stderr


def test_the_cli_refuses_what_is_no_image_or_pdf_before_uploading(
    local_stack: RunningStack, tmp_path: Path
) -> None:
    page = tmp_path / "photo.jpg"
    page.write_bytes(files.HTML_PAGE)

    result = local_stack.cli("media", "upload", str(page), "--alt", "Not a photo")

    assert result.returncode == 2
    assert "not a JPEG, PNG, WebP image or a PDF" in result.stderr


def test_an_image_needs_alt_text(local_stack: RunningStack, tmp_path: Path) -> None:
    photo = tmp_path / "photo.png"
    photo.write_bytes(files.png(800, 600))

    result = local_stack.cli("media", "upload", str(photo))

    assert result.returncode == 2
    assert "--alt" in result.stderr


def test_a_pdf_uploads_as_a_document(local_stack: RunningStack, tmp_path: Path) -> None:
    sheet = tmp_path / "fact-sheet.pdf"
    sheet.write_bytes(files.pdf())

    result = local_stack.cli("media", "upload", str(sheet), "--json")

    assert result.returncode == 0, result.stderr
    media = json.loads(result.stdout)
    assert (media["status"], media["pages"], media["attachment"]["role"]) == ("ready", 1, "document")
    listed = local_stack.request("GET", f"/media/{media['id']}")
    assert listed.status == 200


def test_media_survive_a_restart_and_uploads_are_still_verified_after_it(tmp_path: Path) -> None:
    from tests.integration.conftest import start_stack, stop_stack

    photo = tmp_path / "photo.png"
    photo.write_bytes(files.png(900, 600))
    # Given a stack with a verified image
    stack = start_stack(tmp_path)
    try:
        result = stack.cli("media", "upload", str(photo), "--alt", "A grey square", "--json")
        assert result.returncode == 0, result.stderr
        before = json.loads(result.stdout)
        assert before["status"] == "ready"
    finally:
        assert stop_stack(stack) == 0, stack.log.read_text()

    # When it starts again in the same folder
    again = start_stack(tmp_path)
    try:
        # Then the media is as it was, renditions included, and not verified a second time
        after = again.request("GET", f"/media/{before['id']}").json()
        assert {k: after[k] for k in ("status", "width", "renditions", "updated_at")} == {
            k: before[k] for k in ("status", "width", "renditions", "updated_at")
        }
        bucket = again.info["resources"]["MediaBucketName"]
        key = f"renditions/demo/{before['id']}/{before['renditions'][0]['name']}"
        assert again.aws("s3").head_object(Bucket=bucket, Key=key)["ContentLength"] > 0
        # and a new upload still reaches the verification function
        result = again.cli("media", "upload", str(photo), "--alt", "The same square")
        assert result.returncode == 0, result.stderr
        assert wait_for(
            lambda: again.request("GET", f"/media/{result.stdout.strip()}").json()["status"] == "ready"
        )
    finally:
        assert stop_stack(again) == 0, again.log.read_text()
