import pytest

from cvat_serverless_tools.local.intrinsics import IntrinsicError, Resolver


def make(conditions=None):
    physical = {"Queue": {"Ref": "http://q", "Arn": "arn:aws:sqs:us-east-1:1:q"}, "Fn": {"Ref": "fn-name"}}
    return Resolver(
        parameters={"Stage": "v1", "Origins": ["a", "b"]},
        pseudo={"AWS::Region": "us-east-1", "AWS::StackName": "st"},
        ref=lambda name: physical[name]["Ref"],
        get_att=lambda logical, attr: physical[logical][attr],
        conditions=conditions,
    )


def test_ref_parameter_pseudo_and_resource():
    r = make()
    assert r.resolve({"Ref": "Stage"}) == "v1"
    assert r.resolve({"Ref": "AWS::Region"}) == "us-east-1"
    assert r.resolve({"Ref": "Queue"}) == "http://q"


def test_get_att_both_forms():
    r = make()
    assert r.resolve({"Fn::GetAtt": ["Queue", "Arn"]}) == "arn:aws:sqs:us-east-1:1:q"
    assert r.resolve({"Fn::GetAtt": "Queue.Arn"}) == "arn:aws:sqs:us-east-1:1:q"


def test_sub_with_refs_attributes_variables_and_escapes():
    r = make()
    assert r.resolve({"Fn::Sub": "${AWS::StackName}-${Stage}-${Queue.Arn}"}) == "st-v1-arn:aws:sqs:us-east-1:1:q"
    assert r.resolve({"Fn::Sub": ["${X}/${Fn}", {"X": {"Ref": "Stage"}}]}) == "v1/fn-name"
    assert r.resolve({"Fn::Sub": "${!Literal}"}) == "${Literal}"


def test_join_select_split():
    r = make()
    assert r.resolve({"Fn::Join": ["-", ["a", {"Ref": "Stage"}]]}) == "a-v1"
    assert r.resolve({"Fn::Select": [1, {"Ref": "Origins"}]}) == "b"
    assert r.resolve({"Fn::Split": [",", "x,y"]}) == ["x", "y"]


def test_if_conditions_and_no_value_removes_keys():
    r = make({"IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}})
    assert r.resolve({"Fn::If": ["IsProd", "big", "small"]}) == "small"
    assert r.resolve({"A": {"Fn::If": ["IsProd", 1, {"Ref": "AWS::NoValue"}]}, "B": 2}) == {"B": 2}
    assert r.resolve([1, {"Ref": "AWS::NoValue"}]) == [1]


def test_unsupported_function_and_unknown_condition_fail_loudly():
    with pytest.raises(IntrinsicError):
        make().resolve({"Fn::ImportValue": "x"})
    with pytest.raises(IntrinsicError):
        make().resolve({"Fn::If": ["Nope", 1, 2]})
