"""as3-gitops: a git repository as the single source of truth for an F5 BIG-IP in front of Kubernetes."""

__version__ = "0.1.0"
