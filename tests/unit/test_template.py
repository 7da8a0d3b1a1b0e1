"""Reading template.yaml: cfn-lint's decoder, intrinsics in their long form, plain Python values."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra.template import TemplateError, load_template

SHORT_FORMS = """
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Queue:
    Type: AWS::SQS::Queue
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: !Sub "${AWS::StackName}-alarms"
      Tags:
        - Key: queue
          Value: !GetAtt Queue.Arn
        - Key: url
          Value: !Ref Queue
        - Key: joined
          Value: !Join ["-", [!Select [0, !Split [",", "a,b"]], "c"]]
"""


@pytest.fixture(autouse=True)
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    return home


def _write(tmp_path: Path, text: str, name: str = "template.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_short_form_tags_become_their_long_forms_as_plain_values(tmp_path: Path) -> None:
    template = load_template(_write(tmp_path, SHORT_FORMS))
    tags = template["Resources"]["Topic"]["Properties"]["Tags"]
    assert template["Resources"]["Topic"]["Properties"]["TopicName"] == {
        "Fn::Sub": "${AWS::StackName}-alarms"
    }
    assert tags[0]["Value"] == {"Fn::GetAtt": ["Queue", "Arn"]}
    assert tags[1]["Value"] == {"Ref": "Queue"}
    assert tags[2]["Value"] == {"Fn::Join": ["-", [{"Fn::Select": [0, {"Fn::Split": [",", "a,b"]}]}, "c"]]}
    # Plain built-in types, not the decoder's nodes: they compare, copy and serialise as usual
    assert type(template) is dict
    assert type(template["Resources"]["Topic"]["Type"]) is str
    assert json.loads(json.dumps(template)) == template


def test_a_duplicate_key_is_refused_with_its_line_instead_of_silently_dropping_one(tmp_path: Path) -> None:
    text = SHORT_FORMS + "  Queue:\n    Type: AWS::SQS::Queue\n"
    with pytest.raises(TemplateError, match=r"Duplicate found 'Queue' \(line 4\).*\(line 17\)"):
        load_template(_write(tmp_path, text))


def test_a_json_template_reads_like_its_yaml_form(tmp_path: Path) -> None:
    document = {"Resources": {"Queue": {"Type": "AWS::SQS::Queue", "Properties": {"DelaySeconds": 5}}}}
    path = _write(tmp_path, json.dumps(document, indent="\t"), "template.json")
    assert load_template(path) == document


def test_a_file_without_resources_is_not_a_template(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="not a CloudFormation template"):
        load_template(_write(tmp_path, "Description: nothing here\n"))


def test_the_projects_template_loads() -> None:
    template = load_template()
    assert template["Resources"]["ApiFunction"]["Type"] == "AWS::Serverless::Function"


def test_an_unquoted_date_reads_as_the_string_cloudformation_sees(tmp_path: Path) -> None:
    template = load_template(
        _write(tmp_path, "AWSTemplateFormatVersion: 2010-09-09\n" + SHORT_FORMS.split("\n", 2)[2])
    )
    assert template["AWSTemplateFormatVersion"] == "2010-09-09"


def test_a_decoded_template_is_cached_by_its_content(tmp_path: Path, cache_home: Path) -> None:
    path = _write(tmp_path, SHORT_FORMS)
    first = load_template(path)
    (cached,) = (cache_home / "press-intake" / "templates").iterdir()
    assert json.loads(cached.read_text()) == first
    # The next load of the same bytes reads the cache (here doctored, to show it is the source)
    cached.write_text(json.dumps({"Resources": {"FromTheCache": {"Type": "AWS::SQS::Queue"}}}))
    assert list(load_template(path)["Resources"]) == ["FromTheCache"]
    # Any change to the template is a different entry: decoded afresh
    path.write_text(SHORT_FORMS + "  Extra:\n    Type: AWS::SQS::Queue\n")
    assert list(load_template(path)["Resources"]) == ["Queue", "Topic", "Extra"]


def test_an_unwritable_cache_only_costs_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder would go")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    assert "Queue" in load_template(_write(tmp_path, SHORT_FORMS))["Resources"]
