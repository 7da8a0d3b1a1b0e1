"""The desk page's CSP names the API and the uploads bucket's form URL, and nothing can be slipped
into it through them."""

from __future__ import annotations

import pytest

from functions.domain.desk import DeskFilesError, connect_sources, render_index, upload_source


def test_a_virtual_hosted_bucket_is_its_origin_and_a_path_style_one_keeps_its_path() -> None:
    assert upload_source("https://uploads-1.s3.amazonaws.com/") == "https://uploads-1.s3.amazonaws.com"
    assert (
        upload_source("http://127.0.0.1:5000/press-intake-uploads")
        == "http://127.0.0.1:5000/press-intake-uploads"
    )


@pytest.mark.parametrize(
    "url",
    [
        "ftp://uploads.example/",
        "https://uploads.example/x'; script-src *",
        "https://uploads.example/a b",
        "https://uploads.example/x;img-src",
        "not a url",
    ],
)
def test_what_is_no_plain_http_url_is_refused(url: str) -> None:
    with pytest.raises(DeskFilesError):
        upload_source(url)


def test_the_page_may_connect_to_itself_the_api_and_the_uploads_bucket_only() -> None:
    api = "https://abc.execute-api.eu-west-1.amazonaws.com/v1"
    assert connect_sources(api) == "'self' https://abc.execute-api.eu-west-1.amazonaws.com"
    page = render_index('<head>\n  <meta charset="utf-8">\n</head>', api, "https://up.s3.amazonaws.com/")
    assert (
        '<meta http-equiv="Content-Security-Policy" content="connect-src \'self\' '
        'https://abc.execute-api.eu-west-1.amazonaws.com https://up.s3.amazonaws.com">'
    ) in page
