"""`tollgate doctor` with ``lms.network`` on the embedded AWS (decision 0065): a private network built the way
the LMS side would build it is green; each broken piece is exactly one red line with its fix.

The shipped configs set no ``lms.network`` (so the seeded world has none); these tests create the network in the
embedded AWS and point a copy of the staging config at its real ids."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from lambdas.core import aws
from lambdas.core.config import EnvironmentConfig, parse_environment
from tollgate.doctor.facts import gather, known_functions
from tollgate.doctor.judge import Finding, aws_services_needed, diagnose, endpoint_service, failures
from tollgate.local.replay import LocalWorld, local_world


@dataclass(frozen=True)
class Network:
    vpc_id: str
    subnet_ids: tuple[str, str]
    group_id: str
    private_table: str
    nat_id: str
    config: EnvironmentConfig


def _build_network(world: LocalWorld) -> Network:
    """A VPC with a public subnet (internet gateway, NAT gateway) and two private subnets routed to the NAT."""
    ec2 = aws.client("ec2")
    region = world.config.region
    vpc_id = ec2.create_vpc(CidrBlock="10.50.0.0/16")["Vpc"]["VpcId"]
    public = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.50.0.0/24", AvailabilityZone=f"{region}a")["Subnet"]
    private = [
        ec2.create_subnet(VpcId=vpc_id, CidrBlock=cidr, AvailabilityZone=f"{region}{zone}")["Subnet"]["SubnetId"]
        for cidr, zone in (("10.50.1.0/24", "a"), ("10.50.2.0/24", "b"))
    ]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)
    public_table = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=public_table, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    ec2.associate_route_table(RouteTableId=public_table, SubnetId=public["SubnetId"])
    allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=public["SubnetId"], AllocationId=allocation)["NatGateway"]["NatGatewayId"]
    private_table = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=private_table, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat)
    for subnet in private:
        ec2.associate_route_table(RouteTableId=private_table, SubnetId=subnet)
    group = ec2.create_security_group(GroupName="tollgate-lms-callers", Description="Tollgate", VpcId=vpc_id)
    raw = world.config.model_dump(mode="json")
    raw["lms"]["network"] = {
        "vpc_id": vpc_id,
        "subnet_ids": private,
        "security_group_ids": [group["GroupId"]],
        "availability_zones": [f"{region}a", f"{region}b"],
    }
    return Network(
        vpc_id=vpc_id,
        subnet_ids=(private[0], private[1]),
        group_id=group["GroupId"],
        private_table=private_table,
        nat_id=nat,
        config=parse_environment(world.config.name, raw),
    )


@pytest.fixture
def world() -> Iterator[tuple[LocalWorld, Network]]:
    with local_world("staging") as staging:
        yield staging, _build_network(staging)


def _check(world: LocalWorld, config: EnvironmentConfig) -> list[Finding]:
    names = (spec.name for spec in world.template.functions.values())
    return diagnose(config, gather(config, aws.client, known_functions(names)))


def _red(findings: list[Finding]) -> list[str]:
    return [f.line() for f in failures(findings)]


def test_a_private_network_with_a_nat_gateway_is_green(world: tuple[LocalWorld, Network]) -> None:
    staging, network = world
    findings = _check(staging, network.config)
    assert _red(findings) == []
    lines = [f.line() for f in findings]
    for subnet in network.subnet_ids:
        assert (
            f"✓ subnet {subnet} route to AWS APIs: 0.0.0.0/0 via NAT gateway {network.nat_id} ({network.private_table})"
        ) in lines
    assert "✓ function subnets: span 2 Availability Zones" in lines
    assert any(line.startswith(f"✓ security group {network.group_id}: exists in {network.vpc_id}") for line in lines)


def test_without_the_nat_route_the_subnets_say_which_endpoints_to_add(world: tuple[LocalWorld, Network]) -> None:
    staging, network = world
    aws.client("ec2").delete_route(RouteTableId=network.private_table, DestinationCidrBlock="0.0.0.0/0")
    red = _red(_check(staging, network.config))
    assert len(red) == 2  # one per subnet, both governed by the same table
    for line, subnet in zip(red, network.subnet_ids, strict=True):
        assert line.startswith(f"✗ subnet {subnet} route to AWS APIs: no 0.0.0.0/0 route through a NAT gateway")
        assert f"add 0.0.0.0/0 -> a NAT gateway (in a public subnet) to {network.private_table}" in line


def test_vpc_endpoints_for_every_service_instead_of_a_nat_are_green(world: tuple[LocalWorld, Network]) -> None:
    staging, network = world
    ec2 = aws.client("ec2")
    ec2.delete_route(RouteTableId=network.private_table, DestinationCidrBlock="0.0.0.0/0")
    config = network.config
    ec2.create_vpc_endpoint(
        VpcId=network.vpc_id,
        VpcEndpointType="Gateway",
        ServiceName=endpoint_service(config, "dynamodb"),
        RouteTableIds=[network.private_table],
    )
    for service in aws_services_needed(config):
        if service != "dynamodb":
            ec2.create_vpc_endpoint(
                VpcId=network.vpc_id,
                VpcEndpointType="Interface",
                ServiceName=endpoint_service(config, service),
                SubnetIds=list(network.subnet_ids),
                SecurityGroupIds=[network.group_id],
                PrivateDnsEnabled=True,
            )
    findings = _check(staging, config)
    assert _red(findings) == []
    assert f"✓ subnet {network.subnet_ids[0]} route to AWS APIs: VPC endpoints for codedeploy, dynamodb" in "\n".join(
        f.line() for f in findings
    )


def test_a_subnet_routed_to_the_internet_gateway_is_red(world: tuple[LocalWorld, Network]) -> None:
    staging, network = world
    ec2 = aws.client("ec2")
    igw = ec2.describe_internet_gateways(Filters=[{"Name": "attachment.vpc-id", "Values": [network.vpc_id]}])
    gateway = igw["InternetGateways"][0]["InternetGatewayId"]
    ec2.replace_route(RouteTableId=network.private_table, DestinationCidrBlock="0.0.0.0/0", GatewayId=gateway)
    red = _red(_check(staging, network.config))
    assert len(red) == 2
    assert f"0.0.0.0/0 goes to internet gateway {gateway}, but Lambda gives a VPC function no public IP" in red[0]


def test_a_deleted_subnet_is_one_red_line_and_the_zone_spread(world: tuple[LocalWorld, Network]) -> None:
    staging, network = world
    ec2 = aws.client("ec2")
    association = ec2.describe_route_tables(
        Filters=[{"Name": "association.subnet-id", "Values": [network.subnet_ids[1]]}]
    )["RouteTables"][0]["Associations"]
    for item in association:
        if item.get("SubnetId") == network.subnet_ids[1]:
            ec2.disassociate_route_table(AssociationId=item["RouteTableAssociationId"])
    ec2.delete_subnet(SubnetId=network.subnet_ids[1])
    red = _red(_check(staging, network.config))
    assert red == [
        f"✗ subnet {network.subnet_ids[1]}: not found — fix: correct lms.network.subnet_ids in staging.json",
        "✗ function subnets: span 1 Availability Zone(s) ['eu-west-1a']: one zone failing stops every check — fix: "
        "add a private subnet in another zone to lms.network.subnet_ids in staging.json",
    ]


def test_a_security_group_without_egress_is_one_red_line(world: tuple[LocalWorld, Network]) -> None:
    staging, network = world
    ec2 = aws.client("ec2")
    ec2.revoke_security_group_egress(
        GroupId=network.group_id, IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
    )
    (line,) = _red(_check(staging, network.config))
    assert line.startswith(f"✗ security group {network.group_id}: allows no outbound TCP to port(s) [443, 8443]")
    assert f"aws ec2 authorize-security-group-egress --region eu-west-1 --group-id {network.group_id}" in line


def test_an_unknown_security_group_is_one_red_line(world: tuple[LocalWorld, Network]) -> None:
    staging, network = world
    raw: dict[str, Any] = network.config.model_dump(mode="json")
    raw["lms"]["network"]["security_group_ids"] = ["sg-0fffffffffffffff0"]
    (line,) = _red(_check(staging, parse_environment("staging", raw)))
    assert line == (
        "✗ security group sg-0fffffffffffffff0: not found — fix: correct lms.network.security_group_ids in staging.json"
    )


def test_a_subnet_without_its_own_table_is_judged_by_the_main_one(world: tuple[LocalWorld, Network]) -> None:
    staging, network = world
    ec2 = aws.client("ec2")
    table = ec2.describe_route_tables(RouteTableIds=[network.private_table])["RouteTables"][0]
    subnet = network.subnet_ids[0]
    for item in table["Associations"]:
        if item.get("SubnetId") == subnet:
            ec2.disassociate_route_table(AssociationId=item["RouteTableAssociationId"])
    main = ec2.describe_route_tables(
        Filters=[{"Name": "vpc-id", "Values": [network.vpc_id]}, {"Name": "association.main", "Values": ["true"]}]
    )["RouteTables"][0]["RouteTableId"]
    (line,) = _red(_check(staging, network.config))
    assert line.startswith(f"✗ subnet {subnet} route to AWS APIs: no 0.0.0.0/0 route through a NAT gateway")
    assert f"to {main}" in line
