"""The DeskFiles custom resource on moto: the web desk into the site bucket on Create/Update,
out of it on Delete, and an answer to CloudFormation on every path."""

from __future__ import annotations

import io
import json
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from functions.adapters.custom_resource import run_custom_resource, send_response
from functions.domain.desk import desk_objects
from functions.handlers.desk import desk_files_action
from infra.bootstrap import LocalStack
from infra.lambda_context import LocalLambdaContext
from tests.functional.conftest import template
from tests.iam import Request, allowed

DESK = Path(__file__).resolve().parents[2] / "desk"
API_URL = "https://abc123.execute-api.eu-west-1.amazonaws.com/v1"


class Answers:
    """Stands in for CloudFormation's response URL: every answer sent to it."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, url: str, body: dict[str, Any]) -> None:
        self.sent.append((url, body))


def _event(
    request_type: str, properties: Mapping[str, Any], physical_id: str | None = None
) -> dict[str, Any]:
    event = {
        "RequestType": request_type,
        "ResponseURL": "https://cloudformation-custom-resource-response.example/answer",
        "StackId": "arn:aws:cloudformation:eu-west-1:123456789012:stack/press-intake/1",
        "RequestId": "request-1",
        "ResourceType": "Custom::DeskFiles",
        "LogicalResourceId": "DeskFiles",
        "ResourceProperties": {"ServiceToken": "arn:aws:lambda:...", **properties},
    }
    if physical_id:
        event["PhysicalResourceId"] = physical_id
    return event


def _context(timeout: float = 60.0) -> LocalLambdaContext:
    return LocalLambdaContext(function_name="DeskFilesFunction", timeout_seconds=timeout)


@pytest.fixture
def site(stack: LocalStack, s3: Any) -> str:
    return str(stack.ref("SiteBucket"))


def _keys(s3: Any, bucket: str) -> set[str]:
    return {item["Key"] for item in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}


def _object(s3: Any, bucket: str, key: str) -> tuple[bytes, dict[str, Any]]:
    found = s3.get_object(Bucket=bucket, Key=key)
    return found["Body"].read(), found


def test_create_puts_every_file_and_a_config_naming_the_api(s3: Any, site: str) -> None:
    answers = Answers()
    properties = {
        "Bucket": site,
        "ApiUrl": API_URL,
        "SiteUrl": "https://news.example.org/",
        "Files": "layer:1",
    }

    answer = run_custom_resource(
        _event("Create", properties), _context(), desk_files_action(s3, DESK), send=answers
    )

    assert answers.sent == [(answers.sent[0][0], answer)]
    assert answer is not None
    assert answer["Status"] == "SUCCESS"
    assert answer["PhysicalResourceId"] == f"desk-files:{site}"
    assert (answer["StackId"], answer["RequestId"], answer["LogicalResourceId"]) == (
        "arn:aws:cloudformation:eu-west-1:123456789012:stack/press-intake/1",
        "request-1",
        "DeskFiles",
    )
    shipped = {f"desk/{p.relative_to(DESK).as_posix()}" for p in DESK.rglob("*") if p.is_file()}
    assert _keys(s3, site) == (shipped - {"desk/Makefile"}) | {"desk/config.json", "desk/", "desk"}
    config, meta = _object(s3, site, "desk/config.json")
    assert json.loads(config) == {"api_url": API_URL, "site_url": "https://news.example.org/"}
    assert meta["ContentType"] == "application/json"
    script, meta = _object(s3, site, "desk/js/main.js")
    assert meta["ContentType"] == "text/javascript; charset=utf-8"  # module scripts need a JS type
    assert meta["CacheControl"] == "no-cache"
    assert script == (DESK / "js" / "main.js").read_bytes()
    # index.html (and the folder URL /desk/) carry a CSP naming exactly this API's origin
    for key in ("desk/index.html", "desk/"):
        page, meta = _object(s3, site, key)
        assert meta["ContentType"] == "text/html; charset=utf-8"
        assert (
            b'<meta http-equiv="Content-Security-Policy" '
            b"content=\"connect-src 'self' https://abc123.execute-api.eu-west-1.amazonaws.com\">" in page
        )
    bare, _ = _object(s3, site, "desk")
    assert b'url=desk/"' in bare  # /desk sends the browser on to /desk/


def test_the_pages_csp_names_the_uploads_buckets_form_url_when_given(
    s3: Any, site: str, stack: LocalStack
) -> None:
    uploads = stack.ref("MediaUploadsBucket")
    properties = {"Bucket": site, "ApiUrl": API_URL, "UploadsBucket": uploads}

    answer = run_custom_resource(
        _event("Create", properties), _context(), desk_files_action(s3, DESK), send=Answers()
    )

    assert answer is not None
    assert answer["Status"] == "SUCCESS"
    # the URL the API's presigned POSTs name (the same client, the same addressing)
    form_url = s3.generate_presigned_post(Bucket=uploads, Key="uploads/org/id")["url"]
    assert form_url == f"https://{uploads}.s3.amazonaws.com/"
    page, _ = _object(s3, site, "desk/index.html")
    assert (
        b'<meta http-equiv="Content-Security-Policy" '
        b"content=\"connect-src 'self' https://abc123.execute-api.eu-west-1.amazonaws.com "
        + f"https://{uploads}.s3.amazonaws.com".encode()
        + b'">'
    ) in page


def test_the_desk_names_the_template_uploads_bucket() -> None:
    properties = template()["Resources"]["DeskFiles"]["Properties"]
    assert properties["UploadsBucket"] == {"Ref": "MediaUploadsBucket"}


def test_update_replaces_the_files_and_removes_what_an_old_version_left(
    s3: Any, site: str, tmp_path: Path
) -> None:
    s3.put_object(Bucket=site, Key="desk/js/old-module.js", Body=b"old")
    s3.put_object(Bucket=site, Key="releases/kept.html", Body=b"a published page")
    answers = Answers()
    event = _event("Update", {"Bucket": site, "ApiUrl": API_URL}, physical_id=f"desk-files:{site}")

    run_custom_resource(event, _context(), desk_files_action(s3, DESK), send=answers)

    assert answers.sent[0][1]["Status"] == "SUCCESS"
    keys = _keys(s3, site)
    assert "desk/js/old-module.js" not in keys
    assert "releases/kept.html" in keys  # nothing outside the desk is touched
    assert "desk/index.html" in keys
    assert json.loads(_object(s3, site, "desk/config.json")[0]) == {"api_url": API_URL}


def test_delete_removes_the_desk_and_a_bucket_already_gone_is_fine(s3: Any, site: str) -> None:
    action = desk_files_action(s3, DESK)
    run_custom_resource(
        _event("Create", {"Bucket": site, "ApiUrl": API_URL}), _context(), action, send=Answers()
    )
    s3.put_object(Bucket=site, Key="index.html", Body=b"the newsroom")
    answers = Answers()

    run_custom_resource(
        _event("Delete", {"Bucket": site, "ApiUrl": API_URL}, f"desk-files:{site}"),
        _context(),
        action,
        send=answers,
    )

    assert answers.sent[0][1]["Status"] == "SUCCESS"
    assert _keys(s3, site) == {"index.html"}
    gone = Answers()
    run_custom_resource(
        _event("Delete", {"Bucket": "no-such-bucket-anywhere"}, "desk-files:no-such-bucket-anywhere"),
        _context(),
        action,
        send=gone,
    )
    assert gone.sent[0][1]["Status"] == "SUCCESS"


@pytest.mark.parametrize(
    ("properties", "reason"),
    [
        ({"ApiUrl": API_URL}, "the Bucket property is required"),
        ({"Bucket": "no-such-bucket-anywhere", "ApiUrl": API_URL}, "NoSuchBucket"),
        ({"Bucket": "__site__", "ApiUrl": "not a url"}, "is not an http(s) URL"),
    ],
)
def test_a_failure_is_answered_failed_with_the_reason(
    s3: Any, site: str, properties: dict[str, str], reason: str
) -> None:
    answers = Answers()
    props = {k: (site if v == "__site__" else v) for k, v in properties.items()}

    run_custom_resource(_event("Create", props), _context(), desk_files_action(s3, DESK), send=answers)

    [(_, answer)] = answers.sent
    assert answer["Status"] == "FAILED"
    assert reason in answer["Reason"]
    assert answer["PhysicalResourceId"]  # CloudFormation needs one even for a failed create


def test_an_unknown_request_type_is_failed_not_ignored(s3: Any, site: str) -> None:
    answers = Answers()
    run_custom_resource(
        _event("Rename", {"Bucket": site}), _context(), desk_files_action(s3, DESK), send=answers
    )
    assert answers.sent[0][1]["Status"] == "FAILED"


def test_work_that_would_outlive_the_invocation_is_answered_failed_in_time() -> None:
    answers = Answers()
    release = threading.Event()

    def slow(request_type: str, properties: Mapping[str, Any]) -> str:
        release.wait(5)
        return "late"

    started = time.monotonic()
    worker = threading.Thread(
        target=run_custom_resource,
        args=(_event("Create", {}), _context(timeout=5.3), slow),
        kwargs={"send": answers, "margin_seconds": 5.0},
    )
    worker.start()
    deadline = time.monotonic() + 3
    while not answers.sent and time.monotonic() < deadline:
        time.sleep(0.02)
    assert answers.sent, "no answer before the invocation's end"
    assert time.monotonic() - started < 2
    assert answers.sent[0][1]["Status"] == "FAILED"
    assert "Timed out" in answers.sent[0][1]["Reason"]
    release.set()
    worker.join(5)
    assert len(answers.sent) == 1  # the late success sends nothing more


def test_a_failed_answer_still_returns_and_is_logged(s3: Any, site: str) -> None:
    def broken(url: str, body: dict[str, Any]) -> None:
        raise OSError("network down")

    answer = run_custom_resource(
        _event("Create", {"Bucket": site, "ApiUrl": API_URL}),
        _context(),
        desk_files_action(s3, DESK),
        send=broken,
    )
    assert answer is not None
    assert answer["Status"] == "SUCCESS"


class ResponseUrl:
    """Stands in for CloudFormation's pre-signed https response URL at the network edge: every
    request ``send_response`` opens, as the wire would carry it (nothing leaves the machine)."""

    url = "https://cloudformation-custom-resource-response.example/signed?X-Amz-Signature=abc"

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []

    def __call__(self, request: urllib.request.Request, timeout: float) -> io.BytesIO:
        parts = urllib.parse.urlsplit(request.full_url)
        assert isinstance(request.data, bytes)
        assert request.get_header("Content-length") == str(len(request.data))
        self.received.append(
            {
                "method": request.get_method(),
                "content_type": request.get_header("Content-type"),
                "body": json.loads(request.data),
                "path": f"{parts.path}?{parts.query}",
            }
        )
        return io.BytesIO(b"")


@pytest.fixture
def response_url(monkeypatch: pytest.MonkeyPatch) -> ResponseUrl:
    """CloudFormation's response URL, recorded: ``send_response`` (the handler's default sender)
    builds and checks its request as always, then hands it to the recorder instead of the network."""
    from functions.adapters import custom_resource

    recorder = ResponseUrl()

    def send(url: str, body: dict[str, Any]) -> None:
        send_response(url, body, opener=recorder)

    monkeypatch.setattr(custom_resource, "send_response", send)
    return recorder


def test_the_answer_is_a_put_of_json_without_a_content_type() -> None:
    recorder = ResponseUrl()
    send_response(recorder.url, {"Status": "SUCCESS", "PhysicalResourceId": "x"}, opener=recorder)
    assert recorder.received == [
        {
            "method": "PUT",
            "content_type": "",
            "body": {"Status": "SUCCESS", "PhysicalResourceId": "x"},
            "path": "/signed?X-Amz-Signature=abc",
        }
    ]


def test_the_lambda_handler_publishes_what_the_template_declares(
    stack: LocalStack,
    s3: Any,
    monkeypatch: pytest.MonkeyPatch,
    response_url: ResponseUrl,
) -> None:
    from functions import cold_start
    from functions.handlers.desk import lambda_handler

    url, received = response_url.url, response_url.received
    environment = stack.function_environment("DeskFilesFunction")
    assert environment["DESK_FILES_DIR"] == "/opt/desk"  # where DeskFilesLayer unpacks
    monkeypatch.setenv("DESK_FILES_DIR", str(DESK))
    cold_start.reset_all()
    properties = stack.resolver.resolve(template()["Resources"]["DeskFiles"]["Properties"])
    event = {**_event("Create", properties), "ResponseURL": url}

    lambda_handler(event, _context())

    assert [r["body"]["Status"] for r in received] == ["SUCCESS"]
    site = stack.ref("SiteBucket")
    config = json.loads(_object(s3, site, "desk/config.json")[0])
    assert config["api_url"] == stack.outputs()["ApiUrl"]
    assert config["site_url"] == stack.outputs()["SiteUrl"]
    cold_start.reset_all()


def test_the_desk_ships_only_files_it_can_serve() -> None:
    objects = desk_objects(DESK, api_url=API_URL)
    assert all(item.content_type for item in objects)
    assert "desk/Makefile" not in {item.key for item in objects}


# -- the template ---------------------------------------------------------------------------------


def _desk_policy() -> dict[str, Any]:
    spec = template()["Resources"]["DeskFilesFunction"]["Properties"]
    [policy] = spec["Policies"]
    return {"Version": "2012-10-17", "Statement": policy["Statement"]}


def test_the_function_may_touch_the_desk_and_nothing_else(stack: LocalStack) -> None:
    policy = stack.resolver.resolve(_desk_policy())
    bucket = f"arn:aws:s3:::{stack.ref('SiteBucket')}"
    for action in ("s3:PutObject", "s3:DeleteObject"):
        assert allowed(policy, Request(action, f"{bucket}/desk/js/main.js"))
        assert allowed(policy, Request(action, f"{bucket}/desk/"))
        assert allowed(policy, Request(action, f"{bucket}/desk"))
        assert not allowed(policy, Request(action, f"{bucket}/index.html"))
        assert not allowed(policy, Request(action, f"{bucket}/releases/x.html"))
        assert not allowed(policy, Request(action, f"{bucket}/desktop.html"))
    assert allowed(policy, Request("s3:ListBucket", bucket, {"s3:prefix": "desk/"}))
    assert not allowed(policy, Request("s3:ListBucket", bucket, {"s3:prefix": "releases/"}))
    assert not allowed(policy, Request("s3:GetObject", f"{bucket}/desk/index.html"))


def test_a_new_layer_version_updates_the_desk_and_the_api_url_is_the_stacks() -> None:
    resources = template()["Resources"]
    desk = resources["DeskFiles"]
    assert desk["Type"] == "Custom::DeskFiles"
    properties = desk["Properties"]
    assert properties["ServiceToken"] == {"Fn::GetAtt": ["DeskFilesFunction", "Arn"]}
    assert properties["Files"] == {"Ref": "DeskFilesLayer"}  # changes with the files
    assert properties["ApiUrl"] == template()["Outputs"]["ApiUrl"]["Value"]
    assert resources["DeskFilesLayer"]["Properties"]["ContentUri"] == "desk/"
    assert resources["DeskFilesFunction"]["Properties"]["Layers"] == [{"Ref": "DeskFilesLayer"}]
    # the layer's build keeps its own Makefile out and puts the files under desk/ (/opt/desk)
    makefile = (DESK / "Makefile").read_text()
    assert "$(ARTIFACTS_DIR)/desk/" in makefile
    assert 'rm -f "$(ARTIFACTS_DIR)/desk/Makefile"' in makefile
