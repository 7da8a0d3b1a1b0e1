"""``press-intake media upload FILE``: an image or a PDF through the media API, as a script would.

It speaks only the public HTTP API and S3's upload form: ``POST /media`` declares the file (its
type read from its leading bytes, its exact size), the file goes to the presigned URL as a
``multipart/form-data`` POST (every field of the form, then the file, as a browser sends it),
then ``GET /media/{id}`` is followed until the media is ``ready`` or ``rejected``. It prints the
id (``--json``: the media and the entry to put in a release's ``media`` list).

The API and the key: the local stack's (its info file: ``api_url`` and the demo key) or, with
``--stack``, the stack's ``ApiUrl`` output; ``--api-url`` and ``--key`` (or
``PRESS_INTAKE_API_KEY``) choose others.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from cli.common import EXIT_FAILED, Options, err, fail, target_from

app = typer.Typer(help="Upload images and documents through the media API.", no_args_is_help=True)

ROLES = ("featured", "gallery", "document")


class ApiFailure(Exception):
    """The API or S3 refused; the message says why."""


def _request(method: str, url: str, *, key: str | None = None, body: Any = None, timeout: float = 30) -> Any:
    import urllib3

    headers = {"Accept": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    try:
        response = urllib3.request(method, url, body=data, headers=headers, timeout=timeout, retries=False)
    except urllib3.exceptions.HTTPError as error:
        raise ApiFailure(f"{method} {url} failed: {error}") from None
    text = response.data.decode("utf-8", "replace")
    if response.status >= 400:
        try:
            problem = json.loads(text)
            detail = problem.get("detail") or problem.get("title") or text
            fields = "; ".join(f"{e['field']}: {e['message']}" for e in problem.get("errors") or [])
        except (ValueError, AttributeError, KeyError, TypeError):
            detail, fields = text[:300], ""
        raise ApiFailure(
            f"{method} {url} answered {response.status}: {detail}" + (f" ({fields})" if fields else "")
        )
    return json.loads(text) if text else None


def send_form(url: str, fields: dict[str, str], filename: str, data: bytes, content_type: str) -> None:
    """The presigned POST, as a browser's form sends it: its fields in order, the file last."""
    import urllib3
    from urllib3.filepost import encode_multipart_formdata

    parts: list[tuple[str, Any]] = [*fields.items(), ("file", (filename, data, content_type))]
    body, multipart = encode_multipart_formdata(parts)
    try:
        response = urllib3.request(
            "POST", url, body=body, headers={"Content-Type": multipart}, timeout=120, retries=False
        )
    except urllib3.exceptions.HTTPError as error:
        raise ApiFailure(f"the upload to {url} failed: {error}") from None
    if response.status >= 300:
        raise ApiFailure(f"the upload was refused ({response.status}): {response.data[:300]!r}")


def upload_file(api_url: str, key: str, path: Path, *, wait: float, poll: float = 0.5) -> dict[str, Any]:
    """Declare, upload and follow one file; the media's last view."""
    from functions.domain.verification import sniff

    data = path.read_bytes()
    content_type = sniff(data[:64])
    if content_type is None:
        raise ValueError(f"{path} is not a JPEG, PNG, WebP image or a PDF (judging by its bytes)")
    declared = {"filename": path.name[:255], "content_type": content_type, "bytes": len(data)}
    created = _request("POST", f"{api_url}/media", key=key, body=declared)
    form = created["upload"]
    send_form(form["url"], form["fields"], path.name, data, content_type)
    deadline = time.monotonic() + wait
    media: dict[str, Any] = created
    while True:
        media = _request("GET", f"{api_url}/media/{created['id']}", key=key)
        if media["status"] in ("ready", "rejected") or time.monotonic() >= deadline:
            return media
        time.sleep(poll)


def _api(options: Options, api_url: str | None, key: str | None) -> tuple[str, str]:
    if api_url and key:
        return api_url.rstrip("/"), key
    target = target_from(options)
    if target.local:
        return (api_url or str(target.info.get("api_url", ""))).rstrip("/"), key or str(
            target.info.get("demo_api_key", "")
        )
    if not key:
        fail("give the organisation's API key with --key or PRESS_INTAKE_API_KEY")
    return (api_url or target.output("ApiUrl")).rstrip("/"), key


def _checked_role(kind: str, role: str | None, alt: str | None) -> str:
    """The attachment's role (the default for the file's kind), or a usage error."""
    image = kind.startswith("image/")
    chosen = role or ("gallery" if image else "document")
    if chosen not in ROLES:
        fail(f"--role must be one of {', '.join(ROLES)}")
    if image == (chosen == "document"):
        fail("an image is featured or gallery, not a document" if image else "a PDF is a document")
    if image and not (alt and alt.strip()):
        fail("images need --alt: what the image shows, 1-300 characters")
    if alt is not None and not 1 <= len(alt.strip()) <= 300:
        fail("--alt must be 1-300 characters")
    return chosen


@app.command("upload")
def upload(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The image (JPEG, PNG, WebP) or PDF to upload.")],
    alt: Annotated[
        str | None,
        typer.Option("--alt", help="What the image shows (1-300 characters); required for images."),
    ] = None,
    role: Annotated[
        str | None,
        typer.Option(
            "--role", help="featured, gallery or document (default: gallery for images, document for PDFs)."
        ),
    ] = None,
    caption: Annotated[str | None, typer.Option("--caption", help="A caption for the release.")] = None,
    credit: Annotated[str | None, typer.Option("--credit", help="A credit, e.g. the photographer.")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the media and its release entry as JSON.")
    ] = False,
    wait: Annotated[float, typer.Option("--wait", min=1, help="Seconds to wait for the verification.")] = 120,
    api_url: Annotated[str | None, typer.Option("--api-url", help="The API (default: the target's).")] = None,
    key: Annotated[
        str | None,
        typer.Option(
            "--key",
            envvar="PRESS_INTAKE_API_KEY",
            help="The organisation's API key (default locally: the demo key).",
        ),
    ] = None,
) -> None:
    """Upload FILE, wait until it is verified and print its id; exit 1 with the reason if rejected."""
    from functions.domain.verification import sniff

    if not file.is_file():
        fail(f"{file} is not a file")
    with file.open("rb") as handle:
        kind = sniff(handle.read(64))
    if kind is None:
        fail(f"{file} is not a JPEG, PNG, WebP image or a PDF (judging by its bytes)")
    chosen = _checked_role(kind, role, alt)
    base, token = _api(ctx.obj or Options(), api_url, key)
    try:
        media = upload_file(base, token, file, wait=wait)
    except ApiFailure as failure:
        fail(str(failure), EXIT_FAILED)
    entry = {"id": media["id"], "role": chosen}
    for name, value in (("alt", alt), ("caption", caption), ("credit", credit)):
        if value:
            entry[name] = value.strip()
    if as_json:
        typer.echo(json.dumps({**media, "attachment": entry}))
    if media["status"] == "rejected":
        err.print(f"[red]rejected:[/] {media['reason']}: {media.get('reason_detail') or ''}")
        raise typer.Exit(EXIT_FAILED)
    if media["status"] != "ready":
        err.print(f"[red]error:[/] still {media['status']} after {wait:g} s; follow GET /media/{media['id']}")
        raise typer.Exit(EXIT_FAILED)
    if not as_json:
        typer.echo(media["id"])
