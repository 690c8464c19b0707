"""The Powertools layer the functions run with: the release requirements.txt pins, for the newest runtime it supports.

Decision 0061. The tests run the Powertools that requirements.txt pins (``aws-lambda-powertools==X``); the
functions get the layer AWS published for that same release, through the per-release public SSM parameter
``/aws/service/powertools/python/<arch>/<runtime>/<version>`` (Powertools docs, "Installation" > "Lambda
Layer" > "Using SSM Parameter Store": https://docs.aws.amazon.com/powertools/python/latest/getting-started/install/).
CloudFormation resolves it at deploy time, so synth stays offline and a deploy never picks up a release the
tests did not run (``latest`` did).
"""

from __future__ import annotations

import re
from pathlib import Path

from aws_cdk import aws_lambda

from lambdas.core.config import ConfigError

REQUIREMENTS = Path(__file__).resolve().parents[1] / "requirements.txt"
# The newest runtime the Powertools layer is published for (python310 ... python314 per the install page above;
# the release workflow writes the per-version parameter for python3.10 to python3.14). Every function uses it.
LAMBDA_RUNTIME = aws_lambda.Runtime.PYTHON_3_14
LAYER_PARAMETER = "/aws/service/powertools/python/{architecture}/{runtime}/{version}"

_REQUIREMENT = re.compile(r"^aws-lambda-powertools(?:\[[^\]]*\])?\s*(?P<spec>(?:[=~!<>].*?)?)\s*(?:;.*)?$")
_EXACT = re.compile(r"^==\s*(?P<version>\d+\.\d+\.\d+)$")


class PowertoolsPinError(ConfigError):
    """requirements.txt does not pin one exact Powertools release, so no layer version can be chosen."""


def pinned_powertools_version(requirements: str, *, source: str = "requirements.txt") -> str:
    """The X.Y.Z of the ``aws-lambda-powertools==X.Y.Z`` line (extras allowed); anything else is an error."""
    specs = []
    for raw in requirements.splitlines():
        line = raw.split("#", 1)[0].strip()
        match = _REQUIREMENT.match(line)
        if match:
            specs.append(match["spec"])
    if len(specs) != 1:
        found = "no" if not specs else f"{len(specs)}"
        raise PowertoolsPinError(
            f"{source}: {found} aws-lambda-powertools requirement; expected exactly one "
            "'aws-lambda-powertools==X.Y.Z' (the Powertools layer is chosen by that release)"
        )
    exact = _EXACT.match(specs[0])
    if exact is None:
        raise PowertoolsPinError(
            f"{source}: aws-lambda-powertools is pinned as {specs[0]!r}; pin one release with '==X.Y.Z' "
            "(the Lambda layer is chosen by that exact version, not a range or 'latest')"
        )
    return exact["version"]


def layer_parameter_name(*, architecture: str, version: str, runtime: aws_lambda.Runtime = LAMBDA_RUNTIME) -> str:
    """The public SSM parameter holding the layer ARN of one Powertools release, runtime and architecture."""
    return LAYER_PARAMETER.format(architecture=architecture, runtime=runtime.name, version=version)


def powertools_version(path: Path = REQUIREMENTS) -> str:
    return pinned_powertools_version(path.read_text(encoding="utf-8"), source=path.name)
