"""Imported once by the forkserver, so that every container forked from it starts with these loaded."""

import boto3  # noqa: F401
import botocore.session  # noqa: F401
import jwt  # noqa: F401 - loaded lazily by the functions (only to verify access tokens)
import waitpoints_core
import waitpoints_core.request_models  # noqa: F401 - loaded lazily by the functions that validate bodies
import waitpoints_http.resolver  # noqa: F401
from aws_lambda_powertools import Logger  # noqa: F401
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver  # noqa: F401
