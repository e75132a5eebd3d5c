"""The Infrastructure Manager: ``client`` (its REST API), ``deploy`` (a deployment's templates in
dependency order, TOSCARIZER's ``infras.yaml``) and ``server`` (a real IM on loopback, from its
own virtualenv). IM's own TOSCA→RADL translation is a check of the TOSCA target
(``targets.tosca_check``)."""

from compiler.runtime.im.client import (
    AUTH_ENV,
    AUTH_FILE_ENV,
    Auth,
    IMClient,
    IMError,
    InfrastructureState,
    RetryPolicy,
    auth_header,
    fill_references,
    infrastructure_id,
    load_auth,
)

__all__ = ["AUTH_ENV", "AUTH_FILE_ENV", "Auth", "IMClient", "IMError", "InfrastructureState",
           "RetryPolicy", "auth_header", "fill_references", "infrastructure_id", "load_auth"]
