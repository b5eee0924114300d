"""Static checks of infra/terraform over the HCL parsed by python-hcl2 (no cloud, no terraform)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

pytest.importorskip("hcl2", reason="python-hcl2 is in the dev extra: run `make install-dev`")

from hcl_support import (
    ENVS,
    MODULES,
    REPO,
    TERRAFORM,
    Block,
    blocks,
    data_sources,
    dynamic,
    files_in,
    module_dirs,
    nested,
    parse,
    reference,
    resources,
    root_dirs,
    statements,
)

# Resource types of this stack that take a `tags` argument.
TAGGABLE = {
    "aws_s3_bucket",
    "aws_ecr_repository",
    "aws_iam_role",
    "aws_iam_policy",
    "aws_iam_instance_profile",
    "aws_security_group",
    "aws_vpc_security_group_egress_rule",
    "aws_vpc_security_group_ingress_rule",
    "aws_launch_template",
    "aws_cloudwatch_log_group",
    "aws_kms_key",
    "aws_instance",
    "aws_ebs_volume",
    "aws_ssm_parameter",
    "aws_db_instance",
    "aws_lb",
}
POLICY_HOLDERS = {"aws_iam_policy", "aws_iam_role_policy", "aws_iam_role", "aws_s3_bucket_policy"}
OPEN_CIDRS = {"0.0.0.0/0", "::/0"}
EXPECTED_MODULES = {"s3_bucket", "ecr", "iam", "ec2_workers", "servers"}


def one_referencing(type_: str, target: str, attribute: str = "bucket") -> Block:
    """The single resource of `type_` whose `attribute` points at `target` (e.g. a bucket)."""
    matches = [
        r for r in resources(type_) if (reference(r.body.get(attribute)) or "").startswith(target)
    ]
    assert len(matches) == 1, f"expected one {type_} for {target}, found {len(matches)}"
    return matches[0]


def policy_document_of(value: object) -> Block:
    ref = reference(value)
    assert ref and ref.startswith("data.aws_iam_policy_document.") and ref.endswith(".json"), (
        f"policy {value!r} is not a data.aws_iam_policy_document (the checks below read those)"
    )
    name = ref.split(".")[2]
    (document,) = [d for d in data_sources("aws_iam_policy_document") if d.name == name]
    return document


# --- layout -------------------------------------------------------------------


def test_layout_has_the_modules_and_an_example_root() -> None:
    # given / when
    modules = {p.name for p in module_dirs()}
    roots = root_dirs()

    # then
    assert modules >= EXPECTED_MODULES
    assert ENVS / "123456789012" / "eu-west-1" in roots
    assert ENVS / "064592191516" / "us-east-1" in roots  # the seed's own account and region
    for root in roots:
        account, region = root.relative_to(ENVS).parts
        assert re.fullmatch(r"\d{12}", account), f"{root}: envs/<12-digit account>/<region>"
        assert re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d", region), f"{root}: not a region name"


@pytest.mark.parametrize("path", sorted(TERRAFORM.rglob("*.tf")), ids=lambda p: p.name)
def test_every_tf_file_parses(path: Path) -> None:
    # when
    parsed = parse(path)

    # then
    assert parsed, f"{path}: parsed to nothing"


def test_every_module_and_root_pins_terraform_and_the_aws_provider() -> None:
    folders = [*module_dirs(), *root_dirs()]
    assert folders
    for folder in folders:
        settings = [b for f in files_in(folder) for b in parse(f).get("terraform", [])]
        assert settings, f"{folder}: no terraform block"
        required_version = next(s["required_version"] for s in settings if "required_version" in s)
        assert required_version.startswith(">="), folder
        providers = [p for s in settings for p in s.get("required_providers", [])]
        aws = next(p["aws"] for p in providers if "aws" in p)
        assert aws["source"] == "hashicorp/aws", folder
        assert re.search(r"<\s*\d|~>", aws["version"]), f"{folder}: no upper bound on aws"


# --- S3 bucket ----------------------------------------------------------------


def buckets() -> list[Block]:
    found = resources("aws_s3_bucket")
    assert found, "no aws_s3_bucket in infra/terraform"
    return found


def test_buckets_are_encrypted() -> None:
    for bucket in buckets():
        # when
        sse = one_referencing(
            "aws_s3_bucket_server_side_encryption_configuration", f"aws_s3_bucket.{bucket.name}"
        )

        # then
        defaults = [
            d
            for rule in nested(sse.body, "rule")
            for d in nested(rule, "apply_server_side_encryption_by_default")
        ]
        assert defaults, bucket.address
        assert all(d["sse_algorithm"] in {"aws:kms", "aws:kms:dsse", "AES256"} for d in defaults)


def test_buckets_block_every_kind_of_public_access() -> None:
    for bucket in buckets():
        block = one_referencing("aws_s3_bucket_public_access_block", f"aws_s3_bucket.{bucket.name}")
        for setting in (
            "block_public_acls",
            "block_public_policy",
            "ignore_public_acls",
            "restrict_public_buckets",
        ):
            assert block.body.get(setting) is True, f"{bucket.address}: {setting} is not true"


def test_buckets_are_versioned_and_expire_old_versions() -> None:
    for bucket in buckets():
        versioning = one_referencing("aws_s3_bucket_versioning", f"aws_s3_bucket.{bucket.name}")
        (config,) = nested(versioning.body, "versioning_configuration")
        assert config["status"] == "Enabled", bucket.address

        lifecycle = one_referencing(
            "aws_s3_bucket_lifecycle_configuration", f"aws_s3_bucket.{bucket.name}"
        )
        expiring = [
            rule
            for rule in nested(lifecycle.body, "rule")
            if rule.get("status") == "Enabled" and nested(rule, "noncurrent_version_expiration")
        ]
        assert expiring, f"{bucket.address}: no enabled rule expires noncurrent versions"


def test_buckets_deny_requests_without_tls() -> None:
    for bucket in buckets():
        # given
        policy = one_referencing("aws_s3_bucket_policy", f"aws_s3_bucket.{bucket.name}")
        document = policy_document_of(policy.body["policy"])
        arn = f"${{aws_s3_bucket.{bucket.name}.arn}}"

        # when
        denials = [
            s
            for s in statements(document)
            if s.get("effect") == "Deny"
            and any(
                c.get("test") == "Bool"
                and c.get("variable") == "aws:SecureTransport"
                and c.get("values") == ["false"]
                for c in nested(s, "condition")
            )
        ]

        # then
        assert denials, f"{bucket.address}: no Deny on aws:SecureTransport = false"
        (deny,) = denials
        assert deny["actions"] == ["s3:*"]
        assert {arn, f"{arn}/*"} <= set(deny["resources"])
        assert any(p.get("identifiers") == ["*"] for p in nested(deny, "principals"))


# --- ECR ----------------------------------------------------------------------


def test_repositories_scan_on_push_keep_tags_immutable_and_expire_images() -> None:
    repositories = resources("aws_ecr_repository")
    assert repositories
    for repo in repositories:
        assert repo.body.get("image_tag_mutability") == "IMMUTABLE", repo.address
        (scanning,) = nested(repo.body, "image_scanning_configuration")
        assert scanning["scan_on_push"] is True, repo.address
        one_referencing("aws_ecr_lifecycle_policy", f"aws_ecr_repository.{repo.name}", "repository")


# --- EC2 ----------------------------------------------------------------------


def test_instances_require_imdsv2() -> None:
    launchers = resources("aws_launch_template") + resources("aws_instance")
    assert launchers, "no launch template or instance"
    for launcher in launchers:
        (options,) = nested(launcher.body, "metadata_options")
        assert options.get("http_tokens") == "required", f"{launcher.address}: IMDSv1 allowed"
        assert options.get("http_endpoint", "enabled") == "enabled"


def test_volumes_are_encrypted() -> None:
    # given
    volumes = [
        (t.address, ebs)
        for t in resources("aws_launch_template")
        for mapping in nested(t.body, "block_device_mappings")
        for ebs in nested(mapping, "ebs")
    ]
    volumes += [
        (i.address, device)
        for i in resources("aws_instance")
        for key in ("root_block_device", "ebs_block_device")
        for device in nested(i.body, key)
    ]
    volumes += [(v.address, v.body) for v in resources("aws_ebs_volume")]

    # then
    assert volumes, "no volume declared: the root volume should be, to encrypt it"
    for address, volume in volumes:
        assert volume.get("encrypted") is True, f"{address}: volume not encrypted"


def ingress_cidrs() -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for group in resources("aws_security_group"):
        for rule in nested(group.body, "ingress"):
            for key in ("cidr_blocks", "ipv6_cidr_blocks"):
                found += [(group.address, c) for c in rule.get(key, [])]
    for rule in resources("aws_security_group_rule"):
        if rule.body.get("type") == "ingress":
            for key in ("cidr_blocks", "ipv6_cidr_blocks"):
                found += [(rule.address, c) for c in rule.body.get(key, [])]
    for rule in resources("aws_vpc_security_group_ingress_rule"):
        for key in ("cidr_ipv4", "cidr_ipv6"):
            if key in rule.body:
                found.append((rule.address, rule.body[key]))
    return found


def test_no_ingress_is_open_to_the_internet() -> None:
    open_rules = [(address, cidr) for address, cidr in ingress_cidrs() if cidr in OPEN_CIDRS]
    assert open_rules == []


def test_workers_accept_no_inbound_traffic_at_all() -> None:
    # given
    worker_files = files_in(MODULES / "ec2_workers")
    groups = resources("aws_security_group", worker_files)

    # when
    ingress = [g.address for g in groups if nested(g.body, "ingress")]
    ingress += [
        r.address
        for r in resources(None, worker_files)
        if r.type in ("aws_vpc_security_group_ingress_rule", "aws_security_group_rule")
        and r.body.get("type", "ingress") == "ingress"
    ]

    # then
    assert groups, "the workers have no security group of their own"
    assert ingress == []


# --- IAM ----------------------------------------------------------------------


def test_every_policy_is_a_policy_document_the_checks_can_read() -> None:
    attached = [
        (r, key)
        for r in resources()
        for key in ("policy", "assume_role_policy")
        if r.type in POLICY_HOLDERS and key in r.body
    ]
    assert attached
    for resource, key in attached:
        policy_document_of(resource.body[key])


def is_wildcard(arn: str) -> bool:
    return arn == "*" or bool(re.fullmatch(r"arn:[^:]*:[^:]*:[^:]*:[^:]*:\*", arn))


def test_no_wildcard_resource_but_the_documented_ecr_token() -> None:
    # given: in a KMS key policy "*" is the key itself, so those documents are left out
    key_policies = {
        (reference(k.body.get("policy")) or "").split(".")[2:3][0]
        for k in resources("aws_kms_key")
        if reference(k.body.get("policy"))
    }
    documents = [d for d in data_sources("aws_iam_policy_document") if d.name not in key_policies]
    allows = [
        (d, s) for d in documents for s in statements(d) if s.get("effect", "Allow") == "Allow"
    ]

    # when
    wildcards = [(d.address, s) for d, s in allows if any(map(is_wildcard, s.get("resources", [])))]

    # then
    assert allows
    for address, statement in wildcards:
        assert statement.get("sid") == "EcrAuthToken", f"{address}: {statement} has a * resource"
        assert statement["actions"] == ["ecr:GetAuthorizationToken"], address


def test_the_ecr_token_exception_is_explained_where_it_is_written() -> None:
    # given
    text = (MODULES / "iam" / "main.tf").read_text()
    before = text[: text.index('sid       = "EcrAuthToken"')]

    # then: the comment just above the statement says why "*" is needed
    comment = "\n".join(line for line in before.splitlines()[-6:] if line.strip().startswith("#"))
    assert "GetAuthorizationToken" in comment
    assert "resource-level" in comment


def test_the_instance_role_reaches_only_its_bucket_repository_logs_and_parameters() -> None:
    # given
    (document,) = [d for d in data_sources("aws_iam_policy_document") if d.name == "worker"]

    # when
    by_sid = {s["sid"]: s for s in statements(document)}

    # then
    assert set(by_sid) == {
        "BucketList",
        "BucketObjects",
        "EcrAuthToken",
        "EcrPull",
        "OwnLogGroup",
        "BootParameters",
    }
    assert by_sid["BucketList"]["resources"] == ["${var.bucket_arn}"]
    assert by_sid["BucketObjects"]["resources"] == ["${var.bucket_arn}/*"]
    assert by_sid["EcrPull"]["resources"] == ["${var.repository_arn}"]
    assert not any(a.endswith("*") for s in by_sid.values() for a in s["actions"])


# --- tags, variables, roots ---------------------------------------------------


def test_every_root_sets_provider_default_tags() -> None:
    for root in root_dirs():
        providers = [p["aws"] for f in files_in(root) for p in parse(f).get("provider", [])]
        assert providers, f"{root}: no aws provider"
        for provider in providers:
            (default_tags,) = nested(provider, "default_tags")
            assert default_tags.get("tags"), f"{root}: empty default_tags"
            assert provider.get("allowed_account_ids") == ["${var.account_id}"], root


def test_every_taggable_module_resource_passes_the_tags_on() -> None:
    taggable = [r for r in resources(None, list(MODULES.rglob("*.tf"))) if r.type in TAGGABLE]
    assert len(taggable) >= 8
    for resource in taggable:
        assert "var.tags" in str(resource.body.get("tags", "")), f"{resource.address}: no tags"


def test_autoscaled_instances_and_volumes_get_the_tags() -> None:
    # Provider default_tags do not reach what an autoscaling group launches.
    templates = resources("aws_launch_template")
    assert templates
    for template in templates:
        tagged = {
            s["resource_type"]
            for s in nested(template.body, "tag_specifications")
            if "var.tags" in str(s.get("tags"))
        }
        assert {"instance", "volume"} <= tagged, template.address
    for group in resources("aws_autoscaling_group"):
        (tag,) = dynamic(group.body, "tag")
        assert "var.tags" in str(tag["for_each"]), group.address
        assert nested(tag, "content")[0]["propagate_at_launch"] is True


def test_every_variable_has_a_type_and_a_description() -> None:
    variables = blocks("variable")
    assert len(variables) > 20
    for variable in variables:
        assert "type" in variable.body, f"{variable.address}: no type"
        description = variable.body.get("description", "")
        assert isinstance(description, str) and len(description) > 10, variable.address


def test_every_root_has_a_readme_on_cost_apply_and_destroy() -> None:
    for root in root_dirs():
        readme = root / "README.md"
        assert readme.is_file(), f"{root}: no README.md"
        text = readme.read_text().lower()
        for words in ("what it creates", "cost", "terraform apply", "terraform destroy"):
            assert words in text, f"{readme}: says nothing about {words!r}"


def test_every_root_has_a_tfvars_example_of_its_own_variables() -> None:
    for root in root_dirs():
        # given
        example = parse_tfvars(root / "terraform.tfvars.example")
        variables = {v.name: v.body for v in blocks("variable", files_in(root))}

        # then: nothing unknown, every required variable given
        assert set(example) <= set(variables)
        assert {n for n, body in variables.items() if "default" not in body} <= set(example)


def parse_tfvars(path: Path) -> dict[str, object]:
    from hcl2 import SerializationOptions, loads

    assert path.is_file(), f"{path} is missing"
    return loads(
        path.read_text(),
        serialization_options=SerializationOptions(
            strip_string_quotes=True, explicit_blocks=False, with_comments=False
        ),
    )


# --- wiring (what `terraform validate` would catch, without providers) --------


def test_module_calls_pass_declared_inputs_and_every_required_one() -> None:
    calls = [(root, m) for root in root_dirs() for m in blocks("module", files_in(root))]
    assert {Path(m.body["source"]).name for _, m in calls} == EXPECTED_MODULES
    for root, call in calls:
        # given
        source = (root / call.body["source"]).resolve()
        declared = {v.name: v.body for v in blocks("variable", files_in(source))}
        outputs = {o.name for o in blocks("output", files_in(source))}
        passed = set(call.body) - {"source", "version", "providers", "depends_on", "count"}

        # then
        assert source.is_dir(), call.address
        assert passed <= set(declared), f"{call.address}: unknown inputs {passed - set(declared)}"
        required = {n for n, body in declared.items() if "default" not in body}
        assert required <= passed, f"{call.address}: missing inputs {required - passed}"

        # and every module.<name>.<output> used in the root exists
        text = "\n".join(f.read_text() for f in files_in(root))
        used = set(re.findall(rf"module\.{call.name}\.(\w+)", text))
        assert used <= outputs, f"{call.address}: no outputs {used - outputs}"


def test_user_data_template_gets_exactly_the_variables_it_uses() -> None:
    # given
    (template,) = resources("aws_launch_template")
    user_data = template.body["user_data"]
    match = re.search(r'templatefile\("\$\{path\.module\}/([^"]+)", \{(.*)\}\)', user_data)
    assert match, user_data
    passed = set(re.findall(r"(\w+) = ", match.group(2)))
    text = (MODULES / "ec2_workers" / match.group(1)).read_text()

    # when: ${name} interpolations; $${...} is an escaped shell expansion
    used = set(re.findall(r"(?<!\$)\$\{(\w+)\}", text))

    # then
    assert used == passed
    assert "prefect worker start --pool" in text
    assert "--with-decryption" in text and "API_KEY_PARAMETER" in text


def test_no_secret_or_state_is_committed_under_infra() -> None:
    committed = [
        p for p in (REPO / "infra").rglob("*") if p.is_file() and ".terraform" not in p.parts
    ]
    assert not [
        p for p in committed if p.suffix in {".tfstate", ".tfplan"} or p.name == "terraform.tfvars"
    ]
    key_id = re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b")
    prefect_key = re.compile(r"\bpnu_[A-Za-z0-9]{20,}")
    for path in committed:
        text = path.read_text(errors="replace")
        assert not key_id.search(text) and not prefect_key.search(text), path


def test_user_data_renders_to_valid_bash_scripts(tmp_path: Path) -> None:
    # given: the template rendered the way templatefile() would, with sample values
    template = (MODULES / "ec2_workers" / "user_data.sh.tftpl").read_text()
    rendered = re.sub(r"(?<!\$)\$\{(\w+)\}", lambda m: f"sample-{m.group(1)}", template)
    rendered = rendered.replace("$${", "${").replace("%%{", "%{")
    # the boot script, and the scripts it writes through quoted here-documents
    embedded = re.findall(r"<<'(\w+)'\n(#!/bin/bash\n.*?)\n\1\n", rendered, flags=re.S)
    scripts = [rendered, *(body for _, body in embedded)]

    for number, text in enumerate(scripts):
        script = tmp_path / f"script-{number}.sh"
        script.write_text(text)

        # when
        completed = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)

        # then
        assert completed.returncode == 0, f"{text[:200]}...: {completed.stderr}"
        assert "set -euo pipefail" in text
    assert len(scripts) == 2
