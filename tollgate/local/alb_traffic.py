"""A stand-in for the LMS's production traffic on the embedded AWS: ALB metrics that follow the listener's split.

A real ALB publishes RequestCount, HTTPCode_Target_5XX_Count and TargetResponseTime per target group; the
canary judges the replacement (green) group against the original (blue) one. Locally nothing serves real
users, so this model writes those metrics every tick for both groups of one service, splitting a steady
request rate by the weights the production listener forwards with right now (Tollgate's canary rule when it
exists, the service's rule otherwise). The new version can be made worse: a 5xx rate or a slower response
from the moment it carries at least ``from_percent`` of the traffic.

It writes through a boto3 client of its own, so the replay's call recorder (the functions' calls) never
sees it.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3

from lambdas.core.config import EnvironmentConfig

TICK_SECONDS = 0.25
REQUESTS_PER_SECOND = 400.0  # the whole service: enough for the canary's minimum request counts at 10%
BASE_LATENCY_SECONDS = 0.080
LATENCY_JITTER_SECONDS = 0.010


@dataclass
class NewVersionFault:
    """How the new version misbehaves once it carries ``from_percent`` of production traffic or more."""

    error_percent: float = 0.0
    extra_latency_seconds: float = 0.0
    from_percent: int = 0

    def active(self, green_percent: int) -> bool:
        return (self.error_percent > 0 or self.extra_latency_seconds > 0) and green_percent >= max(1, self.from_percent)


@dataclass
class TrafficSample:
    at: datetime
    green_percent: int
    green_error_percent: float


@dataclass
class AlbTrafficModel:
    config: EnvironmentConfig
    service: str
    fault: NewVersionFault = field(default_factory=NewVersionFault)
    seed: int = 7
    samples: list[TrafficSample] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)
    _random: random.Random = field(default_factory=random.Random, repr=False)

    def __post_init__(self) -> None:
        self._random.seed(self.seed)
        self._elbv2: Any = boto3.client("elbv2")
        self._cloudwatch: Any = boto3.client("cloudwatch")
        groups = self.config.lms.services[self.service].target_groups
        self._names = {"blue": groups.blue_name, "green": groups.green_name}
        self._dimensions = {"blue": groups.blue, "green": groups.green}

    def __enter__(self) -> AlbTrafficModel:
        self._thread = threading.Thread(target=self._run, name=f"alb-traffic-{self.service}", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(TICK_SECONDS):
            try:
                self.tick()
            except Exception:
                if self._stop.is_set():
                    return

    def tick(self, *, now: datetime | None = None) -> TrafficSample:
        at = now or datetime.now(UTC)
        green = self.green_percent()
        faulty = self.fault.active(green)
        total = REQUESTS_PER_SECOND * TICK_SECONDS
        data = []
        for colour, percent in (("blue", 100 - green), ("green", green)):
            requests = round(total * percent / 100)
            if requests == 0 or not self._dimensions[colour]:
                continue
            error_rate = self.fault.error_percent / 100 if faulty and colour == "green" else 0.0
            extra = self.fault.extra_latency_seconds if faulty and colour == "green" else 0.0
            errors = sum(1 for _ in range(requests) if self._random.random() < error_rate)
            latency = BASE_LATENCY_SECONDS + extra + self._random.uniform(-1, 1) * LATENCY_JITTER_SECONDS
            dimensions = [
                {"Name": "TargetGroup", "Value": self._dimensions[colour]},
                {"Name": "LoadBalancer", "Value": self.config.lms.load_balancer},
            ]
            data += [
                {"MetricName": "RequestCount", "Dimensions": dimensions, "Value": float(requests), "Timestamp": at},
                {
                    "MetricName": "HTTPCode_Target_5XX_Count",
                    "Dimensions": dimensions,
                    "Value": float(errors),
                    "Timestamp": at,
                },
                {"MetricName": "TargetResponseTime", "Dimensions": dimensions, "Value": latency, "Timestamp": at},
            ]
        if data:
            self._cloudwatch.put_metric_data(Namespace="AWS/ApplicationELB", MetricData=data)
        sample = TrafficSample(at, green, self.fault.error_percent if faulty else 0.0)
        self.samples.append(sample)
        return sample

    def green_percent(self) -> int:
        """The new version's share of production requests: the first rule (by priority) forwarding to the pair."""
        lms = self.config.lms
        (balancer,) = self._elbv2.describe_load_balancers(Names=[lms.load_balancer_name])["LoadBalancers"]
        listeners = self._elbv2.describe_listeners(LoadBalancerArn=balancer["LoadBalancerArn"])["Listeners"]
        production = next(item for item in listeners if item.get("Port") == lms.production_listener_port)
        groups = {
            g["TargetGroupArn"]: colour
            for colour, name in self._names.items()
            if name
            for g in self._elbv2.describe_target_groups(Names=[name])["TargetGroups"]
        }
        rules = self._elbv2.describe_rules(ListenerArn=production["ListenerArn"])["Rules"]
        numbered = sorted((r for r in rules if str(r.get("Priority")).isdigit()), key=lambda r: int(r["Priority"]))
        for rule in [*numbered, *(r for r in rules if not str(r.get("Priority")).isdigit())]:
            weights = {
                groups[g["TargetGroupArn"]]: int(g.get("Weight", 1))
                for action in rule.get("Actions", [])
                for g in action.get("ForwardConfig", {}).get("TargetGroups", [])
                if g["TargetGroupArn"] in groups
            }
            if weights and sum(weights.values()):
                return round(100 * weights.get("green", 0) / sum(weights.values()))
        return 0
