"""aisprint-gitops: a declarative GitOps compiler for AI applications on the edge-cloud
continuum."""

__version__ = "0.1.0"
