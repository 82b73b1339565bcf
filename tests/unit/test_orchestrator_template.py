"""cloudformation/orchestrator.yaml: what the MWAA execution role may do, and the buckets' protections."""

from __future__ import annotations

from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


class _CfnLoader(yaml.SafeLoader):
    """Keeps CloudFormation short forms as {"!Tag": value} so policies can be inspected."""


def _tagged(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        return {f"!{suffix}": loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode):
        return {f"!{suffix}": loader.construct_sequence(node, deep=True)}
    return {f"!{suffix}": loader.construct_mapping(node, deep=True)}


_CfnLoader.add_multi_constructor("!", _tagged)
TEMPLATE = yaml.load((REPO / "cloudformation/orchestrator.yaml").read_text(), Loader=_CfnLoader)
RESOURCES = TEMPLATE["Resources"]


def _statements() -> dict[str, dict]:
    found = {}
    for policy in RESOURCES["ExecutionRole"]["Properties"]["Policies"]:
        for statement in policy["PolicyDocument"]["Statement"]:
            if "!If" in statement:  # a conditional statement: its "true" branch
                statement = statement["!If"][1]
            found[statement["Sid"]] = statement
    return found


def test_only_calls_without_resource_level_permissions_use_a_wildcard():
    wildcards = {sid for sid, s in _statements().items() if s["Resource"] == "*"}
    assert wildcards == {"DescribeLogGroups", "ValidateTemplates", "SageMakerListings"}


def test_pass_role_only_on_blueprint_roles_and_only_to_their_services():
    statements = _statements()
    blueprint = statements["PassBlueprintRoles"]
    assert [r["!Sub"] for r in blueprint["Resource"]] == [
        "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${StackNamePrefix}*",
        "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/mlops-orchestrator/*",
    ]
    assert blueprint["Condition"]["StringEquals"]["iam:PassedToService"] == ["sagemaker.amazonaws.com", "codebuild.amazonaws.com"]
    admin = statements["PassStackSetAdministrationRole"]
    assert admin["Condition"]["StringEquals"]["iam:PassedToService"] == "cloudformation.amazonaws.com"
    passes = {sid for sid, s in statements.items() if "iam:PassRole" in str(s["Action"])}
    assert passes == {"PassBlueprintRoles", "PassStackSetAdministrationRole"}


def test_assume_role_only_on_the_stage_accounts_deployment_role():
    statement = _statements()["AssumeStageDeploymentRoles"]
    assert statement["Resource"]["!Sub"] == "arn:${AWS::Partition}:iam::*:role/${DeploymentRoleName}"
    assert statement["Condition"]["StringEquals"]["aws:ResourceAccount"] == {"!Ref": "StageAccountIds"}


def test_stacks_and_stacksets_only_by_the_pipeline_prefix():
    statements = _statements()
    assert statements["PipelineStacks"]["Resource"]["!Sub"].endswith(":stack/${StackNamePrefix}*/*")
    assert statements["PipelineStackSets"]["Resource"][0]["!Sub"].endswith(":stackset/${StackNamePrefix}*:*")
    assert "cloudformation:CreateStackSet" in statements["PipelineStackSets"]["Action"]


def test_buckets_are_versioned_encrypted_private_and_tls_only():
    for name in ("SourceBucket", "AssetsBucket"):
        properties = RESOURCES[name]["Properties"]
        assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
        assert properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert all(properties["PublicAccessBlockConfiguration"].values())
        statement, *stage_grants = RESOURCES[f"{name}Policy"]["Properties"]["PolicyDocument"]["Statement"]
        assert all(grant["!If"][0] == "MultiAccount" for grant in stage_grants)  # only with stage accounts
        assert statement["Effect"] == "Deny"
        assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert RESOURCES["SourceBucket"]["Properties"]["BucketName"]["!Sub"].startswith("airflow-")  # MWAA's rule


def test_the_environment_reads_the_bundle_from_the_source_bucket():
    environment = RESOURCES["Environment"]["Properties"]
    assert (environment["DagS3Path"], environment["RequirementsS3Path"], environment["PluginsS3Path"],
            environment["StartupScriptS3Path"]) == ("dags", "requirements.txt", "plugins.zip", "startup.sh")
    assert TEMPLATE["Parameters"]["AirflowVersion"]["AllowedValues"] == sorted(
        p.name.split("-")[1] for p in (REPO / "tests/mwaa").glob("airflow-*-essential-constraints.txt")
    )


def test_stage_accounts_read_the_assets_bucket_and_its_key_through_their_pipeline_roles_only():
    statements = RESOURCES["AssetsBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    granted = {s["!If"][1]["Sid"]: s["!If"] for s in statements if "!If" in s}
    assert set(granted) == {"StageAccountsReadObjects", "StageAccountsListObjects"}
    for condition, statement, otherwise in granted.values():
        assert condition == "MultiAccount" and otherwise == {"!Ref": "AWS::NoValue"}
        assert statement["Principal"] == {"AWS": {"!Ref": "StageAccountIds"}}
        assert statement["Action"] in ("s3:GetObject", "s3:ListBucket")  # read only: no writes, no deletes
        assert statement["Condition"]["ArnLike"]["aws:PrincipalArn"]["!Sub"].endswith(":role/mlops-orchestrator/*")
    key_statements = RESOURCES["Key"]["Properties"]["KeyPolicy"]["Statement"]
    (stage_key,) = [s["!If"][1] for s in key_statements if "!If" in s]
    assert stage_key["Action"] == ["kms:Decrypt", "kms:DescribeKey"]
    assert stage_key["Condition"]["StringEquals"]["kms:ViaService"]["!Sub"] == "s3.${AWS::Region}.amazonaws.com"


def test_the_notification_topic_is_encrypted_and_only_the_environment_publishes_to_it():
    topic = RESOURCES["NotificationTopic"]["Properties"]
    assert topic["KmsMasterKeyId"]["!If"][2] == "alias/aws/sns"  # the template's key when it has one
    publish = _statements()["PublishNotifications"]
    assert (publish["Action"], publish["Resource"]) == ("sns:Publish", {"!Ref": "NotificationTopic"})
    denies = RESOURCES["NotificationTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    only = next(s for s in denies if s["Sid"] == "OnlyTheEnvironmentPublishes")
    assert only["Effect"] == "Deny" and only["Condition"]["ArnNotEquals"]["aws:PrincipalArn"] == {"!GetAtt": "ExecutionRole.Arn"}
    subscription = RESOURCES["NotificationEmailSubscription"]
    assert subscription["Condition"] == "SubscribeEmail" and subscription["Properties"]["Protocol"] == "email"
    assert TEMPLATE["Outputs"]["NotificationTopicArn"]["Value"] == {"!Ref": "NotificationTopic"}


def test_the_environment_may_keep_model_cards():
    actions = set(_statements()["SageMakerInThisAccount"]["Action"])
    assert {"sagemaker:CreateModelCard", "sagemaker:UpdateModelCard", "sagemaker:DeleteModelCard"} <= actions
    assert "sagemaker:CreateModelCardExportJob" in actions  # Describe* and List* cover the rest


def test_the_environment_writes_provisioned_configs_only_under_dags_provisioned():
    from mlops_orchestrator.mwaa_bundle import PROVISION_PREFIX

    write = _statements()["WriteProvisionedConfigs"]
    assert (write["Effect"], write["Action"]) == ("Allow", "s3:PutObject")
    assert write["Resource"] == {"!Sub": f"${{SourceBucket.Arn}}/{PROVISION_PREFIX}/*"}  # where startup.sh points it
    writers = {
        sid for sid, s in _statements().items()
        if s["Effect"] == "Allow" and "SourceBucket" in str(s["Resource"])
        and any(a.startswith("s3:Put") or a.startswith("s3:Delete") for a in _listed(s["Action"]))
    }
    assert writers == {"WriteProvisionedConfigs"}  # the rest of the source bucket stays read-only


def _listed(action) -> list[str]:
    return [action] if isinstance(action, str) else list(action)


def test_the_parameter_groups_are_metadata_not_part_of_the_description():
    groups = TEMPLATE["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]
    grouped = [name for group in groups for name in group["Parameters"]]
    assert sorted(grouped) == sorted(TEMPLATE["Parameters"])
    assert "ParameterGroups" not in TEMPLATE["Description"]
