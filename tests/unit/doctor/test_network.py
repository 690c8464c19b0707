"""The doctor's pure judgement of ``lms.network`` (decision 0065): subnets, their route to AWS APIs, the groups."""

from __future__ import annotations

from typing import Any

import pytest

from lambdas.core.config import EnvironmentConfig, load_environment, parse_environment
from tollgate.doctor.judge import (
    DoctorFacts,
    NetworkFacts,
    aws_services_needed,
    diagnose,
    failures,
    judge_network,
    judge_security_group,
    judge_subnet,
    judge_subnet_routes,
    judge_zone_spread,
)

VPC = "vpc-0a1b2c3d4e5f60700"
SUBNETS = ("subnet-0a1b2c3d4e5f60718", "subnet-0a1b2c3d4e5f60719")
GROUP = "sg-0a1b2c3d4e5f60720"
TABLE = "rtb-0a1b2c3d4e5f60730"


def _config(name: str = "staging") -> EnvironmentConfig:
    raw = load_environment(name).model_dump(mode="json")
    raw["lms"]["network"] = {
        "vpc_id": VPC,
        "subnet_ids": list(SUBNETS),
        "security_group_ids": [GROUP],
        "availability_zones": ["eu-west-1a", "eu-west-1b"],
    }
    return parse_environment(name, raw)


@pytest.fixture
def staging() -> EnvironmentConfig:
    return _config()


def _subnet(subnet_id: str, zone: str, vpc: str = VPC) -> dict[str, Any]:
    return {"SubnetId": subnet_id, "VpcId": vpc, "AvailabilityZone": zone}


def _table(*routes: dict[str, Any]) -> dict[str, Any]:
    local = {"DestinationCidrBlock": "10.20.0.0/16", "GatewayId": "local", "State": "active"}
    return {"RouteTableId": TABLE, "VpcId": VPC, "Routes": [local, *routes]}


def _endpoint(service: str, kind: str = "Interface", **extra: Any) -> dict[str, Any]:
    endpoint = {
        "ServiceName": f"com.amazonaws.eu-west-1.{service}",
        "VpcEndpointType": kind,
        "VpcId": VPC,
        "State": "available",
        "PrivateDnsEnabled": kind == "Interface",
        "RouteTableIds": [TABLE] if kind == "Gateway" else [],
    }
    return {**endpoint, **extra}


def _group(*egress: dict[str, Any], vpc: str = VPC) -> dict[str, Any]:
    return {"GroupId": GROUP, "VpcId": vpc, "IpPermissionsEgress": list(egress)}


ALL_OUT = {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
NAT = {"DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": "nat-0a1b2c3d4e5f60740", "State": "active"}


def test_a_nat_gateway_route_reaches_aws_apis(staging: EnvironmentConfig) -> None:
    finding = judge_subnet_routes(staging, SUBNETS[0], _table(NAT), [])
    assert finding.ok
    assert finding.line() == (
        f"✓ subnet {SUBNETS[0]} route to AWS APIs: 0.0.0.0/0 via NAT gateway nat-0a1b2c3d4e5f60740 ({TABLE})"
    )


def test_no_default_route_and_no_endpoints_says_what_to_add(staging: EnvironmentConfig) -> None:
    finding = judge_subnet_routes(staging, SUBNETS[0], _table(), [])
    assert not finding.ok
    assert (
        "no 0.0.0.0/0 route through a NAT gateway, and no VPC endpoint for codedeploy, dynamodb, elasticloadbalancing"
        in (finding.message)
    )
    assert finding.fix is not None
    assert f"add 0.0.0.0/0 -> a NAT gateway (in a public subnet) to {TABLE}" in finding.fix
    assert (
        f"aws ec2 create-vpc-endpoint --region eu-west-1 --vpc-id {VPC} --vpc-endpoint-type Gateway "
        f"--service-name com.amazonaws.eu-west-1.dynamodb --route-table-ids {TABLE}"
    ) in finding.fix
    assert "--service-name com.amazonaws.eu-west-1.codedeploy --subnet-ids" in finding.fix


def test_an_internet_gateway_route_does_not_count(staging: EnvironmentConfig) -> None:
    igw = {"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": "igw-0a1b2c3d", "State": "active"}
    finding = judge_subnet_routes(staging, SUBNETS[0], _table(igw), [])
    assert not finding.ok
    assert "goes to internet gateway igw-0a1b2c3d, but Lambda gives a VPC function no public IP" in finding.message


def test_a_blackhole_nat_route_does_not_count(staging: EnvironmentConfig) -> None:
    finding = judge_subnet_routes(staging, SUBNETS[0], _table({**NAT, "State": "blackhole"}), [])
    assert not finding.ok


def test_endpoints_for_every_service_needed_reach_aws_apis(staging: EnvironmentConfig) -> None:
    needed = aws_services_needed(staging)
    endpoints = [_endpoint("dynamodb", "Gateway"), *(_endpoint(s) for s in needed if s != "dynamodb")]
    finding = judge_subnet_routes(staging, SUBNETS[0], _table(), endpoints)
    assert finding.ok, finding.line()
    assert finding.message == f"VPC endpoints for {', '.join(needed)}"


def test_one_missing_endpoint_is_named(staging: EnvironmentConfig) -> None:
    needed = aws_services_needed(staging)
    endpoints = [_endpoint("dynamodb", "Gateway"), *(_endpoint(s) for s in needed if s not in ("dynamodb", "events"))]
    finding = judge_subnet_routes(staging, SUBNETS[0], _table(), endpoints)
    assert not finding.ok
    assert "no VPC endpoint for events:" in finding.message
    assert finding.fix is not None and "--service-name com.amazonaws.eu-west-1.events" in finding.fix
    assert "dynamodb --route-table-ids" not in finding.fix


@pytest.mark.parametrize(
    "broken",
    [
        {"PrivateDnsEnabled": False},  # the SDK's default hostname would not resolve to it
        {"State": "pendingAcceptance"},
        {"VpcId": "vpc-0ffffffffffffffff"},
    ],
)
def test_an_interface_endpoint_the_sdk_cannot_use_does_not_count(staging: EnvironmentConfig, broken: Any) -> None:
    needed = aws_services_needed(staging)
    endpoints = [_endpoint("dynamodb", "Gateway")]
    endpoints += [_endpoint(s, **(broken if s == "codedeploy" else {})) for s in needed if s != "dynamodb"]
    finding = judge_subnet_routes(staging, SUBNETS[0], _table(), endpoints)
    assert not finding.ok
    assert "no VPC endpoint for codedeploy:" in finding.message


def test_a_dynamodb_gateway_endpoint_on_another_route_table_does_not_count(staging: EnvironmentConfig) -> None:
    needed = aws_services_needed(staging)
    endpoints = [_endpoint("dynamodb", "Gateway", RouteTableIds=["rtb-0ffffffffffffffff"])]
    endpoints += [_endpoint(s) for s in needed if s != "dynamodb"]
    finding = judge_subnet_routes(staging, SUBNETS[0], _table(), endpoints)
    assert "no VPC endpoint for dynamodb:" in finding.message


def test_the_services_needed_follow_what_the_functions_in_the_vpc_call() -> None:
    # Staging (blue/green, metric gate after the shift): the hooks and the synthetics
    assert aws_services_needed(_config("staging")) == (
        "codedeploy", "dynamodb", "elasticloadbalancing", "events", "monitoring", "secretsmanager", "states",
    )  # fmt: skip
    # Development (rolling): only the synthetics' lease and the synthetic user's secret
    development = aws_services_needed(_config("development"))
    assert set(development) <= {"dynamodb", "secretsmanager"}
    assert "dynamodb" in development
    # Production (canary): the canary task also shifts listener rules and reads metrics
    assert {"elasticloadbalancing", "monitoring", "states", "codedeploy"} <= set(
        aws_services_needed(_config("production"))
    )


def test_a_missing_or_misplaced_subnet(staging: EnvironmentConfig) -> None:
    assert judge_subnet(staging, 0, SUBNETS[0], None).line() == (
        f"✗ subnet {SUBNETS[0]}: not found — fix: correct lms.network.subnet_ids in staging.json"
    )
    wrong = judge_subnet(staging, 1, SUBNETS[1], _subnet(SUBNETS[1], "eu-west-1c", vpc="vpc-0ffffffffffffffff"))
    assert not wrong.ok
    assert wrong.message == (
        f"is in vpc-0ffffffffffffffff, not lms.network.vpc_id {VPC}; is in eu-west-1c, the config says eu-west-1b"
    )
    assert judge_subnet(staging, 1, SUBNETS[1], _subnet(SUBNETS[1], "eu-west-1b")).ok


def test_subnets_found_in_one_zone_only(staging: EnvironmentConfig) -> None:
    finding = judge_zone_spread(staging, {SUBNETS[0]: _subnet(SUBNETS[0], "eu-west-1a"), SUBNETS[1]: None})
    assert not finding.ok
    assert "span 1 Availability Zone(s) ['eu-west-1a']" in finding.message


def test_security_group_egress_to_the_listeners(staging: EnvironmentConfig) -> None:
    assert judge_security_group(staging, GROUP, _group(ALL_OUT)).ok
    https_only = {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443}
    closed = judge_security_group(staging, GROUP, _group(https_only))
    assert not closed.ok
    assert "allows no outbound TCP to port(s) [8443]" in closed.message  # the test listener
    assert closed.fix is not None and "IpProtocol=tcp,FromPort=8443,ToPort=8443" in closed.fix
    assert judge_security_group(staging, GROUP, _group({"IpProtocol": "tcp", "FromPort": 0, "ToPort": 65535})).ok
    assert not judge_security_group(staging, GROUP, None).ok
    assert "is in vpc-0f" in judge_security_group(staging, GROUP, _group(ALL_OUT, vpc="vpc-0ffffffffffffffff")).message


def _healthy() -> NetworkFacts:
    return NetworkFacts(
        subnets={SUBNETS[0]: _subnet(SUBNETS[0], "eu-west-1a"), SUBNETS[1]: _subnet(SUBNETS[1], "eu-west-1b")},
        route_tables={SUBNETS[0]: _table(NAT), SUBNETS[1]: _table(NAT)},
        security_groups={GROUP: _group(ALL_OUT)},
    )


def test_a_healthy_network_is_one_green_line_per_piece(staging: EnvironmentConfig) -> None:
    findings = judge_network(staging, _healthy())
    assert failures(findings) == []
    assert [f.subject for f in findings] == [
        f"subnet {SUBNETS[0]}",
        f"subnet {SUBNETS[0]} route to AWS APIs",
        f"subnet {SUBNETS[1]}",
        f"subnet {SUBNETS[1]} route to AWS APIs",
        "function subnets",
        f"security group {GROUP}",
    ]


def test_a_missing_subnet_is_one_line_not_two(staging: EnvironmentConfig) -> None:
    facts = _healthy()
    facts = NetworkFacts(
        subnets={**facts.subnets, SUBNETS[1]: None},
        route_tables={SUBNETS[0]: _table(NAT)},
        security_groups=facts.security_groups,
    )
    red = [f.subject for f in failures(judge_network(staging, facts))]
    assert red == [f"subnet {SUBNETS[1]}", "function subnets"]


def test_diagnose_checks_the_network_only_when_configured(staging: EnvironmentConfig) -> None:
    with_network = [f.subject for f in diagnose(staging, DoctorFacts(network=_healthy()))]
    assert f"subnet {SUBNETS[0]} route to AWS APIs" in with_network
    without = [f.subject for f in diagnose(load_environment("staging"), DoctorFacts(network=_healthy()))]
    assert not any(s.startswith(("subnet", "security group", "function subnets")) for s in without)
